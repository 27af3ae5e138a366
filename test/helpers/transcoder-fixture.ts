// The transcoder under test, for the integration files that share it: a local S3 server
// with a source bucket, the test videos, and the service running against them. Each test
// file calls useTranscoderFixture() once; the bindings below are live (set in its `before`).
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { jobKeyHash } from '../../db/repositories/transcoder.repository.ts';
import { loadConfig, type Config } from '../../services/config.ts';
import type { RunningApp } from '../../shared/app/run-services.ts';
import { CODECS, type VideoJob } from '../../shared/contract/messages.ts';
import { createObjectStore, type S3ObjectStore } from '../../shared/storage/object-store.ts';
import { service as transcoder } from '../../services/transcoder/main.ts';
import { captureLogger, metricValue, publishRaw, startApp, waitFor } from './runtime-harness.ts';
import { startS3Server, type S3TestServer } from './s3-server.ts';
import { createTestEnv, type TestEnv } from './test-env.ts';
import { makeTestAvis } from './videos.ts';

export const hex = () => randomBytes(3).toString('hex');
export const SRC = `src-${hex()}`;
export const MP4 = `mp4-${hex()}`;
export const IMG = `img-${hex()}`;

let s3: S3TestServer;
export let t: TestEnv;
export let config: Config;
export let running: RunningApp;
export let lines: Record<string, any>[];
export let store: S3ObjectStore;
export let dir: string;
export let workRoot: string;
export let five: string;
export let minute: string;
export let talk: string;

export function useTranscoderFixture(): void {
  before(async () => {
    s3 = await startS3Server();
    dir = await mkdtemp(join(tmpdir(), 'vigil-transcoder-'));
    await mkdir(join(dir, 'work'));
    workRoot = join(dir, 'work', 'transcoder');
    ({ five, minute, talk } = await makeTestAvis(dir));
    t = await createTestEnv('transcoder', {
      ...s3.env,
      BUCKET_SOURCE: SRC,
      BUCKET_VIDEO: MP4,
      BUCKET_FRAMES: IMG,
      VIGIL_WORK_DIR: join(dir, 'work'),
      // Small test videos: fast encodes, and a blur threshold for 320×240 (sharp ~5, blurred ~20).
      TRANSCODER_PRESET: 'ultrafast',
      TRANSCODER_BLUR_THRESHOLD: '12',
      VIGIL_SHUTDOWN_TIMEOUT: '300ms',
      LOG_LEVEL: 'info',
    });
    config = loadConfig(t.env);
    store = createObjectStore(config.s3);
    await store.ensureBucket(SRC);
    lines = await startTranscoder(config);
  });

  after(async () => {
    await running?.stop();
    store?.close();
    await t?.cleanup();
    await s3?.close();
    await rm(dir, { recursive: true, force: true });
  });
}

/** Starts the service on `cfg` (the fixture's, or a test's own after it stopped the first) and waits for its consumer; returns its log lines. */
export async function startTranscoder(cfg: Config): Promise<Record<string, any>[]> {
  const captured = captureLogger('info');
  running = await startApp(cfg, [transcoder], captured.logger);
  await waitFor('the consumer', () => running.consumers[0]!.attached, 30_000);
  return captured.lines;
}

export async function put(key: string, file: string): Promise<void> {
  await store.upload(SRC, key, file);
}

export async function publish(...jobs: (VideoJob | string)[]): Promise<void> {
  await publishRaw(`${t.prefix}transcoder`, jobs.map((j) => (typeof j === 'string' ? j : CODECS.transcoder.encode(j))));
}

export type Row = Record<string, any>;

export async function rowOf(key: string): Promise<Row | undefined> {
  return t.database().db.selectFrom('video_job').selectAll().where('job_key_sha256', '=', jobKeyHash(key)).executeTakeFirst();
}

export async function settled(key: string, statuses = ['done', 'failed'], timeoutMs = 90_000): Promise<Row> {
  let row: Row | undefined;
  await waitFor(`video job ${key} ${statuses.join('/')}`, async () => {
    row = await rowOf(key);
    return row !== undefined && statuses.includes(row.status) && running.consumers[0]!.inFlightCount === 0;
  }, timeoutMs, 100);
  return row!;
}

export async function keys(bucket: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for await (const page of store.list(bucket, prefix)) out.push(...page.map((o) => o.key));
  return out.sort();
}

export async function fetchObject(bucket: string, key: string): Promise<string> {
  const path = join(dir, `dl-${hex()}.mp4`);
  await store.download(bucket, key, path);
  return path;
}

export const count = (outcome: string) => metricValue(running.app.metrics, 'vigil_messages_total', { service: 'transcoder', outcome });

export async function assertWorkDirEmpty(): Promise<void> {
  assert.deepEqual(await readdir(workRoot), [], 'every job folder is removed');
}
