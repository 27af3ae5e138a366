import type { StreamResult } from '../contract/result-codes.ts';

/** Results that say the employee was not seen at the desk. */
export const ABSENCE_RESULTS: readonly StreamResult[] = ['NO_FACES_FOUND', 'UNKNOWN_PERSON', 'UNKNOWN_MULTIPLE_FACES'];

/** Results that are a verdict on who sat at the desk; the others (no enrolment, bad bytes) say nothing of it. */
export const VERDICT_RESULTS: readonly StreamResult[] = [
  'SUCCESS', 'SUCCESS_MULTIPLE_FACES', 'UNKNOWN_PERSON', 'UNKNOWN_MULTIPLE_FACES', 'NO_FACES_FOUND', 'IMPERSONATION_SUSPECTED',
];

export type AbsenceKind = 'absence' | 'unknown_person';

export interface AbsenceVerdict {
  /** Length of the run of absence results ending with the current snapshot. */
  streak: number;
  /** Set once per run: when the run reaches exactly the configured length. */
  alert: AbsenceKind | undefined;
}

/**
 * `earlier` are the verdicts before the current snapshot, newest first (at least
 * `streakLength` of them when that many exist). An alert is raised when the run reaches
 * `streakLength`, and not again while the same run goes on, so one absence is one alert.
 * Nobody at all is an `absence`; a face that is not the employee's is an `unknown_person`.
 */
export function judgeAbsence(current: StreamResult, earlier: readonly StreamResult[], streakLength: number): AbsenceVerdict {
  if (!ABSENCE_RESULTS.includes(current)) return { streak: 0, alert: undefined };
  const run = [current];
  for (const r of earlier) {
    if (!ABSENCE_RESULTS.includes(r)) break;
    run.push(r);
    if (run.length > streakLength) break;
  }
  if (run.length !== streakLength) return { streak: run.length, alert: undefined };
  return { streak: run.length, alert: run.every((r) => r === 'NO_FACES_FOUND') ? 'absence' : 'unknown_person' };
}
