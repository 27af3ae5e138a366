// Face accuracy on real labelled photos (../shared/faces/deepface, 61 single-person photos of
// 13 identities), as they are and as derived material (tight head shots, crops that are all
// face, faces small in video stills, rolled heads, two people in one frame, re-encodes,
// webcam frames), and on stills of real webcam clips (../shared/video/webcam-signs, five
// people): how often the enrolment gate accepts, how often nothing is detected, and TAR/FAR
// of the verification decision. Measures only.
import { loadConfig } from '../../services/config.ts';
import { analyzeOptions } from '../../shared/app/face-analyzer-for.ts';
import { FaceEngine, type AnalyzeOptions } from '../../shared/face/engine.ts';
import { MATERIAL_KINDS } from '../helpers/face-material.ts';
import { printTwoPeople, printVariants, printWebcam } from './face-accuracy-cases.ts';
import { FACES_DIR, measureRealPhotos, realPhotos } from './face-accuracy-measure.ts';
import { printAgainstBefore } from './face-accuracy-reference.ts';
import { printAccuracy, printGateOutcomes, printQualitySpread, printTarAtFar, printThresholds, type Material } from './face-accuracy-tables.ts';
import { measureWebcamStills } from './face-accuracy-webcam.ts';
import { WEBCAM_DIR } from '../helpers/webcam-stills.ts';
import { printTable } from './table.ts';

// BENCH_FACE_KINDS: a comma-separated subset of the derived kinds and `webcam-real` (the originals always run).
const WANTED = process.env.BENCH_FACE_KINDS?.split(',').map((k) => k.trim());
const DERIVED = MATERIAL_KINDS.filter((k) => !WANTED || WANTED.includes(k));
const WEBCAM = !WANTED || WANTED.includes('webcam-real');
// BENCH_WEBCAM_STILLS: stills cut per webcam clip (20 clips).
const PER_CLIP = Number(process.env.BENCH_WEBCAM_STILLS ?? 4);
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
  const { engine } = await FaceEngine.load('wasm');
  await engine.warmUp();
  const m = await measureRealPhotos({ photos, kinds: DERIVED, options, bounds, threshold, engine });
  const w = WEBCAM ? await measureWebcamStills({ engine, options, bounds, threshold, perClip: PER_CLIP }) : undefined;
  if (WEBCAM && !w) console.log(`face-accuracy: ${WEBCAM_DIR} is absent (see ../shared/video/README.md); webcam-real skipped`);

  const nEnrolled = m.enrolled.filter(Boolean).length;
  const identities = new Set(photos.map((p) => p.identity)).size;
  const materials: Material[] = m.kinds.map((kind) => ({ label: kind, probes: m.probes[kind], scores: m.scores[kind] }));
  const webcam: Material[] = w ? [{ label: 'webcam-real (5 people)', probes: w.probes, scores: w.scores }] : [];
  // Every deepface kind pooled: the verification target is stated over the real pairs and all
  // their variants. The webcam stills stay out: other people, other enrolments.
  const pooled: Material = { label: 'all deepface kinds pooled', probes: [], scores: { genuine: materials.flatMap((x) => x.scores.genuine), impostor: materials.flatMap((x) => x.scores.impostor) } };
  const g = m.scores.original.genuine.length;
  const im = m.scores.original.impostor.length;
  const webcamNote = w
    ? `; webcam-real: ${w.stills.length} stills of ${new Set(w.stills.map((s) => s.clip)).size} clips of ${new Set(w.stills.map((s) => s.person)).size} people (other identities), enrolled on the ${w.enrolments.filter((e) => !e.forced).length} stills the gate accepts` +
      `${w.enrolments.some((e) => e.forced) ? ` and ${w.enrolments.filter((e) => e.forced).length} fallback (below)` : ''}, genuine probes from the person's other clips`
    : '';
  printAccuracy(
    `Face accuracy by material (${photos.length} single-person photos, ${identities} identities, backend ${m.engine.backend}; ` +
      `enrolled on the ${nEnrolled} originals the gate accepts; all pairs, no cap: up to ${g} genuine / ${im} impostor per kind; ` +
      `two-people: genuine when either person is enrolled; threshold ${threshold}; a probe without a face counts as rejected${webcamNote})`,
    [...materials, ...webcam],
    threshold,
  );
  printThresholds([...materials, ...webcam], THRESHOLDS);
  printTarAtFar([...materials, pooled, ...webcam], FARS, threshold);
  printAgainstBefore([...materials, ...webcam], threshold);
  printVariants(m, threshold);
  printTwoPeople(m);
  printGateOutcomes([...materials, ...webcam], bounds);
  printQualitySpread([...materials, ...webcam]);
  printTimes(m, w);

  // Each refusal by name, and each impostor accepted at the threshold: what the tables hide.
  // Two-people frames are refused by design (two faces); their check is the results table.
  for (const kind of m.kinds) {
    if (kind === 'two-people') continue;
    for (const [i, p] of m.probes[kind].entries()) {
      if (!p.analysis || p.result === 'SUCCESS') continue;
      const faces = p.analysis.faces.map((f) => `${Math.round(f.quality.sizePx)}px@${f.score.toFixed(2)}`).join(', ');
      console.log(`refused: ${kind} ${photos[i]!.image}: ${p.result} [${faces}]${p.reasons.map((r) => `; ${r.message}`).join('')}`);
    }
  }
  for (const kind of m.kinds) {
    for (const x of m.pairs[kind]) {
      const accepted = x.distance !== null && x.distance <= threshold;
      if (x.genuine === accepted) continue;
      const shown = (m.probes[kind][x.b]!.people ?? [x.b]).map((i) => `${photos[i]!.image} (${photos[i]!.identity})`).join(' + ');
      const what = x.genuine ? 'genuine rejected' : 'impostor accepted';
      console.log(`${what}: ${kind} ${photos[x.a]!.image} (${photos[x.a]!.identity}) vs ${shown}: ${x.distance ?? 'no face'}`);
    }
  }
  if (w) printWebcam(w, threshold);
  const seconds = (performance.now() - t0) / 1000;
  console.log(`face-accuracy: ${m.analyses + (w?.probes.length ?? 0)} analyses (one wasm thread, ${m.engine.detector} detector), whole run ${seconds.toFixed(0)} s`);
}

function printTimes(m: Awaited<ReturnType<typeof measureRealPhotos>>, w: Awaited<ReturnType<typeof measureWebcamStills>>): void {
  const rows = m.kinds.map((kind) => {
    const n = m.probes[kind].filter((p) => p.analysis).length;
    return [kind, n, m.kindSeconds[kind].toFixed(1), n ? ((1000 * m.kindSeconds[kind]) / n).toFixed(0) : '–'];
  });
  if (w) rows.push(['webcam-real', w.probes.length, `${w.seconds.toFixed(1)} (+ ${w.cutSeconds.toFixed(1)} cutting or reading the cache)`, ((1000 * w.seconds) / w.probes.length).toFixed(0)]);
  printTable('Time per kind (deriving and analysing, one wasm thread)', ['material', 'images', 'seconds', 'ms / image'], rows);
}
