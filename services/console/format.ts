import type { FastifyReply } from 'fastify';
import type { ReviewDecision } from '../../db/repositories/review-decision.repository.ts';

/** A number as the pages show it, a dash for none. */
export const fmt = (n: number | null | undefined, digits = 4): string => (typeof n === 'number' && Number.isFinite(n) ? n.toFixed(digits) : '—');
/** A short answer that is not a page: a refusal of a malformed request, a 404. */
export const plain = (reply: FastifyReply, status: number, text: string) => reply.code(status).type('text/plain; charset=utf-8').send(text);

/** Refusals of the acting account itself (403); a decision's other refusals are 409 or 400. */
const FORBIDDEN_CODES: ReadonlySet<string> = new Set(['ROLE_REQUIRED', 'ACTOR_DISABLED', 'ACTOR_UNKNOWN']);
const NONE: ReadonlySet<string> = new Set();

/**
 * The status a page answers a refusal (a PermanentError's code) with: 403 for the acting
 * account itself, 400 for what the form holds (`badInput`, the page's own list), else 409
 * (already decided, gone, a conflict with the item's state).
 */
export function refusalStatusOf(code: string, badInput: ReadonlySet<string> = NONE): number {
  return FORBIDDEN_CODES.has(code) ? 403 : badInput.has(code) ? 400 : 409;
}

/**
 * The sentence a page shows after a decision's 303 (`?done=<key>`), from its own table; an
 * unknown key (or one of Object's, `?done=constructor`) shows none.
 */
export function doneText(table: Readonly<Record<string, string>>, done: unknown): string | undefined {
  return typeof done === 'string' && Object.hasOwn(table, done) ? table[done] : undefined;
}

/** A review decision as the item pages show it. */
export function decisionView(d: ReviewDecision) {
  return { word: d.decision === 'confirm' ? 'Confirmed' : 'Dismissed', by: d.decidedBy, at: d.decidedAt.toISOString(), reason: d.reason ?? '' };
}
