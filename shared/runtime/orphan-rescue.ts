import type { Kysely } from 'kysely';
import { alertOutboxRepository } from '../../db/repositories/alert-outbox.repository.ts';
import { operationsRepository } from '../../db/repositories/operations.repository.ts';
import { videoJobLockKey } from '../../db/repositories/transcoder.repository.ts';
import { rescueAttemptRepository } from '../../db/repositories/rescue-attempt.repository.ts';
import type { Database, ImageType, RescueKind } from '../../db/schema.ts';
import { CODECS, type VideoJob } from '../contract/messages.ts';
import { errorMessage } from '../errors.ts';
import type { LockManager } from '../lock.ts';
import type { Logger } from '../logger.ts';
import { publishAlertOutbox, publishNotification, storedNotification } from './alert-outbox.ts';
import type { Publisher } from './publisher.ts';

const QUEUE = { train: 'facetraining', stream: 'facestreaming' } as const;
const PAGE = 1000;
/** The longest wait between two republishes of one row, however often it was republished. */
const RESCUE_MAX_DELAY_MS = 6 * 3_600_000;

export interface RescueReport {
  /** Ids republished (or, in a dry run, that would be). */
  train: number[];
  stream: number[];
  videoJobs: number[];
  alerts: number[];
  /**
   * Orphans whose back-off was not yet due: left alone, or (`force`) republished all the
   * same. Alerts have none: each is published once and marked.
   */
  backingOff: number;
}

export interface RescueDeps {
  db: Kysely<Database>;
  locks: LockManager;
  /** Undefined for a dry run: nothing is published or marked. */
  publisher: Pick<Publisher, 'publish'> | undefined;
  log: Pick<Logger, 'warn' | 'error'>;
}

export interface RescueOptions {
  /** Rows idle since before this are orphans (`VIGIL_RESCUE_AGE` ago). */
  cutoff: Date;
  now: Date;
  /**
   * The wait after a row's first republish (the scheduled rescue's interval); each next
   * one doubles, up to RESCUE_MAX_DELAY_MS.
   */
  baseDelayMs: number;
  /** Republishes rows still backing off too (the operator's `vigil rescue`); their record is updated all the same. */
  force?: boolean;
}

/**
 * The orphan rescue of `vigil rescue` and of the scheduled upkeep: republishes image rows
 * idle in N or P since before `cutoff`, video jobs a dead process left unfinished, and
 * alerts never published. Safe while the services run: a republished id whose row is done
 * meanwhile is acked as a duplicate, a video job waits for its lock, and alerts carry an
 * idempotency key the notifier honours.
 *
 * While a consumer is down its rows stay stuck, and republishing them at every run would
 * pile copies into its queue: each row is republished again only when its back-off is due
 * (`rescue_attempt`: 1, 2, 4, … times `baseDelayMs`), and its record is forgotten once the
 * rescue no longer finds it (processed, deleted, or taken up by a worker).
 */
export async function rescueOrphans(deps: RescueDeps, opts: RescueOptions): Promise<RescueReport> {
  const ops = operationsRepository(deps.db);
  const attempts = rescueAttemptRepository(deps.db);
  const { publisher } = deps;
  const { cutoff } = opts;
  const now = opts.now.getTime();
  let backingOff = 0;

  // The orphans of one page: republished when due, recorded; then the records of rows in the
  // page's id range that are no longer orphans are forgotten (memory stays one page).
  const rescuePage = async (kind: RescueKind, orphans: number[], range: { after: number; through: number | undefined }, publish: (id: number) => Promise<void>) => {
    const records = await attempts.recordsOf(kind, orphans);
    const done: number[] = [];
    for (const id of orphans) {
      const record = records.get(id);
      // Half a period early still counts as due: runs drift by the scheduler's tick.
      if (record && record.nextAt.getTime() - now > opts.baseDelayMs / 2) {
        backingOff++;
        if (!opts.force) continue;
      }
      if (publisher) {
        await publish(id);
        const n = (record?.attempts ?? 0) + 1;
        await attempts.recordRescue(kind, id, { attempts: n, at: opts.now, nextAt: new Date(now + backoffDelay(opts.baseDelayMs, n)) });
      }
      done.push(id);
    }
    if (publisher) await attempts.forgetMoved(kind, range.after, range.through, orphans);
    return done;
  };

  const images = (type: ImageType) =>
    eachPage(
      (after) => ops.stuckImages(type, cutoff, PAGE, after).then((ids) => ids.map((id) => ({ id }))),
      (rows, range) =>
        rescuePage(type, rows.map((r) => r.id), range, (id) =>
          publisher!.publish(QUEUE[type], { id }, { messageId: `rescue-${type}-${id}-${now}` }),
        ),
    );
  const train = await images('train');
  const stream = await images('stream');
  // A video job's lock is held by the process running it and freed by the server when
  // that process dies: only jobs whose lock is free were left behind. Their redelivery
  // counts the death (TRANSCODER_MAX_DEATHS) before it runs the job again.
  const videoJobs = await eachPage(
    (after) => ops.unfinishedVideoJobs(cutoff, PAGE, after),
    async (rows, range) => {
      const orphans = new Map<number, VideoJob>();
      for (const r of rows) {
        if (r.job === null || !(await deps.locks.isFree(videoJobLockKey(r.jobKey)))) continue;
        try {
          orphans.set(r.id, CODECS.transcoder.parse(Buffer.from(r.job)));
        } catch (err) {
          deps.log.warn({ videoJobId: r.id, reason: errorMessage(err) }, 'stored video job is no longer a valid job; not republished');
        }
      }
      return rescuePage('video', [...orphans.keys()], range, (id) =>
        publisher!.publish('transcoder', orphans.get(id)!, { messageId: `rescue-video-${id}-${now}` }),
      );
    },
  );
  const outbox = alertOutboxRepository(deps.db).createdBefore(cutoff);
  const alerts = publisher
    ? (await publishAlertOutbox(outbox, (n) => publishNotification(publisher, n), deps.log, PAGE)).published
    : (await eachPage((after) => outbox.pending(after, PAGE), async (rows) => rows.filter((a) => isValidNotification(a.notification)).map((a) => a.id)));
  return { train, stream, videoJobs, alerts, backingOff };
}

/** The wait after the `n`th republish of a row: `base`, doubled each time, capped. */
function backoffDelay(baseMs: number, n: number): number {
  return Math.min(baseMs * 2 ** Math.min(Math.max(n - 1, 0), 30), RESCUE_MAX_DELAY_MS);
}

/**
 * Reads a page of rows and acts on it before reading the next, by id: republishing does not
 * change what the query finds, and memory stays one page whatever the backlog. `range` is
 * the ids the page covers (`through` undefined for the last page: everything after). The
 * ids `act` returns are the result.
 */
async function eachPage<T extends { id: number }>(
  page: (afterId: number) => Promise<T[]>,
  act: (rows: T[], range: { after: number; through: number | undefined }) => Promise<number[]>,
): Promise<number[]> {
  const done: number[] = [];
  for (let after = 0; ; ) {
    const rows = await page(after);
    const last = rows.length < PAGE;
    done.push(...(await act(rows, { after, through: last ? undefined : rows.at(-1)!.id })));
    if (last) return done;
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
