// Issue 28 benchmark: the console's server time per page with 1,000,000 snapshots and 10,000
// employees in the database (target: p95 under 200 ms), and thumbnails per second.
// Fills its own database (scale-fill.ts, then console-fill.ts: faces, alerts, audit rows,
// proposals, real JPEGs on the 200 newest flagged snapshots), dropped at the end. Each page
// is the wall time of `app.inject` (session check, queries, render), BENCH_CONSOLE_REQUESTS
// (200) after a warm-up, alternating with the repository calls behind it (the baseline: the
// page's time against its query's). A page not built yet (404 with no route) prints as
// "not built". The queue's EXPLAIN must read an index in order (no filesort) or it fails.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { sql, type Kysely } from 'kysely';
import { queueQuery, REVIEW_RESULTS, reviewRepository, type ReviewQueueFilter } from '../../db/repositories/review.repository.ts';
import type { Database } from '../../db/schema.ts';
import { buildConsoleApp } from '../../services/console/app.ts';
import { PAGE_SIZE, parseQueueQuery, snapshotFilter } from '../../services/console/review-params.ts';
import { createLogger } from '../../shared/logger.ts';
import { addConsoleAccounts, consoleClient, type SignedIn } from '../helpers/console-client.ts';
import { explain as explainPlan } from '../helpers/explain.ts';
import { createTestEnv, type TestEnv } from '../helpers/test-env.ts';
import { fillAudit, fillDay, fillProposals, fillReviewEvidence, newestFlagged, storeImages } from './console-fill.ts';
import { checkThumbnail, perSecond, sharpLoop, timedPool, type Run } from './console-thumbs.ts';
import { LARGE_PHOTOS_DIR } from './face-images.ts';
import { EMPLOYEES, fillEmployees, fillSnapshots, lanIdOf } from './scale-fill.ts';
import { printTable } from './table.ts';

const ROWS = Number(process.env.BENCH_CONSOLE_ROWS ?? 1_000_000);
const REQUESTS = Number(process.env.BENCH_CONSOLE_REQUESTS ?? 200);
const WARMUP = 20;
const IMAGES = Number(process.env.BENCH_CONSOLE_IMAGES ?? 200);
const DEEP = 100;
const TARGET_MS = 200;
const IN_FLIGHT = Math.max(2, availableParallelism() * 2);
const FIXTURES_DIR = new URL('../fixtures/faces/', import.meta.url);

/** One page to time; add a line to PAGES to time another. */
interface PageCase {
  name: string;
  /** The i-th request's URL (a page that takes an id or lan_id varies it). */
  url: (i: number) => string;
  /** The repository calls behind the page, timed alongside it: the baseline. */
  query?: (i: number) => Promise<unknown>;
  /** A page built elsewhere: until it is, a 404 that no route answered prints as "not built". */
  optional?: boolean;
  /** A queue page whose EXPLAIN must walk an index in capture order (no filesort), or the bench fails. */
  ordered?: boolean;
}

interface Timed {
  page: number[];
  query: number[];
  notBuilt: boolean;
}

/** The real photos: ../shared/faces/deepface when it is there, else the test fixtures' six. */
function photos(): { from: string; bytes: Buffer[] } {
  const dir = existsSync(LARGE_PHOTOS_DIR) ? LARGE_PHOTOS_DIR : FIXTURES_DIR.pathname;
  const names = readdirSync(dir).filter((f) => f.toLowerCase().endsWith('.jpg')).sort();
  return { from: dir, bytes: names.map((n) => readFileSync(`${dir}${n}`)) };
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil(p * s.length) - 1)]!;
};
const ms = (x: number): string => `${x.toFixed(1)} ms`;
const rel = (body: string): string | undefined => /<a rel="next" href="([^"]+)"/.exec(body)?.[1]?.replaceAll('&amp;', '&');

/** The queue's filter as the page reads it from its URL, and the limit it asks for. */
function queueFilter(url: string): ReviewQueueFilter {
  const q = parseQueueQuery(Object.fromEntries(new URL(url, 'http://console').searchParams));
  if ('error' in q) throw new Error(`${url}: ${q.error}`);
  return snapshotFilter(q, PAGE_SIZE + 1);
}

async function explain(db: Kysely<Database>, f: ReviewQueueFilter): Promise<Record<string, unknown>[]> {
  return explainPlan(db, queueQuery(db, f).compile());
}

async function fill(t: TestEnv, db: Kysely<Database>, images: Buffer[]): Promise<{ notes: string[]; imageIds: number[] }> {
  const notes: string[] = [];
  let t0 = performance.now();
  const step = (what: string) => {
    notes.push(`${what} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    t0 = performance.now();
  };
  await fillEmployees(db);
  await fillSnapshots(db, 0, ROWS);
  step(`${EMPLOYEES.toLocaleString('en')} employees and ${ROWS.toLocaleString('en')} snapshots (with their attempts) filled`);
  await fillReviewEvidence(db);
  await fillAudit(db);
  const imageIds = await newestFlagged(db, IMAGES);
  await storeImages(db, imageIds, images);
  await fillProposals(db, 40);
  step('faces, verdict details and alerts of the flagged snapshots, 100,000 audit rows, the images and 40 proposals');
  const catchUp = ((await import('../../services/upkeep/rollup.ts')) as { catchUpRollups: (db: Kysely<Database>) => Promise<unknown> }).catchUpRollups;
  await catchUp(db);
  step('roll-ups caught up');
  await sql`ANALYZE TABLE employee, train_img, stream_img, process_status, stream_face, face_alert, audit_log, gallery_proposal`.execute(db);
  step('ANALYZE TABLE');
  const counts = await sql<{ flagged: number; faces: number; alerts: number }>`SELECT
      (SELECT COUNT(*) FROM stream_img WHERE result IN (${sql.join([...REVIEW_RESULTS])})) AS flagged,
      (SELECT COUNT(*) FROM stream_face) AS faces, (SELECT COUNT(*) FROM face_alert) AS alerts`.execute(db);
  const c = counts.rows[0]!;
  notes.push(`${Number(c.flagged).toLocaleString('en')} snapshots in the review queue (${((Number(c.flagged) / ROWS) * 100).toFixed(1)}%), ${Number(c.faces).toLocaleString('en')} stream_face rows, ${Number(c.alerts).toLocaleString('en')} face_alert rows (database ${t.databaseName})`);
  return { notes, imageIds };
}

export async function benchConsole(): Promise<void> {
  const loadBefore = loadavg()[0]!;
  const t = await createTestEnv('benchconsole');
  const apps: FastifyInstance[] = [];
  try {
    const db = t.database().db;
    const server = await sql<{ version: string; pool: number }>`SELECT VERSION() AS version, @@innodb_buffer_pool_size AS pool`.execute(db);
    const serverInfo = `MariaDB ${server.rows[0]!.version}, InnoDB buffer pool ${Number(server.rows[0]!.pool) / 2 ** 20} MiB`;
    const real = photos();
    const { notes, imageIds } = await fill(t, db, real.bytes);
    await addConsoleAccounts(db, [['bench-admin', 'admin']]);

    // Which route answered the last request: a 404 of no route is a page not built yet.
    let routed: string | undefined;
    const newApp = async (prefix: string): Promise<{ app: FastifyInstance; get: (url: string) => Promise<LightMyRequestResponse> }> => {
      const app = await buildConsoleApp({ db, config: t.config.console, logger: createLogger({ level: 'silent' }) });
      apps.push(app);
      app.addHook('onResponse', async (request) => {
        routed = request.routeOptions.url;
      });
      const client = consoleClient(app, prefix);
      const who: SignedIn = await client.signIn('bench-admin');
      return { app, get: (url) => client.get(url, who) };
    };
    const { get } = await newApp('10.228.0.');
    const review = reviewRepository(db);

    // The queue 100 pages deep, by its "Older" links; each a full page.
    let deepUrl = '/review';
    for (let i = 0; i < DEEP; i++) {
      const r = await get(deepUrl);
      assert.equal(r.statusCode, 200, r.body);
      assert.equal(r.body.match(/<img class="thumb"/g)?.length, PAGE_SIZE, `page ${i + 1} of the queue shows ${PAGE_SIZE} snapshots`);
      const next = rel(r.body);
      assert.ok(next, `page ${i + 1} of the queue has a rel="next" link`);
      deepUrl = next;
    }
    const older = (await db.selectFrom('stream_img').select('id').where('result', 'in', [...REVIEW_RESULTS]).where('image', 'is', null)
      .where('id', '<', Math.floor(ROWS / 2)).orderBy('id', 'desc').limit(REQUESTS).execute()).map((r) => Number(r.id));
    const lan = (i: number) => lanIdOf(((i * 37) % EMPLOYEES) + 1);
    const range = `from=${fillDay(10)}&to=${fillDay(19)}`;
    const queueCase = (name: string, url: (i: number) => string, ordered = false): PageCase => ({ name, url, ordered, query: (i) => review.queue(queueFilter(url(i))) });
    const item = (ids: number[]) => async (i: number) => {
      const id = ids[i % ids.length]!;
      const it = await review.item(id);
      if (it?.hasImage) await review.snapshotImage(id);
    };
    const PAGES: PageCase[] = [
      queueCase('review queue, first page', () => '/review', true),
      queueCase('review queue, one employee', (i) => `/review?lan_id=${encodeURIComponent(lan(i))}`, true),
      queueCase('review queue, UNKNOWN_PERSON, 9 days', () => `/review?result=UNKNOWN_PERSON&${range}`),
      queueCase('review queue, IMPERSONATION_SUSPECTED, 9 days', () => `/review?result=IMPERSONATION_SUSPECTED&${range}`),
      queueCase('review queue, UNKNOWN_PERSON', () => '/review?result=UNKNOWN_PERSON'),
      queueCase('review queue, IMPERSONATION_SUSPECTED', () => '/review?result=IMPERSONATION_SUSPECTED'),
      queueCase(`review queue, ${DEEP} pages deep (keyset)`, () => deepUrl, true),
      { name: 'snapshot page (with its image)', url: (i) => `/review/snapshot/${imageIds[i % imageIds.length]}`, query: item(imageIds) },
      { name: 'snapshot page (image removed)', url: (i) => `/review/snapshot/${older[i % older.length]}`, query: item(older) },
      { name: 'employee page', url: (i) => `/employees/${encodeURIComponent(lan(i))}`, optional: true },
      { name: 'approvals', url: () => '/approvals', optional: true },
      { name: 'audit log', url: () => '/audit', optional: true },
    ];

    // The plans first: every queue read uses an index, and the first page, an employee's
    // and the keyset page deep down walk one in capture order, or the bench fails. A
    // filesort on another filter is printed as a finding.
    const plans: (string | number)[][] = [];
    const findings: string[] = [];
    for (const c of PAGES.filter((p) => /^\/review(\?|$)/.test(p.url(0)))) {
      const f = queueFilter(c.url(0));
      const rows = await explain(db, f);
      for (const r of rows) plans.push([c.name, String(r.type), String(r.key), String(r.rows), String(r.Extra ?? '')]);
      // The walk over stream_img, then the open filter's probes of each row's decisions
      // (db/review-state.ts), each a lookup on an index, never a scan.
      const [r, ...probes] = rows;
      assert.ok(r && /^(SIMPLE|PRIMARY)$/.test(String(r.select_type)), `${c.name}: ${JSON.stringify(rows)}`);
      for (const p of probes) assert.ok(/SUBQUERY/.test(String(p.select_type)) && p.key !== null && p.type !== 'ALL', `${c.name}: a probe that scans: ${JSON.stringify(p)}`);
      assert.ok(r.key !== null && r.type !== 'ALL', `${c.name} reads the whole table: ${JSON.stringify(r)}`);
      const expected = f.lanId !== undefined ? /^stream_img_lan_capture_result$/ : /^stream_img_capture(_result)?$/;
      const ordered = expected.test(String(r.key)) && !/filesort/.test(String(r.Extra));
      if (c.ordered) assert.ok(ordered, `${c.name} is no index walk in capture order: ${JSON.stringify(r)}`);
      // With a cursor the walk must start at it, not at the newest row (OFFSET by another name).
      if (f.before !== undefined) assert.equal(r.type, 'range', `${c.name} walks from the newest row to its cursor: ${JSON.stringify(r)}`);
      else if (!ordered) findings.push(`${c.name}: ${String(r.key)}, ${String(r.Extra)} (${String(r.rows)} rows estimated)`);
    }
    printTable(`Console: EXPLAIN of the review queue's statement (${ROWS.toLocaleString('en')} snapshots, after ANALYZE TABLE)`, ['page', 'type', 'key', 'rows', 'Extra'], plans);
    for (const f of findings) console.log(`- not in capture order: ${f}`);

    const timed = new Map<string, Timed>();
    for (const c of PAGES) {
      const first = await get(c.url(0));
      if (first.statusCode === 404 && routed === undefined && c.optional) {
        timed.set(c.name, { page: [], query: [], notBuilt: true });
        continue;
      }
      assert.equal(first.statusCode, 200, `${c.name}: ${c.url(0)} answered ${first.statusCode}: ${first.body.slice(0, 300)}`);
      for (let i = 0; i < WARMUP; i++) {
        await get(c.url(i));
        await c.query?.(i);
      }
      const row: Timed = { page: [], query: [], notBuilt: false };
      for (let i = 0; i < REQUESTS; i++) {
        const t0 = performance.now();
        const r = await get(c.url(i));
        row.page.push(performance.now() - t0);
        if (r.statusCode !== 200) throw new Error(`${c.name}: ${c.url(i)} answered ${r.statusCode}`);
        if (c.query) {
          const t1 = performance.now();
          await c.query(i);
          row.query.push(performance.now() - t1);
        }
      }
      timed.set(c.name, row);
    }
    printTable(
      `Console: server time per page (${ROWS.toLocaleString('en')} snapshots, ${EMPLOYEES.toLocaleString('en')} employees; app.inject wall time, ${REQUESTS} requests each after ${WARMUP} warm-up, one at a time; query: the repository calls behind the page, alongside)`,
      ['page', 'p50', 'p95', 'max', 'query p50', 'query p95', 'target', ''],
      PAGES.map((c) => {
        const r = timed.get(c.name)!;
        if (r.notBuilt) return [c.name, 'not built', '', '', '', '', `p95 < ${TARGET_MS} ms`, ''];
        const q = r.query.length > 0;
        const p95 = pct(r.page, 0.95);
        return [c.name, ms(pct(r.page, 0.5)), ms(p95), ms(Math.max(...r.page)), q ? ms(pct(r.query, 0.5)) : '—', q ? ms(pct(r.query, 0.95)) : '—', `p95 < ${TARGET_MS} ms`, p95 < TARGET_MS ? 'met' : 'not met'];
      }),
    );

    // Thumbnails: a fresh app per concurrency (its cache empty), the ids distinct (cold),
    // then the same ids again (warm: LRU hits); the baseline before and after, its mean.
    const source = await Promise.all(imageIds.map(async (id) => (await review.snapshotImage(id))!));
    const sizes = source.map((b) => b.length);
    const thumbs: (string | number)[][] = [];
    const counts = [1, IN_FLIGHT];
    const before = new Map<number, Run>();
    for (const n of counts) before.set(n, await sharpLoop(source, n));
    const service: [string, number, Run][] = [];
    for (const [k, n] of counts.entries()) {
      const a = await newApp(`10.228.${k + 1}.`);
      const url = (i: number) => `/images/snapshot/${imageIds[i]}?thumb=1`;
      const check = await a.get(url(0));
      assert.equal(check.statusCode, 200);
      await checkThumbnail(check.rawPayload);
      // That request made the first id's thumbnail: cold starts from the second.
      const cold = await timedPool(imageIds.length - 1, n, async (i) => {
        const r = await a.get(url(i + 1));
        if (r.statusCode !== 200) throw new Error(`thumbnail ${url(i + 1)}: ${r.statusCode}`);
      });
      const warm = await timedPool(imageIds.length, n, async (i) => {
        const r = await a.get(url(i));
        if (r.statusCode !== 200) throw new Error(`thumbnail ${url(i)}: ${r.statusCode}`);
      });
      service.push([`service, cold (distinct ids), ${n} in flight`, n, cold], [`service, warm (LRU hits), ${n} in flight`, n, warm]);
    }
    const baseline = new Map<number, number>();
    for (const n of counts) {
      const b = before.get(n)!;
      const after = await sharpLoop(source, n);
      const rate = (perSecond(b) + perSecond(after)) / 2;
      baseline.set(n, rate);
      const both = [...b.perImage, ...after.perImage];
      thumbs.push([`sharp loop in-process (baseline), ${n} in flight`, source.length, `${rate.toFixed(1)}/s`, ms(pct(both, 0.5)), ms(pct(both, 0.95)), `before ${perSecond(b).toFixed(1)}/s, after ${perSecond(after).toFixed(1)}/s`]);
    }
    for (const [name, n, r] of service) {
      thumbs.push([name, r.perImage.length, `${perSecond(r).toFixed(1)}/s`, ms(pct(r.perImage, 0.5)), ms(pct(r.perImage, 0.95)), `${(perSecond(r) / baseline.get(n)!).toFixed(2)}× the loop`]);
    }
    sizes.sort((a, b) => a - b);
    printTable(
      `Console: thumbnails (/images/snapshot/<id>?thumb=1, ${imageIds.length} snapshots holding ${real.bytes.length} distinct real JPEGs of ${(sizes[0]! / 1024).toFixed(0)}–${(sizes[sizes.length - 1]! / 1024).toFixed(0)} KiB, cycled)`,
      ['run', 'images', 'rate', 'p50', 'p95', ''],
      thumbs,
    );
    for (const n of notes) console.log(`- ${n}`);
    console.log(`- photos from ${real.from}; ${serverInfo}; ${availableParallelism()} cores, load average ${loadBefore.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end`);
  } finally {
    for (const app of apps) await app.close();
    await t.cleanup();
  }
}
