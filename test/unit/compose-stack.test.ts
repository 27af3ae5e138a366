// The deployment a site runs for years (issue 16): every image pinned, every service
// healthchecked and waited on properly, ports unique, replicas from variables, the
// variables the services read set or defaulted, Prometheus scraping what the dashboard
// shows, and Metabase's user granted exactly the views `vigil migrate` creates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../services/config.ts';
import { availableServices } from '../../services/registry.ts';
import { createMetrics } from '../../shared/metrics.ts';
import { migrationNames } from '../../db/migrate.ts';
import { REPORT_VIEWS } from '../../db/migrations/20261201T1300-metabase-views.ts';
import {
  COMPOSE_DIR, COMPOSE_TEXT, PLATFORM_VARIABLES, baseName, dependsOn, envOf, envWithGeneratedSecrets, isOneShot, parseImage,
  portsOnEveryInterface, readYaml, secretMounts, services, upWaitProblems, variablesLoadConfigReads, vigilServices, workers,
} from '../helpers/compose-file.ts';
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
      // Only the first one, which makes the secrets, starts on its own.
      assert.ok(Object.keys(dependsOn(s)).length > 0 || name === 'make-secrets', `${name}: a one-shot that waits for nothing`);
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

test('`up -d --wait` can succeed with any set of profiles: every one-shot that runs is awaited by a service that runs', () => {
  assert.deepEqual(upWaitProblems(services), []);
  assert.ok(Object.values(services).some((s) => s.profiles?.includes('dashboards')));
});

test('a broken copy fails the cross-checks: a one-shot nobody awaits, a port on every interface', () => {
  const copy = structuredClone(services);
  delete (copy.grafana!.depends_on as Record<string, unknown>)['metabase-setup'];
  copy.mariadb!.ports = ['3306:3306'];
  assert.deepEqual(upWaitProblems(copy), ['[dashboards] one-shot metabase-setup is awaited by no service']);
  assert.deepEqual(portsOnEveryInterface(copy), ['mariadb: 3306:3306']);
  // And the original bug: metabase-grants outside the profile, awaited only inside it.
  const old = structuredClone(services);
  delete old['metabase-grants']!.profiles;
  assert.deepEqual(upWaitProblems(old), ['[] one-shot metabase-grants is awaited by no service']);
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

test('every published port is bound to 127.0.0.1 unless VIGIL_PUBLISH_ADDRESS says otherwise: nothing is exposed by default', () => {
  assert.deepEqual(portsOnEveryInterface(services), []);
  assert.ok(Object.values(services).some((s) => (s.ports ?? []).length > 0));
  const raw = [...COMPOSE_TEXT.matchAll(/^\s+- "([^"]*:\d+)"\s*$/gm)].map((m) => m[1]!);
  for (const p of raw) assert.ok(p.startsWith('${VIGIL_PUBLISH_ADDRESS:-127.0.0.1}:'), `port ${p} is not bound through VIGIL_PUBLISH_ADDRESS`);
});

test("MariaDB's buffer pool comes from VIGIL_DB_BUFFER_POOL, 2G unless set, not the server's 128 MiB", () => {
  const command = services.mariadb?.command as string[] | undefined;
  assert.ok(command?.includes('--innodb-buffer-pool-size=2G'), JSON.stringify(command));
  assert.ok(COMPOSE_TEXT.includes('"--innodb-buffer-pool-size=${VIGIL_DB_BUFFER_POOL:-2G}"'));
});

test('replicas come from <SERVICE>_REPLICAS with the intended defaults', () => {
  const expected: Record<string, number> = { facetraining: 1, facestreaming: 2, transcoder: 1, uploader: 1, notifier: 1, upkeep: 1, console: 1 };
  for (const name of availableServices()) {
    assert.match(COMPOSE_TEXT, new RegExp(`replicas: \\$\\{${name.toUpperCase()}_REPLICAS:-${expected[name]}\\}`), name);
    assert.equal(services[name]?.deploy?.replicas, expected[name], name);
  }
});

test('every variable the services read is set or defaulted for each service, and the ones a service needs are set', () => {
  const read = variablesLoadConfigReads();
  assert.ok(read.has('AMQP_URL') && read.has('FACE_BACKEND') && read.size > 30, `only ${read.size} variables found`);
  // Defaulted: the loader accepts an environment that sets none of them.
  assert.doesNotThrow(() => loadConfig({}));
  for (const [name, s] of vigilServices) {
    const env = envWithGeneratedSecrets(s);
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
  const config = loadConfig(envWithGeneratedSecrets(services.transcoder!));
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
  // The shovel moves dead letters back to their queue (README, "Dead letters").
  assert.match(plugins, /\brabbitmq_shovel\b/);
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
  // No grant on a whole database but Metabase's own (metabase_app, for its application data).
  const wholeDatabase = [...script.matchAll(/GRANT [^\n]* ON [^\n]*\*[^\n]*/g)].map((m) => m[0]);
  assert.deepEqual(wholeDatabase.map((g) => /"\$APP_DB_PATTERN"/.test(g)), wholeDatabase.map(() => true), 'a grant on a whole database other than metabase_app');
  const grants = services['metabase-grants']!;
  assert.deepEqual(grants.profiles, ['dashboards'], 'only a stack with Metabase needs its users');
  assert.deepEqual(dependsOn(grants).migrate, { condition: 'service_completed_successfully' });
  assert.ok((grants.volumes ?? []).includes('./metabase-grants.sh:/metabase-grants.sh:ro'));
  assert.deepEqual(secretMounts(grants).map((m) => m.subpath), ['mariadb']);
  assert.deepEqual(dependsOn(services.metabase!)['metabase-grants'], { condition: 'service_completed_successfully' });
  // Metabase is connected as that user, by the script test/integration/metabase-setup.test.ts runs,
  // on the Vigil image's Node (no second Node release in the stack).
  const setup = services['metabase-setup']!;
  assert.deepEqual(dependsOn(setup).metabase, { condition: 'service_healthy' });
  assert.ok((setup.volumes ?? []).includes('./metabase-setup.mjs:/metabase-setup.mjs:ro'));
  assert.equal(setup.image, services.facetraining!.image);
  assert.match(readFileSync(join(COMPOSE_DIR, 'metabase-setup.mjs'), 'utf8'), /user: env\.METABASE_DB_USER \?\? 'metabase'/);
  // Metabase's own data in the stack's MariaDB, not in H2.
  const mb = envOf(services.metabase!);
  assert.equal(mb.MB_DB_FILE, undefined);
  assert.deepEqual([mb.MB_DB_TYPE, mb.MB_DB_HOST, mb.MB_DB_DBNAME, mb.MB_DB_USER], ['mysql', 'mariadb', 'metabase_app', 'metabase_app']);
  assert.equal(mb.MB_DB_PASS, undefined, 'the password comes from a file, not the environment');
  assert.ok(mb.MB_DB_PASS_FILE);
  // The README's walk through the views names each one.
  const readme = readFileSync(join(COMPOSE_DIR, 'README.md'), 'utf8');
  for (const v of views) assert.match(readme, new RegExp(`\\| \`${v}\` \\|`), `compose/README.md does not describe ${v}`);
});
