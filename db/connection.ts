import { Kysely, MysqlDialect, sql } from 'kysely';
import { createPool, type PoolConnection, type PoolOptions } from 'mysql2';
import type { Database } from './schema.ts';

export interface MysqlTarget {
  host: string;
  port: number;
  user: string;
  password: string | undefined;
  database: string;
}

/** `mysql://user:pass@host:3306/name` → connection fields (`mariadb://` is accepted too). */
export function parseDatabaseUrl(url: string): MysqlTarget {
  const u = new URL(url);
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (!/^[A-Za-z0-9_$-]{1,64}$/.test(database)) {
    throw new Error('DATABASE_URL must name a database of 1-64 characters A-Z a-z 0-9 _ $ - (mysql://user@host:3306/name)');
  }
  return {
    host: u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: u.port ? Number(u.port) : 3306,
    user: decodeURIComponent(u.username) || 'root',
    password: u.password ? decodeURIComponent(u.password) : undefined,
    database,
  };
}

/** Session settings shared by every connection Vigil opens. */
export function connectionOptions(target: MysqlTarget): PoolOptions {
  return {
    host: target.host,
    port: target.port,
    user: target.user,
    password: target.password,
    database: target.database,
    // Dates are stored and read as UTC on MySQL 8 and MariaDB alike.
    timezone: 'Z',
    charset: 'utf8mb4_unicode_ci',
    supportBigNumbers: true,
    bigNumberStrings: false,
    connectTimeout: 10_000,
    enableKeepAlive: true,
  };
}

/**
 * The session's time zone is UTC on every connection Vigil opens. `timezone: 'Z'` only
 * converts JS Dates; CURRENT_TIMESTAMP, NOW() and TIMESTAMP columns follow the session,
 * which otherwise is the server's SYSTEM zone. Sent on the new connection before any
 * query the pool hands it out for (a connection runs its commands in order).
 */
function useUtc(conn: PoolConnection): void {
  conn.query(SESSION_UTC, () => undefined);
}

const SESSION_UTC = "SET time_zone = '+00:00'";

export interface DatabaseHandle {
  db: Kysely<Database>;
  /** True when a round trip succeeds. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export function openDatabase(url: string, opts: { poolSize?: number } = {}): DatabaseHandle {
  const target = parseDatabaseUrl(url);
  const pool = createPool({
    ...connectionOptions(target),
    connectionLimit: opts.poolSize ?? 10,
    // A bounded wait queue: when the database is down, callers fail fast and retry later
    // instead of piling up without limit.
    queueLimit: 1000,
    maxIdle: opts.poolSize ?? 10,
    idleTimeout: 60_000,
  });
  // A pool emits 'error' only for idle connections that died; the next query gets a new one.
  pool.on('connection', (conn) => {
    conn.on('error', () => {});
    useUtc(conn);
  });
  const db = new Kysely<Database>({ dialect: new MysqlDialect({ pool }) });
  return {
    db,
    async ping() {
      try {
        await sql`select 1`.execute(db);
        return true;
      } catch {
        return false;
      }
    },
    close: () => db.destroy(),
  };
}

/** Runs `fn` on a connection to the server without selecting a database. */
async function withServer<T>(url: string, fn: (db: Kysely<unknown>) => Promise<T>): Promise<T> {
  const target = parseDatabaseUrl(url);
  const pool = createPool({ ...connectionOptions(target), database: undefined, connectionLimit: 1 });
  pool.on('connection', useUtc);
  const db = new Kysely<unknown>({ dialect: new MysqlDialect({ pool }) });
  try {
    return await fn(db);
  } finally {
    await db.destroy();
  }
}

/** Creates the database named in the URL when missing (utf8mb4 on MySQL 8 and MariaDB alike). */
export async function ensureDatabaseExists(url: string): Promise<boolean> {
  const { database } = parseDatabaseUrl(url);
  return withServer(url, async (db) => {
    const found = await sql<{ name: string }>`SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ${database}`.execute(db);
    if (found.rows.length > 0) return false;
    await sql`CREATE DATABASE IF NOT EXISTS ${sql.id(database)} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`.execute(db);
    return true;
  });
}

export async function dropDatabase(url: string): Promise<void> {
  const { database } = parseDatabaseUrl(url);
  await withServer(url, (db) => sql`DROP DATABASE IF EXISTS ${sql.id(database)}`.execute(db));
}
