// The `webcam-real` material of the face-accuracy bench: stills cut from real office-webcam
// clips of five people (../shared/video/webcam-signs), each still an enrolment where the
// gate accepts it and a probe against the enrolments from that person's other clips
// (genuine) and from the other people (impostor). Reads ../shared directly: benches only.
import { readFile } from 'node:fs/promises';
import type { AnalyzeOptions, FaceEngine } from '../../shared/face/engine.ts';
import type { QualityBounds } from '../../shared/face/quality.ts';
import { bestByGate, WEBCAM_DIR, webcamStills, type WebcamStill } from '../helpers/webcam-stills.ts';
import { analyseProbe, pairUp, type Pair, type Probe, type Scores } from './face-accuracy-measure.ts';

export interface WebcamMeasurement {
  stills: WebcamStill[];
  probes: Probe[];
  /** The stills enrolled: those the gate accepts, and for a person with none, the best by the gate's measures (`forced`). */
  enrolments: { still: number; forced: boolean }[];
  pairs: Pair[];
  scores: Scores;
  /** Cutting the stills (0 when cached) and analysing them, seconds. */
  cutSeconds: number;
  seconds: number;
}

export async function measureWebcamStills(opts: { engine: FaceEngine; options: AnalyzeOptions; bounds: QualityBounds; threshold: number; perClip: number; dir?: string }): Promise<WebcamMeasurement | undefined> {
  const { engine, options, bounds, threshold } = opts;
  const cut = await webcamStills(opts.dir ?? WEBCAM_DIR, opts.perClip);
  if (!cut) return undefined;
  const { stills, cutSeconds } = cut;
  const t0 = performance.now();
  const probes: Probe[] = [];
  for (const s of stills) probes.push(await analyseProbe(engine, await readFile(s.file), options, bounds));
  const seconds = (performance.now() - t0) / 1000;

  const enrolled: (Float32Array | undefined)[] = probes.map((p) => (p.result === 'SUCCESS' ? p.analysis!.faces[0]!.descriptor : undefined));
  const enrolments = enrolled.flatMap((e, i) => (e ? [{ still: i, forced: false }] : []));
  for (const person of new Set(stills.map((s) => s.person))) {
    const mine = stills.flatMap((s, i) => (s.person === person ? [i] : []));
    if (mine.some((i) => enrolled[i])) continue;
    const best = bestByGate(
      mine.map((i) => ({ faces: probes[i]!.analysis?.faces ?? [] })),
      bounds,
    );
    if (!best) continue;
    const still = mine[best.still]!;
    enrolled[still] = probes[still]!.analysis!.faces[best.face]!.descriptor;
    enrolments.push({ still, forced: true });
  }
  // Genuine pairs only across clips: two stills of one clip are nearly the same picture.
  const { pairs, scores } = pairUp(
    enrolled,
    probes,
    threshold,
    (a, b) => stills[a]!.person === stills[b]!.person,
    (a, b) => stills[a]!.clip !== stills[b]!.clip,
  );
  return { stills, probes, enrolments, pairs, scores, cutSeconds, seconds };
}
