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
 * The material is real pairs: the labelled photos of ../shared/faces/deepface (61 photos of
 * 13 people nobody on this project made), each enrolled as the service would store it and
 * compared with every other photo, as it is and as each derived kind the services receive
 * (badge head shots, faces small in video stills, a tall portrait, re-encodes, webcam
 * frames). Two photos of one person are a same-person pair; different people, a
 * different-person pair. Published LFW statistics for this descriptor (dlib's ResNet, of
 * which face-api's faceRecognitionNet is a port) are kept as a cross-check and a
 * sensitivity row, not in the fit.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { calibratedConfidence } from '../../shared/face/calibration.ts';
import { fitLogistic, rates, type LabelledDistance, type LogisticCurve } from '../../shared/face/logistic-fit.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const CACHE_FILE = join(HERE, 'calibration-distances.json');
/** Product code reads the fit from there (shared/face/calibration.ts). */
const OUT_FILE = join(HERE, '..', '..', 'shared', 'face', 'calibration.json');
const THRESHOLD = 0.6;
const REPORT_THRESHOLDS = [0.5, 0.55, 0.6, 0.65];
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
  photos: number;
  identities: number;
  /** Per kind of material: distances (4 decimals) of same- and different-person pairs, and probes without a face. */
  kinds: Record<string, { genuine: number[]; impostor: number[]; noFace: number }>;
}

async function main(): Promise<void> {
  const fromCache = process.argv.includes('--from-cache');
  const cache = fromCache ? (JSON.parse(readFileSync(CACHE_FILE, 'utf8')) as DistanceCache) : await measure();
  if (!fromCache) writeFileSync(CACHE_FILE, `${JSON.stringify(cache)}\n`);

  const kinds = Object.keys(cache.kinds);
  const genuine = kinds.flatMap((k) => cache.kinds[k]!.genuine);
  const impostor = kinds.flatMap((k) => cache.kinds[k]!.impostor);
  const published = publishedModel();

  // Every kind weighs the same within its class, whatever its pair count.
  const realSamples = (share: number) =>
    kinds.flatMap((k) => [...weighted(cache.kinds[k]!.genuine, true, share / kinds.length), ...weighted(cache.kinds[k]!.impostor, false, share / kinds.length)]);
  const fitWith = (publishedShare: number): LogisticCurve => {
    const samples = [
      ...realSamples(1 - publishedShare),
      ...weighted(quantilePoints(published.genuine), true, publishedShare),
      ...weighted(quantilePoints(published.impostor), false, publishedShare),
    ];
    const fit = fitLogistic(samples, { prior: 0.5 });
    if (!fit.converged) throw new Error(`the logistic fit did not converge: ${JSON.stringify(fit)}`);
    // Stored rounded; everything reported below uses the stored values, as production does.
    return { midpoint: round(fit.midpoint, 4), slope: round(fit.slope, 2) };
  };
  const curve = fitWith(0);

  const accuracyTable = Object.fromEntries([0.3, 0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.8].map((d) => [d.toFixed(2), calibratedConfidence(d, curve)]));
  // A probe without a face rejects its same-person pairs: in the error rates it is a false
  // reject (an infinite distance), never an accept; the fit, which needs a distance, leaves it out.
  const missed = (k: string) => Array<number>(cache.kinds[k]!.noFace).fill(Number.POSITIVE_INFINITY);
  const errorTable = REPORT_THRESHOLDS.map((threshold) => ({
    threshold,
    pooled: roundRates(rates([...genuine, ...kinds.flatMap(missed)], impostor, threshold)),
    byKind: Object.fromEntries(kinds.map((k) => [k, roundRates(rates([...cache.kinds[k]!.genuine, ...missed(k)], cache.kinds[k]!.impostor, threshold))])),
  }));
  const model = {
    falseRejectRate: 1 - normalCdf((THRESHOLD - published.genuine.mean) / published.genuine.sd),
    falseAcceptRate: normalCdf((THRESHOLD - published.impostor.mean) / published.impostor.sd),
  };

  const out = {
    // The network and the face chip that made the distances (EngineInfo.model): another chip moves them.
    model: `${cache.engine.split(' on ')[0]} (dlib ResNet 128-d port)`,
    form: 'accuracy = 1 / (1 + exp(slope * (distance - midpoint)))',
    midpoint: curve.midpoint,
    slope: curve.slope,
    fittedOn:
      `Weighted maximum-likelihood logistic regression (shared/face/logistic-fit.ts) of same/different on distance over real pairs: ` +
      `${cache.photos} labelled photos of ${cache.identities} people (../shared/faces/deepface), each enrolled and compared with every other ` +
      `photo as it is and as ${kinds.length - 1} derived kinds (${kinds.filter((k) => k !== 'original').join(', ')}). ` +
      `Each kind weighs the same within its class; classes balanced to P(same) = 0.5 before the distance is seen. ` +
      `With another prior π the curve keeps its slope and its midpoint moves by ln(π/(1-π))/slope (up for π > 0.5).`,
    samples: {
      samePersonPairs: genuine.length,
      differentPersonPairs: impostor.length,
      probesWithoutFace: Object.fromEntries(kinds.map((k) => [k, cache.kinds[k]!.noFace])),
      caveat: 'Pairs of different kinds share their photos, so they are not independent: 13 people is a small crowd.',
    },
    expectedErrorRates: errorTable,
    accuracyAtThreshold: calibratedConfidence(THRESHOLD, curve),
    accuracyTable,
    crossCheck: {
      publishedLfwModel: { samePerson: roundNormal(published.genuine), differentPerson: roundNormal(published.impostor), atThreshold: roundRates(model) },
      derivation:
        `Normals fitted by least squares on the probit scale to the LFW all-pairs table (https://jackgrimes.net/projects/face_recognition): ` +
        `same-person CDF(c) = recall(c) at c = 0.3…0.6; different-person CDF(c) = recall(c)·(1/precision(c) − 1)·G/(N − G) ` +
        `at c = 0.45…0.6, with G = ${LFW_SAME_PAIRS} same-person pairs among N = ${LFW_ALL_PAIR_COUNT} LFW pairs.`,
      points: published.points,
    },
    sensitivity: [0.25, 0.5].map((share) => ({ publishedLfwShare: share, ...fitWith(share) })),
    sources: SOURCES,
    script: 'npm run fit-calibration [-- --from-cache]',
  };
  writeFileSync(OUT_FILE, `${JSON.stringify(out, null, 2)}\n`);
  console.log(JSON.stringify({ curve, accuracyTable, pooled: errorTable.map((r) => ({ threshold: r.threshold, ...r.pooled })), samples: out.samples, crossCheck: out.crossCheck.publishedLfwModel, sensitivity: out.sensitivity }, null, 2));
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

/** The real photos and their derived kinds through the engine, with the service's defaults. */
async function measure(): Promise<DistanceCache> {
  // Only here: --from-cache must run without the engine, TensorFlow or sharp.
  const [{ loadConfig }, { analyzeOptions }, { measureRealPhotos, realPhotos, FACES_DIR }, { MATERIAL_KINDS }] = await Promise.all([
    import('../../services/config.ts'),
    import('../../shared/app/face-analyzer-for.ts'),
    import('../bench/face-accuracy-measure.ts'),
    import('../helpers/face-material.ts'),
  ]);
  const photos = realPhotos();
  if (!photos) throw new Error(`${FACES_DIR} is absent: the fit needs the real photos (../shared/faces/README.md), or --from-cache`);
  const face = loadConfig({}).face;
  const m = await measureRealPhotos({ photos, kinds: [...MATERIAL_KINDS], options: analyzeOptions(face), bounds: face.quality, threshold: THRESHOLD });
  const r4 = (d: number) => round(d, 4);
  return {
    description: 'Descriptor distances of real pairs: every enrolled original against every other photo, per kind of material',
    engine: `${m.engine.model} on ${m.engine.backend}, ${m.engine.detector} detector`,
    measuredAt: new Date().toISOString(),
    labelling: 'identities.csv of ../shared/faces/deepface (from the deepface project\'s labelled pair lists)',
    photos: photos.length,
    identities: new Set(photos.map((p) => p.identity)).size,
    kinds: Object.fromEntries(
      m.kinds.map((k) => [
        k,
        {
          genuine: m.scores[k].genuine.filter((d): d is number => d !== null).map(r4),
          impostor: m.scores[k].impostor.filter((d): d is number => d !== null).map(r4),
          noFace: m.scores[k].genuine.filter((d) => d === null).length,
        },
      ]),
    ),
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

await main();
