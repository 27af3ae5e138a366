// Issue 27 benchmark: report views and hot queries against a year of snapshots. Fills its
// own database (dropped afterwards) to each size of BENCH_SCALE_ROWS in turn (default
// 0,1e6,1e7) with 10,000 employees, and times each query at each size: the median of
// BENCH_SCALE_RUNS runs after a warm-up, or the one run when that took over a second.
// A statement cut by BENCH_SCALE_TIMEOUT_S (default 120) prints as "> n s".
// Targets: every report and hot query under 100 ms at 10 million rows; a verdict's
// database time within 10% of an empty database's, timed alongside in the same rounds
// (each timed verdict an employee's second in a row, as on a site where each takes a
// snapshot every 10 seconds).
import { sql, type Kysely } from 'kysely';
import { dropDatabase, ensureDatabaseExists, openDatabase } from '../../db/connection.ts';
import { migrateToLatest } from '../../db/migrate.ts';
import type { Database } from '../../db/schema.ts';
import { MYSQL_SERVER } from '../helpers/test-env.ts';
import { dropSecondaryIndexes, fillEmployees, fillSnapshots, leaveNewest, restoreIndexes } from './scale-fill.ts';
import { timedQueries, verdictOnce } from './scale-queries.ts';
import { median, printTable } from './table.ts';

const SIZES = (process.env.BENCH_SCALE_ROWS ?? '0,1e6,1e7').split(',').map((s) => Math.round(Number(s)));
const RUNS = Number(process.env.BENCH_SCALE_RUNS ?? 5);
const TIMEOUT_S = Number(process.env.BENCH_SCALE_TIMEOUT_S ?? 120);
const VERDICTS = Number(process.env.BENCH_SCALE_VERDICTS ?? 100);
const TARGET_MS = 100;
/** `BENCH_SCALE_DATABASE`: a database a run kept, measured as it is (no fill, not dropped); `BENCH_SCALE_KEEP=1` keeps this run's. */
const REUSE = process.env.BENCH_SCALE_DATABASE;
const KEEP = process.env.BENCH_SCALE_KEEP === '1' || REUSE !== undefined;
/** Fills this large or larger drop the secondary indexes first and build them after. */
const REBUILD_AT = Number(process.env.BENCH_SCALE_REBUILD_AT ?? 2_000_000);

type Cell = { ms: number; cut: boolean };

const VERDICT = 'facestreaming verdict (database share)';
const VERDICT_EMPTY = '  the same on an empty database, alongside';

async function timeOne(db: Kysely<Database>, run: (db: Kysely<Database>) => Promise<unknown>): Promise<Cell> {
  const once = async (): Promise<Cell> => {
    const t0 = performance.now();
    try {
      await run(db);
    } catch (err) {
      // ER_STATEMENT_TIMEOUT (MariaDB max_statement_time)
      if ((err as { errno?: number }).errno === 1969) return { ms: TIMEOUT_S * 1000, cut: true };
      throw err;
    }
    return { ms: performance.now() - t0, cut: false };
  };
  const first = await once();
  if (first.cut || first.ms > 1000) return first;
  const xs: number[] = [];
  for (let i = 0; i < RUNS; i++) xs.push((await once()).ms);
  return { ms: median(xs), cut: false };
}

/** The roll-up catch-up of the tree being measured, when it has one (issue 27 adds it). */
async function rollupCatchUp(): Promise<((db: Kysely<Database>) => Promise<unknown>) | undefined> {
  try {
    const m = (await import('../../services/upkeep/rollup.ts' as string)) as { catchUpRollups?: (db: Kysely<Database>) => Promise<unknown> };
    return m.catchUpRollups;
  } catch {
    return undefined;
  }
}

function show(c: Cell | undefined): string {
  if (!c) return '';
  if (c.cut) return `> ${TIMEOUT_S} s`;
  return c.ms >= 1000 ? `${(c.ms / 1000).toFixed(1)} s` : `${c.ms.toFixed(1)} ms`;
}

export async function benchScale(): Promise<void> {
  const url = `${MYSQL_SERVER}/${REUSE ?? `vigil_bench_scale_${process.pid}`}`;
  await ensureDatabaseExists(url);
  // One connection: the session's statement limit holds for every query timed.
  const h = openDatabase(url, { poolSize: 1 });
  // The verdict's reference: an empty database beside it, timed in the same rounds, so a
  // host that speeds up or slows down between sizes moves both (the target is 10%).
  const emptyUrl = `${MYSQL_SERVER}/vigil_bench_scale_empty_${process.pid}`;
  const empty = openDatabase(emptyUrl, { poolSize: 1 });
  const catchUp = await rollupCatchUp();
  const results = new Map<string, Map<number, Cell>>();
  const kinds = new Map<string, string>();
  const fillNotes: string[] = [];
  let serverInfo = '';
  try {
    // Inside the try: a failure here still closes and drops what was opened.
    await ensureDatabaseExists(emptyUrl);
    const server = await sql<{ version: string; pool: number }>`SELECT VERSION() AS version, @@innodb_buffer_pool_size AS pool`.execute(h.db);
    serverInfo = `${server.rows[0]!.version}, InnoDB buffer pool ${Number(server.rows[0]!.pool) / 2 ** 20} MiB`;
    let filled = 0;
    if (REUSE) {
      const r = await sql<{ n: number }>`SELECT COUNT(*) AS n FROM stream_img`.execute(h.db);
      filled = Number(r.rows[0]!.n);
      let note = `${REUSE}: measured as found, ${filled.toLocaleString('en')} rows`;
      if (catchUp) {
        const t1 = performance.now();
        await catchUp(h.db);
        note += `, roll-ups caught up in ${((performance.now() - t1) / 1000).toFixed(1)} s`;
      }
      fillNotes.push(note);
    } else {
      await migrateToLatest(h.db);
      await fillEmployees(h.db);
    }
    await migrateToLatest(empty.db);
    await fillEmployees(empty.db);
    await sql`SET SESSION max_statement_time = ${sql.raw(String(TIMEOUT_S))}`.execute(h.db);
    for (const size of REUSE ? [filled] : [...SIZES].sort((a, b) => a - b)) {
      if (size > filled) {
        await sql`SET SESSION max_statement_time = 0`.execute(h.db);
        const t0 = performance.now();
        const dropped = size - filled >= REBUILD_AT ? await dropSecondaryIndexes(h.db, ['stream_img', 'process_status']) : [];
        await fillSnapshots(h.db, filled, size);
        await restoreIndexes(h.db, dropped);
        await leaveNewest(h.db);
        const fillS = (performance.now() - t0) / 1000;
        let note = `${filled.toLocaleString('en')} → ${size.toLocaleString('en')} rows: filled in ${fillS.toFixed(0)} s`;
        if (catchUp) {
          const t1 = performance.now();
          await catchUp(h.db);
          note += `, roll-ups caught up in ${((performance.now() - t1) / 1000).toFixed(1)} s`;
        }
        fillNotes.push(note);
        await sql`ANALYZE TABLE stream_img, process_status, train_img`.execute(h.db);
        await sql`SET SESSION max_statement_time = ${sql.raw(String(TIMEOUT_S))}`.execute(h.db);
        filled = size;
      }
      for (const q of await timedQueries(h.db)) {
        kinds.set(q.name, q.kind);
        const cell = await timeOne(h.db, q.run);
        if (!results.has(q.name)) results.set(q.name, new Map());
        results.get(q.name)!.set(size, cell);
      }
      // On a site a verdict follows the same employee's previous one by seconds (a snapshot
      // every 10 s): each employee's previous verdict first, untimed, then the one timed,
      // alternating with the same verdict on the empty database.
      const verdicts: number[] = [];
      const reference: number[] = [];
      const employees = Array.from({ length: VERDICTS }, (_, i) => (i + 1) * 7);
      for (const n of [0, ...employees]) {
        await verdictOnce(h.db, n);
        await verdictOnce(empty.db, n);
      }
      for (const n of employees) {
        verdicts.push(await verdictOnce(h.db, n));
        reference.push(await verdictOnce(empty.db, n));
      }
      for (const [name, xs] of [[VERDICT, verdicts], [VERDICT_EMPTY, reference]] as const) {
        if (!results.has(name)) results.set(name, new Map());
        kinds.set(name, name === VERDICT ? 'verdict' : 'reference');
        results.get(name)!.set(size, { ms: median(xs), cut: false });
      }
    }
  } finally {
    await empty.close();
    await dropDatabase(emptyUrl);
    await h.close();
    if (KEEP) console.log(`kept ${url.replace(/^.*\//, '')} (BENCH_SCALE_DATABASE to measure it again; drop it after)`);
    else await dropDatabase(url);
  }
  const sizes = [...new Set([...results.values()].flatMap((c) => [...c.keys()]))].sort((a, b) => a - b);
  const biggest = sizes[sizes.length - 1]!;
  const rows = [...results].map(([name, cells]) => {
    const top = cells.get(biggest)!;
    const kind = kinds.get(name);
    if (kind === 'reference') return [name, ...sizes.map((s) => show(cells.get(s))), '', ''];
    // The verdict against the empty database's, timed alongside at the same size.
    const alongside = results.get(VERDICT_EMPTY)?.get(biggest)?.ms ?? Infinity;
    const met = kind === 'verdict' ? top.ms <= alongside * 1.1 : !top.cut && top.ms < TARGET_MS;
    return [name, ...sizes.map((s) => show(cells.get(s))), kind === 'verdict' ? `≤ ${(alongside * 1.1).toFixed(1)} ms` : `< ${TARGET_MS} ms`, met ? 'met' : 'not met'];
  });
  printTable(
    `Scale: report views and hot queries by stream_img rows (10,000 employees; median of ${RUNS} after a warm-up, one run when over 1 s)`,
    ['query', ...sizes.map((s) => `${s.toLocaleString('en')} rows`), `target at ${biggest.toLocaleString('en')}`, ''],
    rows,
  );
  for (const n of fillNotes) console.log(`- ${n}`);
  console.log(`- MariaDB ${serverInfo}`);
}
