import { sql, type Kysely } from 'kysely';
import type { Database, ImageType } from '../schema.ts';

const TABLES: Record<ImageType, 'train_img' | 'stream_img'> = { train: 'train_img', stream: 'stream_img' };

export interface DeletedEmployee {
  employee: number;
  trainImages: number;
  streamImages: number;
  descriptors: number;
  snapshotFaces: number;
  alerts: number;
  processStatus: number;
}

/** The operators' commands' queries: `vigil rescue` and `vigil delete-user`. */
export interface OperationsRepository {
  /**
   * Rows in `N` or `P` whose last sign of life (their newest attempt's start or end, else
   * their capture time) is older than `cutoff`, by id, after `afterId` (paging).
   */
  stuckImages(type: ImageType, cutoff: Date, limit: number, afterId?: number): Promise<number[]>;
  /**
   * Video jobs whose row says an attempt is under way (`running`, `uploading`) or half
   * finished (`stored`: outputs up, source not yet deleted), started before `cutoff`, by id
   * after `afterId`. Whether a process still holds the job is for the caller to ask the lock.
   */
  unfinishedVideoJobs(cutoff: Date, limit: number, afterId?: number): Promise<{ id: number; jobKey: string; job: string | null }[]>;
  /** Every image, descriptor, landmark trace, alert and attempt of the employee, in one transaction. */
  deleteEmployee(lanId: string): Promise<DeletedEmployee>;
}

export function operationsRepository(db: Kysely<Database>): OperationsRepository {
  return {
    async stuckImages(type, cutoff, limit, afterId = 0) {
      const table = TABLES[type];
      const lastSeen = db
        .selectFrom('process_status')
        .select(['image_id', sql<Date>`MAX(COALESCE(finished_at, started_at))`.as('last_seen')])
        .where('image_type', '=', type)
        .groupBy('image_id')
        .as('p');
      const rows = await db
        .selectFrom(`${table} as i` as 'stream_img as i')
        .leftJoin(lastSeen, 'p.image_id', 'i.id')
        .select('i.id')
        .where('i.status', 'in', ['N', 'P'])
        .where('i.id', '>', afterId)
        .where(sql<Date>`COALESCE(p.last_seen, i.capture_time)`, '<', cutoff)
        .orderBy('i.id')
        .limit(limit)
        .execute();
      return rows.map((r) => r.id);
    },
    async unfinishedVideoJobs(cutoff, limit, afterId = 0) {
      const rows = await db
        .selectFrom('video_job')
        .select(['id', 'job_key', 'job'])
        .where('status', 'in', ['running', 'uploading', 'stored'])
        .where(sql<Date>`COALESCE(started_at, created_at)`, '<', cutoff)
        .where('id', '>', afterId)
        .orderBy('id')
        .limit(limit)
        .execute();
      return rows.map((r) => ({ id: Number(r.id), jobKey: r.job_key, job: r.job }));
    },
    async deleteEmployee(lanId) {
      return db.transaction().execute(async (trx) => {
        const n = (r: { numDeletedRows: bigint }[]) => r.reduce((a, x) => a + Number(x.numDeletedRows), 0);
        const processStatus = n(
          await trx
            .deleteFrom('process_status')
            .where((eb) =>
              eb.or([
                eb.and([eb('image_type', '=', 'train'), eb('image_id', 'in', eb.selectFrom('train_img').select('id').where('lan_id', '=', lanId))]),
                eb.and([eb('image_type', '=', 'stream'), eb('image_id', 'in', eb.selectFrom('stream_img').select('id').where('lan_id', '=', lanId))]),
              ]),
            )
            .execute(),
        );
        // Explicit, though the foreign keys cascade: the counts are what the operator is shown.
        const alerts = n(await trx.deleteFrom('face_alert').where('lan_id', '=', lanId).execute());
        const snapshotFaces = n(await trx.deleteFrom('snapshot_face').where('lan_id', '=', lanId).execute());
        const descriptors = n(await trx.deleteFrom('face_descriptor').where('lan_id', '=', lanId).execute());
        const streamImages = n(await trx.deleteFrom('stream_img').where('lan_id', '=', lanId).execute());
        const trainImages = n(await trx.deleteFrom('train_img').where('lan_id', '=', lanId).execute());
        const employee = n(await trx.deleteFrom('employee').where('lan_id', '=', lanId).execute());
        return { employee, trainImages, streamImages, descriptors, snapshotFaces, alerts, processStatus };
      });
    },
  };
}
