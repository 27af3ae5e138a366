import type { FastifyReply } from 'fastify';
import type { ReviewDecision } from '../../db/repositories/review-decision.repository.ts';

export const fmt = (n: number | null | undefined, digits = 4): string => (typeof n === 'number' && Number.isFinite(n) ? n.toFixed(digits) : '—');
export const plain = (reply: FastifyReply, status: number, text: string) => reply.code(status).type('text/plain; charset=utf-8').send(text);

/** A review decision as the item pages show it. */
export function decisionView(d: ReviewDecision) {
  return { word: d.decision === 'confirm' ? 'Confirmed' : 'Dismissed', by: d.decidedBy, at: d.decidedAt.toISOString(), reason: d.reason ?? '' };
}
