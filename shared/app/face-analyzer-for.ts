import type { PlatformConfig } from '../config/platform-config.ts';
import type { AnalyzeOptions } from '../face/engine.ts';
import { startFaceAnalyzer, type FaceAnalyzer } from '../face/face-analyzer.ts';
import type { AppContext } from './app-context.ts';

/** The engine's per-image options, as the configuration sets them. */
export function analyzeOptions(face: PlatformConfig['face']): AnalyzeOptions {
  return { minConfidence: face.minConfidence, maxPixels: face.maxPixels, maxBytes: face.maxImageBytes, maxSide: face.maxSide };
}

const perApp = new WeakMap<AppContext, Promise<FaceAnalyzer>>();

/** One pool per process, shared by facetraining and facestreaming when they run together. */
export function faceAnalyzerFor(app: AppContext): Promise<FaceAnalyzer> {
  let analyzer = perApp.get(app);
  if (!analyzer) {
    const { face } = app.config;
    analyzer = startFaceAnalyzer({
      backend: face.backend,
      workers: face.workers,
      recycleIdleMs: face.recycleIdleMs,
      options: analyzeOptions(face),
      logger: app.logger,
    });
    // A dashboard (and an alert on `backend="cpu"`) sees what the log line says.
    void analyzer.then((a) => app.metrics.faceBackendInfo.set({ backend: a.info.backend }, 1), () => undefined);
    perApp.set(app, analyzer);
    // A pool that failed to start closed itself; only a started one is closed here.
    app.onClose(async () => (await analyzer!.catch(() => undefined))?.close());
  }
  return analyzer;
}
