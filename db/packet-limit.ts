import { sql, type Kysely } from 'kysely';

/** Room left in a packet for the rest of the statement around the image. */
const STATEMENT_ROOM = 64 * 1024;

/**
 * The largest image one INSERT can carry to this server. mysql2 sends parameters inline
 * (Kysely's MySQL dialect uses `query`), a Buffer as `X'…'` hex, so twice its size must fit
 * the server's `max_allowed_packet`; past it the server drops the connection and the
 * client sees only `ECONNRESET`.
 */
export async function largestInsertableImage(db: Kysely<any>): Promise<{ bytes: number; maxAllowedPacket: number }> {
  const r = await sql<{ p: number | string }>`SELECT @@max_allowed_packet AS p`.execute(db);
  const maxAllowedPacket = Number(r.rows[0]?.p ?? 0);
  return { bytes: Math.max(0, Math.floor((maxAllowedPacket - STATEMENT_ROOM) / 2)), maxAllowedPacket };
}
