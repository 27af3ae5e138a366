// The face-accuracy bench's tables, each over a list of materials (a derived kind of the
// deepface photos, or the webcam stills): one row per material, the same measures for all.
import type { QualityBounds } from '../../shared/face/quality.ts';
import type { Probe, Scores } from './face-accuracy-measure.ts';
import { median, printTable } from './table.ts';

export interface Material {
  label: string;
  probes: Probe[];
  scores: Scores;
}

// A probe without a face is a rejection: it counts in the denominator, never as accepted.
export const rate = (ds: (number | null)[], t: number): number => (ds.length ? ds.filter((d) => d !== null && d <= t).length / ds.length : NaN);
export const pct = (x: number): string => (Number.isNaN(x) ? '–' : `${(x * 100).toFixed(1)}%`);
const range = (ds: (number | null)[]) => {
  const v = ds.filter((d): d is number => d !== null);
  return v.length ? `${Math.min(...v).toFixed(3)}–${Math.max(...v).toFixed(3)}` : '–';
};
const derived = (m: Material) => m.probes.filter((p) => p.analysis);
const bestFace = (p: Probe) => (p.analysis?.faces.length ? p.analysis.faces.reduce((a, f) => (f.score > a.score ? f : a)) : undefined);

/** Enrolment acceptance, detection misses, TAR/FAR at the threshold and the distance ranges. */
export function printAccuracy(title: string, materials: Material[], threshold: number): void {
  printTable(
    title,
    ['material', 'images', 'enrolment accepted', 'no face found', 'genuine pairs', 'TAR', 'impostor pairs', 'FAR', 'genuine distances', 'impostor distances'],
    materials.map((m) => {
      const ps = derived(m);
      const ok = ps.filter((p) => p.result === 'SUCCESS').length;
      const miss = ps.filter((p) => p.analysis!.faces.length === 0).length;
      const s = m.scores;
      return [
        m.label,
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
}

export function printThresholds(materials: Material[], thresholds: number[]): void {
  printTable(
    'TAR / FAR at other thresholds (same pairs)',
    ['material', ...thresholds.map((t) => `t=${t} TAR / FAR`)],
    materials.map((m) => [m.label, ...thresholds.map((t) => `${pct(rate(m.scores.genuine, t))} / ${pct(rate(m.scores.impostor, t))}`)]),
  );
}

/** TAR at fixed FARs: the largest threshold (over the observed impostor distances) whose FAR stays within target. */
export function printTarAtFar(materials: Material[], fars: number[], threshold: number): void {
  const tarAt = (s: Scores, far: number) => {
    const imp = s.impostor.filter((d): d is number => d !== null).sort((a, b) => a - b);
    const allowed = Math.floor(far * s.impostor.length);
    // Accepting the `allowed` closest impostors: the threshold sits just below the next one.
    const t = allowed < imp.length ? imp[allowed]! - 1e-9 : Infinity;
    return `${pct(rate(s.genuine, t))} (t=${Number.isFinite(t) ? t.toFixed(3) : '∞'})`;
  };
  printTable(
    'TAR at a fixed FAR (threshold that reaches it)',
    ['material', ...fars.map((f) => `TAR @ FAR ${f}`), `TAR / FAR at ${threshold}`],
    materials.map((m) => [m.label, ...fars.map((f) => tarAt(m.scores, f)), `${pct(rate(m.scores.genuine, threshold))} / ${pct(rate(m.scores.impostor, threshold))}`]),
  );
}

const CHECKS = ['face_size', 'score', 'brightness', 'sharpness', 'yaw', 'pitch', 'roll'] as const;

/** Why the gate refused: counts of each result and each quality reason, with the measures. */
export function printGateOutcomes(materials: Material[], bounds: QualityBounds): void {
  const b = bounds;
  printTable(
    `Enrolment gate outcomes by material (bounds: face ≥ ${b.minFaceSize} px, score ≥ ${b.minScore}, brightness ${b.minBrightness}–${b.maxBrightness}, sharpness ≥ ${b.minSharpness}, |yaw| ≤ ${b.maxYaw}, |pitch| ≤ ${b.maxPitch}, |roll| ≤ ${b.maxRoll}; medians over the best face)`,
    ['material', 'SUCCESS', 'NO_FACES_FOUND', 'MULTIPLE_FACES', 'LOW_QUALITY', ...CHECKS, 'padded', 'second looks / image', 'mean ms', 'median face px', 'median score', 'median sharpness'],
    materials.map((m) => {
      const ps = derived(m);
      const count = (r: string) => ps.filter((p) => p.result === r).length;
      const best = ps.flatMap((p) => bestFace(p) ?? []);
      const med = (xs: number[], digits: number) => (xs.length ? median(xs).toFixed(digits) : '–');
      return [
        m.label,
        count('SUCCESS'),
        count('NO_FACES_FOUND'),
        count('MULTIPLE_FACES'),
        count('LOW_QUALITY'),
        ...CHECKS.map((c) => ps.filter((p) => p.reasons.some((r) => r.check === c)).length),
        ps.filter((p) => p.analysis!.padded).length,
        (ps.reduce((a, p) => a + p.analysis!.looks, 0) / ps.length).toFixed(2),
        (ps.reduce((a, p) => a + p.analysis!.ms, 0) / ps.length).toFixed(0),
        med(best.map((f) => f.quality.sizePx), 0),
        med(best.map((f) => f.score), 3),
        med(best.map((f) => f.quality.sharpness), 0),
      ];
    }),
  );
}

/** What the gate's bounds rest on: each measure's spread over the best face of every probe. */
export function printQualitySpread(materials: Material[]): void {
  const spread = (xs: number[], digits: number) => {
    if (!xs.length) return '–';
    const v = [...xs].sort((a, b) => a - b);
    const p = (q: number) => v[Math.min(v.length - 1, Math.floor(q * v.length))]!.toFixed(digits);
    return `${v[0]!.toFixed(digits)} / ${p(0.05)} / ${p(0.95)} / ${v[v.length - 1]!.toFixed(digits)}`;
  };
  printTable(
    'Quality measures of the best face per probe (min / 5th percentile / 95th percentile / max)',
    ['material', 'face px', 'score', 'brightness', 'sharpness', '|yaw|', '|pitch|', '|roll|'],
    materials.map((m) => {
      const qs = m.probes.flatMap((p) => bestFace(p)?.quality ?? []);
      return [
        m.label,
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
}
