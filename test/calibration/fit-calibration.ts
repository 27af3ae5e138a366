/**
 * Fits `calibration.json`: the logistic curve that turns a descriptor distance into the
 * `accuracy` written with each verification, P(same person | distance).
 *
 *   npm run fit-calibration                   # re-measure with the engine, then fit
 *   npm run fit-calibration -- --from-cache   # fit from calibration-distances.json (beside this script)
 *
 * A script, not a test (test/run.js runs only `*.test.ts`). It writes shared/face/calibration.json,
 * which shared/face/calibration.ts reads; the fit itself is shared/face/logistic-fit.ts.
 *
 * Two kinds of material, because neither is enough alone:
 * - the project's own: the face-api demo photos through this engine (`calibration-distances.json`).
 *   Its different-person pairs are real; its same-person pairs are one photo under crops and
 *   image edits, which understates how far apart two real photos of one person land
 *   (other day, light, camera, expression, age).
 * - published statistics for this descriptor (dlib_face_recognition_resnet_model_v1, of which
 *   face-api's faceRecognitionNet is a port): same- and different-person distances over all
 *   image pairs of LFW, turned into two normal distributions below.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { calibratedConfidence } from '../../shared/face/calibration.ts';
import type { Box } from '../../shared/face/geometry.ts';
import { descriptorDistance } from '../../shared/face/geometry.ts';
import { fitLogistic, rates, type LabelledDistance, type LogisticCurve } from '../../shared/face/logistic-fit.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const CACHE_FILE = join(HERE, 'calibration-distances.json');
/** Product code reads the fit from there (shared/face/calibration.ts). */
const OUT_FILE = join(HERE, '..', '..', 'shared', 'face', 'calibration.json');
const THRESHOLD = 0.6;

/**
 * Share of each class's weight given to the project's own pairs; the published model gets
 * the rest. Same-person: small, since crops of one photo are the easy case the published
 * LFW pairs (different photos of one person) already cover. Different-person: half, since
 * the demo photos are real strangers who resemble each other (similar age, sex, styling,
 * tilted heads) and sit much closer than LFW's mostly random pairs; a colleague at the
 * desk is closer to that than to a random stranger. The sensitivity block of the output
 * shows what other shares would give.
 */
const GENUINE_PROJECT_SHARE = 0.25;
const IMPOSTOR_PROJECT_SHARE = 0.5;
/** Quantile points drawn from each published normal. */
const MODEL_POINTS = 1000;

/** What each published figure used here rests on. */
const SOURCES: { url: string; used: string }[] = [
  { url: 'http://blog.dlib.net/2017/02/high-quality-face-recognition-with-deep.html', used: 'the model: dlib ResNet, 99.38% on LFW (Davis King, 2017)' },
  { url: 'http://dlib.net/face_recognition.py.html', used: 'threshold 0.6 gives 99.38% on LFW with 100 jitters, 99.13% without (face-api does not jitter)' },
  { url: 'http://dlib.net/dlib/dnn/loss_abstract.h.html', used: 'loss_metric_ trains same-person pairs below 0.6 − 0.04 and different-person pairs above 0.6 + 0.04: why 0.6' },
  { url: 'http://vis-www.cs.umass.edu/lfw/results.html', used: 'dlib on the LFW results page (unrestricted, labeled outside data)' },
  { url: 'https://github.com/justadudewhohacks/face-api.js', used: 'faceRecognitionNet is the dlib network with davisking\'s weights, 99.38% on LFW' },
  { url: 'https://jackgrimes.net/projects/face_recognition', used: 'precision/recall at cutoffs 0.3-0.9 over all 81,875,206 pairs of 12,797 LFW images: the published model' },
  { url: 'https://github.com/jackgrimes/face-distance-investigation', used: 'the code behind that table (face_recognition defaults, no jitter)' },
  { url: 'http://vis-www.cs.umass.edu/lfw/lfw-names.txt', used: 'images per person, for the share of same-person pairs among all LFW pairs' },
  { url: 'https://github.com/ageitgey/face_recognition#caveats', used: 'the model mixes up children at 0.6; accuracy varies between ethnic groups' },
  { url: 'https://github.com/ageitgey/face_recognition/wiki/Face-Recognition-Accuracy-Problems', used: 'lower accuracy for Asian faces; a lower tolerance helps' },
  { url: 'https://github.com/ageitgey/face_recognition/blob/master/examples/face_distance.py', used: '0.6 is what the model was trained for; 0.55 trades false accepts for false rejects' },
  { url: 'https://github.com/ageitgey/face_recognition/issues/612', used: 'maintainer: lower the threshold for Chinese faces, with limits' },
  { url: 'https://github.com/justadudewhohacks/face-api.js/issues/302', used: 'face-api on a company\'s (Asian) employees: different people below 0.3; bias confirmed' },
];

/**
 * face_recognition (dlib model, no jitter) over every pair of 12,797 LFW images of 5,467
 * people (81,875,206 pairs): precision and recall of "same person" at each distance cutoff,
 * as published (two decimals). Recall is the share of same-person pairs at or below the
 * cutoff; precision gives the different-person pairs that come along with them.
 */
const LFW_ALL_PAIRS: { cutoff: number; precision: number; recall: number }[] = [
  { cutoff: 0.3, precision: 1.0, recall: 0.02 },
  { cutoff: 0.4, precision: 1.0, recall: 0.29 },
  { cutoff: 0.45, precision: 0.98, recall: 0.59 },
  { cutoff: 0.5, precision: 0.91, recall: 0.84 },
  { cutoff: 0.55, precision: 0.71, recall: 0.96 },
  { cutoff: 0.6, precision: 0.34, recall: 0.99 },
  { cutoff: 0.9, precision: 0.0, recall: 1.0 },
];
/**
 * Same-person pairs per different-person pair in all of LFW: Σ C(n_i, 2) over the per-person
 * image counts = 242,014 same-person pairs among C(13,233, 2) = 87,549,528. Needed to turn
 * precision into a false-accept rate; assumed unchanged in the 12,797-image subset.
 */
const LFW_SAME_PAIRS = 242_014;
const LFW_ALL_PAIR_COUNT = (13_233 * 13_232) / 2;

interface Normal {
  mean: number;
  sd: number;
}

/** The cache: what the engine measured, so the fit reproduces without it. */
interface DistanceCache {
  description: string;
  engine: string;
  measuredAt: string;
  labelling: string;
  faces: { id: string; photo: number; box: Box; score: number }[];
  genuine: { face: string; variant: string; distance: number }[];
  impostor: { a: string; b: string; samePhoto: boolean; distance: number }[];
  failures: { face: string; variant: string; reason: string }[];
}

async function main(): Promise<void> {
  const fromCache = process.argv.includes('--from-cache');
  const cache = fromCache ? (JSON.parse(readFileSync(CACHE_FILE, 'utf8')) as DistanceCache) : await measure();
  if (!fromCache) writeFileSync(CACHE_FILE, `${JSON.stringify(cache, null, 1)}\n`);

  const genuineProject = cache.genuine.map((g) => g.distance);
  const impostorProject = cache.impostor.map((i) => i.distance);
  const published = publishedModel();

  const fitWith = (genuineShare: number, impostorShare: number): LogisticCurve => {
    const samples = [
      ...weighted(genuineProject, true, genuineShare),
      ...weighted(quantilePoints(published.genuine), true, 1 - genuineShare),
      ...weighted(impostorProject, false, impostorShare),
      ...weighted(quantilePoints(published.impostor), false, 1 - impostorShare),
    ];
    const fit = fitLogistic(samples, { prior: 0.5 });
    if (!fit.converged) throw new Error(`the logistic fit did not converge: ${JSON.stringify(fit)}`);
    // Stored rounded; everything reported below uses the stored values, as production does.
    return { midpoint: round(fit.midpoint, 4), slope: round(fit.slope, 2) };
  };
  const curve = fitWith(GENUINE_PROJECT_SHARE, IMPOSTOR_PROJECT_SHARE);

  const project = rates(genuineProject, impostorProject, THRESHOLD);
  const model = {
    falseRejectRate: 1 - normalCdf((THRESHOLD - published.genuine.mean) / published.genuine.sd),
    falseAcceptRate: normalCdf((THRESHOLD - published.impostor.mean) / published.impostor.sd),
  };
  const at06 = LFW_ALL_PAIRS.find((r) => r.cutoff === THRESHOLD)!;
  const accuracyTable = Object.fromEntries([0.3, 0.4, 0.5, 0.6, 0.7, 0.8].map((d) => [d.toFixed(1), calibratedConfidence(d, curve)]));

  const out = {
    model: '@vladmandic/face-api/faceRecognitionNet (dlib ResNet 128-d port)',
    form: 'accuracy = 1 / (1 + exp(slope * (distance - midpoint)))',
    midpoint: curve.midpoint,
    slope: curve.slope,
    fittedOn:
      `Weighted maximum-likelihood logistic regression (shared/face/logistic-fit.ts) of same/different on distance, ` +
      `classes balanced to P(same) = 0.5 before the distance is seen. Same-person class: ${pct(GENUINE_PROJECT_SHARE)} the ` +
      `project's crop/edit pairs of one photo, ${pct(1 - GENUINE_PROJECT_SHARE)} the published LFW same-person normal; ` +
      `different-person class: ${pct(IMPOSTOR_PROJECT_SHARE)} the project's pairs of distinct people in the face-api demo photos, ` +
      `${pct(1 - IMPOSTOR_PROJECT_SHARE)} the published LFW different-person normal. With another prior π the curve keeps its ` +
      `slope and its midpoint moves by ln(π/(1-π))/slope (up for π > 0.5).`,
    samples: {
      projectSamePerson: genuineProject.length,
      projectDifferentPerson: impostorProject.length,
      projectFaces: cache.faces.length,
      engineFailures: cache.failures.length,
      publishedModelPointsPerClass: MODEL_POINTS,
      publishedLfwPairs: 81_875_206,
    },
    publishedModel: {
      samePerson: roundNormal(published.genuine),
      differentPerson: roundNormal(published.impostor),
      derivation:
        `Normals fitted by least squares on the probit scale to the LFW all-pairs table (https://jackgrimes.net/projects/face_recognition): ` +
        `same-person CDF(c) = recall(c) at c = 0.3…0.6; different-person CDF(c) = recall(c)·(1/precision(c) − 1)·G/(N − G) ` +
        `at c = 0.45…0.6, with G = ${LFW_SAME_PAIRS} same-person pairs among N = ${LFW_ALL_PAIR_COUNT} LFW pairs. ` +
        `Cutoffs where a two-decimal figure is 0 or 1 are left out (their probit is infinite).`,
      points: published.points,
    },
    expectedAtThreshold: {
      threshold: THRESHOLD,
      projectMaterial: roundRates(project),
      publishedModel: roundRates(model),
      publishedTable: { falseRejectRate: round(1 - at06.recall, 4), falseAcceptRate: round(differentCdf(at06), 5) },
      fittedMixture: {
        falseRejectRate: round(GENUINE_PROJECT_SHARE * project.falseRejectRate + (1 - GENUINE_PROJECT_SHARE) * model.falseRejectRate, 4),
        falseAcceptRate: round(IMPOSTOR_PROJECT_SHARE * project.falseAcceptRate + (1 - IMPOSTOR_PROJECT_SHARE) * model.falseAcceptRate, 4),
      },
      accuracyAtThreshold: calibratedConfidence(THRESHOLD, curve),
      note:
        curve.midpoint < THRESHOLD
          ? `The midpoint is below the threshold: a match at a distance in (${curve.midpoint}, ${THRESHOLD}] reads accuracy < 0.5, ` +
            'i.e. on this material such a pair is more likely two people than one.'
          : `The midpoint is at or above the threshold: every match reads accuracy ≥ 0.5.`,
    },
    accuracyTable,
    sensitivity: [
      [GENUINE_PROJECT_SHARE, 0],
      [GENUINE_PROJECT_SHARE, 1],
      [0, IMPOSTOR_PROJECT_SHARE],
      [1, IMPOSTOR_PROJECT_SHARE],
    ].map(([g, i]) => ({ genuineProjectShare: g!, impostorProjectShare: i!, ...fitWith(g!, i!) })),
    sources: SOURCES,
    script: 'node --import tsx test/calibration/fit-calibration.ts [--from-cache]',
  };
  writeFileSync(OUT_FILE, `${JSON.stringify(out, null, 2)}\n`);
  console.log(JSON.stringify({ curve, accuracyTable, expectedAtThreshold: out.expectedAtThreshold, publishedModel: { genuine: out.publishedModel.samePerson, impostor: out.publishedModel.differentPerson }, sensitivity: out.sensitivity }, null, 2));
}

/** The LFW table as two normals; also returns the CDF points each was fitted to. */
function publishedModel(): { genuine: Normal; impostor: Normal; points: { cutoff: number; samePersonCdf: number; differentPersonCdf: number | null }[] } {
  const usable = (p: number): boolean => p > 0 && p < 1;
  const genuinePoints = LFW_ALL_PAIRS.filter((r) => usable(r.recall)).map((r) => ({ x: r.cutoff, p: r.recall }));
  const impostorPoints = LFW_ALL_PAIRS.filter((r) => usable(r.precision) && usable(r.recall)).map((r) => ({ x: r.cutoff, p: differentCdf(r) }));
  return {
    genuine: probitFit(genuinePoints),
    impostor: probitFit(impostorPoints),
    points: LFW_ALL_PAIRS.filter((r) => usable(r.recall)).map((r) => ({
      cutoff: r.cutoff,
      samePersonCdf: r.recall,
      differentPersonCdf: usable(r.precision) ? round(differentCdf(r), 7) : null,
    })),
  };
}

/** Share of different-person pairs at or below the cutoff, from precision and recall. */
function differentCdf(r: { precision: number; recall: number }): number {
  return r.recall * (1 / r.precision - 1) * (LFW_SAME_PAIRS / (LFW_ALL_PAIR_COUNT - LFW_SAME_PAIRS));
}

/** Least squares of x = mean + sd·Φ⁻¹(p): a normal through CDF points. */
function probitFit(points: { x: number; p: number }[]): Normal {
  const zs = points.map((q) => normalQuantile(q.p));
  const n = points.length;
  const mz = zs.reduce((s, z) => s + z, 0) / n;
  const mx = points.reduce((s, q) => s + q.x, 0) / n;
  let sxz = 0;
  let szz = 0;
  points.forEach((q, i) => {
    sxz += (zs[i]! - mz) * (q.x - mx);
    szz += (zs[i]! - mz) ** 2;
  });
  const sd = sxz / szz;
  return { mean: mx - sd * mz, sd };
}

function quantilePoints(n: Normal): number[] {
  return Array.from({ length: MODEL_POINTS }, (_, k) => n.mean + n.sd * normalQuantile((k + 0.5) / MODEL_POINTS));
}

/** Each list gets `share` of its class's weight, spread evenly over its pairs. */
function weighted(distances: number[], same: boolean, share: number): LabelledDistance[] {
  if (share === 0 || distances.length === 0) return [];
  return distances.map((distance) => ({ distance, same, weight: share / distances.length }));
}

/**
 * Measures the project's material with the engine: each face of the six demo photos against
 * crops and edits of itself (same person), and against every other face (different people).
 */
async function measure(): Promise<DistanceCache> {
  // Only here: --from-cache must run without the engine, TensorFlow or sharp.
  const [{ FaceEngine }, { samplePhoto, cropFace, variants }, { default: sharp }] = await Promise.all([
    import('../../shared/face/engine.ts'),
    import('../helpers/face-images.ts'),
    import('sharp'),
  ]);
  const { engine } = await FaceEngine.load('wasm');
  const faces: DistanceCache['faces'] = [];
  const reference = new Map<string, Float32Array>();
  const photos = [1, 2, 3, 4, 5, 6] as const;
  for (const n of photos) {
    const analysis = await engine.analyze(samplePhoto(n));
    analysis.faces.forEach((f, i) => {
      const id = `${n}.${i}`;
      faces.push({ id, photo: n, box: roundBox(f.box), score: round(f.score, 3) });
      reference.set(id, f.descriptor);
    });
  }

  const rotate = (deg: number) => (img: Buffer) => sharp(img).rotate(deg, { background: '#808080' }).jpeg({ quality: 92 }).toBuffer();
  const edits: [string, (photo: Buffer, box: Box) => Promise<Buffer>][] = [
    ['crop margin 0.1', (p, b) => cropFace(p, b, 0.1)],
    ['crop margin 0.25', (p, b) => cropFace(p, b, 0.25)],
    ['crop margin 0.5', (p, b) => cropFace(p, b, 0.5)],
    ['crop 0.25, 160 px', (p, b) => cropFace(p, b, 0.25, { size: 160 })],
    ['crop 0.25, 100 px', (p, b) => cropFace(p, b, 0.25, { size: 100 })],
    ['crop 0.25, JPEG q30', (p, b) => cropFace(p, b, 0.25, { quality: 30 })],
    ['crop 0.25, JPEG q10', (p, b) => cropFace(p, b, 0.25, { quality: 10 })],
    ['crop 0.25, grayscale', async (p, b) => variants.grayscale(await cropFace(p, b, 0.25))],
    ['crop 0.25, brightened', async (p, b) => variants.brightened(await cropFace(p, b, 0.25))],
    ['crop 0.25, darkened x0.35', async (p, b) => variants.darkened(await cropFace(p, b, 0.25), 0.35)],
    ['crop 0.25, blur sigma 1.5', async (p, b) => variants.blurred(await cropFace(p, b, 0.25), 1.5)],
    ['crop 0.25, blur sigma 3', async (p, b) => variants.blurred(await cropFace(p, b, 0.25), 3)],
    ['crop 0.5, rotated +10°', async (p, b) => rotate(10)(await cropFace(p, b, 0.5))],
    ['crop 0.5, rotated -10°', async (p, b) => rotate(-10)(await cropFace(p, b, 0.5))],
    ['crop 0.5, rotated +20°', async (p, b) => rotate(20)(await cropFace(p, b, 0.5))],
    ['crop 0.25, mirrored', async (p, b) => sharp(await cropFace(p, b, 0.25)).flop().jpeg({ quality: 92 }).toBuffer()],
    ['crop 0.25, stored sideways + EXIF orientation', async (p, b) => variants.exifRotated(await cropFace(p, b, 0.25))],
  ];
  const genuine: DistanceCache['genuine'] = [];
  const failures: DistanceCache['failures'] = [];
  for (const face of faces) {
    const photo = samplePhoto(face.photo as (typeof photos)[number]);
    for (const [variant, make] of edits) {
      const analysis = await engine.analyze(await make(photo, face.box));
      // A wide crop can catch a neighbour's face too; the face cropped for is the biggest.
      const target = analysis.faces.reduce<(typeof analysis.faces)[number] | undefined>((best, f) => (!best || f.box.width * f.box.height > best.box.width * best.box.height ? f : best), undefined);
      if (!target) {
        failures.push({ face: face.id, variant, reason: 'no face found' });
        continue;
      }
      genuine.push({ face: face.id, variant, distance: round(descriptorDistance(reference.get(face.id)!, target.descriptor), 4) });
    }
    process.stderr.write(`${face.id} `);
  }
  process.stderr.write('\n');

  const impostor: DistanceCache['impostor'] = [];
  for (let i = 0; i < faces.length; i++) {
    for (let j = i + 1; j < faces.length; j++) {
      const a = faces[i]!;
      const b = faces[j]!;
      impostor.push({ a: a.id, b: b.id, samePhoto: a.photo === b.photo, distance: round(descriptorDistance(reference.get(a.id)!, reference.get(b.id)!), 4) });
    }
  }
  return {
    description:
      'Descriptor distances of the face-api demo photos (node_modules/@vladmandic/face-api/demo/sample1-6.jpg) through ' +
      "shared/face/engine.ts (wasm). Face ids are photo.index in the engine's order. genuine: the face as found in the " +
      'whole photo against the same face re-cropped and edited (one photo of one person: far easier than two photos). ' +
      'impostor: every pair of distinct faces, each from the whole photo.',
    engine: engine.info.model,
    measuredAt: new Date().toISOString().slice(0, 10),
    labelling:
      'Every face is taken as a different person. Two faces in one photo are different people by construction; across photos, ' +
      'the distances of cross-photo pairs are distributed like those of same-photo pairs (no cluster of near pairs), and the ' +
      'nearest cross-photo pairs (1.2–4.3, 1.1–2.0, 1.2–4.0, 5.1–6.3, 1.2–3.2) were checked by eye: different people. ' +
      '1.2–3.2 is the least certain (similar colouring); at 0.59 it changes the different-person false-accept count by one.',
    faces,
    genuine,
    impostor,
    failures,
  };
}

/** Φ(z), via the complementary error function (Numerical Recipes erfcc, relative error < 1.2e-7). */
function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * x);
  const erfc =
    t *
    Math.exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return z >= 0 ? 1 - erfc / 2 : erfc / 2;
}

/** Φ⁻¹(p), Acklam's rational approximation (relative error < 1.2e-9). */
function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`quantile of ${p}`);
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const tail = (q: number): number =>
    (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  if (p < 0.02425) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - 0.02425) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function roundRates(r: { falseRejectRate: number; falseAcceptRate: number }): { falseRejectRate: number; falseAcceptRate: number } {
  return { falseRejectRate: round(r.falseRejectRate, 4), falseAcceptRate: round(r.falseAcceptRate, 5) };
}

function roundNormal(n: Normal): Normal {
  return { mean: round(n.mean, 4), sd: round(n.sd, 4) };
}

function roundBox(b: Box): Box {
  return { x: Math.round(b.x), y: Math.round(b.y), width: Math.round(b.width), height: Math.round(b.height) };
}

function pct(share: number): string {
  return `${Math.round(share * 100)}%`;
}

await main();
