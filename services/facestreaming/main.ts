import { publishNotification } from '../../shared/runtime/alert-outbox.ts';
import { alertOutboxRepository } from '../../db/repositories/alert-outbox.repository.ts';
import { facestreamingRepository } from '../../db/repositories/facestreaming.repository.ts';
import { facetrainingRepository } from '../../db/repositories/facetraining.repository.ts';
import { calibratedConfidence } from '../../shared/face/calibration.ts';
import { faceAnalyzerFor } from '../../shared/app/face-analyzer-for.ts';
import type { ServiceModule } from '../../shared/app/app-context.ts';
import type { ConsoleConfig } from '../../shared/config/console-config.ts';
import type { PlatformConfig } from '../../shared/config/platform-config.ts';
import { consoleLinks } from '../../shared/contract/console-links.ts';
import { CODECS } from '../../shared/contract/messages.ts';
import { facestreamingHandler } from './handler.ts';

/** Reads CONSOLE_URL (the console's section) for the alerts' deep links. */
export const service: ServiceModule<PlatformConfig & { console: Pick<ConsoleConfig, 'url'> }> = {
  name: 'facestreaming',
  async create(app) {
    const faces = await faceAnalyzerFor(app);
    const { face, broker } = app.config;
    if (face.alerts.to.length === 0) {
      app.logger.warn('FACE_ALERT_TO is not set: impersonation and absence alerts are kept in face_alert but not sent');
    }
    const handle = facestreamingHandler({
      repo: facestreamingRepository(app.database.db),
      // A gallery face stored by another face model is analysed again from its photo (gallery-model.ts).
      trainImages: facetrainingRepository(app.database.db),
      outbox: alertOutboxRepository(app.database.db),
      faces,
      locks: app.locks,
      publishAlert: (n) =>
        publishNotification(app.publisher, n),
      confidence: (d) => calibratedConfidence(d),
      settings: {
        threshold: face.matchThreshold,
        impersonation: face.impersonation,
        absenceStreak: face.absenceStreak,
        gallerySize: face.gallerySize,
        alerts: face.alerts,
        // CONSOLE_URL, read with the console's settings: where the alerts' deep links point.
        links: app.config.console.url === undefined ? undefined : consoleLinks(app.config.console.url),
        maxAttempts: broker.maxAttempts,
      },
      metrics: app.metrics,
      worker: app.workerName,
    });
    return {
      consumers: [{
        service: 'facestreaming',
        queue: 'facestreaming',
        concurrency: app.config.concurrency.facestreaming,
        codec: CODECS.facestreaming,
        handle,
      }],
    };
  },
};
