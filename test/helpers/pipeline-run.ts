import assert from 'node:assert/strict';
import { copyFile, mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { EncodeResult, MediaSettings, OutputStore } from '../../services/transcoder/encode-types.ts';
import { encodeAndStore } from '../../services/transcoder/encode-and-store.ts';
import { planJob } from '../../services/transcoder/plan.ts';
import { loadConfig } from '../../services/config.ts';
import { videoJobDefaults } from '../../services/transcoder/config.ts';
import type { VideoJob, VideoJobDefaults } from '../../shared/contract/messages.ts';
import type { H264Options } from '../../shared/media/ffmpeg-args.ts';
import type { DeadFrameOptions } from '../../shared/media/frame-select.ts';
import { probeVideo, type VideoInfo } from '../../shared/media/ffprobe.ts';
import { MEDIA_LIMIT_DEFAULTS } from '../../shared/media/media-limits.ts';

/** The transcoder's job defaults (CONTRACT.md), with the buckets of the folder store. */
const DEFAULTS: VideoJobDefaults = { ...videoJobDefaults(loadConfig({})), outputBucket: 'video', framesBucket: 'frames' };

export type FolderStore = OutputStore & { keys(bucket: string): Promise<string[]>; path(bucket: string, key: string): string };

/** An object store in a local folder: `<root>/<bucket>/<key>`; each object stored is appended to `events`. */
export function folderStore(root: string, events: string[] = []): FolderStore {
  const path = (bucket: string, key: string) => join(root, bucket, key);
  const keys = async (bucket: string): Promise<string[]> => {
    const entries = await readdir(join(root, bucket), { recursive: true, withFileTypes: true }).catch(() => []);
    return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(join(root, bucket).length + 1)).sort();
  };
  return {
    path,
    keys,
    async upload(bucket, key, source) {
      assert.equal(typeof source, 'string', 'the pipeline uploads files');
      await mkdir(dirname(path(bucket, key)), { recursive: true });
      await copyFile(source as string, path(bucket, key));
      events.push(`stored ${bucket}/${key}`);
      return { etag: undefined };
    },
    async put(bucket, key, body) {
      await mkdir(dirname(path(bucket, key)), { recursive: true });
      await writeFile(path(bucket, key), body);
      events.push(`stored ${bucket}/${key}`);
      return { etag: undefined };
    },
    async head(bucket, key) {
      const s = await stat(path(bucket, key)).catch(() => undefined);
      return s ? { size: s.size, etag: undefined, contentType: undefined, lastModified: s.mtime, metadata: {} } : null;
    },
    async delete(bucket, key) {
      await rm(path(bucket, key), { force: true });
    },
  };
}

export interface PipelineRun {
  info: VideoInfo;
  res: EncodeResult;
  workDir: string;
  store: FolderStore;
  progress: number[];
  progressAtEncoded: number | undefined;
  /** Each object stored, and `ffmpeg exited` where the pipeline said so, in order. */
  events: string[];
}

/** The production pipeline (services/transcoder/encode-and-store.ts) on a local file, as the handler calls it after its probe. */
export async function runPipeline(o: {
  input: string;
  key: string;
  job?: Omit<VideoJob, 'source'>;
  workDir: string;
  storeRoot: string;
  encode: H264Options;
  dead: Omit<DeadFrameOptions, 'enabled'>;
}): Promise<PipelineRun> {
  const media: MediaSettings = { ffmpegPath: 'ffmpeg', ffprobePath: 'ffprobe', stallMs: 60_000, timeLimitMs: 600_000, memoryLimitBytes: 4 * 1024 ** 3, limits: MEDIA_LIMIT_DEFAULTS, encode: o.encode, dead: o.dead };
  await mkdir(o.workDir);
  const events: string[] = [];
  const store = folderStore(o.storeRoot, events);
  const info = await probeVideo(o.input);
  const progress: number[] = [];
  let progressAtEncoded: number | undefined;
  const plan = planJob({ ...o.job, source: { bucket: 'avi', key: o.key } }, DEFAULTS, { nextQueues: [], outputBuckets: ['video'], framesBuckets: ['frames'] });
  const res = await encodeAndStore({
    input: o.input, workDir: o.workDir, info, plan, media, store, signal: new AbortController().signal,
    onProgress: (seconds, total) => {
      assert.equal(total, info.durationSeconds);
      progress.push(seconds);
    },
    onEncoded: async () => {
      progressAtEncoded = progress.length;
      events.push('ffmpeg exited');
    },
  });
  return { info, res, workDir: o.workDir, store, progress, progressAtEncoded, events };
}
