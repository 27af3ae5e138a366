// Static checks of the Docker Compose deployment in compose/: there is no Docker engine in
// CI, so this is what keeps the files in step with the code (service names, environment
// variables, secrets, shutdown timing) and internally consistent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { loadConfig } from '../../shared/config/config.ts';
import { parseDuration } from '../../shared/config/env-reader.ts';
import { QUEUE_NAMES } from '../../shared/contract/queue-names.ts';
import { createMetrics } from '../../shared/metrics.ts';
import { migrationNames } from '../../db/migrate.ts';
import { REPORT_VIEWS } from '../../db/migrations/20261201T1300-metabase-views.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const COMPOSE_DIR = join(ROOT, 'compose');
const EXAMPLES_DIR = join(COMPOSE_DIR, 'secrets.example');
const SECRETS_PREFIX = '/run/secrets/';

interface DependsOn {
  condition?: string;
}

interface Service {
  image?: string;
  entrypoint?: string[] | string;
  profiles?: string[];
  ports?: (string | { published?: string | number; target?: number })[];
  build?: { context?: string; dockerfile?: string } | string;
  command?: string[] | string;
  environment?: Record<string, string | number | boolean | null> | string[];
  secrets?: (string | { source: string; target?: string })[];
  volumes?: (string | { type?: string; source?: string; target?: string })[];
  depends_on?: Record<string, DependsOn> | string[];
  stop_grace_period?: string;
  restart?: string;
  healthcheck?: { test?: string[] | string; disable?: boolean };
  deploy?: { replicas?: number };
}

interface ComposeFile {
  version?: unknown;
  'x-vigil-env'?: Record<string, string>;
  services: Record<string, Service>;
  secrets?: Record<string, { file?: string }>;
  volumes?: Record<string, unknown>;
}

/**
 * Compose's interpolation with an empty environment: `${X:-default}` and `${X-default}`
 * become the default, `${X}` the empty string, `$$` a literal `$`. What `up` sees on a
 * host that sets none of the variables.
 */
function interpolate(text: string): string {
  return text.replace(/\$\$|\$\{([A-Z0-9_]+)(?::?-([^}]*))?\}/g, (m, _name: string | undefined, dflt: string | undefined) => (m === '$$' ? '$' : (dflt ?? '')));
}

function readYaml<T>(path: string, opts: { interpolate?: boolean } = {}): T {
  const text = readFileSync(path, 'utf8');
  // `merge: true` resolves `<<: *anchor` as Compose does.
  const doc = parseDocument(opts.interpolate ? interpolate(text) : text, { merge: true });
  assert.deepEqual(doc.errors.map(String), [], `${path} does not parse`);
  assert.deepEqual(doc.warnings.map(String), [], `${path} parses with warnings`);
  return doc.toJS() as T;
}

const COMPOSE_TEXT = readFileSync(join(COMPOSE_DIR, 'docker-compose.yml'), 'utf8');
const compose = readYaml<ComposeFile>(join(COMPOSE_DIR, 'docker-compose.yml'), { interpolate: true });
const services = compose.services;
const topSecrets = compose.secrets ?? {};

/** Services running the Vigil image: built from compose/Dockerfile. */
const vigilServices = Object.entries(services).filter(([, s]) => s.build !== undefined);
const workers = vigilServices.filter(([name]) => name !== 'migrate');

function envOf(service: Service): Record<string, string> {
  const env = service.environment ?? {};
  assert.ok(!Array.isArray(env), 'environment must be a map, so `<<: *vigil-env` can merge it');
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

function secretNames(service: Service): string[] {
  return (service.secrets ?? []).map((s) => (typeof s === 'string' ? s : s.source));
}

function dependsOn(service: Service): Record<string, DependsOn> {
  const d = service.depends_on ?? {};
  return Array.isArray(d) ? Object.fromEntries(d.map((n) => [n, {}])) : d;
}

/** Compose durations are Go durations: `60s`, `1m30s`, `500ms`. */
function composeDurationMs(text: string): number {
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 1e-3, µs: 1e-3, ns: 1e-6 };
  assert.match(text, /^(\d+(\.\d+)?(h|m|s|ms|us|µs|ns))+$/, `not a Compose duration: ${text}`);
  let total = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)/g)) total += Number(m[1]) * units[m[2]!]!;
  return total;
}

/** The contract's configuration variables (CONTRACT.md, "Configuration"). */
const CONTRACT_VARIABLES = new Set([
  'AMQP_URL', 'DATABASE_URL', 'VIGIL_QUEUE_PREFIX', 'S3_ENDPOINT', 'S3_REGION', 'S3_ACCESS_KEY_ID',
  'S3_SECRET_ACCESS_KEY', 'SMTP_URL', 'BUCKET_SOURCE', 'BUCKET_VIDEO', 'BUCKET_FRAMES', 'BUCKET_LIBRARY',
  'METRICS_PORT', 'FACE_BACKEND', 'FACE_MATCH_THRESHOLD', 'LOG_LEVEL',
  ...QUEUE_NAMES.map((q) => `${q.toUpperCase()}_CONCURRENCY`),
]);
/** Read by the platform rather than by loadConfig. */
const PLATFORM_VARIABLES = new Set(['TMPDIR']);

const baseName = (variable: string) => variable.replace(/_FILE$/, '');

/**
 * A service's environment with every `/run/secrets/x` path pointed at the example file of
 * secret x, so the real loader reads what an operator starts from.
 */
function envWithExampleSecrets(service: Service): Record<string, string> {
  const env = envOf(service);
  for (const [k, v] of Object.entries(env)) {
    if (!k.endsWith('_FILE')) continue;
    const file = topSecrets[v.slice(SECRETS_PREFIX.length)]?.file;
    assert.ok(file, `${k}: no secret behind ${v}`);
    env[k] = join(EXAMPLES_DIR, basename(file));
  }
  return env;
}

function exampleSecret(name: string): string {
  const file = topSecrets[name]?.file;
  assert.ok(file, `secret ${name} is not declared`);
  return readFileSync(join(EXAMPLES_DIR, basename(file)), 'utf8').replace(/\r?\n$/, '');
}

test('the file is a Compose spec file with the Vigil services', () => {
  assert.equal(compose.version, undefined, 'the Compose spec has no top-level version');
  assert.ok(vigilServices.length > 0);
});

test('every queue has a service running it from the Vigil image', () => {
  for (const name of QUEUE_NAMES) {
    const s = services[name];
    assert.ok(s, `no compose service ${name}`);
    assert.deepEqual(s.command, ['run', name], name);
    assert.deepEqual(s.build, { context: '..', dockerfile: 'compose/Dockerfile' }, name);
    assert.ok((s.deploy?.replicas ?? 1) >= 1, name);
  }
  // Nothing else built from the image but the one-shot migration.
  assert.deepEqual(workers.map(([n]) => n).sort(), [...QUEUE_NAMES].sort());
});

test('each service is given more time to stop than it takes to finish in-flight jobs', () => {
  for (const [name, s] of vigilServices) {
    const shutdown = parseDuration(envOf(s).VIGIL_SHUTDOWN_TIMEOUT ?? '30s');
    assert.ok(shutdown !== undefined, `${name}: VIGIL_SHUTDOWN_TIMEOUT is no duration`);
    assert.ok(s.stop_grace_period, `${name}: no stop_grace_period (Compose's default is 10s)`);
    const grace = composeDurationMs(s.stop_grace_period);
    assert.ok(grace > shutdown, `${name}: stop_grace_period ${grace} ms must exceed VIGIL_SHUTDOWN_TIMEOUT ${shutdown} ms`);
  }
});

test('every environment variable of a Vigil service is one the app reads', () => {
  for (const [name, s] of vigilServices) {
    for (const variable of Object.keys(envOf(s))) {
      const base = baseName(variable);
      assert.ok(
        CONTRACT_VARIABLES.has(base) || /^(VIGIL|FACE)_[A-Z_]+$/.test(base) || PLATFORM_VARIABLES.has(base),
        `${name}: ${variable} is not a variable Vigil reads`,
      );
    }
    // The pattern above would let a misspelt VIGIL_ or FACE_ name through: ask the loader itself.
    const read = new Set<string>();
    const env = envWithExampleSecrets(s);
    const spy = new Proxy(env, {
      get(target, key) {
        if (typeof key === 'string') read.add(key);
        return Reflect.get(target, key);
      },
    });
    loadConfig(spy);
    for (const variable of Object.keys(env)) {
      if (PLATFORM_VARIABLES.has(variable)) continue;
      assert.ok(read.has(variable), `${name}: loadConfig never reads ${variable}`);
    }
  }
});

test('every Vigil service keeps the whole base environment', () => {
  const base = compose['x-vigil-env'];
  assert.ok(base && Object.keys(base).length > 0, 'no x-vigil-env');
  for (const [name, s] of vigilServices) {
    const env = envOf(s);
    for (const [k, v] of Object.entries(base)) assert.equal(env[k], String(v), `${name}: ${k} (merge <<: *vigil-env)`);
  }
});

test('each worker sets its own concurrency and the values are the intended ones; the face services follow their threads', () => {
  const expected: Record<string, number> = { transcoder: 1, uploader: 2, notifier: 8 };
  for (const name of QUEUE_NAMES) {
    const config = loadConfig(envWithExampleSecrets(services[name]!));
    if (name === 'facetraining' || name === 'facestreaming') {
      // Unset on purpose: twice the face threads, whatever the host's cores.
      assert.equal(envOf(services[name]!)[`${name.toUpperCase()}_CONCURRENCY`], undefined, name);
      assert.equal(config.concurrency[name], 2 * config.face.workers, name);
    } else {
      assert.equal(config.concurrency[name], expected[name], name);
    }
  }
  assert.equal(services.facestreaming?.deploy?.replicas, 2);
});

test('*_FILE variables name secrets that are declared and mounted', () => {
  for (const [name, s] of vigilServices) {
    for (const [variable, value] of Object.entries(envOf(s))) {
      if (!variable.endsWith('_FILE')) continue;
      assert.ok(value.startsWith(SECRETS_PREFIX), `${name}: ${variable}=${value} is not under ${SECRETS_PREFIX}`);
      const secret = value.slice(SECRETS_PREFIX.length);
      assert.ok(topSecrets[secret], `${name}: ${variable} names undeclared secret ${secret}`);
      assert.ok(secretNames(s).includes(secret), `${name}: secret ${secret} is not mounted`);
    }
  }
  for (const [name, s] of Object.entries(services)) {
    for (const secret of secretNames(s)) assert.ok(topSecrets[secret], `${name}: undeclared secret ${secret}`);
  }
});

test('every file a service mounts exists; secrets have an example', () => {
  for (const [secret, { file }] of Object.entries(topSecrets)) {
    assert.ok(file, `secret ${secret} has no file`);
    if (file.startsWith('./secrets/')) {
      assert.ok(existsSync(join(EXAMPLES_DIR, file.slice('./secrets/'.length))), `no secrets.example/ file for ${file}`);
    } else {
      assert.ok(existsSync(resolve(COMPOSE_DIR, file)), `secret file ${file} is missing`);
    }
  }
  const named = new Set(Object.keys(compose.volumes ?? {}));
  for (const [name, s] of Object.entries(services)) {
    for (const v of s.volumes ?? []) {
      const source = typeof v === 'string' ? v.split(':')[0]! : v.source ?? '';
      if (/^[./~]/.test(source)) {
        assert.ok(existsSync(resolve(COMPOSE_DIR, source)), `${name}: bind mount ${source} is missing`);
      } else {
        assert.ok(named.has(source), `${name}: volume ${source} is not declared`);
      }
    }
  }
  for (const [name, s] of vigilServices) {
    const build = s.build as { context: string; dockerfile: string };
    assert.ok(existsSync(join(resolve(COMPOSE_DIR, build.context), build.dockerfile)), `${name}: no Dockerfile`);
  }
});

test('the example secrets agree with each other', () => {
  const amqp = new URL(exampleSecret('amqp_url'));
  const rabbit = exampleSecret('rabbitmq_default_user');
  assert.match(rabbit, new RegExp(`^default_user = ${amqp.username}$`, 'm'));
  assert.match(rabbit, new RegExp(`^default_pass = ${decodeURIComponent(amqp.password)}$`, 'm'));
  assert.equal(amqp.hostname, 'rabbitmq');

  const db = new URL(exampleSecret('database_url'));
  assert.equal(db.username, 'root');
  assert.equal(decodeURIComponent(db.password), exampleSecret('mariadb_root_password'));
  assert.equal(db.hostname, 'mariadb');

  // The usual S3 limits on a key pair (SeaweedFS takes any, others do not).
  assert.ok(exampleSecret('s3_access_key_id').length >= 3);
  assert.ok(exampleSecret('s3_secret_access_key').length >= 8);
  assert.ok(exampleSecret('metabase_db_password').length >= 8);
});

test('the infrastructure uses the same secrets as Vigil', () => {
  // The store's only identity is built from Vigil's own key pair at each start.
  const store = services.seaweedfs!;
  assert.deepEqual(secretNames(store).sort(), ['s3_access_key_id', 's3_secret_access_key']);
  const script = [store.command].flat().join('\n');
  for (const secret of ['s3_access_key_id', 's3_secret_access_key']) assert.match(script, new RegExp(`/run/secrets/${secret}\\b`));
  assert.equal(new URL(envOf(services.facetraining!).S3_ENDPOINT!).host, 'seaweedfs:8333');
  assert.equal(envOf(services.mariadb!).MARIADB_ROOT_PASSWORD_FILE, '/run/secrets/mariadb_root_password');
  const rabbitSecrets = services.rabbitmq!.secrets ?? [];
  assert.ok(
    rabbitSecrets.some((s) => typeof s === 'object' && s.source === 'rabbitmq_default_user' && s.target?.startsWith('/etc/rabbitmq/conf.d/')),
    'rabbitmq must read its user from a conf.d snippet',
  );
});

test('migrations run once, before any worker starts', () => {
  const migrate = services.migrate;
  assert.ok(migrate, 'no migrate service');
  // The schema first, then the doctor for every service: a broken host fails `up` here.
  assert.deepEqual(migrate.entrypoint, ['/bin/sh', '-c']);
  assert.deepEqual(migrate.command, ['node services/cli/bin.js migrate && exec node services/cli/bin.js doctor']);
  assert.equal(migrate.restart, 'no');
  assert.equal(dependsOn(migrate).migrate, undefined, 'migrate must not wait for itself');
  // The doctor checks the broker, the store, its buckets and SMTP too: all up first.
  for (const infra of ['mariadb', 'rabbitmq', 'seaweedfs', 'mailpit']) assert.equal(dependsOn(migrate)[infra]?.condition, 'service_healthy', infra);
  assert.equal(dependsOn(migrate).buckets?.condition, 'service_completed_successfully');
  for (const [name, s] of workers) {
    const deps = dependsOn(s);
    assert.equal(deps.migrate?.condition, 'service_completed_successfully', name);
    assert.equal(deps.rabbitmq?.condition, 'service_healthy', name);
    assert.equal(deps.mariadb?.condition, 'service_healthy', name);
  }
  for (const infra of ['rabbitmq', 'mariadb']) assert.ok(services[infra]?.healthcheck?.test, `${infra} has no healthcheck`);
});

test('RabbitMQ lets a transcoder job run for 2 hours before reclaiming it', () => {
  const conf = readFileSync(join(COMPOSE_DIR, 'rabbitmq.conf'), 'utf8');
  const m = /^consumer_timeout\s*=\s*(\d+)\s*$/m.exec(conf);
  assert.ok(m, 'rabbitmq.conf sets no consumer_timeout');
  assert.ok(Number(m[1]) >= 7_200_000, `consumer_timeout ${m[1]} ms is under 2 hours`);
  const mounts = (services.rabbitmq?.volumes ?? []).filter((v): v is string => typeof v === 'string');
  assert.ok(mounts.some((v) => /^\.\/rabbitmq\.conf:\/etc\/rabbitmq\/conf\.d\/[^:]+\.conf(:ro)?$/.test(v)), 'rabbitmq.conf is not mounted');
});

test('Prometheus scrapes every worker on its metrics port', () => {
  const prom = readYaml<{ scrape_configs: { job_name: string; dns_sd_configs?: { names: string[]; port: number }[] }[] }>(
    join(COMPOSE_DIR, 'prometheus.yml'),
  );
  for (const [name, s] of workers) {
    const job = prom.scrape_configs.find((j) => j.job_name === name);
    assert.ok(job, `no scrape job for ${name}`);
    const port = Number(envOf(s).METRICS_PORT ?? 9464);
    assert.ok(job.dns_sd_configs?.some((d) => d.names.includes(name) && d.port === port), `${name}: scrape target is not ${name}:${port}`);
  }
});

test('the Dockerfile installs ffmpeg and production dependencies and runs the CLI as non-root', () => {
  const dockerfile = readFileSync(join(COMPOSE_DIR, 'Dockerfile'), 'utf8');
  assert.match(dockerfile, /^FROM node:20\.\d+\.\d+-bookworm-slim$/m, 'the base image is pinned to a Node release');
  assert.match(dockerfile, /apt-get install[^\n]*--no-install-recommends[^\n]*\bffmpeg\b/);
  assert.match(dockerfile, /npm ci --omit=dev/);
  const users = [...dockerfile.matchAll(/^USER\s+(\S+)/gm)].map((m) => m[1]);
  assert.ok(users.length > 0 && !['root', '0'].includes(users.at(-1)!), 'the image must end as a non-root USER');
  assert.match(dockerfile, /^ENTRYPOINT\s+\[\s*"node",\s*"services\/cli\/bin\.js"\s*\]/m);
  for (const dir of ['services', 'shared', 'db']) {
    assert.match(dockerfile, new RegExp(`^COPY\\s+${dir}/?\\s+\\./${dir}/?\\s*$`, 'm'), `${dir}/ is not copied`);
  }
  // A named volume inherits the image directory's owner; it must be writable by USER.
  for (const [name, s] of vigilServices) {
    for (const v of s.volumes ?? []) {
      const target = typeof v === 'string' ? v.split(':')[1]! : v.target!;
      assert.match(dockerfile, new RegExp(`chown\\s+\\S+\\s+${target}\\b`), `${name}: ${target} is not made writable in the image`);
    }
  }
  const ignore = readFileSync(join(COMPOSE_DIR, 'Dockerfile.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
  for (const needed of ['services', 'shared', 'db', 'package.json', 'package-lock.json', 'tsconfig.json']) {
    assert.ok(!ignore.includes(needed), `${needed} must reach the build context`);
  }
  for (const excluded of ['node_modules', '.git', 'test', 'compose']) assert.ok(ignore.includes(excluded), `${excluded} is not ignored`);
});

// --- issue 16: a stack a site can run for years ----------------------------------------

/** A reference Compose pulls: `name[:tag][@sha256:…]`. */
function parseImage(ref: string): { name: string; tag?: string; digest?: string } {
  const m = /^([^@]+?)(?::([\w][\w.-]{0,127}))?(?:@(sha256:[0-9a-f]{64}))?$/.exec(ref);
  assert.ok(m, `not an image reference: ${ref}`);
  return { name: m[1]!, ...(m[2] && { tag: m[2] }), ...(m[3] && { digest: m[3] }) };
}

const isOneShot = (s: Service) => s.restart === 'no';

test('every pulled image is pinned: a version tag that is not latest, or a digest', () => {
  for (const [name, s] of Object.entries(services)) {
    if (s.build !== undefined) continue; // built here from compose/Dockerfile, whose FROM is checked below
    assert.ok(s.image, `${name}: no image`);
    const { tag, digest } = parseImage(s.image);
    assert.ok(digest || (tag && tag !== 'latest'), `${name}: ${s.image} floats (pin a version tag or a digest)`);
    assert.ok(!tag || /\d/.test(tag), `${name}: tag ${tag} names no version`);
  }
  // The raw file too: a `${VAR:-latest}` would pass the check above only by luck.
  assert.doesNotMatch(COMPOSE_TEXT, /image:\s*\S*:-?latest\b/);
  assert.ok(!Object.values(services).some((s) => s.image?.startsWith('minio/')), 'MinIO images are archived and no longer served');
});

test('every service is healthchecked, and every dependency waits on a condition it can meet', () => {
  for (const [name, s] of Object.entries(services)) {
    const hc = s.healthcheck;
    if (isOneShot(s)) {
      assert.equal(hc?.disable, true, `${name}: a one-shot has no health to check`);
      const waiters = Object.entries(services).filter(([, o]) => dependsOn(o)[name]);
      assert.ok(waiters.length > 0, `${name}: a one-shot nobody waits for`);
    } else {
      assert.ok(hc && !hc.disable && hc.test, `${name}: no healthcheck`);
    }
    for (const [dep, { condition }] of Object.entries(dependsOn(s))) {
      const target = services[dep];
      assert.ok(target, `${name} depends on unknown service ${dep}`);
      assert.ok(condition, `${name} → ${dep}: no condition (it would only wait for the start)`);
      const expected = isOneShot(target) ? 'service_completed_successfully' : 'service_healthy';
      assert.equal(condition, expected, `${name} → ${dep}`);
      // A service outside a profile must not wait for one inside it: `up` would not start it.
      if (target.profiles) assert.ok(s.profiles?.some((p) => target.profiles!.includes(p)), `${name} waits on ${dep}, which only runs in profile ${target.profiles}`);
    }
  }
});

test("the workers' healthcheck is /readyz on their metrics port; the image keeps /healthz and its non-root user", () => {
  for (const [name, s] of workers) {
    const probe = [s.healthcheck?.test].flat().join(' ');
    assert.match(probe, /\/readyz/, name);
    assert.match(probe, /process\.env\.METRICS_PORT\|\|9464/, name);
  }
  const dockerfile = readFileSync(join(COMPOSE_DIR, 'Dockerfile'), 'utf8');
  assert.match(dockerfile, /^HEALTHCHECK [\s\S]*\/healthz/m);
});

test('published host ports are unique, and replicated services publish none', () => {
  const seen = new Map<string, string>();
  for (const [name, s] of Object.entries(services)) {
    for (const p of s.ports ?? []) {
      const text = typeof p === 'string' ? p : `${p.published}:${p.target}`;
      const parts = text.split(':');
      assert.ok(parts.length >= 2, `${name}: port ${text} publishes a random host port; give it one`);
      const host = parts.slice(0, -1).join(':');
      assert.ok(!seen.has(host), `${name}: host port ${host} is already ${seen.get(host)}'s`);
      seen.set(host, name);
    }
  }
  for (const [name, s] of workers) assert.deepEqual(s.ports ?? [], [], `${name} runs replicas: a host port would clash`);
});

test('replicas come from <SERVICE>_REPLICAS with the intended defaults', () => {
  const expected: Record<string, number> = { facetraining: 1, facestreaming: 2, transcoder: 1, uploader: 1, notifier: 1 };
  for (const name of QUEUE_NAMES) {
    assert.match(COMPOSE_TEXT, new RegExp(`replicas: \\$\\{${name.toUpperCase()}_REPLICAS:-${expected[name]}\\}`), name);
    assert.equal(services[name]?.deploy?.replicas, expected[name], name);
  }
});

/** Every name loadConfig reads, found by running it: no second list to keep in step. */
function variablesLoadConfigReads(): Set<string> {
  const read = new Set<string>();
  loadConfig(new Proxy({} as Record<string, string>, { get: (_t, key) => (typeof key === 'string' && read.add(key), undefined) }));
  return new Set([...read].filter((v) => !v.endsWith('_FILE') || !read.has(v.slice(0, -'_FILE'.length))));
}

test('every variable the services read is set or defaulted for each service, and the ones a service needs are set', () => {
  const read = variablesLoadConfigReads();
  assert.ok(read.has('AMQP_URL') && read.has('FACE_BACKEND') && read.size > 30, `only ${read.size} variables found`);
  // Defaulted: the loader accepts an environment that sets none of them.
  assert.doesNotThrow(() => loadConfig({}));
  for (const [name, s] of vigilServices) {
    const env = envWithExampleSecrets(s);
    const config = loadConfig(env); // throws, naming the variable, when a set value is bad
    for (const v of Object.keys(envOf(s))) assert.ok(read.has(baseName(v)) || PLATFORM_VARIABLES.has(v), `${name}: ${v} is read by nothing`);
    // Set: what has no usable default in a stack of its own.
    assert.ok(config.broker.url.includes('@rabbitmq:'), `${name}: AMQP_URL`);
    assert.match(config.database.url, /@mariadb:3306\//, `${name}: DATABASE_URL`);
    assert.equal(config.s3.endpoint, 'http://seaweedfs:8333', `${name}: S3_ENDPOINT`);
    assert.ok(config.s3.accessKeyId && config.s3.secretAccessKey, `${name}: S3 credentials`);
    assert.ok(config.smtpUrl, `${name}: SMTP_URL (notifier sends mail, the doctor in migrate checks it)`);
  }
  // The buckets the one-shot creates are the ones the services use.
  const config = loadConfig(envWithExampleSecrets(services.transcoder!));
  const buckets = envOf(services.buckets!).BUCKETS!.split(/\s+/).sort();
  assert.deepEqual(buckets, [config.buckets.source, config.buckets.video, config.buckets.frames, config.buckets.library].sort());
  assert.deepEqual(dependsOn(services.migrate!).buckets, { condition: 'service_completed_successfully' });
});

/** RabbitMQ's series per /metrics/detailed family (rabbitmq_prometheus, "Detailed metrics" in its docs). */
const RABBITMQ_FAMILIES: Record<string, string[]> = {
  queue_coarse_metrics: ['rabbitmq_detailed_queue_messages_ready', 'rabbitmq_detailed_queue_messages_unacked', 'rabbitmq_detailed_queue_messages', 'rabbitmq_detailed_queue_process_reductions_total'],
  queue_consumer_count: ['rabbitmq_detailed_queue_consumers'],
};

interface ScrapeJob {
  job_name: string;
  metrics_path?: string;
  params?: Record<string, string[]>;
  static_configs?: { targets: string[] }[];
  dns_sd_configs?: { names: string[]; port: number }[];
}
const prometheus = readYaml<{ scrape_configs: ScrapeJob[] }>(join(COMPOSE_DIR, 'prometheus.yml'));

test('Prometheus scrapes only services that exist, RabbitMQ on its exporter port with the plugin enabled', () => {
  for (const job of prometheus.scrape_configs) {
    const hosts = [...(job.dns_sd_configs ?? []).flatMap((d) => d.names), ...(job.static_configs ?? []).flatMap((c) => c.targets.map((t) => t.split(':')[0]!))];
    assert.ok(hosts.length > 0, job.job_name);
    for (const h of hosts) assert.ok(services[h], `${job.job_name}: no service ${h}`);
  }
  const rabbit = prometheus.scrape_configs.find((j) => j.job_name === 'rabbitmq');
  assert.ok(rabbit, 'RabbitMQ is not scraped');
  assert.deepEqual(rabbit.static_configs, [{ targets: ['rabbitmq:15692'] }]);
  assert.equal(rabbit.metrics_path, '/metrics/detailed', 'the default /metrics has no per-queue series');
  const plugins = readFileSync(join(COMPOSE_DIR, 'rabbitmq-enabled-plugins'), 'utf8');
  assert.match(plugins, /^\[([a-z_]+,)*rabbitmq_prometheus(,[a-z_]+)*\]\.\s*$/);
  assert.ok((services.rabbitmq?.volumes ?? []).includes('./rabbitmq-enabled-plugins:/etc/rabbitmq/enabled_plugins:ro'));
});

test('every metric a dashboard queries is registered by the services or scraped from RabbitMQ', async () => {
  const dashboard = JSON.parse(readFileSync(join(COMPOSE_DIR, 'grafana-dashboard-vigil.json'), 'utf8')) as { panels: { title: string; targets: { expr: string }[] }[] };
  const registered = new Set((await createMetrics().registry.getMetricsAsJSON()).map((m) => m.name));
  const families = prometheus.scrape_configs.find((j) => j.job_name === 'rabbitmq')?.params?.family ?? [];
  const fromRabbit = new Set(families.flatMap((f) => RABBITMQ_FAMILIES[f] ?? assert.fail(`unknown RabbitMQ family ${f}`)));
  const used = new Set<string>();
  for (const p of dashboard.panels) {
    for (const { expr } of p.targets) {
      // Metric names: identifiers not followed by `(` (functions) nor inside `{…}` or `by (…)`.
      const names = expr.replace(/\{[^}]*\}/g, '').replace(/\b(by|without)\s*\([^)]*\)/g, '').match(/\b[a-z_][a-z0-9_]*\b(?!\s*\()/g) ?? [];
      for (const n of names.filter((n) => n.includes('_') && !/^\d/.test(n))) {
        const base = n.replace(/_(bucket|sum|count)$/, '');
        used.add(base);
        assert.ok(registered.has(base) || fromRabbit.has(n), `${p.title}: ${n} is neither registered nor scraped`);
      }
    }
  }
  for (const m of ['rabbitmq_detailed_queue_messages', 'vigil_face_backend_info']) assert.ok(used.has(m), `${m} has no panel`);
});

test("the views Metabase's user is granted are the ones vigil migrate creates", () => {
  // The migration that creates them is one vigil migrate applies.
  assert.ok(migrationNames().includes('20261201T1300-metabase-views'));
  const views = Object.keys(REPORT_VIEWS);
  assert.ok(views.length >= 6);
  // metabase-grants.sh grants every report_* view that exists after migrate, and only those.
  const script = readFileSync(join(COMPOSE_DIR, 'metabase-grants.sh'), 'utf8');
  assert.match(script, /TABLE_NAME LIKE 'report\\\\_%'/);
  for (const v of views) assert.match(v, /^report_[a-z_]+$/);
  assert.doesNotMatch(script, /GRANT [^\n]* ON [^\n]*\*/, 'no grant on a whole database');
  const grants = services['metabase-grants']!;
  assert.deepEqual(dependsOn(grants).migrate, { condition: 'service_completed_successfully' });
  assert.ok((grants.volumes ?? []).includes('./metabase-grants.sh:/metabase-grants.sh:ro'));
  assert.deepEqual(secretNames(grants).sort(), ['mariadb_root_password', 'metabase_db_password']);
  assert.deepEqual(dependsOn(services.metabase!)['metabase-grants'], { condition: 'service_completed_successfully' });
  // The README's walk through the views names each one.
  const readme = readFileSync(join(COMPOSE_DIR, 'README.md'), 'utf8');
  for (const v of views) assert.match(readme, new RegExp(`\\| \`${v}\` \\|`), `compose/README.md does not describe ${v}`);
});
