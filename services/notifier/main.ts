import { notifierRepository } from '../../db/repositories/notifier.repository.ts';
import type { ServiceModule } from '../../shared/app/app-context.ts';
import type { PlatformConfig } from '../../shared/config/platform-config.ts';
import type { NotifierConfig } from './config.ts';
import { CODECS } from '../../shared/contract/messages.ts';
import { createEmailSender } from './email-sender.ts';
import { notifierHandler } from './handler.ts';
import { loadTemplates } from './templates.ts';
import { postWebhook } from './webhook-sender.ts';

export const service: ServiceModule<PlatformConfig & { notifier: NotifierConfig }> = {
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
    return {
      consumers: [{ service: 'notifier', queue: 'notifier', concurrency: app.config.concurrency.notifier, codec: CODECS.notifier, handle }],
      async close() {
        email?.close();
      },
    };
  },
};
