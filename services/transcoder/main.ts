import { join } from 'node:path';
import { videoJobDefaults, videoJobRules, type TranscoderConfig } from './config.ts';
import type { PlatformConfig } from '../../shared/config/platform-config.ts';
import { transcoderRepository } from '../../db/repositories/transcoder.repository.ts';
import { killAllFfmpeg } from '../../shared/media/ffmpeg-runner.ts';
import type { ServiceModule } from '../../shared/app/app-context.ts';
import { CODECS } from '../../shared/contract/messages.ts';
import { createObjectStore } from '../../shared/storage/object-store.ts';
import { transcoderHandler } from './handler.ts';
import { sweepJobDirs } from './work-dir.ts';

export const service: ServiceModule<PlatformConfig & { transcoder: TranscoderConfig }> = {
  name: 'transcoder',
  async create(app) {
    const { media, transcoder: t } = app.config;
    // ffmpeg, ffprobe and the encoders and filters used are start-up checks
    // (shared/app/checks/ffmpeg-check.ts), run by `vigil run` and `vigil doctor` alike.
    const root = join(media.workDir, 'transcoder');
    await sweepJobDirs(root, app.logger);
    // Only the configured buckets are ever created; a job naming another is refused by its rules.
    const store = createObjectStore(app.config.s3, {}, { creatableBuckets: [...Object.values(app.config.buckets), ...t.extraBuckets] });
    const handle = transcoderHandler({
      repo: transcoderRepository(app.database.db),
      store,
      locks: app.locks,
      publishNext: (next, messageId) => app.publisher.publish(next.queue, next.payload, { messageId }),
      defaults: videoJobDefaults(app.config),
      rules: videoJobRules(app.config),
      media: {
        ffmpegPath: media.ffmpegPath,
        ffprobePath: media.ffprobePath,
        stallMs: t.stallTimeoutMs,
        timeLimitMs: t.timeLimitMs,
        memoryLimitBytes: t.maxMemoryBytes,
        limits: t.limits,
        encode: t.encode,
        dead: t.dead,
        frameUploads: t.frameUploads,
      },
      work: { root, minFreeBytes: t.minFreeDiskBytes },
      metrics: app.metrics,
      worker: app.workerName,
      maxAttempts: app.config.broker.maxAttempts,
      maxDeaths: t.maxDeaths,
    });
    return {
      consumers: [{
        service: 'transcoder',
        queue: 'transcoder',
        concurrency: app.config.concurrency.transcoder,
        codec: CODECS.transcoder,
        handle,
      }],
      async close() {
        // The consumers have closed: an ffmpeg still running belongs to a job that was
        // aborted and requeued, and must not outlive this process.
        const killed = killAllFfmpeg();
        if (killed > 0) app.logger.warn({ killed }, 'killed ffmpeg process groups left at shutdown');
        store.close();
      },
    };
  },
};
