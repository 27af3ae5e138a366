import assert from 'node:assert/strict';
import { join, resolve, sep } from 'node:path';
import { test } from 'node:test';
import { isPermanent } from '../../shared/errors.ts';
import { videoJobCodec } from '../../shared/contract/messages.ts';
import {
  checkBucketName,
  checkKeyPrefix,
  checkObjectKey,
  isBucketName,
  BadObjectKeyError,
  decodeEventKey,
  keyExtension,
  keyFileName,
  keyStem,
  localPathFor,
  safeRelativePath,
} from '../../shared/contract/object-key.ts';

const WORK = resolve('/tmp/vigil-job-1');

function rejects(fn: () => unknown, pattern?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof BadObjectKeyError, `expected BadObjectKeyError, got ${String(err)}`);
    assert.equal(err.code, 'BAD_OBJECT_KEY');
    assert.ok(isPermanent(err));
    if (pattern) assert.match(err.message, pattern);
    return true;
  });
}

test('stems and extensions name the outputs', () => {
  assert.equal(keyStem('cam1/1511893800.avi'), '1511893800');
  assert.equal(keyExtension('cam1/1511893800.avi'), '.avi');
  assert.equal(keyStem('talk.final.AVI'), 'talk.final');
  assert.equal(keyExtension('talk.final.AVI'), '.avi');
  assert.equal(keyStem('noext'), 'noext');
  assert.equal(keyExtension('noext'), '');
  assert.equal(keyStem('dir/.avi'), '.avi', 'a leading dot is no extension');
  assert.equal(keyStem('Right metrics: Is there such a thing4?.avi'), 'Right metrics: Is there such a thing4?');
  assert.equal(keyStem('kamera/Überwachung 東京 🎥.avi'), 'Überwachung 東京 🎥');
  assert.equal(keyFileName('a/b/c.mp4'), 'c.mp4');
  rejects(() => keyStem('cam1/'), /empty path segment/);
  rejects(() => keyStem('cam1/..'), /"\." or "\.\."/);
});

test('a key becomes a path inside the work directory, or nothing', () => {
  assert.equal(safeRelativePath('cam1/1511893800.avi'), ['cam1', '1511893800.avi'].join(sep));
  assert.equal(localPathFor(WORK, 'cam1/1511893800.avi'), join(WORK, 'cam1', '1511893800.avi'));
  assert.equal(localPathFor(WORK, 'a b/ü.avi'), join(WORK, 'a b', 'ü.avi'));
  // Dots inside a name are fine; only whole "." and ".." segments are refused.
  assert.equal(localPathFor(WORK, '..avi'), join(WORK, '..avi'));
  assert.equal(localPathFor(WORK, 'a/...'), join(WORK, 'a', '...'));
});

test('traversal and absolute keys are refused', () => {
  for (const key of ['../etc/passwd', 'a/../../etc/passwd', 'a/./b', './a', 'a/..', '..', '.']) {
    rejects(() => localPathFor(WORK, key), /"\." or "\.\."/);
  }
  rejects(() => localPathFor(WORK, '/etc/passwd'), /absolute/);
  rejects(() => localPathFor(WORK, '//etc/passwd'), /absolute/);
  rejects(() => localPathFor(WORK, 'a//b'), /empty path segment/);
  rejects(() => localPathFor(WORK, 'a/'), /empty path segment/);
  rejects(() => localPathFor(WORK, ''), /empty/);
  rejects(() => localPathFor(WORK, '..\\..\\windows\\win.ini'), /backslash/);
  rejects(() => localPathFor(WORK, 'C:\\x.avi'), /backslash/);
});

test('NUL, control, bidi characters and lone surrogates are refused', () => {
  for (const key of ['a\0.avi', 'a\n.avi', 'a\r.avi', 'a\t.avi', 'a\x1b[31m.avi', 'a\x7f.avi', 'a\u0085.avi', 'evil\u202Eiva.avi', 'a\u2066b.avi', 'a\ud800.avi']) {
    rejects(() => safeRelativePath(key), /control character/);
  }
});

test('over-long keys and segments are refused; the message never echoes the key', () => {
  const segment = 'x'.repeat(255);
  assert.equal(safeRelativePath(segment), segment);
  rejects(() => safeRelativePath('x'.repeat(256)), /over 255 bytes/);
  // 128 three-byte characters: 128 characters but 384 bytes.
  rejects(() => safeRelativePath('€'.repeat(128)), /over 255 bytes/);
  const long = Array.from({ length: 5 }, () => 'y'.repeat(250)).join('/');
  rejects(() => safeRelativePath(long), /1024/);
  assert.throws(() => safeRelativePath('secret\0name'), (err: Error) => !err.message.includes('secret'));
});

test('event keys: URL-decoded with + for a space, %2B for a plus', () => {
  assert.equal(decodeEventKey('cam1/1511893800.avi'), 'cam1/1511893800.avi');
  assert.equal(decodeEventKey('my+talk.avi'), 'my talk.avi');
  assert.equal(decodeEventKey('c%2B%2B+talk.avi'), 'c++ talk.avi');
  assert.equal(decodeEventKey('cam1%2F2024%2Fa.avi'), 'cam1/2024/a.avi');
  assert.equal(decodeEventKey('%C3%9Cberwachung+%E6%9D%B1%E4%BA%AC.avi'), 'Überwachung 東京.avi');
  assert.equal(decodeEventKey('100%25.avi'), '100%.avi');
  // Decoding does not validate the key as a path: that is localPathFor's job.
  assert.equal(decodeEventKey('..%2F..%2Fetc%2Fpasswd'), '../../etc/passwd');
  rejects(() => localPathFor(WORK, decodeEventKey('..%2F..%2Fetc%2Fpasswd')));
  rejects(() => localPathFor(WORK, decodeEventKey('a%00.avi')), /control character/);
  rejects(() => decodeEventKey('%E0%A4%A'), /URL encoding/);
  rejects(() => decodeEventKey('%FF.avi'), /URL encoding/);
  rejects(() => decodeEventKey('100%.avi'), /URL encoding/);
  rejects(() => decodeEventKey(''), /empty/);
  rejects(() => decodeEventKey('z'.repeat(1025)), /1024/);
});

test('the transcoder queue decodes event keys the same way', () => {
  const body = (key: string) => Buffer.from(JSON.stringify({ Records: [{ s3: { bucket: { name: 'video-avi' }, object: { key } } }] }));
  assert.deepEqual(videoJobCodec.parse(body('cam1/my+talk%2B.avi')).source, { bucket: 'video-avi', key: 'cam1/my talk+.avi' });
  assert.throws(() => videoJobCodec.parse(body('%FF')), (err: Error & { code?: string }) => err.code === 'BAD_MESSAGE' && /URL encoding/.test(err.message));
  assert.throws(() => videoJobCodec.parse(body('z'.repeat(1025))), (err: Error & { code?: string }) => err.code === 'BAD_MESSAGE');
});

test('every store operation takes only keys without ".", "..", empty segments or a leading slash', () => {
  for (const key of ['cam1/1511893800.avi', 'a.avi', 'Right metrics: part+1.avi', '.hidden/x.avi', 'x/..y/z..avi']) assert.equal(checkObjectKey(key), key);
  for (const key of ['../video-library/victim.avi', 'cam9/../cam3/keep.avi', './x.avi', 'a/./b.avi', '/abs.avi', 'a//b.avi', 'a/', '', 'a\u0000.avi', 'a\u202Eiva.exe']) {
    rejects(() => checkObjectKey(key));
  }
  assert.equal(checkKeyPrefix(''), '');
  assert.equal(checkKeyPrefix('cam1/'), 'cam1/');
  assert.equal(checkKeyPrefix('cam1/15'), 'cam1/15');
  rejects(() => checkKeyPrefix('../'));
  rejects(() => checkKeyPrefix('a//'));
});

test('bucket names follow S3 naming rules; a name with a slash is a permanent BAD_BUCKET_NAME', () => {
  for (const b of ['video-avi', 'unlabeled-images', 'a.b-c', 'abc', '1234']) assert.ok(isBucketName(b), b);
  for (const b of ['video/avi', 'ab', 'Video', 'a_b', '-abc', 'abc-', 'a..b', 'x'.repeat(64), '']) assert.ok(!isBucketName(b), b);
  assert.throws(() => checkBucketName('video/avi'), (err: Error & { code?: string }) => err.code === 'BAD_BUCKET_NAME' && isPermanent(err));
  assert.throws(
    () => videoJobCodec.parse(Buffer.from(JSON.stringify({ source: { bucket: 'video/avi', key: 'x.avi' } }))),
    (err: Error & { code?: string }) => err.code === 'BAD_MESSAGE' && /source\.bucket: must be an S3 bucket name/.test(err.message),
  );
});
