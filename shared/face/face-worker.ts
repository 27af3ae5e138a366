// One face engine per worker thread: the pool runs one of these per core.
import sharp from 'sharp';
import { serveWorker } from '../runtime/worker-serve.ts';
import { FaceEngine, type FaceAnalysis } from './engine.ts';
import type { EngineReport, FaceTask, FaceWorkerData } from './face-protocol.ts';

serveWorker<FaceTask, FaceAnalysis | EngineReport>(async (data) => {
  const { backend, options } = data as FaceWorkerData;
  // libvips would start its own thread pool in every worker; the pool already uses each core.
  sharp.concurrency(1);
  const { engine, attempts } = await FaceEngine.load(backend);
  await engine.warmUp();
  return async (task) => (task.op === 'info' ? { ...engine.info, attempts, heapBytes: engine.heapBytes() } : engine.analyze(task.bytes, options));
});
