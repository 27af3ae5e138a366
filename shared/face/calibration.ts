import calibration from './calibration.json' with { type: 'json' };

export interface Calibration {
  midpoint: number;
  slope: number;
}

export const DEFAULT_CALIBRATION: Calibration = { midpoint: calibration.midpoint, slope: calibration.slope };

/**
 * P(same person | descriptor distance) as a logistic curve: 1 at distance 0, falling
 * monotonically as the distance grows, 0.5 at the midpoint.
 */
export function calibratedConfidence(distance: number, c: Calibration = DEFAULT_CALIBRATION): number {
  const p = 1 / (1 + Math.exp(c.slope * (distance - c.midpoint)));
  return Math.round(p * 10_000) / 10_000;
}
