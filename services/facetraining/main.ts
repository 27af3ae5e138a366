import { facetrainingRepository } from '../../db/repositories/facetraining.repository.ts';
import { faceAnalyzerFor } from '../../shared/app/face-analyzer-for.ts';
import type { ServiceModule } from '../../shared/app/app-context.ts';
import { CODECS } from '../../shared/contract/messages.ts';
import { facetrainingHandler } from './handler.ts';

export const service: ServiceModule = {
  name: 'facetraining',
  async create(app) {
    const faces = await faceAnalyzerFor(app);
    const handle = facetrainingHandler({
      repo: facetrainingRepository(app.database.db),
      faces,
      locks: app.locks,
      bounds: app.config.face.quality,
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
