import { InvalidArgumentError, type Command } from 'commander';
import { operationsRepository } from '../../../db/repositories/operations.repository.ts';
import { parseDuration } from '../../../shared/config/env-reader.ts';
import { CODECS, type Notification } from '../../../shared/contract/messages.ts';
import type { CliContext } from '../context.ts';

const PAGE = 1000;

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
      const found = await ctx.withDatabase(async (db) => {
        const repo = operationsRepository(db);
        return {
          train: await allPages((after) => repo.stuckImages('train', cutoff, PAGE, after), (id) => id),
          stream: await allPages((after) => repo.stuckImages('stream', cutoff, PAGE, after), (id) => id),
          alerts: await allPages((after) => repo.unpublishedAlerts(cutoff, PAGE, after), (a) => a.id),
        };
      });
      if (!opts.dryRun && found.train.length + found.stream.length + found.alerts.length > 0) {
        // Safe while the services run: a republished id whose row is done meanwhile is acked
        // as a duplicate, and alerts carry an idempotency key the notifier honours.
        await ctx.withPublisher(async (p) => {
          const stamp = Date.now();
          for (const id of found.train) await p.sendToQueue('facetraining', CODECS.facetraining.encode({ id }), { messageId: `rescue-train-${id}-${stamp}` });
          for (const id of found.stream) await p.sendToQueue('facestreaming', CODECS.facestreaming.encode({ id }), { messageId: `rescue-stream-${id}-${stamp}` });
          if (found.alerts.length === 0) return;
          await ctx.withDatabase(async (db) => {
            const repo = operationsRepository(db);
            for (const a of found.alerts) {
              const n = JSON.parse(a.notification) as Notification;
              await p.sendToQueue('notifier', CODECS.notifier.encode(n), { messageId: n.idempotencyKey });
              await repo.markAlertPublished(a.id);
            }
          });
        });
      }
      const doc = { dryRun: !!opts.dryRun, olderThanMs: ageMs, train: found.train, stream: found.stream, alerts: found.alerts.map((a) => a.id) };
      ctx.print(!!opts.json, doc, () =>
        `${opts.dryRun ? 'would republish' : 'republished'} ${found.train.length} train_img, ${found.stream.length} stream_img and ${found.alerts.length} alerts idle for more than ${Math.round(ageMs / 1000)} s\n`,
      );
    });
}

/** Every row, a page at a time, by id: republishing does not change what the query finds. */
async function allPages<T>(page: (afterId: number) => Promise<T[]>, idOf: (row: T) => number): Promise<T[]> {
  const all: T[] = [];
  for (let after = 0; ; ) {
    const rows = await page(after);
    all.push(...rows);
    if (rows.length < PAGE) return all;
    after = idOf(rows.at(-1)!);
  }
}

function parseAge(v: string): number {
  const ms = parseDuration(v);
  if (ms === undefined) throw new InvalidArgumentError('expected a duration such as 90s, 15m or 2h');
  return ms;
}
