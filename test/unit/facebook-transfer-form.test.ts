import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { transferForm } from '../../services/uploader/facebook-transfer-body.ts';
import { MultipartParser, fieldSink, multipartBoundary } from '../helpers/multipart-parser.ts';

const fields = { upload_phase: 'transfer', upload_session_id: '1564747010440106', start_offset: '8388608' };

/** What fetch sends for a FormData of the same fields and chunk, with its boundary. */
async function viaFormData(chunk: Buffer): Promise<{ boundary: string; bytes: Buffer }> {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append('video_file_chunk', new Blob([chunk], { type: 'application/octet-stream' }), 'chunk');
  const req = new Request('http://127.0.0.1/', { method: 'POST', body: form });
  return { boundary: multipartBoundary(req.headers.get('content-type') ?? '')!, bytes: Buffer.from(await req.arrayBuffer()) };
}

test('the transfer body is byte for byte what fetch sends for the same FormData, apart from the boundary', async () => {
  // A chunk holding CRLFs and dashes, so a body that mangled or split on them would differ.
  const chunk = Buffer.concat([Buffer.from('\r\n--\r\n'), randomBytes(70_000), Buffer.from('--\r\n')]);
  const ours = transferForm(fields, chunk);
  const bytes = Buffer.concat(ours.parts);
  assert.equal(ours.length, bytes.length);
  const boundary = multipartBoundary(ours.contentType);
  assert.ok(boundary, ours.contentType);
  const theirs = await viaFormData(chunk);
  const normalised = Buffer.from(bytes.toString('latin1').replaceAll(boundary, theirs.boundary), 'latin1');
  assert.equal(normalised.length, theirs.bytes.length);
  assert.ok(normalised.equals(theirs.bytes));
});

test('the transfer body parses back into the fields and the exact chunk', () => {
  const chunk = randomBytes(1_000_003);
  const { contentType, parts: sent } = transferForm(fields, chunk);
  const bytes = Buffer.concat(sent);
  const got = new Map<string, string>();
  const parts: Buffer[] = [];
  let filename: string | undefined;
  const parser = new MultipartParser(multipartBoundary(contentType)!, (info) => {
    if (info.name !== 'video_file_chunk') return fieldSink(1024, (v) => got.set(info.name, v));
    filename = info.filename;
    return { data: (b) => void parts.push(Buffer.from(b)), end() {} };
  });
  // Fed in odd pieces, as a socket delivers it.
  for (let i = 0; i < bytes.length; i += 65_537) parser.write(bytes.subarray(i, i + 65_537));
  parser.end();
  assert.deepEqual(Object.fromEntries(got), fields);
  assert.equal(filename, 'chunk');
  assert.ok(Buffer.concat(parts).equals(chunk));
});

test('the chunk is sent as it is, not copied', () => {
  const chunk = randomBytes(4096);
  assert.equal(transferForm(fields, chunk).parts[1], chunk);
});

test('two bodies never share a boundary', () => {
  const a = transferForm(fields, Buffer.alloc(10));
  const b = transferForm(fields, Buffer.alloc(10));
  assert.notEqual(a.contentType, b.contentType);
});

test('a field FormData would normalise or escape is refused, not sent differently', () => {
  assert.throws(() => transferForm({ ...fields, upload_session_id: '1\r\n2' }, Buffer.alloc(1)), TypeError);
  assert.throws(() => transferForm({ 'na"me': 'x' }, Buffer.alloc(1)), TypeError);
  assert.throws(() => transferForm({ title: 'café' }, Buffer.alloc(1)), TypeError);
});
