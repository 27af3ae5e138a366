import type { Kysely } from 'kysely';
import type { Database } from '../schema.ts';

/**
 * An image row's bytes, read alone (a LONGBLOB: never with a list's columns). Null when the
 * row is gone or its bytes were removed (retention, delete-user).
 */
export async function imageBytes(db: Kysely<Database>, table: 'stream_img' | 'train_img', id: number): Promise<Buffer | null> {
  const r = await db.selectFrom(table as 'stream_img').select('image').where('id', '=', id).executeTakeFirst();
  return r?.image ?? null;
}
