// `npm run demo`: every service in one process against a fresh database, a local S3 server
// and an SMTP catcher, fed employees, snapshots and a talk; a table of what happened; all
// removed afterwards. Exit code 0 only when every expected outcome was seen.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { ensureDatabaseExists, openDatabase, type DatabaseHandle } from '../../db/connection.ts';
import { migrateToLatest } from '../../db/migrate.ts';
import { CliContext } from '../../services/cli/context.ts';
import { availableServices, loadServices } from '../../services/registry.ts';
import type { RunningApp } from '../../shared/app/run-services.ts';
import { loadConfig, type Config } from '../../services/config.ts';
import { vigilNotificationKey } from '../../shared/contract/messages.ts';
import { createLogger, type Logger } from '../../shared/logger.ts';
import { createObjectStore, type S3ObjectStore } from '../../shared/storage/object-store.ts';
import { startApp, waitFor } from '../helpers/runtime-harness.ts';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.ts';
import { mailHeader, SmtpTestServer } from '../helpers/smtp-test-server.ts';
import { printResults } from './demo-table.ts';
import { demoEnv, newDemoIds, removeDemoResources } from './demo-env.ts';
import { ABSENCE_STREAK, EMPLOYEES, enrolEmployees, SNAPSHOTS, streamSnapshots } from './demo-faces.ts';
import { publishTalk, SPEAKER, talkOutcome, VIDEO_SECONDS } from './demo-video.ts';

const SUPERVISOR = 'supervisor@demo.vigil.invalid';
const STEPS = 7;

/** The CLI's own enrol/snapshot/publish code, on the demo's configuration and log file. */
class DemoCli extends CliContext {
  private readonly demoConfig: Config;
  private readonly demoLogger: Logger;

  constructor(demoConfig: Config, demoLogger: Logger) {
    super({ out: () => undefined, err: () => undefined });
    this.demoConfig = demoConfig;
    this.demoLogger = demoLogger;
  }
  override config(): Config {
    return this.demoConfig;
  }
  override logger(): Logger {
    return this.demoLogger;
  }
}

const rows: (string | number)[][] = [];
const missing: string[] = [];
const cleanups: { what: string; run: () => Promise<unknown> }[] = [];
let cleaning: Promise<void> | undefined;
let logPath: string | undefined;

const seconds = (ms: number) => (ms / 1000).toFixed(1);
const kb = (bytes: number | undefined) => (bytes === undefined ? '?' : `${Math.round(bytes / 1024)} KB`);

/** One progress line per step: its name now, its time when it is done. */
async function step<T>(n: number, what: string, fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  process.stdout.write(`[${n}/${STEPS}] ${what} … `);
  const t0 = performance.now();
  try {
    const value = await fn();
    const ms = performance.now() - t0;
    process.stdout.write(`done in ${seconds(ms)} s\n`);
    return { value, ms };
  } catch (err) {
    process.stdout.write(`failed after ${seconds(performance.now() - t0)} s\n`);
    throw err;
  }
}

function expect(ok: boolean, what: string): boolean {
  if (!ok) missing.push(what);
  return ok;
}

/** Runs the cleanups newest first, each even if one before it failed; once. */
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const c of cleanups.reverse()) {
      try {
        await c.run();
      } catch (err) {
        console.error(`cleanup: ${c.what} failed: ${(err as Error).message}`);
      }
    }
  })();
  return cleaning;
}

async function waitForMail(smtp: SmtpTestServer, to: string, key: (k: string) => boolean, timeoutMs: number): Promise<boolean> {
  const found = () => smtp.mails.some((m) => m.to.includes(to) && key(mailHeader(m.raw, 'X-Vigil-Idempotency-Key') ?? ''));
  return waitFor('the mail', found, timeoutMs, 100).then(() => true, () => false);
}

async function run(): Promise<void> {
  const ids = newDemoIds();
  const tmp = await mkdtemp(join(tmpdir(), 'vigil-demo-'));
  logPath = join(tmpdir(), `${ids.databaseName}.log`);
  cleanups.push({ what: 'temporary folder', run: () => rm(tmp, { recursive: true, force: true }) });
  const logger = createLogger({ level: 'warn', destination: pino.destination({ dest: logPath, sync: true }) });
  console.log(`Vigil demo: database ${ids.databaseName}, queue prefix ${ids.prefix}, logs in ${logPath}`);
  // The caller's configuration, for the server addresses only.
  const base = loadConfig();

  let config!: Config;
  let smtp!: SmtpTestServer;
  let s3!: S3TestServer;
  const migrated = await step(1, `starting an S3 server and an SMTP catcher; migrating a fresh database ${ids.databaseName}`, async () => {
    [smtp, s3] = await Promise.all([SmtpTestServer.start(), startS3Server()]);
    cleanups.push({ what: 'SMTP catcher', run: () => smtp.close() }, { what: 'S3 server', run: () => s3.close() });
    config = loadConfig(
      demoEnv(ids, base, {
        ...s3.env,
        SMTP_URL: smtp.url,
        SMTP_FROM: 'Vigil demo <vigil@demo.vigil.invalid>',
        // The catcher offers STARTTLS with smtp-server's self-signed certificate.
        SMTP_TLS_REJECT_UNAUTHORIZED: 'false',
        FACE_ALERT_CHANNEL: 'email',
        FACE_ALERT_TO: SUPERVISOR,
        FACE_ABSENCE_STREAK: String(ABSENCE_STREAK),
        VIGIL_WORK_DIR: join(tmp, 'work'),
        TRANSCODER_PRESET: 'ultrafast',
        VIGIL_SHUTDOWN_TIMEOUT: '5s',
      }),
    );
    cleanups.push({ what: 'database and queues', run: async () => {
      const problems = await removeDemoResources(config);
      if (problems.length > 0) throw new Error(problems.join('; '));
    } });
    await ensureDatabaseExists(config.database.url);
    const h = openDatabase(config.database.url, { poolSize: 1 });
    try {
      return (await migrateToLatest(h.db)).applied.length;
    } finally {
      await h.close();
    }
  });
  rows.push(['1 migrate', `fresh database ${ids.databaseName} (+ S3 server, SMTP catcher)`, `${migrated.value} migrations applied`, seconds(migrated.ms)]);

  let running!: RunningApp;
  const names = availableServices();
  const started = await step(2, `starting ${names.length} services in this process (${names.join(', ')})`, async () => {
    const modules = await loadServices(names);
    running = await startApp(config, modules, logger);
    cleanups.push({ what: 'services', run: () => running.stop() });
    await waitFor('every consumer attached', () => running.consumers.every((c) => c.attached), 60_000);
    return running.consumers.length;
  });
  rows.push(['2 start', `${names.length} services in one process`, `${started.value} consumers attached`, seconds(started.ms)]);

  const db: DatabaseHandle = openDatabase(config.database.url, { poolSize: 2 });
  cleanups.push({ what: 'database pool', run: () => db.close() });
  const store: S3ObjectStore = createObjectStore(config.s3);
  cleanups.push({ what: 'S3 client', run: async () => store.close() });
  const cli = new DemoCli(config, logger);

  const enrolled = await step(3, `enrolling ${EMPLOYEES.length} employees from test/fixtures/faces`, () => enrolEmployees(cli, db.db, 120_000));
  for (const e of enrolled.value) expect(e.result === 'SUCCESS', `enrolment of ${e.lanId}: SUCCESS (got ${e.result})`);
  rows.push([
    '3 enrol',
    EMPLOYEES.map((e) => `${e.lanId.replace('DEMO\\', '')}: ${e.enrol}`).join(', '),
    enrolled.value.map((e) => `${e.result}`).join(', '),
    seconds(enrolled.ms),
  ]);

  const count = SNAPSHOTS.reduce((n, c) => n + c.images.length, 0);
  const streamed = await step(4, `streaming ${count} snapshots; alerts mailed to ${SUPERVISOR}`, async () => {
    const outcomes = await streamSnapshots(cli, db.db, tmp, 90_000);
    const mailed = await Promise.all(
      outcomes.map((o) => (o.c.alert ? waitForMail(smtp, SUPERVISOR, (k) => k.split('#')[0] === vigilNotificationKey(`face-${o.c.alert}-${o.ids.at(-1)}`), 30_000) : Promise.resolve(undefined))),
    );
    return outcomes.map((o, i) => ({ ...o, mailed: mailed[i] }));
  });
  const alertsMailed = streamed.value.filter((o) => o.mailed === true).length;
  rows.push(['4 snapshots', `${count} snapshots of ${SNAPSHOTS.length} employees`, `${streamed.value.flatMap((o) => o.results).length} judged, ${alertsMailed} alerts mailed`, seconds(streamed.ms)]);
  for (const o of streamed.value) {
    expect(o.results.join() === o.c.expected.join(), `${o.c.lanId} (${o.c.story}): ${o.c.expected.join(', ')} (got ${o.results.join(', ')})`);
    if (o.c.alert) expect(o.mailed === true, `the ${o.c.alert} alert of ${o.c.lanId} mailed to ${SUPERVISOR}`);
    const alert = o.c.alert ? `; ${o.c.alert} alert ${o.mailed ? 'mailed' : 'NOT mailed'}` : '';
    rows.push([`  ${o.c.lanId}`, o.c.story, `${o.results.join(', ')}${alert}`, '']);
  }

  const video = await step(5, `a ${VIDEO_SECONDS} s talk through transcoder, uploader (library) and notifier`, async () => {
    const sourceBytes = await publishTalk(cli, config, store, tmp);
    const outcome = await talkOutcome(db.db, config, store, sourceBytes, 120_000);
    const mailed = outcome.upload?.status === 'done' && (await waitForMail(smtp, SPEAKER.email, (k) => k.startsWith('vigil:upload-'), 30_000));
    return { ...outcome, mailed };
  });
  const v = video.value;
  expect(v.videoJob?.status === 'done', `video job done (got ${v.videoJob?.status ?? 'no row'}${v.videoJob?.error_message ? `: ${v.videoJob.error_message}` : ''})`);
  expect(v.mp4Bytes !== undefined, `${config.buckets.video}/demo-talk.mp4 stored`);
  expect(v.framesStored > 0 && v.framesStored === v.videoJob?.frames_kept, `frames stored (${v.framesStored} in ${config.buckets.frames}, ${v.videoJob?.frames_kept ?? 0} recorded)`);
  expect(v.upload?.status === 'done' && v.libraryObject !== undefined, `library upload done (got ${v.upload?.status ?? 'no row'}${v.upload?.last_error ? `: ${v.upload.last_error}` : ''})`);
  expect(v.mailed === true, `video_published mailed to ${SPEAKER.email}`);
  rows.push([
    '5 video',
    `${VIDEO_SECONDS} s 320x240 XviD AVI, ${kb(v.sourceBytes)}`,
    `demo-talk.mp4 ${kb(v.mp4Bytes)}, ${v.framesStored} frames, ${v.libraryObject ?? 'no library object'}, video_published ${v.mailed ? 'mailed' : 'NOT mailed'}`,
    seconds(video.ms),
  ]);
  // Two alerts and one speaker: anything more is a duplicate or a stray notification.
  expect(smtp.mails.length === 3, `exactly 3 mails caught (got ${smtp.mails.length})`);
  rows.push(['  mails caught', 'by the SMTP catcher', String(smtp.mails.length), '']);
  for (const m of smtp.mails) rows.push(['', `to ${m.to.join(', ')}`, mailHeader(m.raw, 'Subject') ?? '(no subject)', '']);

  process.stdout.write(`[6/${STEPS}] results\n`);
  printResults(['step', 'in', 'out', 'seconds'], rows);
  if (missing.length === 0) cleanups.unshift({ what: 'log file', run: () => rm(logPath!, { force: true }) });
}

async function main(): Promise<number> {
  const t0 = performance.now();
  const interrupt = (signal: string) => {
    console.error(`\n${signal}: cleaning up`);
    // The steps fail once their pools and servers are gone; exiting here does not wait for them.
    void cleanup().finally(() => {
      console.error(`cleaned up${logPath ? `; logs in ${logPath}` : ''}`);
      process.exit(130);
    });
  };
  process.once('SIGINT', () => interrupt('SIGINT'));
  process.once('SIGTERM', () => interrupt('SIGTERM'));
  try {
    await run();
  } catch (err) {
    missing.push(`the rest of the demo: it stopped with ${(err as Error).message}`);
  } finally {
    const c0 = performance.now();
    process.stdout.write(`[7/${STEPS}] cleaning up (services, servers, database, queues, temporary files) … `);
    await cleanup();
    process.stdout.write(`done in ${seconds(performance.now() - c0)} s\n`);
  }
  const ok = missing.length === 0;
  const took = `${seconds(performance.now() - t0)} s in all`;
  if (ok) console.log(`\nOK: every expected outcome happened (${took})`);
  else console.log(`\nFAILED (${took}); missing:\n${missing.map((m) => `  - ${m}`).join('\n')}${logPath ? `\nLogs: ${logPath}` : ''}`);
  return ok ? 0 : 1;
}

process.exit(await main());
