import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { UploadRecord } from '../../db/repositories/uploader.repository.ts';
import type { UploadJob } from '../../shared/contract/messages.ts';
import { facebookDescription } from '../../services/uploader/facebook-target.ts';
import { SOURCE_META, libraryKeyRefusal, libraryKeysOf, libraryMetadata, libraryUrl, sidecarOf, sourceTag } from '../../services/uploader/library-target.ts';
import { speakerNotices } from '../../services/uploader/notices.ts';
import { startSweeper } from '../../services/uploader/sweeper.ts';
import { createLogger } from '../../shared/logger.ts';
import { s3ChunkSource } from '../../services/uploader/s3-chunk-source.ts';

const row = (id: number, target: 'library' | 'facebook', url: string | null): UploadRecord => ({
  id, target, status: 'done', attempts: 1, postponements: 0, nextAttemptAt: null, url, sourceEtag: null, session: undefined,
});

const job: UploadJob = {
  source: { bucket: 'video-mp4', key: 'talk.mp4' },
  title: 'Right metrics and wrong metrics',
  description: 'On measures.',
  speakers: [{ name: 'Ada Lovelace', email: 'ada@example.org' }, { name: 'Anonymous' }, { name: 'Grace Hopper', email: 'grace@example.org' }],
};

test('one video_published email per speaker with an address: the Facebook link first, both links, a key per upload and speaker', () => {
  const notices = speakerNotices(job, [row(43, 'facebook', 'https://fb/v/1'), row(42, 'library', 'https://lib/talk.mp4')]);
  assert.deepEqual(notices.map((n) => n.speakerIndex), [0, 2]);
  assert.deepEqual(notices[0]!.notification, {
    channel: 'email',
    to: ['ada@example.org'],
    template: 'video_published',
    data: { name: 'Ada Lovelace', title: job.title, url: 'https://fb/v/1', links: { facebook: 'https://fb/v/1', library: 'https://lib/talk.mp4' } },
    idempotencyKey: 'vigil:upload-42-0',
  });
  assert.equal(notices[1]!.notification.idempotencyKey, 'vigil:upload-42-2');
  const libraryOnly = speakerNotices(job, [row(7, 'library', 'https://lib/talk.mp4')]);
  assert.deepEqual(libraryOnly[0]!.notification.data, { name: 'Ada Lovelace', title: job.title, url: 'https://lib/talk.mp4', links: { library: 'https://lib/talk.mp4' } });
  assert.deepEqual(speakerNotices({ ...job, speakers: undefined }, [row(1, 'library', 'u')]), []);
});

test('the Facebook description is the job\'s, then a line naming the speakers', () => {
  assert.equal(facebookDescription(job), 'On measures.\n\nSpeakers: Ada Lovelace, Anonymous, Grace Hopper');
  assert.equal(facebookDescription({ speakers: [{ name: 'Ada' }] }), 'Speaker: Ada');
  assert.equal(facebookDescription({ description: '  Only text. ' }), 'Only text.');
  assert.equal(facebookDescription({}), '');
});

test('library metadata is ASCII, percent-encoded and capped to fit S3\'s 2 KB; the sidecar has names, never addresses', () => {
  const long = { ...job, title: '“Métriques” 🎥 '.repeat(60), speakers: Array.from({ length: 50 }, (_, i) => ({ name: `Spëaker ${i} with a rather long name` })) };
  const meta = libraryMetadata(long, 'abc123');
  assert.ok(/^[\x20-\x7e]*$/.test(Object.values(meta).join('')));
  const bytes = Object.entries(meta).reduce((n, [k, v]) => n + k.length + v.length, 0);
  assert.ok(bytes <= 2048, `${bytes} bytes of metadata`);
  assert.ok(long.title.startsWith(decodeURIComponent(meta['vigil-title']!)), 'cut at a whole character');
  assert.equal(meta['vigil-source-etag'], 'abc123');
  assert.equal(decodeURIComponent(libraryMetadata(job, 'e')['vigil-title']!), job.title);
  const sidecar = sidecarOf(job, 'e');
  assert.ok(!JSON.stringify(sidecar).includes('@'));
  assert.deepEqual(sidecar.speakers, [{ name: 'Ada Lovelace' }, { name: 'Anonymous' }, { name: 'Grace Hopper' }]);
});

test('library links: the public base, else the store\'s path-style URL, else AWS; every key segment encoded', () => {
  const key = 'talks/2026/Ünï code#1.mp4';
  assert.equal(libraryUrl({ publicUrl: 'https://videos.example.org', endpoint: 'http://minio:9000', region: 'eu-west-1' }, 'video-library', key), 'https://videos.example.org/talks/2026/%C3%9Cn%C3%AF%20code%231.mp4');
  assert.equal(libraryUrl({ publicUrl: undefined, endpoint: 'http://minio:9000/', region: 'eu-west-1' }, 'video-library', 'a b.mp4'), 'http://minio:9000/video-library/a%20b.mp4');
  assert.equal(libraryUrl({ publicUrl: undefined, endpoint: undefined, region: 'eu-west-1' }, 'video-library', 'a.mp4'), 'https://video-library.s3.eu-west-1.amazonaws.com/a.mp4');
});

/** A store whose object is `data`, served in small pieces, counting the GETs opened. */
function fakeStore(data: Buffer, breakAt?: number) {
  const opened: string[] = [];
  let broken = false;
  return {
    opened,
    async openRead(_bucket: string, _key: string, opts: { range?: string } = {}) {
      opened.push(opts.range ?? '');
      const start = Number(/^bytes=(\d+)-$/.exec(opts.range ?? 'bytes=0-')![1]);
      const pieces: Buffer[] = [];
      for (let at = start; at < data.length; at += 1000) pieces.push(data.subarray(at, Math.min(data.length, at + 1000)));
      const body = Readable.from((async function* () {
        for (const p of pieces) {
          if (breakAt !== undefined && !broken && p.byteOffset - data.byteOffset >= breakAt) {
            broken = true;
            throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
          }
          yield p;
        }
      })());
      return { body, size: data.length - start, etag: '"e"', contentType: undefined };
    },
  };
}

test('the S3 chunk source reads the asked ranges from one GET in order, reopens at an out-of-order offset, and once after a broken stream', async () => {
  const data = randomBytes(10_500);
  const store = fakeStore(data);
  const src = s3ChunkSource(store, { bucket: 'b', key: 'k' }, data.length, '"e"');
  assert.deepEqual(await src.read(0, 4096), data.subarray(0, 4096));
  assert.deepEqual(await src.read(4096, 8192), data.subarray(4096, 8192));
  assert.deepEqual(store.opened, ['bytes=0-'], 'one GET for the chunks in order (and the one read ahead)');
  // The API asks for an earlier offset (its answer to a chunk was lost): a new GET there.
  assert.deepEqual(await src.read(6000, 10_500), data.subarray(6000, 10_500));
  assert.deepEqual(store.opened, ['bytes=0-', 'bytes=6000-']);
  src.close();

  const flaky = fakeStore(data, 5000);
  const again = s3ChunkSource(flaky, { bucket: 'b', key: 'k' }, data.length, '"e"');
  const chunks = [await again.read(0, 4000), await again.read(4000, 8000), await again.read(8000, 10_500)];
  assert.deepEqual(Buffer.concat(chunks), data);
  assert.deepEqual(flaky.opened, ['bytes=0-', 'bytes=4000-'], 'the broken GET is reopened where the chunk starts');
});

test('library keys name the source bucket; a source whose library keys the store would refuse is refused up front, with the code saying which', () => {
  assert.deepEqual(libraryKeysOf({ bucket: 'video-mp4', key: 'talks/keynote.mp4' }), { video: 'video-mp4/talks/keynote.mp4', sidecar: 'video-mp4/talks/keynote.mp4.json' });
  assert.notEqual(sourceTag({ bucket: 'video-mp4', key: 'talks/k.mp4' }), sourceTag({ bucket: 'extra', key: 'talks/k.mp4' }));
  assert.equal(libraryMetadata(job, 'e')[SOURCE_META], sourceTag(job.source));
  const ok = { source: { bucket: 'video-mp4', key: `${'a'.repeat(200)}/${'b'.repeat(240)}.mp4` } };
  assert.equal(libraryKeyRefusal(ok), undefined);
  // 1,006 bytes: fine as a source key, too long once `video-mp4/` is put before it.
  const long = { source: { bucket: 'video-mp4', key: `${'a'.repeat(250)}/${'b'.repeat(250)}/${'c'.repeat(250)}/${'d'.repeat(253)}` } };
  assert.equal(libraryKeyRefusal(long)?.code, 'LIBRARY_KEY_TOO_LONG');
  // A last segment of 252 bytes: its `.json` would pass the 255-byte segment limit.
  assert.equal(libraryKeyRefusal({ source: { bucket: 'video-mp4', key: `x/${'e'.repeat(252)}` } })?.code, 'LIBRARY_KEY_TOO_LONG');
  // A bad source key is the source's fault, and says so.
  assert.equal(libraryKeyRefusal({ source: { bucket: 'video-mp4', key: 'a/../b.mp4' } })?.code, 'BAD_OBJECT_KEY');
});

test('sweeper: a postponed job the codec now refuses is failed for good, saying why; the valid ones are queued again as typed jobs', async () => {
  const valid: UploadJob = { source: { bucket: 'video-mp4', key: 'talk.mp4' }, title: 'A talk' };
  const rows = [
    { id: 1, postponements: 2, job: JSON.stringify({ source: { bucket: 'video-mp4', key: '' } }) },
    { id: 2, postponements: 1, job: JSON.stringify(valid) },
  ];
  const failures: { id: number; status: string; code: string; message: string }[] = [];
  const published: { job: UploadJob; messageId: string }[] = [];
  const sweeper = startSweeper({
    repo: {
      claimDue: async () => rows.splice(0),
      recordFailure: async (id, r) => void failures.push({ id, ...r }),
    },
    publish: async (job, messageId) => void published.push({ job, messageId }),
    intervalMs: 60_000,
    log: createLogger({ level: 'silent' }),
  });
  try {
    assert.equal(await sweeper.sweep(), 1);
  } finally {
    await sweeper.stop();
  }
  assert.deepEqual(published, [{ job: valid, messageId: 'upload-2-retry-1' }]);
  assert.equal(failures.length, 1);
  assert.equal(failures[0]!.id, 1);
  assert.equal(failures[0]!.status, 'failed');
  assert.match(failures[0]!.message, /no longer a valid upload job/);
});
