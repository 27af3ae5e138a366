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
 * by an atomic upsert, so concurrent attempts on several replicas all count. An attempt is
 * counted before its password is checked (so a burst of parallel guesses cannot slip in
 * before the first failure is written) and given back when it succeeds.
 */
export interface ConsoleSigninRepository {
  /** The latest lock among `keys` still in force at `now`, if any. */
  lockedUntil(keys: readonly SigninKey[], now: Date): Promise<Date | undefined>;
  /**
   * Counts one attempt for each key; the `max`-th within `windowMs` locks it for `windowMs`.
   * @returns the highest count among `keys` now: above `max`, the attempt must be refused
   */
  countAttempt(keys: readonly SigninKey[], now: Date, max: number, windowMs: number): Promise<number>;
  /** A success: forgets the account's failures, and gives the address back the attempt it counted. */
  forgive(account: SigninKey, address: SigninKey, max: number): Promise<void>;
  /** Deletes the rows whose window and lock have both passed at `now`; answers how many. */
  purgeStale(now: Date, windowMs: number): Promise<number>;
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
    async countAttempt(keys, now, max, windowMs) {
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
      const rows = await db
        .selectFrom('console_signin_failure')
        .select('failures')
        .where((eb) => eb.or(keys.map((k) => eb.and([eb('kind', '=', k.kind), eb('key', '=', k.key)]))))
        .execute();
      return Math.max(0, ...rows.map((r) => r.failures));
    },
    async forgive(account, address, max) {
      await db.deleteFrom('console_signin_failure').where('kind', '=', account.kind).where('key', '=', account.key).execute();
      await db
        .updateTable('console_signin_failure')
        .set({
          // Left to right again: the lock reads the old count.
          locked_until: sql`IF(failures - 1 < ${max}, NULL, locked_until)`,
          failures: sql`GREATEST(failures - 1, 0)`,
        })
        .where('kind', '=', address.kind)
        .where('key', '=', address.key)
        .execute();
    },
    async purgeStale(now, windowMs) {
      const r = await db
        .deleteFrom('console_signin_failure')
        .where('window_start', '<', new Date(now.getTime() - windowMs))
        .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', now)]))
        .executeTakeFirst();
      return Number(r.numDeletedRows);
    },
  };
}
