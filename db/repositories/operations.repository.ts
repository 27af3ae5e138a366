import { sql, type ExpressionBuilder, type Kysely } from 'kysely';
import { TransientError } from '../../shared/errors.ts';
import { lanIdCollation, lanIdWeightOf, type LanIdCollation } from '../lan-id-weight.ts';
import type { Database, ImageType } from '../schema.ts';
import { writeAudit } from './audit.repository.ts';

const TABLES: Record<ImageType, 'train_img' | 'stream_img'> = { train: 'train_img', stream: 'stream_img' };

export interface DeletedEmployee {
  employee: number;
  trainImages: number;
  streamImages: number;
  descriptors: number;
  snapshotFaces: number;
  alerts: number;
  processStatus: number;
  /** Notification rows naming the employee, scrubbed down to their key and status. */
  notifications: number;
  /** Faces found in their snapshots (`stream_face`). */
  streamFaces: number;
  /** Gallery decisions about them: proposals, removals, not-this faces, their threshold, accepted lookalike pairs (either side), the review queue's decisions. */
  galleryDecisions: number;
}

/** The tables that hold a `lan_id` column (migration 20261207T0900-lan-id-identity). */
const LAN_ID_TABLES = ['employee', 'train_img', 'stream_img', 'face_descriptor', 'snapshot_face', 'face_alert'] as const;
type LanIdTable = (typeof LAN_ID_TABLES)[number];

/** What `deleteEmployee` found: the spellings of the lan_id its rows carry, per table, and how many rows each. */
export type EmployeeSpellings = { table: LanIdTable; spelling: string; rows: number }[];

export type DeleteEmployeeOutcome =
  | { outcome: 'deleted'; removed: DeletedEmployee; spellings: string[] }
  /** No row of any table matched: nothing deleted. */
  | { outcome: 'unknown' }
  /** The matching rows carry spellings that differ by more than letter case: nothing deleted. */
  | { outcome: 'ambiguous'; spellings: string[] };

/**
 * Spellings one person may have under the identity rule without doubt: they differ in
 * letter case only. Anything else the collation equates (NFC against NFD, an invisible
 * character, a compatibility variant) may be a different account that a careless write
 * made equal, so the operator has to choose.
 */
function differOnlyInCase(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase() || a.toUpperCase() === b.toUpperCase();
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
  /**
   * Every image, descriptor, landmark trace, alert and attempt of one identity, and what
   * notifications keep of it, in one transaction. Rows match under the columns' identity
   * rule (case-insensitive, accent- and space-sensitive); `exact` matches byte for byte
   * instead. Refuses (deletes nothing) when no row matches, or when the rows matched carry
   * spellings that differ by more than letter case. With `auditBy`, the deletion is written
   * to the audit log (`employee.delete`, that actor) in the same transaction.
   */
  deleteEmployee(lanId: string, opts?: { exact?: boolean; auditBy?: string }): Promise<DeleteEmployeeOutcome>;
  /** The server's weight of `lanId` under the identity rule, as hex (db/lan-id-weight.ts): what the employee lock is named after. */
  lanIdWeight(lanId: string): Promise<string>;
}

export function operationsRepository(db: Kysely<Database>): OperationsRepository {
  // Read once: one migration set it, and a command runs for seconds.
  let collation: Promise<LanIdCollation> | undefined;
  const identityCollation = () => (collation ??= lanIdCollation(db));
  return {
    async stuckImages(type, cutoff, limit, afterId = 0) {
      const table = TABLES[type];
      // The last sign of life is looked up per stuck row (process_status by image), not
      // grouped over every attempt ever made: the cost follows the stuck rows, not the table.
      const lastSeen = sql<Date | null>`(SELECT MAX(COALESCE(p.finished_at, p.started_at)) FROM process_status p WHERE p.image_type = ${type} AND p.image_id = i.id)`;
      const rows = await db
        .selectFrom(`${table} as i` as 'stream_img as i')
        .select('i.id')
        .where('i.status', 'in', ['N', 'P'])
        .where('i.id', '>', afterId)
        .where(sql<Date>`COALESCE(${lastSeen}, i.capture_time)`, '<', cutoff)
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
    async deleteEmployee(lanId, opts = {}) {
      const exact = opts.exact ?? false;
      // Before the transaction: the catalogue is read on a connection of its own.
      const collation = exact ? undefined : await identityCollation();
      return db.transaction().execute(async (trx) => {
        // The index finds the identity; `exact` then keeps the rows spelled byte for byte like the
        // name (as binary strings: utf8mb4_bin pads, so it would take 'jose ' for 'jose').
        const matches = (eb: ExpressionBuilder<any, any>) =>
          exact
            ? eb.and([eb(sql.ref('lan_id'), '=', lanId), eb(sql`CAST(${sql.ref('lan_id')} AS BINARY)`, '=', sql`CAST(${lanId} AS BINARY)`)])
            : eb(sql.ref('lan_id'), '=', lanId);
        const found: EmployeeSpellings = [];
        for (const table of LAN_ID_TABLES) {
          const rows = await trx
            .selectFrom(table as 'employee')
            .select([sql<string>`HEX(lan_id)`.as('hex'), sql<number>`COUNT(*)`.as('n')])
            .where(matches)
            .groupBy(sql`HEX(lan_id)`)
            .execute();
          for (const r of rows) found.push({ table, spelling: Buffer.from(r.hex, 'hex').toString('utf8'), rows: Number(r.n) });
        }
        const spellings = [...new Set(found.map((f) => f.spelling))].sort();
        if (spellings.length === 0) return { outcome: 'unknown' as const };
        if (!exact && spellings.some((a) => spellings.some((b) => !differOnlyInCase(a, b)))) return { outcome: 'ambiguous' as const, spellings };

        const n = (r: { numDeletedRows: bigint }[]) => r.reduce((a, x) => a + Number(x.numDeletedRows), 0);
        const expected = (table: LanIdTable) => found.filter((f) => f.table === table).reduce((a, f) => a + f.rows, 0);
        const remove = async (table: LanIdTable) => {
          const deleted = n(await trx.deleteFrom(table as 'employee').where(matches).execute());
          // A row written between the look and the delete was not among the spellings checked:
          // give up (the transaction rolls back) rather than delete what nobody saw.
          if (deleted !== expected(table)) {
            throw new TransientError('LAN_ID_CHANGED', `${table} changed while deleting ${JSON.stringify(lanId)} (${deleted} rows, ${expected(table)} expected): nothing deleted, run it again (LAN_ID_CHANGED)`);
          }
          return deleted;
        };
        const processStatus = n(
          await trx
            .deleteFrom('process_status')
            .where((eb) =>
              eb.or([
                eb.and([eb('image_type', '=', 'train'), eb('image_id', 'in', eb.selectFrom('train_img').select('id').where(matches))]),
                eb.and([eb('image_type', '=', 'stream'), eb('image_id', 'in', eb.selectFrom('stream_img').select('id').where(matches))]),
              ]),
            )
            .execute(),
        );
        const notifications = await scrubNotifications(trx, lanId, collation);
        // Their gallery's decisions hold descriptors (not-this faces) and name them; the audit
        // log keeps who decided what and when, without a face.
        const streamFaces = n(await trx.deleteFrom('stream_face').where(matches).execute());
        let galleryDecisions = 0;
        for (const table of ['gallery_proposal', 'gallery_removal', 'not_this_face', 'employee_threshold', 'review_decision'] as const) {
          galleryDecisions += n(await trx.deleteFrom(table as 'employee').where(matches).execute());
        }
        galleryDecisions += n(
          await trx
            .deleteFrom('identity_distinct')
            .where((eb) => (exact ? eb.or([matches(eb), eb.and([eb('other_lan_id', '=', lanId), eb(sql`CAST(other_lan_id AS BINARY)`, '=', sql`CAST(${lanId} AS BINARY)`)])]) : eb.or([eb('lan_id', '=', lanId), eb('other_lan_id', '=', lanId)])))
            .execute(),
        );
        // Explicit, though the foreign keys cascade: the counts are what the operator is shown.
        const alerts = await remove('face_alert');
        const snapshotFaces = await remove('snapshot_face');
        const descriptors = await remove('face_descriptor');
        const streamImages = await remove('stream_img');
        const trainImages = await remove('train_img');
        const employee = await remove('employee');
        // The report roll-ups count the person's snapshots per hour and day and list them: theirs too.
        for (const rollup of ['stream_result_hour', 'stream_result_day', 'stream_rollup_row', 'report_person']) {
          await trx.deleteFrom(rollup as 'employee').where(matches).execute();
        }
        const removed = { employee, trainImages, streamImages, descriptors, snapshotFaces, alerts, processStatus, notifications, streamFaces, galleryDecisions };
        if (opts.auditBy !== undefined) {
          await writeAudit(trx, { actor: opts.auditBy, action: 'employee.delete', lanId, subject: 'employee', before: { spellings, exact }, after: { removed } });
        }
        return {
          outcome: 'deleted' as const,
          removed,
          spellings,
        };
      });
    },
    async lanIdWeight(lanId) {
      const r = await sql<{ w: string }>`SELECT ${lanIdWeightOf(lanId, await identityCollation())} AS w`.execute(db);
      return r.rows[0]!.w;
    },
  };
}

/**
 * What a notification row keeps of an employee whose data names them (a face alert's
 * `data.lanId`, its capture time, its recipients) is blanked for good; the row itself
 * stays with its key and status, so a copy of the alert still in a queue (a redelivery, a
 * rescue) is recognised as already handled and not mailed again with the person's data.
 * Matched under the same rule as the lan_id columns, their collation (it differs between
 * MariaDB and MySQL), or byte for byte without one (`exact`).
 */
async function scrubNotifications(trx: Kysely<Database>, lanId: string, collation: LanIdCollation | undefined): Promise<number> {
  const named = sql<string>`JSON_UNQUOTE(JSON_EXTRACT(${sql.ref('data')}, '$.lanId'))`;
  const same = collation === undefined ? sql<boolean>`CAST(${named} AS BINARY) = CAST(${lanId} AS BINARY)` : sql<boolean>`${named} COLLATE ${sql.raw(collation)} = ${lanId}`;
  const r = await trx
    .updateTable('notification')
    .set({
      idempotency_key: '',
      recipients: '[]',
      delivered_to: sql`CASE WHEN delivered_to IS NULL THEN NULL ELSE '[]' END`,
      folded_to: sql`CASE WHEN folded_to IS NULL THEN NULL ELSE '[]' END`,
      data: null,
      provider_message_id: null,
      provider_response: null,
      error_message: null,
    })
    .where(sql<boolean>`JSON_VALID(${sql.ref('data')})`)
    .where(same)
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}
