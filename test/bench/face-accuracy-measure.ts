// Face accuracy on real labelled photos (../shared/faces/deepface), as they are and as the
// derived kinds of material: what the accuracy benchmark and the calibration fit measure.
// Reads ../shared/faces directly, so it is for benchmarks and scripts, never for tests.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decideEnrolment } from '../../shared/face/enrolment.ts';
import { FaceEngine, type AnalyzeOptions, type FaceAnalysis } from '../../shared/face/engine.ts';
import { decideVerification, type VerificationResult } from '../../shared/face/verification.ts';
import type { QualityBounds, QualityReason } from '../../shared/face/quality.ts';
import { deriveMaterial, type MaterialKind } from '../helpers/face-material.ts';
import { partnerIndex, twoPeopleOrder } from '../helpers/face-material-geometry.ts';

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
  /** The photos whose people the probe shows, left to right when several (`two-people`); else only its own. */
  people?: number[];
}

/** Distances of every enrolment against every other photo's probe; null: no face in the probe. */
export interface Scores {
  genuine: (number | null)[];
  impostor: (number | null)[];
}

/** One enrolment against one probe, decided as facestreaming decides a snapshot. */
export interface Pair {
  /** Index of the enrolment (its photo, or still). */
  a: number;
  /** Index of the probe. */
  b: number;
  /** The enrolled person is in the probe. */
  genuine: boolean;
  distance: number | null;
  result: VerificationResult;
}

export interface RealMeasurement {
  photos: RealPhoto[];
  kinds: Kind[];
  /** probes[kind][i]: photo i as that kind of material. */
  probes: Record<Kind, Probe[]>;
  /** Each photo's original as the service would store it, where the gate accepts it. */
  enrolled: (Float32Array | undefined)[];
  pairs: Record<Kind, Pair[]>;
  scores: Record<Kind, Scores>;
  engine: FaceEngine['info'];
  analyses: number;
  seconds: number;
  /** Deriving and analysing each kind, seconds. */
  kindSeconds: Record<Kind, number>;
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

/** An image through the engine and the enrolment gate, as facetraining would see it. */
export async function analyseProbe(engine: FaceEngine, bytes: Buffer | undefined, options: AnalyzeOptions, bounds: QualityBounds): Promise<Probe> {
  if (!bytes) return { result: 'NOT_DERIVED', reasons: [] };
  const analysis = await engine.analyze(bytes, options);
  const d = decideEnrolment(analysis, bounds);
  return { analysis, result: d.result, reasons: d.reasons };
}

/**
 * Every enrolment against every probe with a face analysis that it may be compared with
 * (`comparable`), as facestreaming decides a snapshot (`decideVerification`, before the
 * history rules), and the distances split into genuine and impostor.
 */
export function pairUp(enrolled: (Float32Array | undefined)[], probes: Probe[], threshold: number, genuine: (a: number, b: number) => boolean, comparable: (a: number, b: number) => boolean): { pairs: Pair[]; scores: Scores } {
  const pairs: Pair[] = [];
  const scores: Scores = { genuine: [], impostor: [] };
  for (const [a, enrolment] of enrolled.entries()) {
    if (!enrolment) continue;
    for (const [b, probe] of probes.entries()) {
      if (!probe.analysis || !comparable(a, b)) continue;
      const { distance, result } = decideVerification(enrolment, probe.analysis.faces, threshold);
      const g = genuine(a, b);
      pairs.push({ a, b, genuine: g, distance, result });
      (g ? scores.genuine : scores.impostor).push(distance);
    }
  }
  return { pairs, scores };
}

/**
 * Every photo and its derived kinds through one wasm engine (`engine`, or one loaded here),
 * then every enrolment–probe pair. Kinds run one after the other, so each is timed.
 */
export async function measureRealPhotos(opts: { photos: RealPhoto[]; kinds: MaterialKind[]; options: AnalyzeOptions; bounds: QualityBounds; threshold: number; dir?: string; engine?: FaceEngine }): Promise<RealMeasurement> {
  const t0 = performance.now();
  const { photos, options, bounds, threshold } = opts;
  const dir = opts.dir ?? FACES_DIR;
  const kinds: Kind[] = ['original', ...opts.kinds];
  const engine = opts.engine ?? (await FaceEngine.load('wasm')).engine;
  if (!opts.engine) await engine.warmUp();
  const probes = Object.fromEntries(kinds.map((k) => [k, [] as Probe[]])) as Record<Kind, Probe[]>;
  const kindSeconds = Object.fromEntries(kinds.map((k) => [k, 0])) as Record<Kind, number>;
  const bytes = photos.map((p) => readFileSync(join(dir, p.image)));
  const timed = async <T>(kind: Kind, fn: () => Promise<T>): Promise<T> => {
    const s = performance.now();
    try {
      return await fn();
    } finally {
      kindSeconds[kind] += (performance.now() - s) / 1000;
    }
  };
  for (const photo of bytes) probes.original.push(await timed('original', () => analyseProbe(engine, photo, options, bounds)));
  // The face the material is built around: the engine's most confident one on the original.
  const boxes = probes.original.map((p) => p.analysis!.faces.reduce<FaceAnalysis['faces'][number] | undefined>((a, f) => (!a || f.score > a.score ? f : a), undefined)?.box);
  const identities = photos.map((p) => p.identity);
  const usable = boxes.map(Boolean);
  for (const kind of opts.kinds) {
    for (const [i, photo] of bytes.entries()) {
      const j = kind === 'two-people' ? partnerIndex(i, identities, usable) : undefined;
      const partner = j === undefined ? undefined : { photo: bytes[j]!, box: boxes[j]! };
      const probe = await timed(kind, async () => analyseProbe(engine, await deriveMaterial(kind, photo, boxes[i], i, partner), options, bounds));
      probes[kind].push(j === undefined ? probe : { ...probe, people: twoPeopleOrder(i, j) });
    }
  }
  const analyses = kinds.reduce((n, k) => n + probes[k].filter((p) => p.analysis).length, 0);
  const enrolled = probes.original.map((p) => (p.result === 'SUCCESS' ? decideEnrolment(p.analysis!, bounds).face!.descriptor : undefined));
  const pairs = {} as Record<Kind, Pair[]>;
  const scores = {} as Record<Kind, Scores>;
  for (const kind of kinds) {
    const people = (b: number) => probes[kind][b]!.people ?? [b];
    // A photo is never compared with material made from itself.
    const comparable = (a: number, b: number) => !people(b).includes(a);
    const genuine = (a: number, b: number) => people(b).some((p) => identities[p] === identities[a]);
    ({ pairs: pairs[kind], scores: scores[kind] } = pairUp(enrolled, probes[kind], threshold, genuine, comparable));
  }
  return { photos, kinds, probes, enrolled, pairs, scores, engine: engine.info, analyses, seconds: (performance.now() - t0) / 1000, kindSeconds };
}
