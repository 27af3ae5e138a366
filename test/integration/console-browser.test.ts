// The console in real Chromium (issue 28): a supervisor signs in, opens the review queue and a
// flagged snapshot, says "it is the employee"; a team lead signs in and approves; a new
// snapshot of that employee, published as a producer would, is verified against the new
// gallery face. Also keyboard-only review and an axe-core check of every page. The console,
// facetraining and facestreaming run in this process on the real MariaDB and RabbitMQ.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import sharp from 'sharp';
import { loadConfig } from '../../services/config.ts';
import { service as consoleService } from '../../services/console/main.ts';
import { service as facestreaming } from '../../services/facestreaming/main.ts';
import { service as facetraining } from '../../services/facetraining/main.ts';
import type { RunningApp } from '../../shared/app/run-services.ts';
import { launchChromium, seriousViolations } from '../helpers/browser.ts';
import { addConsoleAccounts, CONSOLE_PASSWORD } from '../helpers/console-client.ts';
import { captureLogger, publishRaw, startApp, waitFor } from '../helpers/runtime-harness.ts';
import { createTestEnv, type TestEnv } from '../helpers/test-env.ts';

const photo = (name: string) => readFileSync(new URL(`../fixtures/faces/${name}`, import.meta.url));
// person01 enrols; person03's photo is the flagged snapshot a supervisor says is the employee
// (test/fixtures/faces/README.md): the gallery then matches it, whatever the first photo says.
const ENROLMENT = photo('img5.jpg');
const FLAGGED = photo('img51.jpg');
const LAN_ID = 'NA\\browser';
const T0 = Date.parse('2026-11-20T09:00:00.000Z');

let t: TestEnv;
let running: RunningApp;
let browser: Browser;
let base: string;
let second = 0;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const db = () => t.database().db;

async function enrol(lanId: string, image: Buffer): Promise<number> {
  const r = await db().insertInto('train_img').values({ lan_id: lanId, image }).executeTakeFirstOrThrow();
  const id = Number(r.insertId);
  await publishRaw(`${t.prefix}facetraining`, [String(id)]);
  await trained(id);
  return id;
}

async function trained(id: number) {
  await waitFor(`train_img ${id} processed`, async () => ['Y', 'F'].includes((await db().selectFrom('train_img').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status), 120_000, 200);
  return db().selectFrom('train_img').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

async function snapshot(lanId: string, image: Buffer) {
  const r = await db().insertInto('stream_img').values({ lan_id: lanId, image, capture_time: new Date(T0 + second++ * 10_000) }).executeTakeFirstOrThrow();
  const id = Number(r.insertId);
  await publishRaw(`${t.prefix}facestreaming`, [String(id)]);
  await waitFor(`stream_img ${id} judged`, async () => ['Y', 'F'].includes((await db().selectFrom('stream_img').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status), 120_000, 200);
  return db().selectFrom('stream_img').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

before(async () => {
  t = await createTestEnv('consolebrowser', {
    CONSOLE_PORT: String(await freePort()), FACE_WORKERS: '1', VIGIL_RETRY_DELAYS: '500ms', VIGIL_MAX_ATTEMPTS: '40',
  });
  base = `http://127.0.0.1:${t.env.CONSOLE_PORT}`;
  await addConsoleAccounts(db(), [['sup', 'supervisor'], ['lead', 'teamlead'], ['vera', 'viewer'], ['ada', 'admin']]);
  const { logger } = captureLogger('warn');
  running = await startApp(loadConfig(t.env), [facetraining, facestreaming, consoleService], logger);
  await waitFor('the consumers', () => running.consumers.every((c) => c.attached), 60_000);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await running?.stop();
  await t?.cleanup();
});

/** A fresh browser profile signed in as `name` through the form, as a person would. */
async function signedIn(name: string, next = '/'): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${base}${next}`);
  assert.match(page.url(), /\/login/, 'without a session the page sends the browser to sign in');
  await page.getByLabel('Account').fill(name);
  await page.getByLabel('Password').fill(CONSOLE_PASSWORD);
  await page.getByRole('button', { name: /sign in/i }).click();
  await page.waitForURL((u) => !u.pathname.startsWith('/login'));
  return { context, page };
}

async function noSeriousViolations(page: Page, what: string): Promise<void> {
  const found = await seriousViolations(page);
  assert.deepEqual(found, [], `${what}: ${JSON.stringify(found, null, 1)}`);
}

test('a supervisor says a flagged snapshot is the employee, a team lead approves it, and the next snapshot matches the new gallery face', async () => {
  const enrolment = await enrol(LAN_ID, ENROLMENT);
  const flagged = await snapshot(LAN_ID, FLAGGED);
  assert.equal(flagged.result, 'UNKNOWN_PERSON');

  const sup = await signedIn('sup', '/review');
  assert.equal(new URL(sup.page.url()).pathname, '/review', 'back where the deep link pointed after sign-in');
  await noSeriousViolations(sup.page, 'review queue');
  await sup.page.locator(`a[href="/review/snapshot/${flagged.id}"]`).first().click();
  await sup.page.waitForURL(`${base}/review/snapshot/${flagged.id}`);
  assert.match(await sup.page.locator('main').innerText(), /UNKNOWN_PERSON/);
  await noSeriousViolations(sup.page, 'snapshot page');
  await sup.page.getByRole('button', { name: /it is the employee/i }).click();
  await sup.page.waitForURL(/done=proposed/);
  assert.match(await sup.page.getByRole('status').innerText(), /proposed/i);
  const proposal = await db().selectFrom('gallery_proposal').select(['id', 'status', 'proposed_by']).where('stream_img_id', '=', flagged.id).executeTakeFirstOrThrow();
  assert.deepEqual([proposal.status, proposal.proposed_by], ['pending', 'sup']);
  await sup.context.close();

  const lead = await signedIn('lead', '/approvals');
  await noSeriousViolations(lead.page, 'approvals');
  await lead.page.locator(`a[href="/approvals/proposal/${proposal.id}"]`).first().click();
  await noSeriousViolations(lead.page, 'proposal page');
  await lead.page.getByRole('button', { name: /approve/i }).click();
  await lead.page.waitForLoadState();
  const decided = await db().selectFrom('gallery_proposal').selectAll().where('id', '=', proposal.id).executeTakeFirstOrThrow();
  assert.equal(decided.status, 'approved');
  const newFace = Number(decided.train_img_id);
  assert.ok(newFace > 0 && newFace !== enrolment);
  assert.equal((await trained(newFace)).result, 'SUCCESS', 'the approved face passes facetraining like any enrolment');

  const later = await snapshot(LAN_ID, await sharp(FLAGGED).resize(400).jpeg({ quality: 88 }).toBuffer());
  assert.equal(later.result, 'SUCCESS');
  assert.equal(Number(later.train_img_id), newFace, 'verified against the approved face');
  await lead.page.goto(`${base}/review/snapshot/${later.id}`);
  const text = await lead.page.locator('main').innerText();
  assert.match(text, /SUCCESS/);
  assert.ok(await lead.page.locator(`img[src^="/images/enrolment/${newFace}"]`).count() > 0, 'the matching gallery face is the approved one');
  await lead.context.close();
});

test('every page, as an admin sees it (every form shown), has no serious or critical axe-core violation', async () => {
  const login = await browser.newContext();
  const form = await login.newPage();
  await form.goto(`${base}/login`);
  await noSeriousViolations(form, '/login');
  await login.close();

  const flagged = await db().selectFrom('stream_img').select('id').where('result', '=', 'UNKNOWN_PERSON').orderBy('id', 'desc').executeTakeFirstOrThrow();
  const proposal = await db().selectFrom('gallery_proposal').select('id').orderBy('id', 'desc').executeTakeFirstOrThrow();
  const enrolment = await db().selectFrom('train_img').select('id').orderBy('id').executeTakeFirstOrThrow();
  const enc = encodeURIComponent(LAN_ID);
  const { context, page } = await signedIn('ada');
  const urls = [
    '/', '/review', `/review?lan_id=${enc}`, '/review?kind=absences', '/review?kind=enrolments', `/review/snapshot/${flagged.id}`, `/review/enrolment/${enrolment.id}`, '/approvals', `/approvals/proposal/${proposal.id}`, '/approvals/duplicates',
    '/employees', `/employees?prefix=NA`, `/employees/${enc}`, '/exports', '/audit',
  ];
  for (const url of urls) {
    const r = await page.goto(`${base}${url}`);
    assert.equal(r?.status(), 200, url);
    await noSeriousViolations(page, url);
  }
  await context.close();
});

test('a supervisor reviews by keyboard alone: signs in, moves through the queue with j, opens with o, dismisses with d, goes on with j, confirms with c', async () => {
  const lanId = 'NA\\keys';
  const ids: number[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await db().insertInto('stream_img').values({
      lan_id: lanId, image: FLAGGED, capture_time: new Date(T0 + 86_400_000 + i * 60_000), status: 'Y', result: 'UNKNOWN_PERSON', distance: 0.71 + i / 100, num_faces: 1,
    }).executeTakeFirstOrThrow();
    ids.push(Number(r.insertId));
  }
  const [oldest, middle, newest] = ids as [number, number, number];
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${base}/review?lan_id=${encodeURIComponent(lanId)}`);
  // The sign-in form by keyboard: the first field has the focus or gets it by Tab.
  await page.getByLabel('Account').focus();
  await page.keyboard.type('sup');
  await page.keyboard.press('Tab');
  await page.keyboard.type(CONSOLE_PASSWORD);
  await page.keyboard.press('Enter');
  await page.waitForURL((u) => u.pathname === '/review');

  await page.keyboard.press('j');
  await page.keyboard.press('o');
  await page.waitForURL(`${base}/review/snapshot/${newest}?*`);
  await page.keyboard.press('d');
  await page.waitForLoadState();
  assert.match(await page.getByRole('status').innerText(), /dismiss/i);

  await page.keyboard.press('j');
  await page.waitForURL(new RegExp(`/review/snapshot/${middle}\\b`));
  await page.keyboard.press('c');
  await page.waitForLoadState();
  assert.match(await page.getByRole('status').innerText(), /confirm/i);

  const decided = await db().selectFrom('review_decision').select(['item_id', 'decision', 'decided_by']).where('lan_id', '=', lanId).orderBy('item_id').execute();
  assert.deepEqual(decided.map((d) => [Number(d.item_id), d.decision, d.decided_by]), [[middle, 'confirm', 'sup'], [newest, 'dismiss', 'sup']]);

  // The queue now holds the one left open; Tab reaches its link and Enter opens it.
  await page.goto(`${base}/review?lan_id=${encodeURIComponent(lanId)}`);
  await page.keyboard.press('j');
  const focused = await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { getAttribute(n: string): string | null } | null } }).document.activeElement?.getAttribute('href') ?? null);
  assert.match(focused ?? '', new RegExp(`^/review/snapshot/${oldest}\\b`), 'the one left open is the only row');
  await context.close();
});

test('with htmx, an absence is confirmed or dismissed from its row in place: no page load, the row says what was done', async () => {
  const lanId = 'NA\\absent';
  const s = await db().insertInto('stream_img').values({ lan_id: lanId, capture_time: new Date(T0 + 2 * 86_400_000), status: 'Y', result: 'NO_FACES_FOUND' }).executeTakeFirstOrThrow();
  const alert = await db().insertInto('face_alert').values({
    lan_id: lanId, stream_img_id: Number(s.insertId), kind: 'absence', state: 'published', notification: JSON.stringify({ data: { streak: 5 } }),
  }).executeTakeFirstOrThrow();
  const { context, page } = await signedIn('sup', `/review?kind=absences&lan_id=${encodeURIComponent(lanId)}`);
  const url = page.url();
  await page.evaluate(() => { (globalThis as unknown as { stillHere: boolean }).stillHere = true; });
  await page.getByRole('row').filter({ hasText: lanId }).getByRole('button', { name: 'Dismiss', exact: true }).click();
  const status = page.locator('tr.decided [role="status"]');
  await status.waitFor();
  assert.match(await status.innerText(), new RegExp(`Absence alert ${Number(alert.insertId)}: Dismissed`));
  assert.equal(page.url(), url, 'no navigation');
  assert.equal(await page.evaluate(() => (globalThis as unknown as { stillHere?: boolean }).stillHere), true, 'the page was not loaded again');
  const d = await db().selectFrom('review_decision').select(['decision', 'decided_by']).where('kind', '=', 'absence').where('item_id', '=', Number(alert.insertId)).executeTakeFirstOrThrow();
  assert.deepEqual([d.decision, d.decided_by], ['dismiss', 'sup']);
  await context.close();
});
