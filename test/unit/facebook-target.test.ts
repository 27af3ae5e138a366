import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import type { UploadRecord } from '../../db/repositories/uploader.repository.ts';
import type { UploadJob } from '../../shared/contract/messages.ts';
import { createLogger } from '../../shared/logger.ts';
import { FacebookBadPermalinkError } from '../../services/uploader/facebook-errors.ts';
import { uploadToFacebook, type FacebookTarget } from '../../services/uploader/facebook-target.ts';

const job: UploadJob = { source: { bucket: 'video-mp4', key: 'talks/keynote.mp4' }, title: 'Keynote' };
const row: UploadRecord = { id: 41, target: 'facebook', status: 'running', attempts: 1, postponements: 0, nextAttemptAt: null, url: null, sourceEtag: null, session: undefined };

/** A logger writing JSON lines into `lines`, as the service's does to stdout. */
function capturingLogger(lines: Record<string, unknown>[]) {
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return createLogger({ level: 'info', destination });
}

function target(permalinkError: Error | undefined, log: FacebookTarget['log']): FacebookTarget {
  return {
    client: {
      upload: async () => ({
        videoId: '1000001',
        url: 'https://www.facebook.com/watch/?v=1000001',
        ...(permalinkError && { permalinkError: permalinkError as FacebookBadPermalinkError }),
      }),
    },
    source: {
      head: async () => ({ size: 10, etag: '"e"', lastModified: new Date(), contentType: 'video/mp4', metadata: {} }) as never,
      openRead: async () => {
        throw new Error('not read: the client is a stand-in');
      },
    },
    saveSession: async () => undefined,
    log,
  };
}

test("a permalink the client could not use is logged as a warning with its code, the video and the upload; never the link's query or a token", async () => {
  const lines: Record<string, unknown>[] = [];
  const log = capturingLogger(lines);
  const r = await uploadToFacebook(target(new FacebookBadPermalinkError('permalink_url is not an https link on www.facebook.com or facebook.com'), log), job, row, new AbortController().signal);
  assert.equal(r.url, 'https://www.facebook.com/watch/?v=1000001', 'the watch link is what gets mailed');
  log.flush();
  const warned = lines.filter((l) => l.level === 40);
  assert.equal(warned.length, 1, `one warning: ${JSON.stringify(lines)}`);
  assert.equal(warned[0]!.code, 'FACEBOOK_BAD_PERMALINK');
  assert.equal(warned[0]!.videoId, '1000001');
  assert.equal(warned[0]!.uploadId, 41);
  assert.match(String(warned[0]!.msg), /permalink/);
  assert.doesNotMatch(JSON.stringify(warned[0]), /access_token|\?v=|token=/);
});

test('a permalink read without trouble logs nothing', async () => {
  const lines: Record<string, unknown>[] = [];
  const log = capturingLogger(lines);
  await uploadToFacebook(target(undefined, log), job, row, new AbortController().signal);
  log.flush();
  assert.deepEqual(lines.filter((l) => Number(l.level) >= 40), []);
});
