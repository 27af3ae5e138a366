import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { MultipartParser, fieldSink, multipartBoundary, type PartInfo } from '../helpers/multipart-parser.ts';

/** The test Graph API server's parser must hand over the same parts however the body is split on the wire. */
async function encode(form: FormData): Promise<{ boundary: string; body: Buffer }> {
  const req = new Request('http://x/', { method: 'POST', body: form });
  return { boundary: multipartBoundary(req.headers.get('content-type') ?? '')!, body: Buffer.from(await req.arrayBuffer()) };
}

function parse(boundary: string, pieces: Buffer[]): { info: PartInfo; bytes: Buffer }[] {
  const parts: { info: PartInfo; bytes: Buffer }[] = [];
  const parser = new MultipartParser(boundary, (info) => {
    const chunks: Buffer[] = [];
    return { data: (b) => void chunks.push(Buffer.from(b)), end: () => void parts.push({ info, bytes: Buffer.concat(chunks) }) };
  });
  for (const p of pieces) parser.write(p);
  parser.end();
  return parts;
}

test('fields and a binary file come out whole, whatever the split of the body', async () => {
  const file = randomBytes(5000);
  // A file holding the delimiter's start must not end the part early.
  file.write('\r\n--', 1000, 'latin1');
  const form = new FormData();
  form.append('upload_phase', 'transfer');
  form.append('title', 'Überwachung 東京 "quoted"');
  form.append('video_file_chunk', new Blob([file]), 'chunk');
  const { boundary, body } = await encode(form);
  for (const size of [1, 2, 7, 64, 1000, body.length]) {
    const pieces: Buffer[] = [];
    for (let i = 0; i < body.length; i += size) pieces.push(body.subarray(i, i + size));
    const parts = parse(boundary, pieces);
    assert.deepEqual(parts.map((p) => p.info.name), ['upload_phase', 'title', 'video_file_chunk'], `split ${size}`);
    assert.equal(parts[0]!.bytes.toString(), 'transfer');
    assert.equal(parts[1]!.bytes.toString(), 'Überwachung 東京 "quoted"');
    assert.equal(parts[2]!.info.filename, 'chunk');
    assert.ok(parts[2]!.bytes.equals(file), `split ${size}`);
  }
});

test('a body cut before its closing delimiter, a missing name, an over-long field: errors', async () => {
  const form = new FormData();
  form.append('a', 'x'.repeat(100));
  const { boundary, body } = await encode(form);
  assert.throws(() => parse(boundary, [body.subarray(0, body.length - 10)]), /ended before/);
  const bad = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data\r\n\r\nv\r\n--${boundary}--\r\n`);
  assert.throws(() => parse(boundary, [bad]), /without a name/);
  const parser = new MultipartParser(boundary, () => fieldSink(10, () => {}));
  assert.throws(() => parser.write(body), /over 10 bytes/);
  assert.equal(multipartBoundary('application/json'), undefined);
  assert.equal(multipartBoundary('multipart/form-data; boundary="ab c"'), 'ab c');
});
