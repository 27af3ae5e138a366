import { InvalidArgumentError, type Command } from 'commander';
import { alertOutboxRepository } from '../../../db/repositories/alert-outbox.repository.ts';
import { operationsRepository } from '../../../db/repositories/operations.repository.ts';
import type { ImageType } from '../../../db/schema.ts';
import { parseDuration } from '../../../shared/config/env-reader.ts';
import { CODECS } from '../../../shared/contract/messages.ts';
import { publishAlertOutbox } from '../../../shared/runtime/alert-outbox.ts';
import type { Publisher } from '../../../shared/runtime/publisher.ts';
import type { CliContext } from '../context.ts';

const PAGE = 1000;
const QUEUE = { train: 'facetraining', stream: 'facestreaming' } as const;

export function registerRescue(program: Command, ctx: CliContext): void {
  program
    .command('rescue')
    .description('republish train_img/stream_img rows stuck in N or P (lost messages, crashed workers) and alerts never published')
    .option('--older-than <duration>', 'only rows idle longer than this, e.g. 15m (default VIGIL_RESCUE_AGE)', parseAge)
    .option('--dry-run', 'list what would be republished, publish nothing')
    .option('--json', 'print one JSON document')
    .action(async (opts: { olderThan?: number; dryRun?: boolean; json?: boolean }) => {
      const ageMs = opts.olderThan ?? ctx.config().rescueAgeMs;
      const cutoff = new Date(Date.now() - ageMs);
      const dryRun = !!opts.dryRun;
      // Safe while the services run: a republished id whose row is done meanwhile is acked
      // as a duplicate, and alerts carry an idempotency key the notifier honours.
      const found = await ctx.withDatabase(async (db) => {
        const rescue = async (publisher: Publisher | undefined) => {
          const stamp = Date.now();
          const images = async (type: ImageType) =>
            eachPage(
              (after) => operationsRepository(db).stuckImages(type, cutoff, PAGE, after),
              async (id) => {
                await publisher?.sendToQueue(QUEUE[type], CODECS[QUEUE[type]].encode({ id }), { messageId: `rescue-${type}-${id}-${stamp}` });
              },
            );
          const train = await images('train');
          const stream = await images('stream');
          const outbox = alertOutboxRepository(db).createdBefore(cutoff);
          const alerts = publisher
            ? (await publishAlertOutbox(outbox, (n) => publisher.sendToQueue('notifier', CODECS.notifier.encode(n), { messageId: n.idempotencyKey }), ctx.logger(), PAGE)).published
            : await eachPage((after) => outbox.pending(after, PAGE).then((rows) => rows.map((a) => a.id)), async () => undefined);
          return { train, stream, alerts };
        };
        return dryRun ? rescue(undefined) : ctx.withPublisher(rescue);
      });
      const doc = { dryRun, olderThanMs: ageMs, ...found };
      ctx.print(!!opts.json, doc, () =>
        `${dryRun ? 'would republish' : 'republished'} ${found.train.length} train_img, ${found.stream.length} stream_img and ${found.alerts.length} alerts idle for more than ${Math.round(ageMs / 1000)} s\n`,
      );
    });
}

/**
 * Reads a page of ids and acts on each before reading the next, by id: republishing does
 * not change what the query finds, and memory stays one page whatever the backlog.
 */
async function eachPage(page: (afterId: number) => Promise<number[]>, act: (id: number) => Promise<void>): Promise<number[]> {
  const done: number[] = [];
  for (let after = 0; ; ) {
    const ids = await page(after);
    for (const id of ids) {
      await act(id);
      done.push(id);
    }
    if (ids.length < PAGE) return done;
    after = ids.at(-1)!;
  }
}

function parseAge(v: string): number {
  const ms = parseDuration(v);
  if (ms === undefined) throw new InvalidArgumentError('expected a duration such as 90s, 15m or 2h');
  return ms;
}
