// Face accuracy on real labelled photos (../shared/faces/deepface), as they are and as the
// derived kinds of material: what the accuracy benchmark and the calibration fit measure.
// Reads ../shared/faces directly, so it is for benchmarks and scripts, never for tests.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decideEnrolment } from '../../shared/face/enrolment.ts';
import { FaceEngine, type AnalyzeOptions, type FaceAnalysis } from '../../shared/face/engine.ts';
import { decideVerification } from '../../shared/face/verification.ts';
import type { QualityBounds, QualityReason } from '../../shared/face/quality.ts';
import { deriveMaterial, type MaterialKind } from '../helpers/face-material.ts';

export const FACES_DIR = process.env.BENCH_FACES_DIR ?? join(dirname(fileURLToPath(import.meta.url)), '../../../shared/faces/deepface');
export type Kind = 'original' | MaterialKind;

export interface RealPhoto {
  image: string;
  identity: string;
}

export interface Probe {
  /** Undefined when the material could not be derived (no face on the original). */
  analysis?: FaceAnalysis;
  result: string;
  reasons: QualityReason[];
}

/** Distances of every enrolment against every other photo's probe; null: no face in the probe. */
export interface Scores {
  genuine: (number | null)[];
  impostor: (number | null)[];
}

export interface RealMeasurement {
  photos: RealPhoto[];
  kinds: Kind[];
  /** probes[kind][i]: photo i as that kind of material. */
  probes: Record<Kind, Probe[]>;
  /** Each photo's original as the service would store it, where the gate accepts it. */
  enrolled: (Float32Array | undefined)[];
  scores: Record<Kind, Scores>;
  engine: FaceEngine['info'];
  analyses: number;
  seconds: number;
}

/** The labelled single-person photos, or undefined when ../shared/faces is absent. */
export function realPhotos(dir = FACES_DIR): RealPhoto[] | undefined {
  const list = join(dir, 'identities.csv');
  if (!existsSync(list)) return undefined;
  return readFileSync(list, 'utf8')
    .split(/\r?\n/)
    .slice(1)
    .filter((l) => l.trim())
    .map((l) => {
      const [image, identity] = l.split(',').map((s) => s.trim());
      return { image: image!, identity: identity! };
    });
}

/** Every photo and its derived kinds through one wasm engine, then every enrolment–probe pair. */
export async function measureRealPhotos(opts: { photos: RealPhoto[]; kinds: MaterialKind[]; options: AnalyzeOptions; bounds: QualityBounds; threshold: number; dir?: string }): Promise<RealMeasurement> {
  const t0 = performance.now();
  const { photos, options, bounds, threshold } = opts;
  const dir = opts.dir ?? FACES_DIR;
  const kinds: Kind[] = ['original', ...opts.kinds];
  const { engine } = await FaceEngine.load('wasm');
  await engine.warmUp();
  const probes = Object.fromEntries(kinds.map((k) => [k, [] as Probe[]])) as Record<Kind, Probe[]>;
  const analyse = async (bytes: Buffer | undefined): Promise<Probe> => {
    if (!bytes) return { result: 'NOT_DERIVED', reasons: [] };
    const analysis = await engine.analyze(bytes, options);
    const d = decideEnrolment(analysis, bounds);
    return { analysis, result: d.result, reasons: d.reasons };
  };
  let analyses = 0;
  for (const [i, p] of photos.entries()) {
    const photo = readFileSync(join(dir, p.image));
    const original = await analyse(photo);
    probes.original.push(original);
    // The face the material is built around: the engine's most confident one on the original.
    const best = original.analysis!.faces.reduce<FaceAnalysis['faces'][number] | undefined>((a, f) => (!a || f.score > a.score ? f : a), undefined);
    for (const kind of opts.kinds) probes[kind].push(await analyse(await deriveMaterial(kind, photo, best?.box, i)));
    analyses += kinds.filter((k) => probes[k][i]!.analysis).length;
  }
  const enrolled = probes.original.map((p) => (p.result === 'SUCCESS' ? decideEnrolment(p.analysis!, bounds).face!.descriptor : undefined));
  const scores = {} as Record<Kind, Scores>;
  for (const kind of kinds) {
    const s: Scores = { genuine: [], impostor: [] };
    for (const [a, enrolment] of enrolled.entries()) {
      if (!enrolment) continue;
      for (const [b, probe] of probes[kind].entries()) {
        if (a === b || !probe.analysis) continue;
        const d = decideVerification(enrolment, probe.analysis.faces, threshold).distance;
        (photos[a]!.identity === photos[b]!.identity ? s.genuine : s.impostor).push(d);
      }
    }
    scores[kind] = s;
  }
  return { photos, kinds, probes, enrolled, scores, engine: engine.info, analyses, seconds: (performance.now() - t0) / 1000 };
}

