import { join } from 'node:path';
import { stat } from 'node:fs/promises';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { CliContext } from '../../services/cli/context.ts';
import type { Config } from '../../services/config.ts';
import type { VideoJob } from '../../shared/contract/messages.ts';
import type { ObjectStore } from '../../shared/storage/object-store.ts';
import { libraryKeysOf } from '../../services/uploader/library-target.ts';
import { waitFor } from '../helpers/runtime-harness.ts';
import { makeAvi } from '../helpers/videos.ts';

export const VIDEO_SECONDS = 20;
export const SPEAKER = { name: 'Ada Lovelace', email: 'ada.speaker@demo.vigil.invalid' };
const SOURCE_KEY = 'talks/demo-talk.avi';
const OUTPUT_KEY = 'demo-talk.mp4';

export interface VideoOutcome {
  sourceBytes: number;
  videoJob: { status: string; frames_kept: number | null; error_message: string | null } | undefined;
  mp4Bytes: number | undefined;
  /** Frames found in BUCKET_FRAMES under the talk's stem (not only what the row says). */
  framesStored: number;
  upload: { status: string; url: string | null; last_error: string | null } | undefined;
  libraryObject: string | undefined;
}

/**
 * A generated talk into the source bucket and a video job whose `then` hands the
 * transcoder's output (`<stem>.mp4` in BUCKET_VIDEO) to the uploader's library target.
 */
export async function publishTalk(cli: CliContext, config: Config, store: ObjectStore, tmp: string): Promise<number> {
  const avi = join(tmp, 'demo-talk.avi');
  await makeAvi(avi, { sections: [{ kind: 'moving', seconds: VIDEO_SECONDS }], size: '320x240' });
  await store.ensureBucket(config.buckets.source);
  await store.upload(config.buckets.source, SOURCE_KEY, avi, { contentType: 'video/x-msvideo' });
  const job: VideoJob = {
    jobId: 'demo-talk',
    source: { bucket: config.buckets.source, key: SOURCE_KEY },
    then: {
      queue: 'uploader',
      job: {
        source: { bucket: config.buckets.video, key: OUTPUT_KEY },
        title: 'Right metrics and wrong metrics',
        description: 'A generated test picture, for the Vigil demo.',
        speakers: [SPEAKER],
        targets: ['library'],
      },
    },
  };
  await cli.withPublisher((p) => p.publish('transcoder', job, { messageId: 'demo-talk' }));
  return (await stat(avi)).size;
}

/** Waits until the upload row is settled (done or failed), then reads what each service left. */
export async function talkOutcome(db: Kysely<Database>, config: Config, store: ObjectStore, sourceBytes: number, timeoutMs: number): Promise<VideoOutcome> {
  const settled = ['done', 'failed', 'dead_lettered'];
  const videoJob = () => db.selectFrom('video_job').select(['status', 'frames_kept', 'error_message']).where('source_key', '=', SOURCE_KEY).executeTakeFirst();
  const upload = () => db.selectFrom('upload').select(['status', 'url', 'last_error']).where('target', '=', 'library').where('source_key', '=', OUTPUT_KEY).executeTakeFirst();
  await waitFor('the talk transcoded and uploaded', async () => {
    const [v, u] = [await videoJob(), await upload()];
    return (v !== undefined && ['failed', 'dead_lettered'].includes(v.status)) || (u !== undefined && settled.includes(u.status));
  }, timeoutMs, 250);
  const mp4 = await store.head(config.buckets.video, OUTPUT_KEY);
  const libraryKey = libraryKeysOf({ bucket: config.buckets.video, key: OUTPUT_KEY }).video;
  const inLibrary = await store.exists(config.buckets.library, libraryKey);
  let framesStored = 0;
  for await (const page of store.list(config.buckets.frames, 'demo-talk/')) framesStored += page.length;
  return {
    sourceBytes,
    videoJob: await videoJob(),
    mp4Bytes: mp4?.size,
    framesStored,
    upload: await upload(),
    libraryObject: inLibrary ? `${config.buckets.library}/${libraryKey}` : undefined,
  };
}
