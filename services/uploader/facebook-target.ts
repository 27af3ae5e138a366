import type { SavedSession, UploadRecord, UploadResult } from '../../db/repositories/uploader.repository.ts';
import { errorCode, errorMessage, PermanentError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import type { UploadJob } from '../../shared/contract/messages.ts';
import type { ObjectStore } from '../../shared/storage/object-store.ts';
import type { FacebookClient, FacebookSession } from './facebook-client.ts';
import { s3ChunkSource } from './s3-chunk-source.ts';

export interface FacebookTarget {
  /** Undefined when `FACEBOOK_PAGE_ID` and `FACEBOOK_PAGE_TOKEN` are not set. */
  client: Pick<FacebookClient, 'upload'> | undefined;
  source: Pick<ObjectStore, 'head' | 'openRead'>;
  saveSession(uploadId: number, session: SavedSession, sourceEtag: string | undefined): Promise<void>;
  /** Sessions are saved at most this often while chunks go (each one is a database write); the API corrects an older offset. @default 1000 */
  saveEveryMs?: number;
  /** Where a permalink that could not be used is reported (the video is published all the same). */
  log: Pick<Logger, 'warn'>;
}

/**
 * The talk to the Facebook Page, streamed from the source bucket chunk by chunk. A session
 * saved by an earlier attempt on the same source object is resumed at the offsets the API
 * gave, not started again; the session is saved as the API moves it on.
 */
export async function uploadToFacebook(t: FacebookTarget, job: UploadJob, row: UploadRecord, signal: AbortSignal): Promise<UploadResult> {
  if (t.client === undefined) {
    throw new PermanentError('FACEBOOK_NOT_CONFIGURED', 'the job names the facebook target, but FACEBOOK_PAGE_ID and FACEBOOK_PAGE_TOKEN are not set');
  }
  const src = await t.source.head(job.source.bucket, job.source.key);
  if (src === null) throw new PermanentError('OBJECT_NOT_FOUND', `the source object is not in bucket ${job.source.bucket}`);
  const resume = row.session !== undefined && row.sourceEtag === (src.etag ?? null) ? row.session : undefined;
  const every = t.saveEveryMs ?? 1000;
  let saved: { sessionId: string; at: number } | undefined;
  const onSession = async (session: FacebookSession) => {
    const now = performance.now();
    // A new session is saved at once: without it there is nothing to resume.
    if (saved?.sessionId === session.sessionId && now - saved.at < every) return;
    saved = { sessionId: session.sessionId, at: now };
    await t.saveSession(row.id, session, src.etag);
  };
  const source = s3ChunkSource(t.source, job.source, src.size, src.etag);
  const result = await t.client
    .upload({ source, title: job.title, description: facebookDescription(job), ...(resume && { resume }), onSession, signal })
    .finally(() => source.close());
  if (result.permalinkError !== undefined) {
    // The mail carries the watch link instead; an operator should still learn why. The
    // error's message names no URL (the client keeps the link's query and tokens out of it).
    t.log.warn(
      { code: errorCode(result.permalinkError), videoId: result.videoId, uploadId: row.id, detail: errorMessage(result.permalinkError) },
      'Facebook permalink not used: the watch link is mailed instead',
    );
  }
  return { remoteId: result.videoId, url: result.url, sourceEtag: src.etag, sourceBytes: src.size };
}

/** The job's description, then a line that names the speakers. */
export function facebookDescription(job: Pick<UploadJob, 'description' | 'speakers'>): string {
  const names = (job.speakers ?? []).map((s) => s.name);
  const speakers = names.length === 0 ? '' : `${names.length === 1 ? 'Speaker' : 'Speakers'}: ${names.join(', ')}`;
  return [job.description?.trim(), speakers].filter(Boolean).join('\n\n');
}
