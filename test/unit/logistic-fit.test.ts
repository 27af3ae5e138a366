import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitLogistic, logisticProbability, rates, type LabelledDistance, type LogisticCurve } from '../../shared/face/logistic-fit.ts';

/** Deterministic uniform numbers in [0, 1), so a failure reproduces. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Distances uniform on [lo, hi), labelled by a coin with the curve's probability. */
function drawFrom(curve: LogisticCurve, n: number, seed: number, lo = 0, hi = 1.2): LabelledDistance[] {
  const rnd = lcg(seed);
  return Array.from({ length: n }, () => {
    const distance = lo + (hi - lo) * rnd();
    return { distance, same: rnd() < logisticProbability(distance, curve) };
  });
}

test('recovers the coefficients of the logistic the samples were drawn from', () => {
  for (const truth of [{ midpoint: 0.6, slope: 22 }, { midpoint: 0.5, slope: 40 }, { midpoint: 0.75, slope: 10 }]) {
    // prior null: samples drawn from the curve already carry its class mix.
    const fit = fitLogistic(drawFrom(truth, 40_000, 7), { prior: null });
    assert.ok(fit.converged, JSON.stringify(fit));
    assert.ok(Math.abs(fit.midpoint - truth.midpoint) < 0.01, `midpoint ${fit.midpoint} vs ${truth.midpoint}`);
    assert.ok(Math.abs(fit.slope / truth.slope - 1) < 0.08, `slope ${fit.slope} vs ${truth.slope}`);
  }
});

test('balancing the classes shifts the midpoint by their log-odds over the slope, the slope stays', () => {
  const truth = { midpoint: 0.55, slope: 25 };
  const samples = drawFrom(truth, 40_000, 11);
  const nSame = samples.filter((s) => s.same).length;
  const nDiff = samples.length - nSame;
  const asDrawn = fitLogistic(samples, { prior: null });
  const balanced = fitLogistic(samples, { prior: 0.5 });
  const expectedShift = Math.log(nDiff / nSame) / asDrawn.slope;
  assert.ok(Math.abs(balanced.midpoint - asDrawn.midpoint - expectedShift) < 0.01, JSON.stringify({ asDrawn, balanced, expectedShift }));
  assert.ok(Math.abs(balanced.slope / asDrawn.slope - 1) < 0.05);
});

test('a weight counts like repeating the sample', () => {
  const base: LabelledDistance[] = [
    { distance: 0.2, same: true },
    { distance: 0.45, same: true },
    { distance: 0.62, same: true },
    { distance: 0.5, same: false },
    { distance: 0.7, same: false },
    { distance: 0.9, same: false },
  ];
  const weighted = fitLogistic([...base, { distance: 0.55, same: true, weight: 3 }]);
  const repeated = fitLogistic([...base, ...Array.from({ length: 3 }, () => ({ distance: 0.55, same: true }))]);
  assert.ok(Math.abs(weighted.midpoint - repeated.midpoint) < 1e-9);
  assert.ok(Math.abs(weighted.slope - repeated.slope) < 1e-6);
});

test('the fitted curve falls monotonically with distance and stays in [0, 1]', () => {
  const fit = fitLogistic(drawFrom({ midpoint: 0.6, slope: 30 }, 5_000, 3));
  assert.ok(fit.slope > 0);
  let previous = 1;
  for (let d = 0; d <= 2; d += 0.01) {
    const p = logisticProbability(d, fit);
    assert.ok(p >= 0 && p <= 1 && p <= previous, `p(${d}) = ${p}`);
    previous = p;
  }
});

test('perfectly separated material still gives a finite, steep, correctly oriented curve', () => {
  const samples: LabelledDistance[] = [0.1, 0.15, 0.2, 0.3].map((distance) => ({ distance, same: true }));
  samples.push(...[0.7, 0.8, 0.85, 1].map((distance) => ({ distance, same: false })));
  const fit = fitLogistic(samples);
  assert.ok(Number.isFinite(fit.slope) && fit.slope > 20, JSON.stringify(fit));
  assert.ok(fit.midpoint > 0.3 && fit.midpoint < 0.7, JSON.stringify(fit));
});

test('refuses material without both kinds of pair, or a prior outside (0, 1)', () => {
  assert.throws(() => fitLogistic([{ distance: 0.3, same: true }]), /both/);
  assert.throws(() => fitLogistic([{ distance: 0.3, same: true }, { distance: 0.8, same: false }], { prior: 1 }), /prior/);
});

test('false-reject and false-accept rates on hand examples; a distance equal to the threshold matches', () => {
  const genuine = [0.2, 0.35, 0.6, 0.61, 0.9];
  const impostor = [0.45, 0.6, 0.7, 0.8];
  assert.deepEqual(rates(genuine, impostor, 0.6), { falseRejectRate: 2 / 5, falseAcceptRate: 2 / 4 });
  assert.deepEqual(rates(genuine, impostor, 0.5), { falseRejectRate: 3 / 5, falseAcceptRate: 1 / 4 });
  assert.deepEqual(rates(genuine, impostor, 0), { falseRejectRate: 1, falseAcceptRate: 0 });
  assert.deepEqual(rates(genuine, impostor, 1), { falseRejectRate: 0, falseAcceptRate: 1 });
  const none = rates([], [], 0.6);
  assert.ok(Number.isNaN(none.falseRejectRate) && Number.isNaN(none.falseAcceptRate));
});
