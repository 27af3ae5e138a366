import type { ReviewQueuesRepository } from '../../db/repositories/review-queues.repository.ts';
import type { RefusedEnrolmentResult } from '../../db/repositories/review-decision.repository.ts';
import type { ReviewRepository } from '../../db/repositories/review.repository.ts';
import { fmt } from './format.ts';
import { PAGE_SIZE, snapshotFilter, type QueueQuery } from './review-params.ts';

/** One row of the queue's table, whatever its list: the view does not know the kinds apart. */
export interface QueueRow {
  /** The id a decision names (`stream_img`, `face_alert`, `train_img`). */
  id: number;
  /** Under /review/: `snapshot/<id>`, `enrolment/<id>`. */
  path: string;
  /** Under /images/. */
  thumb: string;
  lanId: string;
  what: string;
  extra: string;
  time: string;
}

/** The headers of each list's columns after lan_id. */
export const COLUMNS = {
  snapshots: { what: 'Result', extra: 'Distance', time: 'Captured (UTC)' },
  absences: { what: 'Alert', extra: 'Streak', time: 'Raised (UTC)' },
  enrolments: { what: 'Result', extra: 'Faces', time: 'Captured (UTC)' },
} as const;

/**
 * One page of the list the query names, as table rows, and the cursor of its last row when
 * there is a next page (one row more is read to know).
 */
export async function queueRows(deps: { review: ReviewRepository; queues: ReviewQueuesRepository }, q: QueueQuery): Promise<{ rows: QueueRow[]; last?: { captureTime: Date; id: number } }> {
  const limit = PAGE_SIZE + 1;
  const list = { lanId: q.lanId, from: q.from, to: q.to, before: q.before, state: q.state, limit };
  let rows: (QueueRow & { at: Date })[];
  if (q.kind === 'snapshots') {
    rows = (await deps.review.queue(snapshotFilter(q, limit))).map((r) => ({
      id: r.id, path: `snapshot/${r.id}`, thumb: `snapshot/${r.id}?thumb=1`, lanId: r.lanId, what: r.result ?? '',
      extra: fmt(r.distance), time: r.captureTime.toISOString(), at: r.captureTime,
    }));
  } else if (q.kind === 'absences') {
    rows = (await deps.queues.absences(list)).map((r) => ({
      id: r.id, path: `snapshot/${r.streamImgId}`, thumb: `snapshot/${r.streamImgId}?thumb=1`, lanId: r.lanId, what: 'absence',
      extra: r.streak === null ? '—' : `${r.streak} snapshots`, time: r.createdAt.toISOString(), at: r.createdAt,
    }));
  } else {
    const results = q.result === undefined ? [] : [q.result as RefusedEnrolmentResult];
    rows = (await deps.queues.enrolments({ ...list, results })).map((r) => ({
      id: r.id, path: `enrolment/${r.id}`, thumb: `enrolment/${r.id}?thumb=1`, lanId: r.lanId, what: r.result ?? '',
      extra: r.numFaces === null ? '—' : String(r.numFaces), time: r.captureTime.toISOString(), at: r.captureTime,
    }));
  }
  const page = rows.slice(0, PAGE_SIZE);
  const lastRow = page[page.length - 1];
  return {
    rows: page.map(({ at: _at, ...r }) => r),
    last: rows.length > PAGE_SIZE && lastRow ? { captureTime: lastRow.at, id: lastRow.id } : undefined,
  };
}
