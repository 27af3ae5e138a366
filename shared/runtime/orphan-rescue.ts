import type { Kysely } from 'kysely';
import { alertOutboxRepository } from '../../db/repositories/alert-outbox.repository.ts';
import { operationsRepository } from '../../db/repositories/operations.repository.ts';
import { videoJobLockKey } from '../../db/repositories/transcoder.repository.ts';
import type { Database, ImageType } from '../../db/schema.ts';
import { CODECS, type VideoJob } from '../contract/messages.ts';
import { errorMessage } from '../errors.ts';
import type { LockManager } from '../lock.ts';
import type { Logger } from '../logger.ts';
import { publishAlertOutbox, storedNotification } from './alert-outbox.ts';
import type { Publisher } from './publisher.ts';

const QUEUE = { train: 'facetraining', stream: 'facestreaming' } as const;
const PAGE = 1000;

export interface RescueReport {
  /** Ids republished (or, in a dry run, that would be). */
  train: number[];
  stream: number[];
  videoJobs: number[];
  alerts: number[];
}

export interface RescueDeps {
  db: Kysely<Database>;
  locks: LockManager;
  /** Undefined for a dry run: nothing is published or marked. */
  publisher: Publisher | undefined;
  log: Pick<Logger, 'warn' | 'error'>;
}

/**
 * The orphan rescue of `vigil rescue` and of the scheduled upkeep: republishes image rows
 * idle in N or P since before `cutoff`, video jobs a dead process left unfinished, and
 * alerts never published. Safe while the services run: a republished id whose row is done
 * meanwhile is acked as a duplicate, a video job waits for its lock, and alerts carry an
 * idempotency key the notifier honours.
 */
export async function rescueOrphans(deps: RescueDeps, cutoff: Date): Promise<RescueReport> {
  const ops = operationsRepository(deps.db);
  const { publisher } = deps;
  const stamp = Date.now();
  const images = (type: ImageType) =>
    eachPage(
      (after) => ops.stuckImages(type, cutoff, PAGE, after).then((ids) => ids.map((id) => ({ id }))),
      async ({ id }) => {
        await publisher?.sendToQueue(QUEUE[type], CODECS[QUEUE[type]].encode({ id }), { messageId: `rescue-${type}-${id}-${stamp}` });
        return true;
      },
    );
  const train = await images('train');
  const stream = await images('stream');
  // A video job's lock is held by the process running it and freed by the server when
  // that process dies: only jobs whose lock is free were left behind. Their redelivery
  // counts the death (TRANSCODER_MAX_DEATHS) before it runs the job again.
  const videoJobs = await eachPage(
    (after) => ops.unfinishedVideoJobs(cutoff, PAGE, after),
    async (r) => {
      if (r.job === null || !(await deps.locks.isFree(videoJobLockKey(r.jobKey)))) return false;
      let job: VideoJob;
      try {
        job = CODECS.transcoder.parse(Buffer.from(r.job));
      } catch (err) {
        deps.log.warn({ videoJobId: r.id, reason: errorMessage(err) }, 'stored video job is no longer a valid job; not republished');
        return false;
      }
      await publisher?.sendToQueue('transcoder', CODECS.transcoder.encode(job), { messageId: `rescue-video-${r.id}-${stamp}` });
      return true;
    },
  );
  const outbox = alertOutboxRepository(deps.db).createdBefore(cutoff);
  const alerts = publisher
    ? (await publishAlertOutbox(outbox, (n) => publisher.sendToQueue('notifier', CODECS.notifier.encode(n), { messageId: n.idempotencyKey }), deps.log, PAGE)).published
    : await eachPage((after) => outbox.pending(after, PAGE), async (a) => isValidNotification(a.notification));
  return { train, stream, videoJobs, alerts };
}

/**
 * Reads a page of rows and acts on each before reading the next, by id: republishing does
 * not change what the query finds, and memory stays one page whatever the backlog. The ids
 * acted on (`act` returned true) are the result.
 */
async function eachPage<T extends { id: number }>(page: (afterId: number) => Promise<T[]>, act: (row: T) => Promise<boolean>): Promise<number[]> {
  const done: number[] = [];
  for (let after = 0; ; ) {
    const rows = await page(after);
    for (const row of rows) if (await act(row)) done.push(row.id);
    if (rows.length < PAGE) return done;
    after = rows.at(-1)!.id;
  }
}

/** The dry run lists what the real run would publish: not the alerts it would mark invalid. */
function isValidNotification(text: string): boolean {
  try {
    storedNotification(text);
    return true;
  } catch {
    return false;
  }
}
