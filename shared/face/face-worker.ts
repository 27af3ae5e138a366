// One face engine per worker thread: the pool runs one of these per core.
import sharp from 'sharp';
import { serveWorker } from '../runtime/worker-serve.ts';
import { FaceEngine, type AnalyzeOptions, type FaceAnalysis, type FaceBackendChoice } from './engine.ts';
import type { EngineReport } from './face-analyzer.ts';

export type FaceTask = { op: 'analyze'; bytes: Uint8Array } | { op: 'info' };
export interface FaceWorkerData {
  backend: FaceBackendChoice;
  options: AnalyzeOptions;
}

serveWorker<FaceTask, FaceAnalysis | EngineReport>(async (data) => {
  const { backend, options } = data as FaceWorkerData;
  // libvips would start its own thread pool in every worker; the pool already uses each core.
  sharp.concurrency(1);
  const { engine, attempts } = await FaceEngine.load(backend);
  await engine.warmUp();
  return async (task) => (task.op === 'info' ? { ...engine.info, attempts } : engine.analyze(task.bytes, options));
});
