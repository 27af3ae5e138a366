// Face accuracy on real labelled photos (../shared/faces/deepface, 61 single-person photos of
// 13 identities), as they are and as derived material (tight head shots, faces small in
// video stills, re-encodes, webcam frames): how often the enrolment gate accepts, how
// often nothing is detected, and TAR/FAR of the verification decision. Measures only.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../shared/config/config.ts';
import { analyzeOptions } from '../../shared/app/face-analyzer-for.ts';
import { decideEnrolment } from '../../shared/face/enrolment.ts';
import { FaceEngine, type FaceAnalysis } from '../../shared/face/engine.ts';
import { decideVerification } from '../../shared/face/verification.ts';
import type { QualityReason } from '../../shared/face/quality.ts';
import { MATERIAL_KINDS, deriveMaterial } from './face-material.ts';
import { median, printTable } from './table.ts';

const FACES_DIR = process.env.BENCH_FACES_DIR ?? join(dirname(fileURLToPath(import.meta.url)), '../../../shared/faces/deepface');
const KINDS = ['original', ...MATERIAL_KINDS] as const;
type Kind = (typeof KINDS)[number];
const THRESHOLDS = [0.5, 0.55, 0.6, 0.65];
const FARS = [0.001, 0.01, 0.1];

interface Probe {
  /** Undefined when the material could not be derived (no face on the original). */
  analysis?: FaceAnalysis;
  result: string;
  reasons: QualityReason[];
}

export async function benchFaceAccuracy(): Promise<void> {
  const list = join(FACES_DIR, 'identities.csv');
  if (!existsSync(list)) {
    console.log(`face-accuracy: ${FACES_DIR} is absent (see ../shared/faces/README.md); skipped`);
    return;
  }
  const t0 = performance.now();
  const config = loadConfig({}).face;
  const bounds = config.quality;
  const options = analyzeOptions(config);
  const threshold = config.matchThreshold;
  const photos = readFileSync(list, 'utf8')
    .split(/\r?\n/)
    .slice(1)
    .filter((l) => l.trim())
    .map((l) => {
      const [image, identity] = l.split(',').map((s) => s.trim());
      return { image: image!, identity: identity! };
    });

  const { engine } = await FaceEngine.load('wasm');
  await engine.warmUp();

  // probes[kind][i]: photo i in that kind of material.
  const probes = Object.fromEntries(KINDS.map((k) => [k, [] as Probe[]])) as Record<Kind, Probe[]>;
  const analyse = async (bytes: Buffer | undefined): Promise<Probe> => {
    if (!bytes) return { result: 'NOT_DERIVED', reasons: [] };
    const analysis = await engine.analyze(bytes, options);
    const d = decideEnrolment(analysis, bounds);
    return { analysis, result: d.result, reasons: d.reasons };
  };
  let analyses = 0;
  for (const [i, p] of photos.entries()) {
    const photo = readFileSync(join(FACES_DIR, p.image));
    const original = await analyse(photo);
    probes.original.push(original);
    // The face the material is built around: the engine's most confident one on the original.
    const best = original.analysis!.faces.reduce<FaceAnalysis['faces'][number] | undefined>((a, f) => (!a || f.score > a.score ? f : a), undefined);
    for (const kind of MATERIAL_KINDS) {
      const probe = await analyse(await deriveMaterial(kind, photo, best?.box, i));
      probes[kind].push(probe);
    }
    analyses += 1 + MATERIAL_KINDS.filter((k) => probes[k][i]!.analysis).length;
  }
  const analysisSeconds = (performance.now() - t0) / 1000;

  // Enrolments: each photo's original, where the gate accepts it (as the service stores them).
  const enrolled = probes.original.map((p) => (p.result === 'SUCCESS' ? decideEnrolment(p.analysis!, bounds).face!.descriptor : undefined));
  const nEnrolled = enrolled.filter(Boolean).length;

  interface Scores {
    genuine: (number | null)[];
    impostor: (number | null)[];
  }
  const scores = {} as Record<Kind, Scores>;
  for (const kind of KINDS) {
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
  // A probe without a face is a rejection: it counts in the denominator, never as accepted.
  const rate = (ds: (number | null)[], t: number) => ds.filter((d) => d !== null && d <= t).length / ds.length;
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const range = (ds: (number | null)[]) => {
    const v = ds.filter((d): d is number => d !== null);
    return v.length ? `${Math.min(...v).toFixed(3)}–${Math.max(...v).toFixed(3)}` : '–';
  };

  const n = photos.length;
  const identities = new Set(photos.map((p) => p.identity)).size;
  const g = scores.original.genuine.length;
  const im = scores.original.impostor.length;
  printTable(
    `Face accuracy by material (${n} single-person photos, ${identities} identities, backend ${engine.info.backend}; ` +
      `enrolled on the ${nEnrolled} originals the gate accepts; all pairs, no cap: up to ${g} genuine / ${im} impostor per kind; threshold ${threshold}; a probe without a face counts as rejected)`,
    ['material', 'images', 'enrolment accepted', 'no face found', 'genuine pairs', 'TAR', 'impostor pairs', 'FAR', 'genuine distances', 'impostor distances'],
    KINDS.map((kind) => {
      const ps = probes[kind].filter((p) => p.analysis);
      const ok = ps.filter((p) => p.result === 'SUCCESS').length;
      const miss = ps.filter((p) => p.analysis!.faces.length === 0).length;
      const s = scores[kind];
      return [
        kind,
        ps.length,
        `${ok}/${ps.length} (${pct(ok / ps.length)})`,
        `${miss}/${ps.length}`,
        s.genuine.length,
        pct(rate(s.genuine, threshold)),
        s.impostor.length,
        pct(rate(s.impostor, threshold)),
        range(s.genuine),
        range(s.impostor),
      ];
    }),
  );

  printTable(
    'TAR / FAR at other thresholds (same pairs)',
    ['material', ...THRESHOLDS.map((t) => `t=${t} TAR / FAR`)],
    KINDS.map((kind) => [kind, ...THRESHOLDS.map((t) => `${pct(rate(scores[kind].genuine, t))} / ${pct(rate(scores[kind].impostor, t))}`)]),
  );

  // ROC: the largest threshold (over the observed impostor distances) whose FAR stays within target.
  const tarAt = (s: Scores, far: number) => {
    const imp = s.impostor.filter((d): d is number => d !== null).sort((a, b) => a - b);
    const allowed = Math.floor(far * s.impostor.length);
    // Accepting the `allowed` closest impostors: the threshold sits just below the next one.
    const t = allowed < imp.length ? imp[allowed]! - 1e-9 : Infinity;
    return `${pct(rate(s.genuine, t))} (t=${Number.isFinite(t) ? t.toFixed(3) : '∞'})`;
  };
  printTable(
    'TAR at a fixed FAR (threshold that reaches it)',
    ['material', ...FARS.map((f) => `TAR @ FAR ${f}`)],
    KINDS.map((kind) => [kind, ...FARS.map((f) => tarAt(scores[kind], f))]),
  );

  // Why the gate refused: counts of each result and each quality reason, with the measures.
  const checks = ['face_size', 'score', 'brightness', 'sharpness', 'yaw', 'pitch', 'roll'] as const;
  printTable(
    `Enrolment gate outcomes by material (bounds: face ≥ ${bounds.minFaceSize} px, score ≥ ${bounds.minScore}, brightness ${bounds.minBrightness}–${bounds.maxBrightness}, sharpness ≥ ${bounds.minSharpness}, |yaw| ≤ ${bounds.maxYaw}, |pitch| ≤ ${bounds.maxPitch}, |roll| ≤ ${bounds.maxRoll}; medians over the best face)`,
    ['material', 'SUCCESS', 'NO_FACES_FOUND', 'MULTIPLE_FACES', 'LOW_QUALITY', ...checks, 'padded retry used', 'median face px', 'median score', 'median sharpness'],
    KINDS.map((kind) => {
      const ps = probes[kind].filter((p) => p.analysis);
      const count = (r: string) => ps.filter((p) => p.result === r).length;
      const bestFaces = ps.flatMap((p) => (p.analysis!.faces.length ? [p.analysis!.faces.reduce((a, f) => (f.score > a.score ? f : a))] : []));
      const med = (xs: number[], digits: number) => (xs.length ? median(xs).toFixed(digits) : '–');
      return [
        kind,
        count('SUCCESS'),
        count('NO_FACES_FOUND'),
        count('MULTIPLE_FACES'),
        count('LOW_QUALITY'),
        ...checks.map((c) => ps.filter((p) => p.reasons.some((r) => r.check === c)).length),
        ps.filter((p) => p.analysis!.padded).length,
        med(bestFaces.map((f) => f.quality.sizePx), 0),
        med(bestFaces.map((f) => f.score), 3),
        med(bestFaces.map((f) => f.quality.sharpness), 0),
      ];
    }),
  );
  // Each refusal by name, and each impostor accepted at the threshold: what the tables hide.
  for (const kind of KINDS) {
    for (const [i, p] of probes[kind].entries()) {
      if (!p.analysis || p.result === 'SUCCESS') continue;
      const faces = p.analysis.faces.map((f) => `${Math.round(f.quality.sizePx)}px@${f.score.toFixed(2)}`).join(', ');
      console.log(`refused: ${kind} ${photos[i]!.image}: ${p.result} [${faces}]${p.reasons.map((r) => `; ${r.message}`).join('')}`);
    }
  }
  for (const kind of KINDS) {
    for (const [a, enrolment] of enrolled.entries()) {
      for (const [b, probe] of probes[kind].entries()) {
        if (!enrolment || a === b || !probe.analysis || photos[a]!.identity === photos[b]!.identity) continue;
        const d = decideVerification(enrolment, probe.analysis.faces, threshold).distance;
        if (d !== null && d <= threshold) console.log(`impostor accepted: ${kind} ${photos[a]!.image} (${photos[a]!.identity}) vs ${photos[b]!.image} (${photos[b]!.identity}): ${d}`);
      }
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  console.log(`face-accuracy: ${analyses} analyses in ${analysisSeconds.toFixed(0)} s (one wasm thread, ${engine.info.detector} detector), whole run ${seconds.toFixed(0)} s`);
}
