// The face-accuracy bench's views that a per-kind row hides: each variant of a kind that
// varies its images (crop framing, roll angle), the streaming results of the two-people
// frames, and the webcam stills per person and per probe.
import { materialVariant, type MaterialKind } from '../helpers/face-material.ts';
import type { Pair, Probe, RealMeasurement } from './face-accuracy-measure.ts';
import type { WebcamMeasurement } from './face-accuracy-webcam.ts';
import { pct, rate } from './face-accuracy-tables.ts';
import { median, printTable } from './table.ts';

const faceList = (p: Probe) => p.analysis!.faces.map((f) => `${Math.round(f.quality.sizePx)}px@${f.score.toFixed(2)}`).join(', ');
const tally = (xs: string[]) => {
  const n = new Map<string, number>();
  for (const x of xs) n.set(x, (n.get(x) ?? 0) + 1);
  return [...n].map(([k, c]) => `${k} ×${c}`).join(', ');
};
const distances = (ps: Pair[]) => ps.map((p) => p.distance);

/** One row per variant of each kind that varies its images (`materialVariant`). */
export function printVariants(m: RealMeasurement, threshold: number): void {
  const rows: (string | number)[][] = [];
  for (const kind of m.kinds) {
    if (kind === 'original') continue;
    const variants = new Map<string, number[]>();
    m.probes[kind].forEach((p, i) => {
      const v = materialVariant(kind as MaterialKind, i);
      if (v !== undefined && p.analysis) variants.set(v, [...(variants.get(v) ?? []), i]);
    });
    for (const [variant, idx] of [...variants].sort()) {
      const ps = idx.map((i) => m.probes[kind][i]!);
      const pairs = m.pairs[kind].filter((p) => idx.includes(p.b));
      const rolls = ps.flatMap((p) => (p.analysis!.faces.length ? [Math.abs(p.analysis!.faces.reduce((a, f) => (f.score > a.score ? f : a)).quality.pose.roll)] : []));
      rows.push([
        `${kind}: ${variant}`,
        ps.length,
        `${ps.filter((p) => p.result === 'SUCCESS').length}/${ps.length}`,
        `${ps.filter((p) => p.analysis!.faces.length === 0).length}/${ps.length}`,
        pairs.filter((p) => p.genuine).length,
        pct(rate(distances(pairs.filter((p) => p.genuine)), threshold)),
        pairs.filter((p) => !p.genuine).length,
        pct(rate(distances(pairs.filter((p) => !p.genuine)), threshold)),
        rolls.length ? median(rolls).toFixed(0) : '–',
      ]);
    }
  }
  if (rows.length === 0) return;
  printTable(`Variants of a kind (threshold ${threshold})`, ['material: variant', 'images', 'enrolment accepted', 'no face found', 'genuine pairs', 'TAR', 'impostor pairs', 'FAR', 'median |roll| found'], rows);
}

type TwoPeopleCase = 'left person enrolled' | 'right person enrolled' | 'a third person enrolled';
const EXPECTED: Record<TwoPeopleCase, string> = {
  'left person enrolled': 'SUCCESS_MULTIPLE_FACES',
  'right person enrolled': 'SUCCESS_MULTIPLE_FACES',
  'a third person enrolled': 'UNKNOWN_MULTIPLE_FACES',
};

/**
 * The two-people frames as facestreaming would answer them: per case, the checks (frame ×
 * enrolment) that read the result the contract asks for, the frames all of whose checks
 * do, the other results seen; then each frame that fails, by name.
 */
export function printTwoPeople(m: RealMeasurement): void {
  const probes = m.probes['two-people'];
  if (!probes) return;
  const id = (i: number) => m.photos[i]!.identity;
  const caseOf = (p: Pair): TwoPeopleCase => {
    const [l, r] = probes[p.b]!.people!;
    return id(p.a) === id(l!) ? 'left person enrolled' : id(p.a) === id(r!) ? 'right person enrolled' : 'a third person enrolled';
  };
  const frames = probes.flatMap((p, b) => (p.analysis && p.people ? [b] : []));
  const byCase = new Map<TwoPeopleCase, Pair[]>();
  for (const p of m.pairs['two-people']) byCase.set(caseOf(p), [...(byCase.get(caseOf(p)) ?? []), p]);
  printTable(
    `Two people in one 854×480 frame (${frames.length} frames, faces 10–15% of the height): results as facestreaming decides them (decideVerification), enrolled on the accepted originals of other photos`,
    ['case', 'frames', 'checks', 'expected result', 'checks that read it', 'frames all of whose checks read it', 'other results seen'],
    (Object.keys(EXPECTED) as TwoPeopleCase[]).map((c) => {
      const pairs = byCase.get(c) ?? [];
      const want = EXPECTED[c];
      const ok = pairs.filter((p) => p.result === want).length;
      const inCase = new Set(pairs.map((p) => p.b));
      const whole = [...inCase].filter((b) => pairs.every((p) => p.b !== b || p.result === want)).length;
      return [c, inCase.size, pairs.length, want, `${ok}/${pairs.length} (${pct(ok / pairs.length)})`, `${whole}/${inCase.size}`, tally(pairs.filter((p) => p.result !== want).map((p) => p.result)) || '–'];
    }),
  );
  const faces = (n: number) => (n >= 3 ? '3+ faces' : n === 1 ? '1 face' : `${n} faces`);
  console.log(`two-people: faces found per frame: ${tally(frames.map((b) => faces(probes[b]!.analysis!.faces.length)))}`);
  for (const b of frames) {
    const pairs = m.pairs['two-people'].filter((p) => p.b === b);
    const wrong = pairs.filter((p) => p.result !== EXPECTED[caseOf(p)]);
    if (wrong.length === 0) continue;
    const [l, r] = probes[b]!.people!;
    const perCase = (Object.keys(EXPECTED) as TwoPeopleCase[]).flatMap((c) => {
      const mine = pairs.filter((p) => caseOf(p) === c);
      return mine.length ? [`${c.replace(' enrolled', '')}: ${tally(mine.map((p) => p.result))}`] : [];
    });
    console.log(`two-people frame ${m.photos[l!]!.image} (${id(l!)}, left) + ${m.photos[r!]!.image} (${id(r!)}, right): ${probes[b]!.analysis!.faces.length} faces [${faceList(probes[b]!)}]; ${perCase.join('; ')}`);
  }
}

/** The webcam stills per person, each still the gate refused, each probe a genuine enrolment rejected, and the accepted pairs per person pair. */
export function printWebcam(w: WebcamMeasurement, threshold: number): void {
  const people = [...new Set(w.stills.map((s) => s.person))].sort();
  const person = (i: number) => w.stills[i]!.person;
  printTable(
    `webcam-real per person (${w.stills.length} stills of ${new Set(w.stills.map((s) => s.clip)).size} clips; genuine: the person's enrolments against their stills from other clips; impostor: against the other people's stills)`,
    ['person', 'clips', 'stills', 'enrolment accepted', 'fallback enrolment', 'no face found', 'genuine pairs', 'TAR', 'impostor pairs', 'FAR'],
    people.map((p) => {
      const mine = w.stills.flatMap((s, i) => (s.person === p ? [i] : []));
      const pairs = w.pairs.filter((x) => person(x.a) === p);
      const forced = w.enrolments.filter((e) => e.forced && person(e.still) === p).map((e) => w.stills[e.still]!.name);
      return [
        p,
        new Set(mine.map((i) => w.stills[i]!.clip)).size,
        mine.length,
        `${mine.filter((i) => w.probes[i]!.result === 'SUCCESS').length}/${mine.length}`,
        forced.join(', ') || '–',
        `${mine.filter((i) => w.probes[i]!.analysis!.faces.length === 0).length}/${mine.length}`,
        pairs.filter((x) => x.genuine).length,
        pct(rate(distances(pairs.filter((x) => x.genuine)), threshold)),
        pairs.filter((x) => !x.genuine).length,
        pct(rate(distances(pairs.filter((x) => !x.genuine)), threshold)),
      ];
    }),
  );
  for (const e of w.enrolments.filter((x) => x.forced)) {
    const p = w.probes[e.still]!;
    console.log(`webcam-real: no still of ${person(e.still)} passes the gate; enrolled from ${w.stills[e.still]!.name} (${p.result}${p.reasons.map((r) => `; ${r.message}`).join('')})`);
  }
  for (const [i, p] of w.probes.entries()) {
    if (p.result !== 'SUCCESS') console.log(`refused: webcam-real ${w.stills[i]!.name} (${person(i)}): ${p.result} [${faceList(p)}]${p.reasons.map((r) => `; ${r.message}`).join('')}`);
  }
  for (const [b, p] of w.probes.entries()) {
    const genuine = w.pairs.filter((x) => x.b === b && x.genuine);
    const rejected = genuine.filter((x) => x.distance === null || x.distance > threshold);
    if (rejected.length === 0) continue;
    const ds = genuine.flatMap((x) => (x.distance === null ? [] : [x.distance]));
    const why = p.analysis!.faces.length === 0 ? 'no face found' : `rejected by ${rejected.length}/${genuine.length} enrolments (distances ${Math.min(...ds).toFixed(3)}–${Math.max(...ds).toFixed(3)}) [${faceList(p)}]`;
    console.log(`webcam-real probe missed: ${w.stills[b]!.name} (${person(b)}): ${why}`);
  }
  // Impostors accepted by person pair: on faces this small, which people the descriptor tells apart.
  const cell = (a: string, b: string) => {
    const ds = w.pairs.filter((x) => person(x.a) === a && person(x.b) === b).map((x) => x.distance);
    const v = ds.filter((d): d is number => d !== null);
    return ds.length ? `${ds.filter((d) => d !== null && d <= threshold).length}/${ds.length} (${v.length ? median(v).toFixed(2) : '–'})` : '–';
  };
  printTable(
    `webcam-real: pairs accepted at ${threshold} by enrolled person (row) and probe person (column), median distance in brackets; the diagonal is genuine (other clips)`,
    ['enrolled', ...people],
    people.map((a) => [a, ...people.map((b) => cell(a, b))]),
  );
}
