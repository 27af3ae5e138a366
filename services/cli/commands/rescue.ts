import { InvalidArgumentError, type Command } from 'commander';
import { alertOutboxRepository } from '../../../db/repositories/alert-outbox.repository.ts';
import { operationsRepository } from '../../../db/repositories/operations.repository.ts';
import { videoJobLockKey } from '../../../db/repositories/transcoder.repository.ts';
import type { ImageType } from '../../../db/schema.ts';
import { parseDuration } from '../../../shared/config/env-reader.ts';
import { CODECS, type VideoJob } from '../../../shared/contract/messages.ts';
import { errorMessage } from '../../../shared/errors.ts';
import { publishAlertOutbox, storedNotification } from '../../../shared/runtime/alert-outbox.ts';
import type { Publisher } from '../../../shared/runtime/publisher.ts';
import type { CliContext } from '../context.ts';

const PAGE = 1000;
const QUEUE = { train: 'facetraining', stream: 'facestreaming' } as const;

export function registerRescue(program: Command, ctx: CliContext): void {
  program
    .command('rescue')
    .description('republish train_img/stream_img rows stuck in N or P (lost messages, crashed workers), video jobs a dead process left unfinished, and alerts never published')
    .option('--older-than <duration>', 'only rows idle longer than this, e.g. 15m (default VIGIL_RESCUE_AGE)', parseAge)
    .option('--dry-run', 'list what would be republished, publish nothing')
    .option('--json', 'print one JSON document')
    .action(async (opts: { olderThan?: number; dryRun?: boolean; json?: boolean }) => {
      const ageMs = opts.olderThan ?? ctx.config().rescueAgeMs;
      const cutoff = new Date(Date.now() - ageMs);
      const dryRun = !!opts.dryRun;
      // Safe while the services run: a republished id whose row is done meanwhile is acked
      // as a duplicate, a video job waits for its lock, and alerts carry an idempotency key
      // the notifier honours.
      const found = await ctx.withDatabase(async (db, locks) => {
        const ops = operationsRepository(db);
        const rescue = async (publisher: Publisher | undefined) => {
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
              if (r.job === null || !(await locks.isFree(videoJobLockKey(r.jobKey)))) return false;
              let job: VideoJob;
              try {
                job = CODECS.transcoder.parse(Buffer.from(r.job));
              } catch (err) {
                ctx.logger().warn({ videoJobId: r.id, reason: errorMessage(err) }, 'stored video job is no longer a valid job; not republished');
                return false;
              }
              await publisher?.sendToQueue('transcoder', CODECS.transcoder.encode(job), { messageId: `rescue-video-${r.id}-${stamp}` });
              return true;
            },
          );
          const outbox = alertOutboxRepository(db).createdBefore(cutoff);
          const alerts = publisher
            ? (await publishAlertOutbox(outbox, (n) => publisher.sendToQueue('notifier', CODECS.notifier.encode(n), { messageId: n.idempotencyKey }), ctx.logger(), PAGE)).published
            : await eachPage((after) => outbox.pending(after, PAGE), async (a) => isValidNotification(a.notification));
          return { train, stream, videoJobs, alerts };
        };
        return dryRun ? rescue(undefined) : ctx.withPublisher(rescue);
      });
      const doc = { dryRun, olderThanMs: ageMs, ...found };
      ctx.print(!!opts.json, doc, () =>
        `${dryRun ? 'would republish' : 'republished'} ${found.train.length} train_img, ${found.stream.length} stream_img, ${found.videoJobs.length} video jobs and ${found.alerts.length} alerts idle for more than ${Math.round(ageMs / 1000)} s\n`,
      );
    });
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

function parseAge(v: string): number {
  const ms = parseDuration(v);
  if (ms === undefined) throw new InvalidArgumentError('expected a duration such as 90s, 15m or 2h');
  return ms;
}
