import { readFile } from 'node:fs/promises';
import { calibratedConfidence } from '../../../shared/face/calibration.ts';
import { FaceEngine, type FaceAnalysis } from '../../../shared/face/engine.ts';
import { decideEnrolment } from '../../../shared/face/enrolment.ts';
import { analyzeOptions } from '../../../shared/app/face-analyzer-for.ts';
import { decideVerification } from '../../../shared/face/verification.ts';
import { errorCode, errorMessage } from '../../../shared/errors.ts';
import type { CliContext } from '../context.ts';

export async function run(ctx: CliContext, enrolPath: string, probePath: string, opts: { json?: boolean }): Promise<void> {
  const { face } = ctx.config();
  const [enrolBytes, probeBytes] = await Promise.all([enrolPath, probePath].map((p) => readFile(p).catch((err: NodeJS.ErrnoException) => {
    throw new Error(`cannot read ${p}: ${err.code ?? err.message}`);
  })));
  const { engine, attempts } = await FaceEngine.load(face.backend);
  ctx.logger().info({ backend: engine.info.backend, notUsed: attempts, detector: engine.info.detector }, 'face engine loaded');
  const options = analyzeOptions(face);

  const out = await (async () => {
    const enrol: FaceAnalysis | Error = await engine.analyze(enrolBytes!, options).catch((err: unknown) => toError(err));
    if (enrol instanceof Error) {
      return { result: 'TRAINING_IMAGE_FAILED', distance: null, accuracy: null, faces: null, reason: `enrolment image: ${errorCode(enrol)}: ${errorMessage(enrol)}` };
    }
    const enrolment = decideEnrolment(enrol, face.quality);
    if (!enrolment.face) {
      return { result: 'TRAINING_IMAGE_FAILED', distance: null, accuracy: null, faces: null, reason: `enrolment image: ${enrolment.result}`, reasons: enrolment.reasons };
    }
    const probe: FaceAnalysis | Error = await engine.analyze(probeBytes!, options).catch((err: unknown) => toError(err));
    if (probe instanceof Error) {
      if (errorCode(probe) !== 'INVALID_IMAGE') throw probe;
      return { result: 'INVALID_IMAGE', distance: null, accuracy: null, faces: 0, reason: errorMessage(probe) };
    }
    const v = decideVerification(enrolment.face.descriptor, probe.faces, face.matchThreshold);
    return { result: v.result, distance: v.distance, accuracy: v.distance === null ? null : calibratedConfidence(v.distance), faces: probe.faces.length };
  })();
  ctx.print(!!opts.json, out, () => `${out.result}  distance ${out.distance ?? '-'}  accuracy ${out.accuracy ?? '-'}  faces ${out.faces ?? '-'}\n`);
}

function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
