import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { loadConfig } from '../../services/config.ts';
import { walkFolder, type FoundFile } from '../../services/cli/import/folder-walk.ts';
import { FileChangingError, uploadHashed } from '../../services/cli/import/hashed-upload.ts';
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
  const st = statSync(absPath, { bigint: true });
  return { absPath, size: Number(st.size), mtimeMs: Math.floor(Number(st.mtimeMs)), dev: st.dev, ino: st.ino };
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

/**
 * A folder to import and, beside it, a "root-only" file of the same size and time: the
 * attacker plants a link to it between the walk and the upload.
 */
function swapSetup(name: string) {
  const base = mkdtempSync(join(dir, `${name}-`));
  const inDir = join(base, 'in');
  const outside = join(base, 'outside');
  mkdirSync(join(inDir, 'site'), { recursive: true });
  mkdirSync(join(outside, 'site'), { recursive: true });
  const secret = randomBytes(5000);
  const when = new Date(Date.now() - 3600_000);
  for (const p of [join(outside, 'secret.mp4'), join(outside, 'site', 'cam2-2.mp4'), join(inDir, 'cam1-1.mp4'), join(inDir, 'site', 'cam2-2.mp4'), join(inDir, 'cam3-3.mp4')]) {
    writeFileSync(p, p.startsWith(outside) ? secret : randomBytes(5000));
    utimesSync(p, when, when);
  }
  return { inDir, outside, secret };
}

/** The real store, recording every upload it is asked for. */
function recordingStore(): { store: ObjectStore; uploads: string[] } {
  const uploads: string[] = [];
  return {
    uploads,
    store: Object.assign(Object.create(store) as ObjectStore, {
      upload: (bucket: string, key: string, body: string | Readable, opts?: UploadOptions) => {
        uploads.push(key);
        return store.upload(bucket, key, body, opts);
      },
    }),
  };
}

async function walked(inDir: string): Promise<Map<string, FoundFile>> {
  const { files } = await walkFolder(inDir, ['mp4']);
  return new Map(files.map((f) => [f.relPath, f]));
}

test('a file swapped for a symbolic link between the walk and the upload is never read through it: FILE_NOT_REGULAR, nothing uploaded', async () => {
  const { inDir, outside } = swapSetup('link');
  const found = await walked(inDir);
  const entry = found.get('cam1-1.mp4')!;
  // The attacker's swap, after the walk's lstat: same size and time as the walk saw.
  rmSync(entry.absPath);
  symlinkSync(join(outside, 'secret.mp4'), entry.absPath);
  const { store: s, uploads } = recordingStore();
  await assert.rejects(uploadHashed(s, BUCKET, 'swap/1.mp4', entry), (err: unknown) => {
    assert.equal((err as { code?: string }).code, 'FILE_NOT_REGULAR');
    assert.match((err as Error).message, /symbolic link .*not followed/);
    return true;
  });
  assert.deepEqual(uploads, [], 'nothing was sent');
  assert.equal(await store.exists(BUCKET, 'swap/1.mp4'), false);
});

test('a folder swapped for a symbolic link out of the import folder after the walk: FILE_OUTSIDE_FOLDER, nothing uploaded', async () => {
  const { inDir, outside } = swapSetup('dirlink');
  const found = await walked(inDir);
  const entry = found.get('site/cam2-2.mp4')!;
  renameSync(join(inDir, 'site'), join(inDir, 'site.old'));
  symlinkSync(join(outside, 'site'), join(inDir, 'site'));
  const { store: s, uploads } = recordingStore();
  await assert.rejects(uploadHashed(s, BUCKET, 'swap/2.mp4', entry), (err: unknown) => {
    assert.equal((err as { code?: string }).code, 'FILE_OUTSIDE_FOLDER');
    assert.match((err as Error).message, /not the file the folder walk found/);
    return true;
  });
  assert.deepEqual(uploads, []);
  assert.equal(await store.exists(BUCKET, 'swap/2.mp4'), false);
});

test('a file swapped for a FIFO after the walk is refused at once (the open does not wait for a writer)', { timeout: 15_000 }, async () => {
  const { inDir } = swapSetup('fifo');
  const found = await walked(inDir);
  const entry = found.get('cam3-3.mp4')!;
  rmSync(entry.absPath);
  execFileSync('mkfifo', [entry.absPath]);
  const { store: s, uploads } = recordingStore();
  await assert.rejects(uploadHashed(s, BUCKET, 'swap/3.mp4', entry), { code: 'FILE_NOT_REGULAR', message: /not a regular file/ });
  assert.deepEqual(uploads, []);
});

test('the walk lists a symbolic link to a folder as passed over, with its reason; links to other files stay unlisted', async () => {
  const { inDir, outside } = swapSetup('walk');
  symlinkSync(join(outside, 'site'), join(inDir, 'linked-site'));
  symlinkSync(join(outside, 'secret.mp4'), join(inDir, 'notes.txt'));
  const { files, passedOver } = await walkFolder(inDir, ['mp4']);
  assert.deepEqual(files.map((f) => f.relPath), ['cam1-1.mp4', 'cam3-3.mp4', 'site/cam2-2.mp4']);
  assert.deepEqual(passedOver, [{ relPath: 'linked-site', reason: 'a symbolic link to a folder (not followed: the files in it are not imported)' }]);
});
