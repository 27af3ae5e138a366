// Face accuracy on real labelled photos (../shared/faces/deepface, 61 single-person photos of
// 13 identities), as they are and as derived material (tight head shots, faces small in
// video stills, re-encodes, webcam frames): how often the enrolment gate accepts, how
// often nothing is detected, and TAR/FAR of the verification decision. Measures only.
import { loadConfig } from '../../services/config.ts';
import { analyzeOptions } from '../../shared/app/face-analyzer-for.ts';
import type { AnalyzeOptions } from '../../shared/face/engine.ts';
import { decideVerification } from '../../shared/face/verification.ts';
import { MATERIAL_KINDS } from '../helpers/face-material.ts';
import { FACES_DIR, measureRealPhotos, realPhotos, type Scores } from './face-accuracy-measure.ts';
import { median, printTable } from './table.ts';

// BENCH_FACE_KINDS: a comma-separated subset of the derived kinds (the originals always run).
const DERIVED = MATERIAL_KINDS.filter((k) => !process.env.BENCH_FACE_KINDS || process.env.BENCH_FACE_KINDS.split(',').includes(k));
const THRESHOLDS = [0.5, 0.55, 0.6, 0.65];
const FARS = [0.001, 0.01, 0.1];

export async function benchFaceAccuracy(): Promise<void> {
  const photos = realPhotos();
  if (!photos) {
    console.log(`face-accuracy: ${FACES_DIR} is absent (see ../shared/faces/README.md); skipped`);
    return;
  }
  const t0 = performance.now();
  const config = loadConfig({}).face;
  const bounds = config.quality;
  // BENCH_FACE_OPTIONS: engine options to compare (JSON), over the configured ones.
  const options = { ...analyzeOptions(config), ...(JSON.parse(process.env.BENCH_FACE_OPTIONS ?? '{}') as AnalyzeOptions) };
  const threshold = config.matchThreshold;
  const m = await measureRealPhotos({ photos, kinds: DERIVED, options, bounds, threshold });
  const { probes, enrolled, scores, kinds: KINDS } = m;
  const { analyses, seconds: analysisSeconds } = m;
  const nEnrolled = enrolled.filter(Boolean).length;
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
    `Face accuracy by material (${n} single-person photos, ${identities} identities, backend ${m.engine.backend}; ` +
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
  // Every kind pooled: the verification target is stated over the real pairs and all their variants.
  const pooled: Scores = { genuine: KINDS.flatMap((k) => scores[k].genuine), impostor: KINDS.flatMap((k) => scores[k].impostor) };
  printTable(
    'TAR at a fixed FAR (threshold that reaches it)',
    ['material', ...FARS.map((f) => `TAR @ FAR ${f}`), `TAR / FAR at ${threshold}`],
    [...KINDS.map((kind) => [kind, scores[kind]] as const), ['all kinds pooled', pooled] as const].map(([kind, s]) => [
      kind,
      ...FARS.map((f) => tarAt(s, f)),
      `${pct(rate(s.genuine, threshold))} / ${pct(rate(s.impostor, threshold))}`,
    ]),
  );

  // Why the gate refused: counts of each result and each quality reason, with the measures.
  const checks = ['face_size', 'score', 'brightness', 'sharpness', 'yaw', 'pitch', 'roll'] as const;
  printTable(
    `Enrolment gate outcomes by material (bounds: face ≥ ${bounds.minFaceSize} px, score ≥ ${bounds.minScore}, brightness ${bounds.minBrightness}–${bounds.maxBrightness}, sharpness ≥ ${bounds.minSharpness}, |yaw| ≤ ${bounds.maxYaw}, |pitch| ≤ ${bounds.maxPitch}, |roll| ≤ ${bounds.maxRoll}; medians over the best face)`,
    ['material', 'SUCCESS', 'NO_FACES_FOUND', 'MULTIPLE_FACES', 'LOW_QUALITY', ...checks, 'padded', 'second looks / image', 'mean ms', 'median face px', 'median score', 'median sharpness'],
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
        (ps.reduce((a, p) => a + p.analysis!.looks, 0) / ps.length).toFixed(2),
        (ps.reduce((a, p) => a + p.analysis!.ms, 0) / ps.length).toFixed(0),
        med(bestFaces.map((f) => f.quality.sizePx), 0),
        med(bestFaces.map((f) => f.score), 3),
        med(bestFaces.map((f) => f.quality.sharpness), 0),
      ];
    }),
  );
  // What the gate's bounds rest on: each measure's spread over the best face of every probe.
  const spread = (xs: number[], digits: number) => {
    if (!xs.length) return '–';
    const v = [...xs].sort((a, b) => a - b);
    const p = (q: number) => v[Math.min(v.length - 1, Math.floor(q * v.length))]!.toFixed(digits);
    return `${v[0]!.toFixed(digits)} / ${p(0.05)} / ${p(0.95)} / ${v[v.length - 1]!.toFixed(digits)}`;
  };
  printTable(
    'Quality measures of the best face per probe (min / 5th percentile / 95th percentile / max)',
    ['material', 'face px', 'score', 'brightness', 'sharpness', '|yaw|', '|pitch|', '|roll|'],
    KINDS.map((kind) => {
      const qs = probes[kind].flatMap((p) => (p.analysis?.faces.length ? [p.analysis.faces.reduce((a, f) => (f.score > a.score ? f : a)).quality] : []));
      return [
        kind,
        spread(qs.map((q) => q.sizePx), 0),
        spread(qs.map((q) => q.score), 2),
        spread(qs.map((q) => q.brightness), 0),
        spread(qs.map((q) => q.sharpness), 0),
        spread(qs.map((q) => Math.abs(q.pose.yaw)), 0),
        spread(qs.map((q) => Math.abs(q.pose.pitch)), 0),
        spread(qs.map((q) => Math.abs(q.pose.roll)), 0),
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
  console.log(`face-accuracy: ${analyses} analyses in ${analysisSeconds.toFixed(0)} s (one wasm thread, ${m.engine.detector} detector), whole run ${seconds.toFixed(0)} s`);
}
