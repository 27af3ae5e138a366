import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { FacebookClient } from '../../services/uploader/facebook-client.ts';
import { fileChunkSource } from '../../services/uploader/facebook-transfer-body.ts';
import { startGraphApiServer, type GraphApiServer } from '../helpers/graph-api-server.ts';

// A Graph API that answers as an attacker (or a broken proxy) would: bodies far larger
// than any real answer, endless ones, redirects to another origin, and permalinks that
// point away from Facebook. The client must bound what it reads, never follow the
// redirect, and never hand back a link off facebook.com.

const MiB = 1024 * 1024;
const SIZE = 2 * MiB + 7;
/** What the endless bodies send at most, so that a client without a cap still ends. */
const ENDLESS_LIMIT = 48 * MiB;

let dir: string;
let file: string;
let graph: GraphApiServer;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-facebook-hostile-'));
  file = join(dir, 'talk.mp4');
  await writeFile(file, randomBytes(SIZE));
  graph = await startGraphApiServer({ chunkSize: 1 * MiB });
});
after(async () => {
  await graph?.close();
  await rm(dir, { recursive: true, force: true });
});

const client = () => new FacebookClient(graph.clientOptions({ retryDelayMs: 5, chunkRetries: 0 }));
const upload = async () => client().upload({ source: await fileChunkSource(file), title: 't', description: 'd' });

/**
 * Writes `piece` until `limit` bytes went out or the client hung up; resolves with the
 * bytes written. Backpressure is honoured, so what was written is what the socket took.
 */
function endless(res: ServerResponse, status: number, piece: Buffer, limit: number, written: { bytes: number }): Promise<void> {
  res.writeHead(status, { 'content-type': 'application/json' });
  return new Promise((resolve) => {
    const pump = () => {
      while (written.bytes < limit && !res.destroyed) {
        written.bytes += piece.length;
        if (!res.write(piece)) return void res.once('drain', pump);
      }
      res.end();
      resolve();
    };
    res.once('close', () => resolve());
    pump();
  });
}

test('a start answer that never ends is cut at the answer cap with FACEBOOK_ANSWER_TOO_LARGE, not read to its end', async () => {
  const written = { bytes: 0 };
  graph.answerNext({ phase: 'start', respond: (res) => endless(res, 200, Buffer.alloc(64 * 1024, 'x'), ENDLESS_LIMIT, written) });
  await assert.rejects(upload(), (err: any) => {
    assert.equal(err.code, 'FACEBOOK_ANSWER_TOO_LARGE', err.message);
    assert.match(err.message, /start/);
    return true;
  });
  await new Promise((r) => setTimeout(r, 200));
  assert.ok(written.bytes < 16 * MiB, `the client kept reading: ${written.bytes} bytes were sent`);
});

test('an error answer (HTTP 400) with a huge body is refused by the same cap; a declared Content-Length past it is refused without reading', async () => {
  const written = { bytes: 0 };
  graph.answerNext({ phase: 'start', respond: (res) => endless(res, 400, Buffer.alloc(64 * 1024, ' '), ENDLESS_LIMIT, written) });
  await assert.rejects(upload(), { code: 'FACEBOOK_ANSWER_TOO_LARGE' });
  await new Promise((r) => setTimeout(r, 200));
  assert.ok(written.bytes < 16 * MiB, `the client kept reading the error body: ${written.bytes} bytes were sent`);

  let declaredSent = 0;
  graph.answerNext({ phase: 'start', respond: (res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(600 * MiB) });
    // Only the start of it: the client must decide from the header alone.
    const head = Buffer.from('{"video_id":"1","upload_session_id":"2","start_offset":"0","end_offset":"1048576"');
    declaredSent = head.length;
    res.write(head);
  } });
  await assert.rejects(upload(), (err: any) => {
    assert.equal(err.code, 'FACEBOOK_ANSWER_TOO_LARGE');
    assert.match(err.message, /declares 629145600 bytes/);
    return true;
  });
  assert.ok(declaredSent > 0);
});

test('a redirect on start to another origin is not followed: FACEBOOK_REDIRECTED, and the other origin gets no request', async () => {
  const seen: string[] = [];
  const other: Server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url} auth=${req.headers.authorization ?? ''}`);
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ video_id: '9', upload_session_id: '9', start_offset: '0', end_offset: String(SIZE) }));
  });
  other.listen(0, '127.0.0.1');
  await once(other, 'listening');
  const elsewhere = `http://127.0.0.1:${(other.address() as AddressInfo).port}/v24.0/1/videos`;
  try {
    for (const status of [302, 307, 308]) {
      graph.answerNext({ phase: 'start', respond: (res) => void res.writeHead(status, { location: elsewhere }).end() });
      await assert.rejects(upload(), (err: any) => {
        assert.equal(err.code, 'FACEBOOK_REDIRECTED', `${status}: ${err.code} ${err.message}`);
        assert.match(err.message, new RegExp(`HTTP ${status}`));
        return true;
      });
    }
    // The permalink read is a GET, followed by default: refused the same way (the video is
    // published, so the upload succeeds with the watch link, saying why).
    graph.answerNext({ phase: 'permalink', respond: (res) => void res.writeHead(302, { location: elsewhere }).end() });
    const result = await upload();
    assert.equal(result.permalinkError?.code, 'FACEBOOK_REDIRECTED');
    assert.equal(result.url, `https://www.facebook.com/watch/?v=${result.videoId}`);
    assert.deepEqual(seen, [], 'nothing reached the other origin');
  } finally {
    other.close();
  }
});

test('a permalink is mailed only as https on www.facebook.com or facebook.com; anything else falls back to the watch link', async () => {
  const cases: [string, string | null][] = [
    ['//evil.example.net/videos/1/', null],
    ['https://evil.example.net/videos/1/', null],
    ['http://www.facebook.com/page/videos/1/', null],
    ['https://www.facebook.com.evil.example.net/videos/1/', null],
    ['https://user@evil.example.net/videos/1/', null],
    ['javascript:alert(1)', null],
    ['/\\evil.example.net/videos/1/', null],
    ['https://www.facebook.com:8443/page/videos/1/', null],
    ['/104857600000001/videos/55/', 'https://www.facebook.com/104857600000001/videos/55/'],
    ['https://facebook.com/page/videos/56/', 'https://facebook.com/page/videos/56/'],
    ['https://www.facebook.com/page/videos/57/', 'https://www.facebook.com/page/videos/57/'],
  ];
  for (const [link, expected] of cases) {
    graph.answerNext({ phase: 'permalink', respond: (res) => void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ permalink_url: link, id: '1' })) });
    const result = await upload();
    if (expected === null) {
      assert.equal(result.url, `https://www.facebook.com/watch/?v=${result.videoId}`, `${link} must not be used`);
      assert.equal(result.permalinkError?.code, 'FACEBOOK_BAD_PERMALINK', link);
    } else {
      assert.equal(result.url, expected, link);
      assert.equal(result.permalinkError, undefined, link);
    }
  }
});
