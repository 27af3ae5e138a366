import { REFUSED_ENROLMENT_RESULTS } from '../../db/repositories/review-decision.repository.ts';
import { REVIEW_RESULTS, type ReviewQueueFilter, type ReviewResult } from '../../db/repositories/review.repository.ts';
import { REVIEW_STATES, type ReviewState } from '../../db/review-state.ts';
import type { ReviewKind } from '../../db/schema.ts';
import { parseLanIdFilter } from './employee-params.ts';

/** A row id from a path: a positive integer of at most 15 digits (a safe integer), else undefined. */
export function parseId(raw: unknown): number | undefined {
  if (typeof raw !== 'string' || !/^[1-9][0-9]{0,14}$/.test(raw)) return undefined;
  return Number(raw);
}

/** The queue's cursor: the last row's capture time (ms since the epoch) and id, `<ms>.<id>`. */
export const encodeCursor = (r: { captureTime: Date; id: number }): string => `${r.captureTime.getTime()}.${r.id}`;

export function decodeCursor(raw: string): { captureTime: Date; id: number } | undefined {
  const m = /^([0-9]{1,15})\.([1-9][0-9]{0,14})$/.exec(raw);
  if (!m) return undefined;
  return { captureTime: new Date(Number(m[1])), id: Number(m[2]) };
}

/** `YYYY-MM-DD` (UTC midnight; as `to`, the end of that day) or an ISO 8601 time with its zone. */
export function parseTime(raw: string, end: boolean): Date | undefined {
  if (/^\d{4}-\d{2}-\d{2}$/.test(raw)) {
    const d = new Date(`${raw}T00:00:00.000Z`);
    if (Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== raw) return undefined;
    return end ? new Date(d.getTime() + 86_400_000) : d;
  }
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/.test(raw)) {
    const d = new Date(raw);
    return Number.isNaN(d.getTime()) ? undefined : d;
  }
  return undefined;
}

export const PAGE_SIZE = 50;

/** The queue's three lists (`kind`): snapshots to review, absence streaks, refused enrolments. */
export const QUEUE_KINDS = ['snapshots', 'absences', 'enrolments'] as const;
export type QueueKind = (typeof QUEUE_KINDS)[number];
/** The decision kind (`review_decision.kind`) of each list. */
export const ITEM_KIND = { snapshots: 'snapshot', absences: 'absence', enrolments: 'enrolment' } as const satisfies Record<QueueKind, ReviewKind>;
/** The results each list can be narrowed to; absences have none. */
export const KIND_RESULTS: Record<QueueKind, readonly string[]> = { snapshots: REVIEW_RESULTS, absences: [], enrolments: REFUSED_ENROLMENT_RESULTS };

export interface QueueQuery {
  kind: QueueKind;
  state: ReviewState;
  /** One result of the kind's, or undefined for all of them. */
  result: string | undefined;
  lanId: string | undefined;
  from: Date | undefined;
  to: Date | undefined;
  before: { captureTime: Date; id: number } | undefined;
  /** The values as typed, for the form and the links (no cursor); empty when not given. */
  form: { kind: string; state: string; result: string; lan_id: string; from: string; to: string };
}

/** The queue's query string, checked: the filter, or a message saying what is wrong (a 400). */
export function parseQueueQuery(query: Record<string, unknown>): QueueQuery | { error: string } {
  const str = (k: string): string | undefined => {
    const v = query[k];
    if (v === undefined || v === '') return undefined;
    return typeof v === 'string' ? v : '\u0000';
  };
  const kind = str('kind') ?? 'snapshots';
  const state = str('state') ?? 'open';
  const result = str('result');
  const lanId = str('lan_id');
  const from = str('from');
  const to = str('to');
  const before = str('before');
  if (!(QUEUE_KINDS as readonly string[]).includes(kind)) return { error: `kind must be one of ${QUEUE_KINDS.join(', ')}.` };
  if (!(REVIEW_STATES as readonly string[]).includes(state)) return { error: `state must be one of ${REVIEW_STATES.join(', ')}.` };
  const results = KIND_RESULTS[kind as QueueKind];
  if (result !== undefined && !results.includes(result)) {
    return { error: results.length === 0 ? `result does not apply to ${kind}.` : `result must be one of ${results.join(', ')}.` };
  }
  const filter = parseLanIdFilter(lanId);
  if ('error' in filter) return filter;
  const fromDate = from === undefined ? undefined : parseTime(from, false);
  if (from !== undefined && !fromDate) return { error: 'from must be a date (YYYY-MM-DD) or an ISO 8601 time with its zone (2026-12-07T09:00:00Z).' };
  const toDate = to === undefined ? undefined : parseTime(to, true);
  if (to !== undefined && !toDate) return { error: 'to must be a date (YYYY-MM-DD) or an ISO 8601 time with its zone (2026-12-07T17:00:00Z).' };
  if (fromDate && toDate && fromDate >= toDate) return { error: 'from must be before to.' };
  const cursor = before === undefined ? undefined : decodeCursor(before);
  if (before !== undefined && !cursor) return { error: 'before must be a cursor from the queue\'s "Older" link.' };
  return {
    kind: kind as QueueKind, state: state as ReviewState, result, lanId, from: fromDate, to: toDate, before: cursor,
    form: { kind, state, result: result ?? '', lan_id: lanId ?? '', from: from ?? '', to: to ?? '' },
  };
}

/** The snapshots' filter of a parsed query. */
export function snapshotFilter(q: QueueQuery, limit = PAGE_SIZE): ReviewQueueFilter {
  return {
    results: q.result === undefined ? REVIEW_RESULTS : [q.result as ReviewResult],
    lanId: q.lanId, from: q.from, to: q.to, before: q.before, state: q.state, limit,
  };
}

/**
 * The query string that keeps the queue's filters (not its cursor), defaults left out, so
 * a link or a redirect goes back to the same list.
 */
export function filterParams(form: QueueQuery['form']): URLSearchParams {
  const defaults: Record<string, string> = { kind: 'snapshots', state: 'open' };
  return new URLSearchParams(Object.entries(form).filter(([k, v]) => v !== '' && v !== defaults[k]));
}
