import type { Logger } from '../logger.ts';
import { WorkerPool } from '../runtime/worker-pool.ts';
import type { AnalyzeOptions, FaceAnalysis, FaceBackendChoice } from './engine.ts';
import type { EngineReport, FaceTask, FaceWorkerData } from './face-protocol.ts';


/** Face analysis off the event loop: what the services depend on. */
export interface FaceAnalyzer {
  info: EngineReport;
  workers: number;
  analyze(bytes: Uint8Array): Promise<FaceAnalysis>;
  close(): Promise<void>;
}

export async function startFaceAnalyzer(opts: {
  backend: FaceBackendChoice;
  workers: number;
  options: AnalyzeOptions;
  logger: Logger;
}): Promise<FaceAnalyzer> {
  const workerData: FaceWorkerData = { backend: opts.backend, options: opts.options };
  const pool = new WorkerPool<FaceTask, FaceAnalysis | EngineReport>({
    entry: new URL('./face-worker.ts', import.meta.url),
    size: opts.workers,
    name: 'face',
    workerData,
    logger: opts.logger,
  });
  try {
    await pool.ready();
  } catch (err) {
    await pool.close();
    throw err;
  }
  const info = (await pool.run({ op: 'info' })) as EngineReport;
  opts.logger.info({ backend: info.backend, notUsed: info.attempts, workers: opts.workers, model: info.model, detector: info.detector }, 'face engine ready');
  if (info.detector !== 'fused') opts.logger.warn({ detector: info.detector }, 'face detector runs unfused (slower, same results)');
  return {
    info,
    workers: opts.workers,
    analyze(bytes) {
      // A private copy whose memory moves to the worker instead of being cloned.
      const copy = new Uint8Array(bytes);
      return pool.run({ op: 'analyze', bytes: copy }, [copy.buffer]) as Promise<FaceAnalysis>;
    },
    close: () => pool.close(),
  };
}
