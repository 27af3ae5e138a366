import { sql, type Kysely } from 'kysely';
import { indexExists } from '../migration-ddl.ts';

/**
 * `stream_img (capture_time)`, for `vigil export faces` (issue 26): it reads every
 * employee's snapshots since a time, in pages by (capture_time, id), and the only index in
 * capture order started with `lan_id`, so each page sorted the whole table. InnoDB appends
 * the primary key to a secondary index, so this one is in (capture_time, id) order as it
 * is. Built in place: writes go on.
 */
export async function up(db: Kysely<any>): Promise<void> {
  if (!(await indexExists(db, 'stream_img', 'stream_img_capture'))) {
    await sql`ALTER TABLE stream_img ADD INDEX stream_img_capture (capture_time), ALGORITHM=INPLACE, LOCK=NONE`.execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  if (await indexExists(db, 'stream_img', 'stream_img_capture')) await sql`ALTER TABLE stream_img DROP INDEX stream_img_capture`.execute(db);
}
