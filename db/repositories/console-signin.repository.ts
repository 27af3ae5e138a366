import { sql, type Kysely } from 'kysely';
import type { Database } from '../schema.ts';

export type SigninKeyKind = 'account' | 'address';

export interface SigninKey {
  kind: SigninKeyKind;
  /** sha256 hex of the account name or address. */
  key: string;
}

/**
 * Failed console sign-ins per account name and per client address, counted in one row each
 * by an atomic upsert, so concurrent failures on several replicas all count.
 */
export interface ConsoleSigninRepository {
  /** The latest lock among `keys` still in force at `now`, if any. */
  lockedUntil(keys: readonly SigninKey[], now: Date): Promise<Date | undefined>;
  /** Counts one failure for each key; the `max`-th within `windowMs` locks it for `windowMs`. */
  recordFailure(keys: readonly SigninKey[], now: Date, max: number, windowMs: number): Promise<void>;
  /** Forgets the failures of `key` (a success). */
  clear(key: SigninKey): Promise<void>;
}

export function consoleSigninRepository(db: Kysely<Database>): ConsoleSigninRepository {
  return {
    async lockedUntil(keys, now) {
      if (keys.length === 0) return undefined;
      const rows = await db
        .selectFrom('console_signin_failure')
        .select('locked_until')
        .where((eb) => eb.or(keys.map((k) => eb.and([eb('kind', '=', k.kind), eb('key', '=', k.key)]))))
        .where('locked_until', '>', now)
        .execute();
      const times = rows.map((r) => r.locked_until!.getTime());
      return times.length > 0 ? new Date(Math.max(...times)) : undefined;
    },
    async recordFailure(keys, now, max, windowMs) {
      const cutoff = new Date(now.getTime() - windowMs);
      const lockUntil = new Date(now.getTime() + windowMs);
      for (const k of keys) {
        // MySQL applies the assignments left to right, each seeing the ones before it: the
        // lock and the count read the old window first, and the window moves last.
        await db
          .insertInto('console_signin_failure')
          .values({ kind: k.kind, key: k.key, failures: 1, window_start: now, locked_until: max <= 1 ? lockUntil : null })
          .onDuplicateKeyUpdate({
            locked_until: sql`IF(window_start < ${cutoff}, IF(${max} <= 1, ${lockUntil}, NULL), IF(failures + 1 >= ${max}, ${lockUntil}, locked_until))`,
            failures: sql`IF(window_start < ${cutoff}, 1, failures + 1)`,
            window_start: sql`IF(window_start < ${cutoff}, ${now}, window_start)`,
          })
          .execute();
      }
    },
    async clear(key) {
      await db.deleteFrom('console_signin_failure').where('kind', '=', key.kind).where('key', '=', key.key).execute();
    },
  };
}
