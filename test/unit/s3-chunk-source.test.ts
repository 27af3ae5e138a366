import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { s3ChunkSource } from '../../services/uploader/s3-chunk-source.ts';

/** A store whose object is `data`, served from the range's start in 1000-byte pieces. */
function store(data: Buffer) {
  return {
    async openRead(_bucket: string, _key: string, opts: { range?: string } = {}) {
      const start = Number(/^bytes=(\d+)-$/.exec(opts.range ?? 'bytes=0-')![1]);
      const pieces: Buffer[] = [];
      for (let at = start; at < data.length; at += 1000) pieces.push(Buffer.from(data.subarray(at, Math.min(data.length, at + 1000))));
      return { body: Readable.from(pieces), size: data.length - start, etag: '"e"', contentType: undefined };
    },
  };
}

test('chunk buffers are recycled, and a chunk stays intact until two later ones were handed out', async () => {
  const chunk = 4096;
  const data = randomBytes(chunk * 20 + 123);
  const src = s3ChunkSource(store(data), { bucket: 'b', key: 'k' }, data.length, '"e"');
  const got: Buffer[] = [];
  for (let at = 0; at < data.length; at += chunk) {
    got.push(await src.read(at, Math.min(data.length, at + chunk)));
    // Time for the read-ahead to fill whatever buffer it was given.
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    // The one just handed out and the one before it (still possibly on the wire) are untouched.
    for (const k of [got.length - 1, got.length - 2].filter((k) => k >= 0)) {
      assert.ok(got[k]!.equals(data.subarray(k * chunk, Math.min(data.length, (k + 1) * chunk))), `chunk ${k} after ${got.length} reads`);
    }
  }
  assert.equal(got.length, 21);
  assert.equal(got.at(-1)!.length, 123, 'the last chunk is the rest of the object');
  const buffers = new Set(got.map((b) => b.buffer));
  assert.ok(buffers.size <= 4, `${buffers.size} buffers for ${got.length} chunks`);
  src.close();
});

test('a read out of order is right too, and recycling goes on after it', async () => {
  const data = randomBytes(50_000);
  const src = s3ChunkSource(store(data), { bucket: 'b', key: 'k' }, data.length, '"e"');
  const ranges = [[0, 8000], [8000, 16_000], [4000, 12_000], [12_000, 20_000], [20_000, 28_000], [28_000, 36_000], [36_000, 44_000], [44_000, 50_000]] as const;
  for (const [from, to] of ranges) assert.ok((await src.read(from, to)).equals(data.subarray(from, to)), `${from}-${to}`);
  src.close();
});
