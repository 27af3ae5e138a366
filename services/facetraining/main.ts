import { facetrainingRepository } from '../../db/repositories/facetraining.repository.ts';
import { galleryFacesRepository } from '../../db/repositories/gallery-faces.repository.ts';
import { duplicateChecker } from '../../shared/gallery/duplicate-check.ts';
import { faceAnalyzerFor } from '../../shared/app/face-analyzer-for.ts';
import type { ServiceModule } from '../../shared/app/app-context.ts';
import { CODECS } from '../../shared/contract/messages.ts';
import { facetrainingHandler } from './handler.ts';

export const service: ServiceModule = {
  name: 'facetraining',
  async create(app) {
    const faces = await faceAnalyzerFor(app);
    const { face } = app.config;
    const duplicates = face.duplicateCheck
      ? duplicateChecker({
          faces: galleryFacesRepository(app.database.db),
          model: faces.info.model,
          bound: face.matchThreshold - face.duplicateMargin,
          log: app.logger,
        })
      : undefined;
    // Loaded at start, so the first enrolment does not wait for it; a failure here is
    // retried by the first check.
    duplicates?.refresh().catch((err: unknown) => app.logger.warn({ err }, 'gallery index not loaded at start; the first enrolment loads it'));
    const handle = facetrainingHandler({
      repo: facetrainingRepository(app.database.db),
      faces,
      locks: app.locks,
      bounds: app.config.face.quality,
      duplicates,
      metrics: app.metrics,
      worker: app.workerName,
    });
    return {
      consumers: [{
        service: 'facetraining',
        queue: 'facetraining',
        concurrency: app.config.concurrency.facetraining,
        codec: CODECS.facetraining,
        handle,
      }],
    };
  },
};
