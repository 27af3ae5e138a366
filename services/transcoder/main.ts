import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { transcoderRepository } from '../../db/repositories/transcoder.repository.ts';
import { killAllFfmpeg } from '../../shared/media/ffmpeg-runner.ts';
import type { ServiceModule } from '../../shared/app/app-context.ts';
import { CODECS } from '../../shared/contract/messages.ts';
import { createObjectStore } from '../../shared/storage/object-store.ts';
import { transcoderHandler } from './handler.ts';
import { sweepJobDirs } from './work-dir.ts';

export const service: ServiceModule = {
  name: 'transcoder',
  async create(app) {
    const { media, transcoder: t, buckets } = app.config;
    // A missing or broken binary stops the start, instead of failing every job as transient.
    for (const bin of [media.ffmpegPath, media.ffprobePath]) {
      await promisify(execFile)(bin, ['-version'], { timeout: 10_000 }).catch((err: unknown) => {
        throw new Error(`${bin} -version failed; install ffmpeg or set FFMPEG_PATH / FFPROBE_PATH`, { cause: err });
      });
    }
    const root = join(media.workDir, 'transcoder');
    await sweepJobDirs(root, app.logger);
    const store = createObjectStore(app.config.s3);
    const handle = transcoderHandler({
      repo: transcoderRepository(app.database.db),
      store,
      locks: app.locks,
      publishNext: (queue, body, messageId) => app.publisher.sendToQueue(queue, body, { messageId, contentType: 'application/json' }),
      defaults: {
        outputBucket: buckets.video,
        framesBucket: buckets.frames,
        split: t.split,
        frames: t.frames,
        deleteSource: t.deleteSource,
        fadeSeconds: t.fadeSeconds,
      },
      media: {
        ffmpegPath: media.ffmpegPath,
        ffprobePath: media.ffprobePath,
        stallMs: t.stallTimeoutMs,
        timeLimitMs: t.timeLimitMs,
        encode: t.encode,
        dead: t.dead,
      },
      work: { root, minFreeBytes: t.minFreeDiskBytes },
      metrics: app.metrics,
      worker: app.workerName,
      maxAttempts: app.config.broker.maxAttempts,
    });
    return {
      definition: {
        service: 'transcoder',
        queue: 'transcoder',
        concurrency: app.config.concurrency.transcoder,
        codec: CODECS.transcoder,
        handle,
      },
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
