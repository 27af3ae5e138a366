/**
 * One-dimensional logistic calibration of descriptor distances, and the error rates of a
 * distance threshold. Pure: no I/O, no engine. `test/calibration/fit-calibration.ts` feeds it the material.
 */

/** P(same person | d) = 1 / (1 + exp(slope * (d - midpoint))): 0.5 at the midpoint. */
export interface LogisticCurve {
  midpoint: number;
  slope: number;
}

export interface LabelledDistance {
  distance: number;
  /** True for a same-person pair, false for a different-person pair. */
  same: boolean;
  /** Relative weight of this pair in the likelihood. @default 1 */
  weight?: number;
}

export interface LogisticFitOptions {
  /**
   * The P(same) the curve assumes before the distance is known. The classes are reweighted
   * so their total weights stand in this ratio, so how many pairs of each kind the material
   * happens to hold does not move the curve (a pile of cheap different-person pairs would
   * otherwise drag the midpoint down). `null` keeps the weights as given: right when the
   * material was sampled with the operating class mix. @default 0.5
   */
  prior?: number | null;
  /**
   * L2 penalty on the slope, per unit of total weight. Only there so perfectly separated
   * material (nothing but easy pairs) gives a finite, very steep curve instead of
   * diverging; far too small to move a curve fitted on overlapping classes. @default 1e-6
   */
  ridge?: number;
  /** @default 100 */
  maxIterations?: number;
  /** Stop when a Newton step changes no coefficient by more than this. @default 1e-10 */
  tolerance?: number;
}

export interface LogisticFit extends LogisticCurve {
  iterations: number;
  converged: boolean;
  /** Weighted log-likelihood at the optimum (after class reweighting, without the ridge term). */
  logLikelihood: number;
}

/** The curve at `distance`, unrounded. */
export function logisticProbability(distance: number, c: LogisticCurve): number {
  return sigmoid(-c.slope * (distance - c.midpoint));
}

/**
 * Maximum-likelihood logistic regression of `same` on `distance` by Newton's method
 * (IRLS) with step halving. Two parameters only, so the Hessian is inverted by hand.
 */
export function fitLogistic(samples: readonly LabelledDistance[], opts: LogisticFitOptions = {}): LogisticFit {
  const prior = opts.prior === undefined ? 0.5 : opts.prior;
  const ridge = opts.ridge ?? 1e-6;
  const maxIterations = opts.maxIterations ?? 100;
  const tolerance = opts.tolerance ?? 1e-10;
  if (prior !== null && !(prior > 0 && prior < 1)) throw new RangeError(`prior must be in (0, 1), got ${prior}`);

  let wSame = 0;
  let wDiff = 0;
  for (const s of samples) {
    const w = s.weight ?? 1;
    if (!(w >= 0) || !Number.isFinite(s.distance)) throw new RangeError(`bad sample: distance ${s.distance}, weight ${w}`);
    if (s.same) wSame += w;
    else wDiff += w;
  }
  if (wSame === 0 || wDiff === 0) throw new RangeError('both same-person and different-person pairs are needed');
  const total = wSame + wDiff;
  const scaleSame = prior === null ? 1 : (prior * total) / wSame;
  const scaleDiff = prior === null ? 1 : ((1 - prior) * total) / wDiff;

  // Centred distances keep the two coefficients nearly uncorrelated, so Newton behaves.
  let centre = 0;
  for (const s of samples) centre += (s.weight ?? 1) * s.distance;
  centre /= total;
  const xs = samples.map((s) => s.distance - centre);
  const ys = samples.map((s) => (s.same ? 1 : 0));
  const ws = samples.map((s) => (s.weight ?? 1) * (s.same ? scaleSame : scaleDiff));
  const lambda = ridge * total;

  // Model: logit P(same) = a + b * x.
  const objective = (a: number, b: number): number => {
    let ll = 0;
    for (let i = 0; i < xs.length; i++) {
      const z = a + b * xs[i]!;
      ll += ws[i]! * (ys[i]! === 1 ? -softplus(-z) : -softplus(z));
    }
    return ll;
  };
  let a = Math.log(prior === null ? wSame / wDiff : prior / (1 - prior));
  let b = 0;
  let current = objective(a, b) - 0.5 * lambda * b * b;
  let iterations = 0;
  let converged = false;
  while (iterations < maxIterations) {
    iterations++;
    let ga = 0;
    let gb = -lambda * b;
    let haa = 0;
    let hab = 0;
    let hbb = lambda;
    for (let i = 0; i < xs.length; i++) {
      const x = xs[i]!;
      const p = sigmoid(a + b * x);
      const w = ws[i]!;
      const r = w * (ys[i]! - p);
      ga += r;
      gb += r * x;
      const v = w * p * (1 - p);
      haa += v;
      hab += v * x;
      hbb += v * x * x;
    }
    const det = haa * hbb - hab * hab;
    if (!(det > 0)) break;
    let da = (hbb * ga - hab * gb) / det;
    let db = (haa * gb - hab * ga) / det;
    // Step halving: a full Newton step can overshoot when the classes barely overlap.
    let next = objective(a + da, b + db) - 0.5 * lambda * (b + db) ** 2;
    let halvings = 0;
    while (next < current - 1e-12 * Math.abs(current) && halvings < 30) {
      da /= 2;
      db /= 2;
      next = objective(a + da, b + db) - 0.5 * lambda * (b + db) ** 2;
      halvings++;
    }
    a += da;
    b += db;
    current = next;
    if (Math.abs(da) < tolerance && Math.abs(db) < tolerance * Math.max(1, Math.abs(b))) {
      converged = true;
      break;
    }
  }
  const slope = -b;
  return {
    midpoint: slope === 0 ? Number.NaN : centre + a / slope,
    slope,
    iterations,
    converged,
    logLikelihood: objective(a, b),
  };
}

export interface ThresholdRates {
  /** Share of same-person distances above the threshold (rejected). NaN without any. */
  falseRejectRate: number;
  /** Share of different-person distances at or below the threshold (accepted). NaN without any. */
  falseAcceptRate: number;
}

/** Error rates of `distance <= threshold` as the match rule (the rule `decideVerification` applies). */
export function rates(genuine: readonly number[], impostor: readonly number[], threshold: number): ThresholdRates {
  const rejected = genuine.filter((d) => d > threshold).length;
  const accepted = impostor.filter((d) => d <= threshold).length;
  return {
    falseRejectRate: genuine.length === 0 ? Number.NaN : rejected / genuine.length,
    falseAcceptRate: impostor.length === 0 ? Number.NaN : accepted / impostor.length,
  };
}

function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/** log(1 + e^z) without overflow. */
function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}
