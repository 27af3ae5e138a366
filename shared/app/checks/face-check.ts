import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage } from '../../errors.ts';
import { modelFiles } from '../../face/engine.ts';
import type { FaceAnalyzer } from '../../face/face-analyzer.ts';
import { fail, ok, warn, type CheckResult, type HostCheck } from './check.ts';

/**
 * The face engine: its model files present, and a backend that loads. `start` gives the
 * engine to look at: `vigil doctor` starts a one-thread engine and closes it, `vigil run`
 * passes the services' own pool, so both report the same thing from the same code.
 */
export function faceCheck(start: () => Promise<FaceAnalyzer>, opts: { closeAfter: boolean }): HostCheck {
  return {
    name: 'face engine',
    async run() {
      const { dir, files } = modelFiles();
      const missing: string[] = [];
      for (const f of files) await access(join(dir, f)).catch(() => missing.push(f));
      if (missing.length > 0) {
        return [fail('face models', `${dir} lacks ${missing.join(', ')}`, 'reinstall dependencies (`npm ci`); @vladmandic/face-api ships the models')];
      }
      const results: CheckResult[] = [ok('face models', `${files.length} files in ${dir}`)];
      let analyzer: FaceAnalyzer;
      try {
        analyzer = await start();
      } catch (err) {
        return [...results, fail('face engine', errorMessage(err), 'check the backend: FACE_BACKEND=wasm needs @tensorflow/tfjs-backend-wasm, tensorflow needs @tensorflow/tfjs-node')];
      }
      try {
        const { info } = analyzer;
        const detail = `backend ${info.backend}, detector ${info.detector}, ${info.model}${info.attempts.length > 0 ? `; not used: ${info.attempts.join('; ')}` : ''}`;
        results.push(info.backend === 'cpu' ? warn('face engine', detail, 'the cpu backend is about 10× slower: install @tensorflow/tfjs-node or keep the wasm files') : ok('face engine', detail));
      } finally {
        if (opts.closeAfter) await analyzer.close();
      }
      return results;
    },
  };
}
