import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger, redactUrl } from '../../shared/logger.ts';
import { lockName } from '../../shared/lock.ts';
import { parseDatabaseUrl } from '../../db/connection.ts';
import { PermanentError } from '../../shared/errors.ts';

function capture() {
  let out = '';
  const sink = new Writable({ write(c: Buffer, _e, cb) { out += c.toString(); cb(); } });
  return { logger: createLogger({ destination: sink }), text: () => out };
}

test('secrets and image bytes never reach a log line', () => {
  const { logger, text } = capture();
  const image = Buffer.from('JFIF-secret-face-bytes');
  logger.info({ image, row: { image, lan_id: 'NA\\ada' }, password: 'hunter2', s3: { secretAccessKey: 'wJalr' }, headers: { authorization: 'Bearer abc' } }, 'loaded');
  const line = text();
  for (const secret of ['JFIF', 'hunter2', 'wJalr', 'Bearer abc']) assert.ok(!line.includes(secret), secret);
  assert.ok(line.includes('[redacted]'));
});

test('errors are logged with their code and cause', () => {
  const { logger, text } = capture();
  logger.error({ err: new PermanentError('INVALID_IMAGE', 'not a JPEG', new Error('bad marker')) }, 'failed');
  const doc = JSON.parse(text());
  assert.equal(doc.err.code, 'INVALID_IMAGE');
  assert.match(doc.err.message, /not a JPEG/);
  assert.match(JSON.stringify(doc.err), /bad marker/);
});

test('URLs are logged without their password', () => {
  assert.equal(redactUrl('amqp://vigil:s3cret@rabbit:5672'), 'amqp://vigil:***@rabbit:5672');
  assert.equal(redactUrl('not a url'), '[unparseable url]');
});

test('lock names fit MySQL\'s 64 characters and differ by namespace', () => {
  const a = lockName('db1', 'x'.repeat(500));
  assert.ok(a.length <= 64);
  assert.notEqual(lockName('db1', 'NA\\ada'), lockName('db2', 'NA\\ada'));
  assert.equal(lockName('db1', 'NA\\ada'), lockName('db1', 'NA\\ada'));
});

test('DATABASE_URL is parsed with decoded credentials and a checked database name', () => {
  assert.deepEqual(parseDatabaseUrl('mysql://vigil:p%40ss@db.local:3307/vigil'), { host: 'db.local', port: 3307, user: 'vigil', password: 'p@ss', database: 'vigil' });
  assert.deepEqual(parseDatabaseUrl('mariadb://127.0.0.1/v'), { host: '127.0.0.1', port: 3306, user: 'root', password: undefined, database: 'v' });
  assert.throws(() => parseDatabaseUrl('mysql://h/bad;name'), /must name a database/);
  assert.throws(() => parseDatabaseUrl('mysql://h/'), /must name a database/);
});
