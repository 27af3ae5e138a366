import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../services/config.ts';
import { parseByteSize } from '../../shared/config/env-reader.ts';
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
  // The face services keep two messages per face thread in hand (one analysing, one on the database or the lock).
  assert.equal(c.concurrency.facestreaming, 2 * c.face.workers);
  assert.equal(c.concurrency.facetraining, 2 * c.face.workers);
  const three = loadConfig({ FACE_WORKERS: '3' });
  assert.deepEqual([three.concurrency.facetraining, three.concurrency.facestreaming, three.concurrency.transcoder], [6, 6, 1]);
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
  ['FFMPEG_PATH_FILE', '/nonexistent/ffmpeg-path', /readable file/],
  ['FFPROBE_PATH_FILE', '/nonexistent/ffprobe-path', /readable file/],
  ['VIGIL_WORK_DIR', 'relative/work', /absolute path/],
  ['TRANSCODER_MIN_FREE_DISK', 'plenty', /size like 2GiB/],
  ['TRANSCODER_MIN_FREE_DISK', '2 PB', /size like 2GiB/],
  ['TRANSCODER_STALL_TIMEOUT', '1s', /duration/],
  ['TRANSCODER_TIME_LIMIT', 'never', /duration/],
  ['TRANSCODER_PRESET', 'placebo', /one of ultrafast/],
  ['TRANSCODER_CRF', '52', /integer from 0 to 51/],
  ['TRANSCODER_BLACK_PIXEL_THRESHOLD', '300', /integer from 0 to 255/],
  ['TRANSCODER_BLACK_PERCENT', '0', /number from 1 to 100/],
  ['TRANSCODER_FREEZE_NOISE_DB', '10', /number from -120 to 0/],
  ['TRANSCODER_FREEZE_SECONDS', 'long', /number/],
  ['TRANSCODER_BLUR_THRESHOLD', '-1', /number from 0.1/],
  ['TRANSCODER_SPLIT_ABOVE_SECONDS', '0', /number from 1/],
  ['TRANSCODER_CLIP_SECONDS', 'two minutes', /number/],
  ['TRANSCODER_FRAME_EVERY', '0', /integer from 1 to 10000/],
  ['TRANSCODER_FRAME_WIDTH', '8', /integer from 16/],
  ['TRANSCODER_FRAME_HEIGHT', '720p', /integer/],
  ['TRANSCODER_DROP_DEAD_FRAMES', 'sometimes', /true or false/],
  ['TRANSCODER_DELETE_SOURCE', 'later', /true or false/],
  ['TRANSCODER_FADE_SECONDS', '90', /number from 0 to 60/],
  ['TRANSCODER_FRAME_UPLOADS', '0', /integer from 1 to 64/],
];

test('transcoder: defaults follow the contract and the media layer; values are read', () => {
  const d = loadConfig({});
  assert.equal(d.media.ffmpegPath, 'ffmpeg');
  assert.equal(d.media.ffprobePath, 'ffprobe');
  assert.equal(d.media.workDir, join(tmpdir(), 'vigil'));
  assert.deepEqual(d.transcoder, {
    minFreeDiskBytes: 2 * 1024 ** 3,
    stallTimeoutMs: 60_000,
    timeLimitMs: 3 * 3_600_000,
    encode: { preset: 'veryfast', crf: 23 },
    dead: { blackPixelThreshold: 32, blackPercent: 98, freezeNoiseDb: -60, freezeMinSeconds: 2, blurThreshold: 12 },
    frameUploads: 8,
    split: { maxSeconds: 240, clipSeconds: 120 },
    frames: { every: 10, width: 1280, height: 720, dropDead: true },
    deleteSource: true,
    fadeSeconds: 3,
    maxDeaths: 3,
    maxMemoryBytes: Math.max(4 * 1024 ** 3, availableParallelism() * 192 * 1024 ** 2),
    limits: { maxSeconds: 43_200, maxWidth: 4096, maxHeight: 4096, maxPixels: 9_437_184, maxFps: 240, maxClips: 1000, maxFrames: 20_000 },
    nextQueues: ['uploader'],
    extraBuckets: [],
  });
  assert.equal(d.concurrency.transcoder, 1);
  const c = loadConfig({
    FFMPEG_PATH: '/opt/ffmpeg/bin/ffmpeg',
    VIGIL_WORK_DIR: '/var/lib/vigil',
    TRANSCODER_MIN_FREE_DISK: '500MB',
    TRANSCODER_STALL_TIMEOUT: '2m',
    TRANSCODER_PRESET: 'ultrafast',
    TRANSCODER_BLUR_THRESHOLD: '12.5',
    TRANSCODER_DELETE_SOURCE: 'false',
  });
  assert.equal(c.media.ffmpegPath, '/opt/ffmpeg/bin/ffmpeg');
  assert.equal(c.media.workDir, '/var/lib/vigil');
  assert.equal(c.transcoder.minFreeDiskBytes, 500_000_000);
  assert.equal(c.transcoder.stallTimeoutMs, 120_000);
  assert.equal(c.transcoder.encode.preset, 'ultrafast');
  assert.equal(c.transcoder.dead.blurThreshold, 12.5);
  assert.equal(c.transcoder.deleteSource, false);
  const lists = loadConfig({ TRANSCODER_NEXT_QUEUES: 'uploader, notifier,uploader', TRANSCODER_OUTPUT_BUCKETS: 'video-library,talks' });
  assert.deepEqual([lists.transcoder.nextQueues, lists.transcoder.extraBuckets], [['uploader', 'notifier'], ['video-library', 'talks']]);
  assert.throws(() => loadConfig({ TRANSCODER_NEXT_QUEUES: 'uploader,elsewhere', TRANSCODER_OUTPUT_BUCKETS: 'Bad_Bucket' }), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.deepEqual(err.problems.map((p) => [p.variable, p.got]), [['TRANSCODER_NEXT_QUEUES', 'elsewhere'], ['TRANSCODER_OUTPUT_BUCKETS', 'Bad_Bucket']]);
    return true;
  });
});

test('byte sizes', () => {
  assert.equal(parseByteSize('2GiB'), 2 * 1024 ** 3);
  assert.equal(parseByteSize('1.5 gb'), 1.5e9);
  assert.equal(parseByteSize('512KiB'), 512 * 1024);
  assert.equal(parseByteSize('2048'), 2048 * 1024 ** 2);
  assert.equal(parseByteSize('0'), 0);
  assert.equal(parseByteSize('10B'), 10);
  assert.equal(parseByteSize('-1GiB'), undefined);
  assert.equal(parseByteSize('lots'), undefined);
});

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

test('uploader: defaults; Facebook only when page and token are both set, the token never echoed; library store, URL and copy sizes', () => {
  const d = loadConfig({}).uploader;
  assert.deepEqual(d.defaultTargets, ['library']);
  assert.deepEqual(d.extraSourceBuckets, []);
  assert.equal(d.facebook, undefined);
  assert.equal(d.rateLimitWaitMs, 6 * 3_600_000);
  assert.equal(d.maxPostpones, 8);
  assert.equal(d.sweepIntervalMs, 60_000);
  assert.deepEqual(d.library, { store: undefined, publicUrl: undefined, multipartCopyAboveBytes: 5 * 1024 ** 3, copyPartBytes: 512 * 1024 ** 2 });

  const dir = mkdtempSync(join(tmpdir(), 'vigil-config-'));
  writeFileSync(join(dir, 'token'), 'EAAB-page-token\n');
  const u = loadConfig({
    UPLOADER_DEFAULT_TARGETS: 'library, facebook',
    UPLOADER_SOURCE_BUCKETS: 'talks-2026,talks-2026',
    FACEBOOK_GRAPH_URL: 'http://127.0.0.1:8080/',
    FACEBOOK_API_VERSION: 'v23.0',
    FACEBOOK_PAGE_ID: '104857600000001',
    FACEBOOK_PAGE_TOKEN_FILE: join(dir, 'token'),
    FACEBOOK_REQUEST_TIMEOUT: '30s',
    FACEBOOK_CHUNK_RETRIES: '2',
    FACEBOOK_CHUNK_RETRY_DELAY: '250ms',
    FACEBOOK_RATE_LIMIT_WAIT: '30m',
    FACEBOOK_MAX_POSTPONES: '3',
    UPLOADER_SWEEP_INTERVAL: '5s',
    LIBRARY_S3_ENDPOINT: 'https://library.example.org',
    LIBRARY_S3_ACCESS_KEY_ID: 'LIBKEY',
    LIBRARY_S3_SECRET_ACCESS_KEY: 'LIBSECRET',
    LIBRARY_PUBLIC_URL: 'https://videos.example.org/talks/',
    LIBRARY_MULTIPART_COPY_ABOVE: '1GiB',
    LIBRARY_COPY_PART_SIZE: '64MiB',
  }).uploader;
  assert.deepEqual(u.defaultTargets, ['library', 'facebook']);
  assert.deepEqual(u.extraSourceBuckets, ['talks-2026']);
  assert.deepEqual(u.facebook, {
    baseUrl: 'http://127.0.0.1:8080', apiVersion: 'v23.0', pageId: '104857600000001', accessToken: 'EAAB-page-token',
    requestTimeoutMs: 30_000, chunkRetries: 2, retryDelayMs: 250,
  });
  assert.equal(u.rateLimitWaitMs, 30 * 60_000);
  assert.equal(u.maxPostpones, 3);
  assert.equal(u.sweepIntervalMs, 5_000);
  assert.deepEqual(u.library, {
    store: { endpoint: 'https://library.example.org', region: 'us-east-1', accessKeyId: 'LIBKEY', secretAccessKey: 'LIBSECRET', createBuckets: true },
    publicUrl: 'https://videos.example.org/talks',
    multipartCopyAboveBytes: 1024 ** 3,
    copyPartBytes: 64 * 1024 ** 2,
  });

  assert.deepEqual(problemsOf({ FACEBOOK_PAGE_TOKEN: 'EAAB-secret' }), ['FACEBOOK_PAGE_ID']);
  assert.deepEqual(problemsOf({ FACEBOOK_PAGE_ID: '1234' }), ['FACEBOOK_PAGE_TOKEN']);
  assert.deepEqual(
    problemsOf({ UPLOADER_DEFAULT_TARGETS: 'youtube', UPLOADER_SOURCE_BUCKETS: 'Bad_Bucket', FACEBOOK_PAGE_ID: 'my-page', FACEBOOK_API_VERSION: '24', LIBRARY_COPY_PART_SIZE: '1MiB', LIBRARY_S3_ACCESS_KEY_ID: 'K' }),
    ['UPLOADER_DEFAULT_TARGETS', 'UPLOADER_SOURCE_BUCKETS', 'FACEBOOK_API_VERSION', 'FACEBOOK_PAGE_ID', 'LIBRARY_S3_SECRET_ACCESS_KEY', 'LIBRARY_COPY_PART_SIZE'],
  );
  try {
    loadConfig({ FACEBOOK_PAGE_TOKEN: 'EAAB-secret', FACEBOOK_GRAPH_URL: 'ftp://x' });
    assert.fail('expected a ConfigError');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    assert.ok(!err.message.includes('EAAB-secret'));
  }
});

test('notifier: defaults; webhook targets, allow-list and rate limit read; the secret and target URLs never echoed', () => {
  const d = loadConfig({}).notifier;
  assert.deepEqual(d, {
    smtpFrom: 'Vigil <vigil@localhost>', smtpTlsRejectUnauthorized: true, smtpTimeoutMs: 30_000,
    webhooks: {}, webhookAllow: [], webhookSecret: undefined, webhookTimeoutMs: 10_000,
    rateLimit: { max: 10, windowMs: 3_600_000 }, sendingTimeoutMs: 120_000,
  });
  assert.deepEqual(loadConfig({}).upkeep, {
    tickMs: 15_000, rescueIntervalMs: 300_000, digestIntervalMs: 7_200_000, deadLetterIntervalMs: 300_000,
    supervisors: { channel: 'email', to: [] }, retentionIntervalMs: 3_600_000, streamImageRetentionDays: 30,
    reportRollupIntervalMs: 60_000, streamRowRetentionDays: 0,
  });
  assert.deepEqual(loadConfig({
    NOTIFIER_UPKEEP_TICK: '5s', NOTIFIER_RESCUE_INTERVAL: '0', NOTIFIER_DIGEST_INTERVAL: '4h', NOTIFIER_DEAD_LETTER_INTERVAL: '1m',
    NOTIFIER_SUPERVISORS_CHANNEL: 'webhook', NOTIFIER_SUPERVISORS: 'ops, teams', NOTIFIER_RETENTION_INTERVAL: '30m', VIGIL_STREAM_IMAGE_RETENTION_DAYS: '0',
    VIGIL_REPORT_ROLLUP_INTERVAL: '5m', VIGIL_STREAM_ROW_RETENTION_DAYS: '400',
  }).upkeep, {
    tickMs: 5_000, rescueIntervalMs: 0, digestIntervalMs: 4 * 3_600_000, deadLetterIntervalMs: 60_000,
    supervisors: { channel: 'webhook', to: ['ops', 'teams'] }, retentionIntervalMs: 1_800_000, streamImageRetentionDays: 0,
    reportRollupIntervalMs: 300_000, streamRowRetentionDays: 400,
  });
  assert.deepEqual(problemsOf({ NOTIFIER_SUPERVISORS: 'ops', NOTIFIER_SUPERVISORS_CHANNEL: 'pager', VIGIL_STREAM_IMAGE_RETENTION_DAYS: '-1' }), ['NOTIFIER_SUPERVISORS_CHANNEL', 'NOTIFIER_SUPERVISORS', 'VIGIL_STREAM_IMAGE_RETENTION_DAYS']);
  const dir = mkdtempSync(join(tmpdir(), 'vigil-notifier-'));
  writeFileSync(join(dir, 'secret'), 'whsec-from-file\n');
  const n = loadConfig({
    SMTP_FROM: 'Alerts <alerts@example.org>', SMTP_TLS_REJECT_UNAUTHORIZED: 'false', SMTP_TIMEOUT: '5s',
    NOTIFIER_WEBHOOKS: 'ops=https://hooks.slack.com/services/T/B/x, teams=https://teams.example.org/hook',
    NOTIFIER_WEBHOOK_ALLOW: 'https://hooks.example.org/vigil/',
    NOTIFIER_WEBHOOK_SECRET_FILE: join(dir, 'secret'),
    NOTIFIER_WEBHOOK_TIMEOUT: '3s', NOTIFIER_RATE_LIMIT: '5/30m', NOTIFIER_SENDING_TIMEOUT: '10m',
  }).notifier;
  assert.deepEqual(n, {
    smtpFrom: 'Alerts <alerts@example.org>', smtpTlsRejectUnauthorized: false, smtpTimeoutMs: 5_000,
    webhooks: { ops: 'https://hooks.slack.com/services/T/B/x', teams: 'https://teams.example.org/hook' },
    webhookAllow: ['https://hooks.example.org/vigil/'], webhookSecret: 'whsec-from-file', webhookTimeoutMs: 3_000,
    rateLimit: { max: 5, windowMs: 30 * 60_000 }, sendingTimeoutMs: 600_000,
  });
  assert.deepEqual(loadConfig({ NOTIFIER_RATE_LIMIT: '20' }).notifier.rateLimit, { max: 20, windowMs: 3_600_000 });
  assert.equal(loadConfig({ NOTIFIER_RATE_LIMIT: '0' }).notifier.rateLimit.max, 0);
  assert.deepEqual(
    problemsOf({ SMTP_FROM: 'nobody', SMTP_TLS_REJECT_UNAUTHORIZED: 'maybe', NOTIFIER_WEBHOOKS: 'ops=ftp://x', NOTIFIER_WEBHOOK_ALLOW: 'https://u:p@x.example/', NOTIFIER_RATE_LIMIT: '10 per hour' }),
    ['SMTP_FROM', 'SMTP_TLS_REJECT_UNAUTHORIZED', 'NOTIFIER_WEBHOOKS', 'NOTIFIER_WEBHOOK_ALLOW', 'NOTIFIER_RATE_LIMIT'],
  );
  assert.deepEqual(problemsOf({ NOTIFIER_WEBHOOKS: 'a=https://x.example/,a=https://y.example/' }), ['NOTIFIER_WEBHOOKS']);
  try {
    loadConfig({ NOTIFIER_WEBHOOKS: 'ops=https://hooks.example.org/T/secret-token,broken' });
    assert.fail('expected a ConfigError');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    assert.ok(!err.message.includes('secret-token'));
  }
});
