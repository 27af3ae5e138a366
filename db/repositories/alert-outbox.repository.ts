import type { Kysely } from 'kysely';
import type { Database } from '../schema.ts';

/** An alert committed with its verdict and not yet published: the outbox's rows. */
export interface StoredAlert {
  id: number;
  /** JSON: the notification to publish to `notifier`. */
  notification: string;
}

/** One view of the outbox: the pending alerts it holds, a page at a time, by id. */
export interface AlertOutbox {
  pending(afterId: number, limit: number): Promise<StoredAlert[]>;
  /** `pending` → `published`; an alert already marked is left as it is. */
  markPublished(id: number): Promise<void>;
  /** `pending` → `invalid`: the stored notification does not pass the notifier's codec. */
  markInvalid(id: number): Promise<void>;
}

/** The `face_alert` outbox, read by facestreaming (one snapshot's alerts) and `vigil rescue` (old ones). */
export interface AlertOutboxRepository {
  ofSnapshot(streamImgId: number): AlertOutbox;
  createdBefore(cutoff: Date): AlertOutbox;
}

export function alertOutboxRepository(db: Kysely<Database>): AlertOutboxRepository {
  const outbox = (scope: { streamImgId: number } | { cutoff: Date }): AlertOutbox => ({
    async pending(afterId, limit) {
      let q = db.selectFrom('face_alert').select(['id', 'notification']).where('state', '=', 'pending').where('id', '>', afterId);
      q = 'streamImgId' in scope ? q.where('stream_img_id', '=', scope.streamImgId) : q.where('created_at', '<', scope.cutoff);
      const rows = await q.orderBy('id').limit(limit).execute();
      return rows.map((r) => ({ id: Number(r.id), notification: r.notification }));
    },
    markPublished: (id) => mark(id, 'published'),
    markInvalid: (id) => mark(id, 'invalid'),
  });
  const mark = async (id: number, state: 'published' | 'invalid') => {
    await db
      .updateTable('face_alert')
      .set({ state, published_at: state === 'published' ? new Date() : null })
      .where('id', '=', id)
      .where('state', '=', 'pending')
      .execute();
  };
  return {
    ofSnapshot: (streamImgId) => outbox({ streamImgId }),
    createdBefore: (cutoff) => outbox({ cutoff }),
  };
}
