// Static checks of the Docker Compose deployment in compose/: there is no Docker engine in
// CI, so this is what keeps the files in step with the code (service names, environment
// variables, secrets, shutdown timing) and internally consistent. What a site running the
// stack for years needs on top (pinned images, health, ports, dashboards, Metabase) is
// checked in compose-stack.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadConfig } from '../../services/config.ts';
import { parseDuration } from '../../shared/config/env-reader.ts';
import { QUEUE_NAMES } from '../../shared/contract/queue-names.ts';
import { availableServices } from '../../services/registry.ts';
import {
  COMPOSE_DIR, CONTRACT_VARIABLES, EXAMPLES_DIR, PLATFORM_VARIABLES, SECRETS_PREFIX, baseName, compose, composeDurationMs,
  dependsOn, envOf, envWithExampleSecrets, exampleSecret, readYaml, secretNames, services, topSecrets, vigilServices, workers,
} from '../helpers/compose-file.ts';

test('the file is a Compose spec file with the Vigil services', () => {
  assert.equal(compose.version, undefined, 'the Compose spec has no top-level version');
  assert.ok(vigilServices.length > 0);
});

test('every service `vigil run` knows has a compose service running it from the Vigil image', () => {
  for (const name of availableServices()) {
    const s = services[name];
    assert.ok(s, `no compose service ${name}`);
    assert.deepEqual(s.command, ['run', name], name);
    assert.deepEqual(s.build, { context: '..', dockerfile: 'compose/Dockerfile' }, name);
    assert.ok((s.deploy?.replicas ?? 1) >= 1, name);
  }
  // Nothing else built from the image but the one-shot migration.
  assert.deepEqual(workers.map(([n]) => n).sort(), [...availableServices()].sort());
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
  // The image runs the Node release CI tests on (.ci/run's NODE_VERSION): bumped together.
  const ciNode = /^NODE_VERSION=(\d+\.\d+\.\d+)$/m.exec(readFileSync(join(COMPOSE_DIR, '../.ci/run'), 'utf8'))?.[1];
  assert.ok(ciNode, '.ci/run names no NODE_VERSION');
  assert.match(dockerfile, new RegExp(`^FROM node:${ciNode.replaceAll('.', '\\.')}-bookworm-slim$`, 'm'), `the base image is not Node ${ciNode}, the release CI tests on`);
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
