import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../shared/config/config.ts';
import { parseDuration } from '../../shared/config/env-reader.ts';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.problems.map((p) => p.variable);
  }
  assert.fail('expected a ConfigError');
}

test('an empty environment gives the local-machine defaults of the contract', () => {
  const c = loadConfig({});
  assert.equal(c.broker.url, 'amqp://guest:guest@127.0.0.1:5672');
  assert.equal(c.database.url, 'mysql://root@127.0.0.1:3306/vigil');
  assert.equal(c.broker.queuePrefix, '');
  assert.deepEqual(c.buckets, { source: 'video-avi', video: 'video-mp4', frames: 'unlabeled-images', library: 'video-library' });
  assert.equal(c.face.backend, 'auto');
  assert.equal(c.face.matchThreshold, 0.6);
  assert.equal(c.logLevel, 'info');
  assert.deepEqual(c.broker.retryDelaysMs, [5000, 30000, 120000, 600000]);
  assert.equal(c.broker.queueType, 'quorum');
  assert.equal(c.concurrency.facestreaming, 4);
});

test('values are read and converted', () => {
  const c = loadConfig({
    FACESTREAMING_CONCURRENCY: '12',
    FACE_MATCH_THRESHOLD: '0.45',
    VIGIL_RETRY_DELAYS: '1s, 500ms,2m',
    VIGIL_QUEUE_TYPE: 'classic',
    S3_CREATE_BUCKETS: 'no',
    VIGIL_QUEUE_PREFIX: 'tenant-a.',
  });
  assert.equal(c.concurrency.facestreaming, 12);
  assert.equal(c.face.matchThreshold, 0.45);
  assert.deepEqual(c.broker.retryDelaysMs, [1000, 500, 120000]);
  assert.equal(c.broker.queueType, 'classic');
  assert.equal(c.s3.createBuckets, false);
  assert.equal(c.broker.queuePrefix, 'tenant-a.');
});

const BAD: [variable: string, value: string, expected: RegExp][] = [
  ['AMQP_URL', 'http://localhost', /amqp:\/\//],
  ['DATABASE_URL', 'postgres://x/y', /mysql:\/\//],
  ['METRICS_PORT', '70000', /integer from 0 to 65535/],
  ['METRICS_PORT', '12a', /integer/],
  ['FACETRAINING_CONCURRENCY', '0', /integer from 1 to 256/],
  ['NOTIFIER_CONCURRENCY', 'many', /integer/],
  ['FACE_BACKEND', 'gpu', /one of auto, tensorflow, wasm, cpu/],
  ['FACE_MATCH_THRESHOLD', 'close', /number/],
  ['FACE_MATCH_THRESHOLD', '5', /number from 0.05 to 2/],
  ['LOG_LEVEL', 'loud', /one of fatal/],
  ['S3_ENDPOINT', 'minio:9000', /http:\/\//],
  ['SMTP_URL', 'mail.example.org', /smtp:\/\//],
  ['BUCKET_VIDEO', 'Bad_Bucket', /bucket name/],
  ['VIGIL_QUEUE_PREFIX', 'has space', /characters/],
  ['VIGIL_QUEUE_TYPE', 'stream', /quorum, classic/],
  ['VIGIL_RETRY_DELAYS', '5s,soon', /durations/],
  ['VIGIL_SHUTDOWN_TIMEOUT', 'forever', /duration/],
  ['S3_CREATE_BUCKETS', 'maybe', /true or false/],
  ['FACE_ALERT_TO', 'security-team', /http\(s\) URLs \(FACE_ALERT_CHANNEL is webhook\)/],
  ['FACE_ALERT_CHANNEL', 'sms', /one of email, webhook/],
  ['FACE_IMPERSONATION_WINDOW', '1', /integer from 2 to 50/],
  ['FACE_ABSENCE_STREAK', '0', /integer from 1/],
  ['VIGIL_RESCUE_AGE', 'old', /duration/],
];

test('facestreaming alerts: a route of email addresses, window and tolerances read from the environment', () => {
  const c = loadConfig({
    FACE_ALERT_CHANNEL: 'email',
    FACE_ALERT_TO: 'sec@example.org, ops@example.org',
    FACE_IMPERSONATION_WINDOW: '4',
    FACE_IMPERSONATION_MAX_DISTANCE: '0.1',
    FACE_IMPERSONATION_MAX_LANDMARK_SHIFT: '0.02',
    FACE_ABSENCE_STREAK: '10',
    VIGIL_RESCUE_AGE: '5m',
  });
  assert.deepEqual(c.face.alerts, { channel: 'email', to: ['sec@example.org', 'ops@example.org'] });
  assert.deepEqual(c.face.impersonation, { window: 4, maxDistance: 0.1, maxLandmarkShift: 0.02 });
  assert.equal(c.face.absenceStreak, 10);
  assert.equal(c.rescueAgeMs, 300_000);
  const d = loadConfig({});
  assert.deepEqual(d.face.alerts, { channel: 'webhook', to: [] });
  assert.deepEqual(d.face.impersonation, { window: 3, maxDistance: 0.12, maxLandmarkShift: 0.015 });
});

for (const [variable, value, expected] of BAD) {
  test(`a bad ${variable} (${JSON.stringify(value)}) is named with what was expected`, () => {
    try {
      loadConfig({ [variable]: value });
      assert.fail('expected a ConfigError');
    } catch (err) {
      assert.ok(err instanceof ConfigError, String(err));
      assert.equal(err.problems.length, 1);
      assert.equal(err.problems[0]!.variable, variable);
      const line = err.message;
      assert.ok(!line.includes('\n'), 'one line per variable');
      assert.match(line, new RegExp(`^invalid configuration: ${variable} must be`));
      assert.match(line, expected);
    }
  });
}

test('every bad variable is reported, one line each', () => {
  try {
    loadConfig({ METRICS_PORT: 'x', LOG_LEVEL: 'y', FACE_BACKEND: 'z' });
    assert.fail('expected a ConfigError');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    assert.deepEqual(err.message.split('\n').map((l) => l.split(' ')[2]), ['METRICS_PORT', 'FACE_BACKEND', 'LOG_LEVEL']);
  }
});

test('URLs and secrets are never echoed in an error', () => {
  try {
    loadConfig({ AMQP_URL: 'ftp://user:hunter2@host', S3_ACCESS_KEY_ID: 'AKIA123' });
    assert.fail('expected a ConfigError');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    assert.ok(!err.message.includes('hunter2'));
    assert.ok(!err.message.includes('AKIA123'));
    assert.deepEqual(err.problems.map((p) => p.variable), ['AMQP_URL', 'S3_SECRET_ACCESS_KEY']);
  }
});

test('X_FILE gives the value from a file (Docker secrets), without its trailing newline', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-config-'));
  writeFileSync(join(dir, 'amqp'), 'amqp://svc:s3cret@rabbit:5672\n');
  writeFileSync(join(dir, 'key'), 'AKIAEXAMPLE');
  writeFileSync(join(dir, 'secret'), 'wJalrXUtnFEMI\n');
  const c = loadConfig({ AMQP_URL_FILE: join(dir, 'amqp'), S3_ACCESS_KEY_ID_FILE: join(dir, 'key'), S3_SECRET_ACCESS_KEY_FILE: join(dir, 'secret') });
  assert.equal(c.broker.url, 'amqp://svc:s3cret@rabbit:5672');
  assert.equal(c.s3.accessKeyId, 'AKIAEXAMPLE');
  assert.equal(c.s3.secretAccessKey, 'wJalrXUtnFEMI');
});

test('X_FILE that cannot be read, or X and X_FILE both set, is named', () => {
  assert.deepEqual(problemsOf({ DATABASE_URL_FILE: '/nonexistent/secret' }), ['DATABASE_URL_FILE']);
  assert.deepEqual(problemsOf({ METRICS_PORT: '1', METRICS_PORT_FILE: '/etc/hostname' }), ['METRICS_PORT']);
});

test('durations', () => {
  assert.equal(parseDuration('5s'), 5000);
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('2m'), 120000);
  assert.equal(parseDuration('1h'), 3600000);
  assert.equal(parseDuration('1.5s'), 1500);
  assert.equal(parseDuration('7'), 7000);
  assert.equal(parseDuration('-1s'), undefined);
  assert.equal(parseDuration('soon'), undefined);
});
