import { errorCode, errorMessage } from '../errors.ts';
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

/** An image's analysis, or why its bytes are not a usable image: an answer (`INVALID_IMAGE`), not a failure. */
export type ImageAnalysis = { analysis: FaceAnalysis } | { invalid: string };

/** The analysis of `bytes`; unusable bytes are an answer, every other failure (a thread died) throws. */
export async function analyzeOrInvalid(faces: Pick<FaceAnalyzer, 'analyze'>, bytes: Uint8Array): Promise<ImageAnalysis> {
  try {
    return { analysis: await faces.analyze(bytes) };
  } catch (err) {
    if (errorCode(err) !== 'INVALID_IMAGE') throw err;
    return { invalid: errorMessage(err) };
  }
}

/** A thread whose heap grew past this share of its size after warm-up is replaced once idle. */
const HEAP_GROWTH_TO_RECYCLE = 1.25;

export async function startFaceAnalyzer(opts: {
  backend: FaceBackendChoice;
  workers: number;
  options: AnalyzeOptions;
  logger: Logger;
  /**
   * A thread idle this long after an image grew its heap (a burst of large photos: the
   * wasm backend's memory never shrinks) is replaced by a fresh one. 0 never does.
   * @default 30_000
   */
  recycleIdleMs?: number;
}): Promise<FaceAnalyzer> {
  const workerData: FaceWorkerData = { backend: opts.backend, options: opts.options };
  // Known once the first thread reports; until then nothing is recycled.
  let baselineHeap = Number.POSITIVE_INFINITY;
  const recycleIdleMs = opts.recycleIdleMs ?? 30_000;
  const pool = new WorkerPool<FaceTask, FaceAnalysis | EngineReport>({
    entry: new URL('./face-worker.ts', import.meta.url),
    size: opts.workers,
    name: 'face',
    workerData,
    logger: opts.logger,
    ...(recycleIdleMs > 0 && {
      recycleIdle: { idleMs: recycleIdleMs, when: (out) => 'faces' in out && out.heapBytes > baselineHeap * HEAP_GROWTH_TO_RECYCLE },
    }),
  });
  try {
    await pool.ready();
  } catch (err) {
    await pool.close();
    throw err;
  }
  const info = (await pool.run({ op: 'info' })) as EngineReport;
  if (info.heapBytes > 0) baselineHeap = info.heapBytes;
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
