import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { loadConfig } from '../../shared/config/config.ts';
import { FileChangingError, uploadHashed } from '../../shared/import/hashed-upload.ts';
import { createObjectStore, type ObjectStore, type S3ObjectStore, type UploadOptions } from '../../shared/storage/object-store.ts';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.ts';

let s3: S3TestServer;
let store: S3ObjectStore;
const BUCKET = `impup-${randomBytes(4).toString('hex')}`;
const dir = mkdtempSync(join(tmpdir(), 'vigil-import-upload-'));

before(async () => {
  s3 = await startS3Server();
  store = createObjectStore(loadConfig(s3.env).s3);
  await store.ensureBucket(BUCKET);
});
after(async () => {
  store?.close();
  await s3?.close();
  rmSync(dir, { recursive: true, force: true });
});

function file(name: string, bytes: number) {
  const absPath = join(dir, name);
  writeFileSync(absPath, randomBytes(bytes));
  const st = statSync(absPath);
  return { absPath, size: st.size, mtimeMs: Math.floor(st.mtimeMs) };
}

/** The real store, with `beforeUpload` run as an upload starts (a camera still writing). */
function storeWith(beforeUpload: () => void): ObjectStore {
  return Object.assign(Object.create(store) as ObjectStore, {
    upload: (bucket: string, key: string, body: string | Readable, opts?: UploadOptions) => {
      beforeUpload();
      return store.upload(bucket, key, body, opts);
    },
  });
}

test('a multipart upload hashes the whole content from the same read', async () => {
  const f = file('big.mp4', 12 * 1024 * 1024 + 17);
  const r = await uploadHashed(store, BUCKET, 'cam1/1.mp4', f, { metadata: { 'vigil-import-job': 'j1' } });
  const want = createHash('sha256').update(readFileSync(f.absPath)).digest('hex');
  assert.equal(r.sha256, want);
  assert.equal(r.size, f.size);
  const back = join(dir, 'back');
  await store.download(BUCKET, 'cam1/1.mp4', back);
  assert.equal(createHash('sha256').update(readFileSync(back)).digest('hex'), want);
});

test('a file that grows while it is uploaded is FILE_CHANGING and its uploaded copy is removed', async () => {
  const f = file('growing.mp4', 6 * 1024 * 1024);
  const growing = storeWith(() => appendFileSync(f.absPath, randomBytes(4096)));
  await assert.rejects(uploadHashed(growing, BUCKET, 'cam1/2.mp4', f), (err: unknown) => {
    assert.ok(err instanceof FileChangingError);
    assert.equal(err.code, 'FILE_CHANGING');
    assert.match(err.message, /changed while it was uploaded/);
    return true;
  });
  assert.equal(await store.exists(BUCKET, 'cam1/2.mp4'), false);
});

test('a file changed or gone since the folder was read is FILE_CHANGING before anything is sent', async () => {
  const f = file('changed.mp4', 1000);
  appendFileSync(f.absPath, 'more');
  await assert.rejects(uploadHashed(store, BUCKET, 'cam1/3.mp4', f), { code: 'FILE_CHANGING', message: /changed since the folder was read/ });
  rmSync(f.absPath);
  await assert.rejects(uploadHashed(store, BUCKET, 'cam1/3.mp4', f), { code: 'FILE_CHANGING', message: /gone/ });
  assert.equal(await store.exists(BUCKET, 'cam1/3.mp4'), false);
});
