import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { TransientError } from './errors.ts';

/**
 * A cluster-wide lock per key (seed 000, "Serialize"): every worker of every replica that
 * asks for the same key runs one after the other.
 *
 * Built on MySQL/MariaDB `GET_LOCK`, which belongs to a connection: the server frees it
 * when that connection ends, so a holder that dies (process killed, network cut) frees the
 * key without any lease to expire. Each holder pins one connection from a pool kept apart
 * from the query pool, so holders waiting for a key never starve the queries of the
 * holder they wait for.
 */
export interface LockManager {
  /**
   * Runs `fn` while holding the lock on `key`. Throws `LockTimeoutError` (transient) when
   * the lock is not had within the timeout. `signal` aborts when the lock is lost (its
   * connection dropped): `fn` must then stop before writing anything more.
   */
  withLock<T>(key: string, fn: (signal: AbortSignal) => Promise<T>, opts?: { timeoutMs?: number }): Promise<T>;
  /** Whether nobody holds the lock on `key` now (a hint: it may be taken the moment after). */
  isFree(key: string): Promise<boolean>;
}

export interface LockOptions {
  /** Kysely over a pool reserved for locks: one connection per concurrent holder or waiter. */
  db: Kysely<any>;
  /** Keys live in this namespace; locks are server-wide, so tests and tenants differ here. */
  namespace: string;
  /** @default 60_000 */
  defaultTimeoutMs?: number;
  /** How often a holder checks its lock is still its own. @default 2_000 */
  heartbeatMs?: number;
}

export class LockTimeoutError extends TransientError {
  constructor(key: string, timeoutMs: number) {
    super('LOCK_TIMEOUT', `lock on ${JSON.stringify(key)} not acquired within ${timeoutMs} ms`);
  }
}

export class LockLostError extends TransientError {
  constructor(key: string, cause?: unknown) {
    super('LOCK_LOST', `lock on ${JSON.stringify(key)} was lost (its connection dropped)`, cause);
  }
}

/** Lock names are at most 64 characters on MySQL; a hash keeps any key within that. */
export function lockName(namespace: string, key: string): string {
  return `vigil:${createHash('sha256').update(namespace).update('\0').update(key).digest('hex').slice(0, 40)}`;
}

export function createLockManager(opts: LockOptions): LockManager {
  const heartbeatMs = opts.heartbeatMs ?? 2_000;
  return {
    async withLock(key, fn, callOpts = {}) {
      const timeoutMs = callOpts.timeoutMs ?? opts.defaultTimeoutMs ?? 60_000;
      const name = lockName(opts.namespace, key);
      return opts.db.connection().execute(async (conn) => {
        const got = await sql<{ got: number | null }>`SELECT GET_LOCK(${name}, ${Math.ceil(timeoutMs / 1000)}) AS got`.execute(conn);
        if (Number(got.rows[0]?.got) !== 1) throw new LockTimeoutError(key, timeoutMs);

        const lost = new AbortController();
        let checking: Promise<void> = Promise.resolve();
        const heartbeat = setInterval(() => {
          checking = sql<{ mine: number | null }>`SELECT IS_USED_LOCK(${name}) = CONNECTION_ID() AS mine`
            .execute(conn)
            .then(
              (r) => {
                if (Number(r.rows[0]?.mine) !== 1) lost.abort(new LockLostError(key));
              },
              (err: unknown) => lost.abort(new LockLostError(key, err)),
            );
        }, heartbeatMs);
        heartbeat.unref();
        try {
          return await fn(lost.signal);
        } finally {
          clearInterval(heartbeat);
          await checking;
          if (!lost.signal.aborted) {
            // Fails only when the connection is gone, and then the server freed the lock.
            await sql`SELECT RELEASE_LOCK(${name})`.execute(conn).catch(() => undefined);
          }
        }
      });
    },
    async isFree(key) {
      const r = await sql<{ free: number | null }>`SELECT IS_FREE_LOCK(${lockName(opts.namespace, key)}) AS free`.execute(opts.db);
      return Number(r.rows[0]?.free) === 1;
    },
  };
}
