// What crosses between the face pool (face-analyzer.ts) and its threads (face-worker.ts).
// Kept apart from both: importing the worker module would start a worker's loop.
import type { AnalyzeOptions, EngineInfo, FaceBackendChoice } from './engine.ts';

export type FaceTask = { op: 'analyze'; bytes: Uint8Array } | { op: 'info' };

export interface FaceWorkerData {
  backend: FaceBackendChoice;
  options: AnalyzeOptions;
}

export interface EngineReport extends EngineInfo {
  /** Why the backends tried before this one were not used. */
  attempts: string[];
  /** The engine's heap when asked (after warm-up at start): see `FaceAnalysis.heapBytes`. */
  heapBytes: number;
}
