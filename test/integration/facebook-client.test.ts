import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { inspect } from 'node:util';
import { isPermanent } from '../../shared/errors.ts';
import { FacebookClient, type FacebookSession } from '../../services/uploader/facebook-client.ts';
import { fileChunkSource } from '../../services/uploader/facebook-transfer-body.ts';
import { FacebookAuthError, FacebookRateLimitError } from '../../services/uploader/facebook-errors.ts';
import { startGraphApiServer, type GraphApiServer, type GraphRequestRecord } from '../helpers/graph-api-server.ts';

const MiB = 1024 * 1024;
const CHUNK = 1 * MiB;
const SIZE = 5 * MiB + 12_345;
const TOKEN = 'EAAGtestPageToken0123456789abcdefSECRET';

let dir: string;
let file: string;
let sha: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-facebook-'));
  file = join(dir, 'talk.mp4');
  const bytes = randomBytes(SIZE);
  sha = createHash('sha256').update(bytes).digest('hex');
  await writeFile(file, bytes);
});
after(() => rm(dir, { recursive: true, force: true }));

async function withServer(fn: (s: GraphApiServer) => Promise<void>): Promise<void> {
  const server = await startGraphApiServer({ token: TOKEN, chunkSize: CHUNK });
  try {
    await fn(server);
  } finally {
    await server.close();
  }
}

const client = (s: GraphApiServer, extra = {}) => new FacebookClient(s.clientOptions({ retryDelayMs: 5, ...extra }));
const transfers = (s: GraphApiServer) => s.requests.filter((r) => r.phase === 'transfer');
const offsetsOf = (rs: GraphRequestRecord[]) => rs.map((r) => r.startOffset);
const chunkStarts = (from: number) => Array.from({ length: Math.ceil((SIZE - from) / CHUNK) }, (_, i) => from + i * CHUNK);

/**
 * Starts an upload and aborts it once a saved session reaches `stopAt`; returns the last
 * session saved (as `keep` copies it) for the next upload to resume from.
 */
async function stoppedUpload(s: GraphApiServer, stopAt: number, keep = (x: FacebookSession): FacebookSession => ({ ...x })): Promise<FacebookSession> {
  let saved: FacebookSession | undefined;
  const stop = new AbortController();
  await assert.rejects(client(s).upload({
    source: await fileChunkSource(file), title: 't', description: 'd', signal: stop.signal,
    onSession: async (x) => {
      saved = keep(x);
      if (x.startOffset >= stopAt) stop.abort();
    },
  }), { code: 'FACEBOOK_ABORTED' });
  return saved!;
}

/** The token appears nowhere in what an error carries, however it is printed. */
function assertNoToken(err: unknown): void {
  for (const text of [String(err), inspect(err, { depth: 10 }), JSON.stringify(err), (err as Error).stack ?? '', inspect((err as Error).cause, { depth: 10 })]) {
    assert.ok(!text.includes(TOKEN), `token leaked into: ${text.slice(0, 200)}`);
    assert.ok(!text.includes('SECRET'), 'no part of the token either');
  }
}

test('a full upload: start, every asked range once, finish, permalink; the server has the file byte for byte', async () => {
  await withServer(async (s) => {
    const sessions: FacebookSession[] = [];
    const result = await client(s).upload({
      source: await fileChunkSource(file),
      title: 'Right metrics and wrong metrics',
      description: 'With Ada Lovelace and Grace Hopper',
      onSession: async (x) => void sessions.push({ ...x }),
    });
    const video = s.video(result.videoId)!;
    assert.equal(video.sha256, sha);
    assert.equal(video.size, SIZE);
    assert.equal(video.title, 'Right metrics and wrong metrics');
    assert.equal(video.description, 'With Ada Lovelace and Grace Hopper');
    assert.equal(result.url, `https://www.facebook.com/${s.pageId}/videos/${result.videoId}/`);
    assert.deepEqual(s.requests.map((r) => r.phase), ['start', ...chunkStarts(0).map(() => 'transfer'), 'finish', 'permalink']);
    assert.deepEqual(offsetsOf(transfers(s)), chunkStarts(0));
    assert.ok(s.requests.every((r) => r.tokenPresent && !r.tokenInUrl && r.outcome === 'ok'));
    assert.deepEqual(sessions.map((x) => x.startOffset), [0, ...chunkStarts(CHUNK), SIZE]);
    assert.ok(sessions.every((x) => x.videoId === result.videoId && x.sessionId === sessions[0]!.sessionId));
  });
});

test('an upload stopped half-way resumes from the saved session: no new start, only the missing ranges', async () => {
  await withServer(async (s) => {
    const saved = await stoppedUpload(s, 2 * CHUNK);
    assert.equal(saved.startOffset, 2 * CHUNK);
    const before = s.requests.length;

    const result = await client(s).upload({ source: await fileChunkSource(file), title: 't', description: 'd', resume: saved });
    const later = s.requests.slice(before);
    assert.equal(result.videoId, saved.videoId);
    assert.equal(s.video(result.videoId)!.sha256, sha);
    assert.ok(!later.some((r) => r.phase === 'start'));
    assert.deepEqual(offsetsOf(later.filter((r) => r.phase === 'transfer')), chunkStarts(2 * CHUNK));
  });
});

test('a saved session without an end offset resumes too: the API corrects the chunk it gets', async () => {
  await withServer(async (s) => {
    const saved = await stoppedUpload(s, CHUNK, (x) => ({ videoId: x.videoId, sessionId: x.sessionId, startOffset: x.startOffset }));
    const result = await client(s).upload({ source: await fileChunkSource(file), title: 't', description: 'd', resume: saved });
    assert.equal(s.video(result.videoId)!.sha256, sha);
  });
});

test('a saved session the API no longer knows: a new session, the whole file', async () => {
  await withServer(async (s) => {
    const saved = await stoppedUpload(s, CHUNK);
    s.expireSessions();
    const before = s.requests.length;
    const sessions: FacebookSession[] = [];
    const result = await client(s).upload({
      source: await fileChunkSource(file), title: 't', description: 'd', resume: saved, onSession: async (x) => void sessions.push({ ...x }),
    });
    const later = s.requests.slice(before);
    assert.deepEqual(later.slice(0, 2).map((r) => [r.phase, r.outcome]), [['transfer', 'error 6001/1363030'], ['start', 'ok']]);
    assert.notEqual(result.videoId, saved.videoId);
    assert.equal(sessions[0]!.startOffset, 0);
    assert.notEqual(sessions[0]!.sessionId, saved.sessionId);
    assert.equal(s.video(result.videoId)!.sha256, sha);
  });
});

test('a transfer cut mid-chunk is sent again at the same offset; the partial bytes never count', async () => {
  await withServer(async (s) => {
    s.cutNextTransfer({ afterBytes: 300_000 });
    const result = await client(s).upload({ source: await fileChunkSource(file), title: 't', description: 'd' });
    const ts = transfers(s);
    assert.deepEqual(ts[0], { ...ts[0], startOffset: 0, outcome: 'cut', chunkBytes: 300_000 });
    assert.equal(ts[0]!.status, undefined, 'no answer: the connection was cut');
    assert.deepEqual(offsetsOf(ts), [0, ...chunkStarts(0)]);
    assert.equal(s.video(result.videoId)!.sha256, sha);
  });
});

test('a transfer whose answer is lost after the API took it: the retry is told the new offset and continues there', async () => {
  await withServer(async (s) => {
    s.cutNextTransfer({ afterBytes: 0, afterCommit: true });
    const sessions: FacebookSession[] = [];
    const result = await client(s).upload({
      source: await fileChunkSource(file), title: 't', description: 'd', onSession: async (x) => void sessions.push({ ...x }),
    });
    const ts = transfers(s);
    assert.deepEqual(ts.slice(0, 3).map((r) => [r.startOffset, r.outcome]), [[0, 'cut'], [0, 'error 6001/1363037'], [CHUNK, 'ok']]);
    assert.deepEqual(offsetsOf(ts), [0, 0, ...chunkStarts(CHUNK)]);
    assert.deepEqual(sessions.slice(0, 2).map((x) => [x.startOffset, x.endOffset]), [[0, CHUNK], [CHUNK, 2 * CHUNK]], 'the corrected offsets are saved');
    assert.equal(s.video(result.videoId)!.sha256, sha);
  });
});

test('a transfer that stalls times out and is sent again at the same offset', async () => {
  await withServer(async (s) => {
    s.cutNextTransfer({ afterBytes: 200_000, stall: true });
    const result = await client(s, { requestTimeoutMs: 2000 }).upload({ source: await fileChunkSource(file), title: 't', description: 'd' });
    const ts = transfers(s);
    assert.deepEqual(ts.slice(0, 2).map((r) => [r.startOffset, r.outcome]), [[0, 'stalled'], [0, 'ok']]);
    assert.deepEqual(offsetsOf(ts), [0, ...chunkStarts(0)]);
    assert.equal(s.video(result.videoId)!.sha256, sha);
  });
});

test('a connection cut again and again: transient after chunkRetries retries, the session kept for later', async () => {
  await withServer(async (s) => {
    for (let i = 0; i < 3; i++) s.cutNextTransfer({ afterBytes: 1000 });
    let saved: FacebookSession | undefined;
    const err = await client(s, { chunkRetries: 2 }).upload({
      source: await fileChunkSource(file), title: 't', description: 'd', onSession: async (x) => void (saved = { ...x }),
    }).then(() => undefined, (e: unknown) => e);
    assert.equal((err as { code?: string }).code, 'FACEBOOK_UNAVAILABLE');
    assert.ok(!isPermanent(err));
    assert.match((err as Error).message, /3 attempts/);
    assert.deepEqual(offsetsOf(transfers(s)), [0, 0, 0]);
    assertNoToken(err);
    const result = await client(s).upload({ source: await fileChunkSource(file), title: 't', description: 'd', resume: saved });
    assert.equal(s.video(result.videoId)!.sha256, sha);
  });
});

test('a rate limit with a usage header: FacebookRateLimitError with its wait; the upload resumes after it', async () => {
  await withServer(async (s) => {
    s.rateLimitNext({ code: 80001, usageHeader: { minutes: 17 }, phase: 'transfer' });
    let saved: FacebookSession | undefined;
    const err = await client(s).upload({
      source: await fileChunkSource(file), title: 't', description: 'd', onSession: async (x) => void (saved = { ...x }),
    }).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof FacebookRateLimitError, String(err));
    assert.equal(err.code, 'FACEBOOK_RATE_LIMITED');
    assert.equal(err.retryAfterMs, 17 * 60_000);
    assert.ok(!isPermanent(err));
    assert.equal(transfers(s).length, 1, 'no retry of a throttled call');
    const result = await client(s).upload({ source: await fileChunkSource(file), title: 't', description: 'd', resume: saved });
    assert.equal(s.video(result.videoId)!.sha256, sha);
  });
});

test('a rate limit without usage headers, or from X-Page-Usage: the wait is undefined or the page\'s', async () => {
  await withServer(async (s) => {
    for (const code of [4, 17, 32, 613]) {
      s.rateLimitNext({ code });
      const err = await client(s).upload({ source: await fileChunkSource(file), title: 't', description: 'd' }).then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof FacebookRateLimitError, `code ${code}: ${String(err)}`);
      assert.equal(err.retryAfterMs, undefined);
    }
    s.rateLimitNext({ code: 32, usageHeader: { minutes: 5, header: 'x-page-usage' } });
    const err = await client(s).upload({ source: await fileChunkSource(file), title: 't', description: 'd' }).then(() => undefined, (e: unknown) => e);
    assert.equal((err as FacebookRateLimitError).retryAfterMs, 5 * 60_000);
  });
});

test('a bare HTTP 400 (what the seed saw) counts as a rate limit with no wait given', async () => {
  await withServer(async (s) => {
    s.bare400Next();
    const err = await client(s).upload({ source: await fileChunkSource(file), title: 't', description: 'd' }).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof FacebookRateLimitError, String(err));
    assert.equal(err.retryAfterMs, undefined);
    assert.deepEqual(s.requests.map((r) => r.outcome), ['bare-400']);
  });
});

test('an expired token: FacebookAuthError after one request, and the token is in no part of the error', async () => {
  await withServer(async (s) => {
    s.expireToken();
    const err = await client(s).upload({ source: await fileChunkSource(file), title: 't', description: 'd' }).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof FacebookAuthError, String(err));
    assert.equal(err.code, 'FACEBOOK_AUTH');
    assert.ok(isPermanent(err));
    assert.match(err.message, /190\/463/);
    assert.deepEqual(s.requests.map((r) => [r.phase, r.outcome]), [['start', 'error 190/463']]);
    assertNoToken(err);
  });
});

test('a token that expires mid-upload stops it at the next chunk, with no retries', async () => {
  await withServer(async (s) => {
    const err = await client(s).upload({
      source: await fileChunkSource(file), title: 't', description: 'd',
      onSession: async (x) => {
        if (x.startOffset === 2 * CHUNK) s.expireToken();
      },
    }).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof FacebookAuthError, String(err));
    assert.deepEqual(transfers(s).map((r) => r.outcome), ['ok', 'ok', 'error 190/463']);
    assertNoToken(err);
  });
});

test('a wrong token is an auth error too; a server that is gone is transient; neither shows the token', async () => {
  await withServer(async (s) => {
    const err = await new FacebookClient({ ...s.clientOptions(), accessToken: `${TOKEN}x` }).upload({ source: await fileChunkSource(file), title: 't', description: 'd' })
      .then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof FacebookAuthError, String(err));
    assertNoToken(err);
  });
  const gone = await startGraphApiServer({ token: TOKEN });
  await gone.close();
  const err = await new FacebookClient(gone.clientOptions()).upload({ source: await fileChunkSource(file), title: 't', description: 'd' })
    .then(() => undefined, (e: unknown) => e);
  assert.equal((err as { code?: string }).code, 'FACEBOOK_UNAVAILABLE');
  assert.match((err as Error).message, /ECONNREFUSED/);
  assertNoToken(err);
});

test('a permalink that cannot be read does not fail a published upload: the watch link and the reason instead', async () => {
  await withServer(async (s) => {
    s.rateLimitNext({ code: 4, phase: 'permalink' });
    const result = await client(s).upload({ source: await fileChunkSource(file), title: 't', description: 'd' });
    assert.equal(result.url, `https://www.facebook.com/watch/?v=${result.videoId}`);
    assert.equal(result.permalinkError?.code, 'FACEBOOK_RATE_LIMITED');
    assert.equal(s.video(result.videoId)!.sha256, sha);
    assert.deepEqual(s.requests.filter((r) => r.phase !== 'transfer').map((r) => [r.phase, r.outcome]), [['start', 'ok'], ['finish', 'ok'], ['permalink', 'error 4']]);
  });
});

test('a video the API refuses (too small): FacebookRejectedError, permanent, after one request', async () => {
  await withServer(async (s) => {
    const tiny = join(dir, 'tiny.mp4');
    await writeFile(tiny, randomBytes(100));
    const err = await client(s).upload({ source: await fileChunkSource(tiny), title: 't', description: 'd' }).then(() => undefined, (e: unknown) => e);
    assert.equal((err as { code?: string }).code, 'FACEBOOK_REJECTED');
    assert.ok(isPermanent(err));
    assert.deepEqual(s.requests.map((r) => [r.phase, r.outcome]), [['start', 'error 6000/1363022']]);
  });
});
