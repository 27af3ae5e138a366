import { REVIEW_RESULTS, type ReviewQueueFilter, type ReviewResult } from '../../db/repositories/review.repository.ts';

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

export type QueueQuery = { filter: ReviewQueueFilter; form: { result: string; lan_id: string; from: string; to: string } };

/** The queue's query string, checked: the filter, or a message saying what is wrong (a 400). */
export function parseQueueQuery(query: Record<string, unknown>): QueueQuery | { error: string } {
  const str = (k: string): string | undefined => {
    const v = query[k];
    if (v === undefined || v === '') return undefined;
    return typeof v === 'string' ? v : '\u0000';
  };
  const result = str('result');
  const lanId = str('lan_id');
  const from = str('from');
  const to = str('to');
  const before = str('before');
  if (result !== undefined && !(REVIEW_RESULTS as readonly string[]).includes(result)) {
    return { error: `result must be one of ${REVIEW_RESULTS.join(', ')}.` };
  }
  if (lanId !== undefined && (lanId.length > 128 || lanId.includes('\u0000'))) return { error: 'lan_id must be one text of at most 128 characters.' };
  const fromDate = from === undefined ? undefined : parseTime(from, false);
  if (from !== undefined && !fromDate) return { error: 'from must be a date (YYYY-MM-DD) or an ISO 8601 time with its zone (2026-12-07T09:00:00Z).' };
  const toDate = to === undefined ? undefined : parseTime(to, true);
  if (to !== undefined && !toDate) return { error: 'to must be a date (YYYY-MM-DD) or an ISO 8601 time with its zone (2026-12-07T17:00:00Z).' };
  if (fromDate && toDate && fromDate >= toDate) return { error: 'from must be before to.' };
  const cursor = before === undefined ? undefined : decodeCursor(before);
  if (before !== undefined && !cursor) return { error: 'before must be a cursor from the queue\'s "Older" link.' };
  return {
    filter: {
      results: result === undefined ? REVIEW_RESULTS : [result as ReviewResult],
      lanId, from: fromDate, to: toDate, before: cursor, limit: PAGE_SIZE,
    },
    form: { result: result ?? '', lan_id: lanId ?? '', from: from ?? '', to: to ?? '' },
  };
}
