import { PermanentError } from '../errors.ts';

/** The longest reason a decision keeps: a sentence or a paragraph, not a document. */
export const MAX_REASON = 1000;

/**
 * A decision's reason as it is kept: trimmed, none when blank. A longer one is refused, never
 * cut: a person's words are kept whole or not taken.
 * @throws PermanentError REASON_TOO_LONG
 */
export function keptReason(reason: string | undefined): string | null {
  const r = reason?.trim() ?? '';
  if (r.length > MAX_REASON) throw new PermanentError('REASON_TOO_LONG', `refused: the reason has ${r.length} characters; at most ${MAX_REASON} (REASON_TOO_LONG)`);
  return r === '' ? null : r;
}
