import { hasControlCharacters } from '../../shared/employee-lock-key.ts';
import { DEFAULT_DAYS, MAX_DAYS, MIN_DAYS } from './results-chart.ts';

/** The lan_id columns are varchar(64): a longer name is no one's. */
const LAN_ID_MAX = 64;

/** A lan_id from a path or a form (already URL-decoded): 1–64 characters, no control character; else undefined. */
export function parseLanId(raw: unknown): string | undefined {
  if (typeof raw !== 'string' || raw === '' || hasControlCharacters(raw) || [...raw].length > LAN_ID_MAX) return undefined;
  return raw;
}

/**
 * An optional lan_id filter of a list's query string (review queue, approvals, exports):
 * absent or empty is no filter; else one lan_id as `parseLanId` takes it, or the 400's message.
 */
export function parseLanIdFilter(raw: unknown): { lanId?: string } | { error: string } {
  if (raw === undefined || raw === '') return {};
  const lanId = parseLanId(raw);
  return lanId === undefined ? { error: `lan_id must be one lan_id: at most ${LAN_ID_MAX} characters, no control character.` } : { lanId };
}

/** The employee list's query: `prefix` (may be empty) and the keyset cursor `after`, or what is wrong with them (a 400). */
export function parseSearchQuery(query: Record<string, unknown>): { prefix: string; after?: string } | { error: string } {
  const prefix = query.prefix ?? '';
  if (typeof prefix !== 'string' || (prefix !== '' && parseLanId(prefix) === undefined)) {
    return { error: `prefix must be the start of a lan_id: at most ${LAN_ID_MAX} characters, no control character` };
  }
  const after = query.after;
  if (after === undefined) return { prefix };
  const cursor = parseLanId(after);
  return cursor === undefined ? { error: 'after must be a lan_id (the last one of the page before)' } : { prefix, after: cursor };
}

/** The chart's window: `days` from 7 to 365, 30 when absent. */
export function parseDays(raw: unknown): number | { error: string } {
  if (raw === undefined || raw === '') return DEFAULT_DAYS;
  if (typeof raw !== 'string' || !/^[0-9]{1,3}$/.test(raw) || Number(raw) < MIN_DAYS || Number(raw) > MAX_DAYS) {
    return { error: `days must be a whole number from ${MIN_DAYS} to ${MAX_DAYS}` };
  }
  return Number(raw);
}

/** An employee threshold typed in a form: a decimal number, else undefined (a 400). */
export function parseThreshold(raw: unknown): number | undefined {
  if (typeof raw !== 'string' || !/^\s*[0-9]{1,2}(\.[0-9]{1,6})?\s*$/.test(raw)) return undefined;
  return Number(raw);
}
