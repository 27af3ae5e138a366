import { notifierRepository } from '../../db/repositories/notifier.repository.ts';
import { scheduledJobRepository } from '../../db/repositories/scheduled-job.repository.ts';
import { topologyOptions, type AppContext, type ServiceModule } from '../../shared/app/app-context.ts';
import { CODECS } from '../../shared/contract/messages.ts';
import { QUEUE_NAMES } from '../../shared/contract/queue-names.ts';
import { TransientError } from '../../shared/errors.ts';
import { queueDepth } from '../../shared/runtime/queue-depth.ts';
import { startScheduler } from '../../shared/runtime/scheduler.ts';
import { describeTopology } from '../../shared/runtime/topology.ts';
import { createEmailSender } from './email-sender.ts';
import { notifierHandler } from './handler.ts';
import { loadTemplates } from './templates.ts';
import { upkeepJobs } from './upkeep.ts';
import { postWebhook } from './webhook-sender.ts';

export const service: ServiceModule = {
  name: 'notifier',
  async create(app) {
    const c = app.config.notifier;
    const templates = await loadTemplates();
    const email = app.config.smtpUrl
      ? createEmailSender({ url: app.config.smtpUrl, from: c.smtpFrom, tlsRejectUnauthorized: c.smtpTlsRejectUnauthorized, timeoutMs: c.smtpTimeoutMs })
      : undefined;
    const handle = notifierHandler({
      repo: notifierRepository(app.database.db),
      templates,
      email,
      webhooks: { named: c.webhooks, allow: c.webhookAllow },
      postWebhook: (target, body, idempotencyKey, signal) => postWebhook({ target, body, idempotencyKey, signal, secret: c.webhookSecret, timeoutMs: c.webhookTimeoutMs }),
      rateLimit: c.rateLimit,
      sendingTimeoutMs: c.sendingTimeoutMs,
      messageIdDomain: /@([A-Za-z0-9.-]+)>?\s*$/.exec(c.smtpFrom)?.[1] ?? 'vigil.invalid',
      worker: app.workerName,
      maxAttempts: app.config.broker.maxAttempts,
      count: (channel, template, outcome) => app.metrics.notificationsTotal.inc({ channel, template, outcome }),
    });
    // The scheduled upkeep runs in every notifier replica; each job's lock lets one run it.
    const scheduler = startScheduler({
      jobs: upkeepJobs({
        db: app.database.db, locks: app.locks, publisher: app.publisher, log: app.logger.child({ service: 'notifier' }),
        config: c.upkeep, rescueAgeMs: app.config.rescueAgeMs, deadLetters: () => deadLetterCounts(app),
      }),
      locks: app.locks,
      repo: scheduledJobRepository(app.database.db),
      runner: app.workerName,
      log: app.logger.child({ service: 'notifier' }),
      tickMs: c.upkeep.tickMs,
    });
    return {
      definition: { service: 'notifier', queue: 'notifier', concurrency: app.config.concurrency.notifier, codec: CODECS.notifier, handle },
      async close() {
        await scheduler.stop();
        email?.close();
      },
    };
  },
};

/** Messages in each queue's `.dlq`, by logical name; a queue never declared counts 0. */
async function deadLetterCounts(app: AppContext): Promise<{ queue: string; count: number }[]> {
  const conn = app.broker.connection;
  if (!conn) throw new TransientError('BROKER_UNAVAILABLE', 'not connected to the broker');
  const out: { queue: string; count: number }[] = [];
  for (const q of QUEUE_NAMES) {
    const depth = await queueDepth(conn, describeTopology(q, topologyOptions(app.config)).dlq);
    out.push({ queue: `${q}.dlq`, count: depth?.messages ?? 0 });
  }
  return out;
}
