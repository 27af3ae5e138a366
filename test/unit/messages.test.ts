import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CODECS, imageIdCodec, videoJobCodec, BadMessageError, depthOf } from '../../shared/contract/messages.ts';

const parse = (s: string | Buffer) => imageIdCodec.parse(Buffer.isBuffer(s) ? s : Buffer.from(s));

test('an image id comes as decimal text or JSON {"id":…}', () => {
  assert.deepEqual(parse('123'), { id: 123 });
  assert.deepEqual(parse(' 42\n'), { id: 42 });
  assert.deepEqual(parse('{"id":123}'), { id: 123 });
  assert.deepEqual(parse('{"id":"77"}'), { id: 77 });
  assert.equal(imageIdCodec.key({ id: 5 }), 'id:5');
  assert.equal(imageIdCodec.encode({ id: 9 }).toString(), '{"id":9}');
});

test('bad id bodies are permanent BAD_MESSAGE errors with a reason', () => {
  const cases: [string | Buffer, RegExp][] = [
    ['', /empty body/],
    ['abc', /body is not a decimal id or JSON/],
    ['0', /integer from 1/],
    ['-3', /id must be an integer from 1/],
    ['99999999999', /integer from 1 to 2147483647/],
    ['1.5', /id must be an integer from 1 .* \(got 1\.5\)/],
    ['{"id":', /not a decimal id or JSON/],
    ['{"name":"x"}', /wrong shape: id/],
    ['[1,2]', /wrong shape/],
    ['null', /wrong shape/],
    [Buffer.alloc(2000, '1'), /exceeds the 1024-byte limit/],
    [Buffer.from([0xc3, 0x28]), /not valid UTF-8/],
  ];
  for (const [body, reason] of cases) {
    assert.throws(() => parse(body), (err: unknown) => {
      assert.ok(err instanceof BadMessageError, `${String(body).slice(0, 20)}: ${String(err)}`);
      assert.equal(err.code, 'BAD_MESSAGE');
      assert.equal(err.permanent, true);
      assert.match(err.message, reason);
      return true;
    });
  }
});

test('an S3 event notification is a video job with only its source, key URL-decoded with + as space', () => {
  const event = {
    Records: [
      {
        eventName: 'ObjectCreated:Put',
        s3: { bucket: { name: 'video-avi' }, object: { key: 'Right+metrics+and+wrong+metrics%3A+Is+there+such+a+thing4%3F.avi', size: 1 } },
      },
    ],
  };
  const job = videoJobCodec.parse(Buffer.from(JSON.stringify(event)));
  assert.deepEqual(job, { source: { bucket: 'video-avi', key: 'Right metrics and wrong metrics: Is there such a thing4?.avi' } });
  assert.equal(videoJobCodec.key(job), 's3:video-avi/Right metrics and wrong metrics: Is there such a thing4?.avi');
  assert.throws(() => videoJobCodec.parse(Buffer.from('{"Records":[]}')), /exactly one record/);
  assert.throws(() => videoJobCodec.parse(Buffer.from('{"Records":[{"s3":{"bucket":{"name":"bkt"},"object":{"key":"%E0%A4%A"}}}]}')), /URL encoding/);
});

test('a video job is checked field by field', () => {
  const ok = videoJobCodec.parse(Buffer.from(JSON.stringify({
    jobId: 'j-1',
    source: { bucket: 'video-avi', key: 'cam1/1511893800.avi' },
    split: { maxSeconds: 240, clipSeconds: 120 },
    frames: { every: 10, dropDead: true },
    trim: { start: 12.5, end: 1830, fadeSeconds: 3 },
    then: { queue: 'uploader', job: { title: 't' } },
  })));
  assert.equal(ok.jobId, 'j-1');
  assert.equal(videoJobCodec.key(ok), 'j-1');
  assert.throws(() => videoJobCodec.parse(Buffer.from('{"source":{"bucket":"b"}}')), /wrong shape: source\.bucket|source\.key/);
  assert.throws(() => videoJobCodec.parse(Buffer.from('{"source":{"bucket":"video-avi","key":"a.avi"},"trim":{"start":10,"end":5}}')), /trim.end must be after trim.start/);
  assert.throws(() => videoJobCodec.parse(Buffer.from('{"source":{"bucket":"video-avi","key":"a.avi"},"colour":"red"}')), /wrong shape/);
});

test('notifications and upload jobs', () => {
  const n = CODECS.notifier.parse(Buffer.from('{"channel":"email","to":["ada@example.org"],"template":"video_published","idempotencyKey":"upload-42-ada"}'));
  assert.equal(CODECS.notifier.key(n), 'notify:upload-42-ada');
  assert.throws(() => CODECS.notifier.parse(Buffer.from('{"channel":"pigeon","to":["x"],"template":"t"}')), /channel/);
  const u = CODECS.uploader.parse(Buffer.from('{"source":{"bucket":"video-mp4","key":"talk.mp4"},"title":"Talk","targets":["library"]}'));
  assert.deepEqual(u.targets, ['library']);
  assert.throws(() => CODECS.uploader.parse(Buffer.from('{"source":{"bucket":"video-mp4","key":"talk.mp4"},"title":"T","targets":["myspace"]}')), /targets/);
});

test('a body nested deeper than 32 levels is refused before validation, without recursion', () => {
  const nested = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
  const job = (then: string) => Buffer.from(`{"source":{"bucket":"video-avi","key":"x.avi"},"then":{"queue":"uploader","job":${then}}}`);
  assert.throws(() => videoJobCodec.parse(job(nested(10_000))), (err: unknown) => err instanceof BadMessageError && /nests deeper than 32 levels/.test(err.message));
  assert.throws(() => CODECS.notifier.parse(Buffer.from(`{"channel":"email","to":["a@b.c"],"template":"x","data":${nested(40)}}`)), /nests deeper/);
  assert.equal(videoJobCodec.parse(job(nested(20))).then?.queue, 'uploader');
  assert.equal(depthOf([[[]]], 100), 3);
  assert.equal(depthOf({ a: [1, { b: 2 }] }, 100), 3);
  assert.equal(depthOf(JSON.parse(nested(5000)), 33), 33, 'stops counting at the limit');
});
