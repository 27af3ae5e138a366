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
  COMPOSE_DIR, CONTRACT_VARIABLES, PLATFORM_VARIABLES, baseName, compose, composeDurationMs, dependsOn, envOf,
  envWithGeneratedSecrets, readYaml, secretMounts, secretNames, secretPath, secretValue, services, vigilServices, workers,
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
    const env = envWithGeneratedSecrets(s);
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
    const config = loadConfig(envWithGeneratedSecrets(services[name]!));
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

test('every *_FILE a service reads is a file make-secrets writes into the folder it mounts; no Compose secrets are left', () => {
  assert.equal(compose.secrets, undefined, 'top-level secrets need files on the host before `up`');
  let files = 0;
  for (const [name, s] of Object.entries(services)) {
    assert.deepEqual(secretNames(s), [], `${name}: a Compose secret`);
    for (const [variable, value] of Object.entries(envOf(s))) {
      if (!/_FILE$/.test(variable)) continue;
      assert.ok(value.startsWith('/run/'), `${name}: ${variable}=${value} is not a mounted secret`);
      const file = secretPath(s, value);
      assert.ok(file && existsSync(file), `${name}: ${variable}=${value} is not written by make-secrets into the folder ${name} mounts`);
      files++;
    }
  }
  assert.ok(files >= 12, `only ${files} secret files read`);
});

test('every file a service mounts exists', () => {
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
  // The site's folder, mounted by make-secrets, exists in every checkout and only its README is tracked.
  assert.ok(existsSync(join(COMPOSE_DIR, 'secrets', 'README.md')));
  assert.match(readFileSync(join(COMPOSE_DIR, '../.gitignore'), 'utf8'), /^compose\/secrets\/\*$/m);
});

test('the generated secrets agree with each other: each user is the one its password is set for', () => {
  const at = (service: string, path: string) => secretValue(services[service]!, path);
  const amqp = new URL(at('facetraining', '/run/secrets/amqp_url'));
  const rabbit = readFileSync(secretPath(services.rabbitmq!, '/run/secrets/default-user.conf')!, 'utf8');
  assert.match(rabbit, new RegExp(`^default_user = ${amqp.username}$`, 'm'));
  assert.match(rabbit, new RegExp(`^default_pass = ${decodeURIComponent(amqp.password)}$`, 'm'));
  assert.equal(amqp.hostname, 'rabbitmq');

  // The services connect as the DML user, never root; the schema is changed by the migrator.
  const db = new URL(at('facetraining', '/run/secrets/database_url'));
  assert.equal(db.username, 'vigil');
  assert.equal(decodeURIComponent(db.password), at('db-users', '/run/secrets/vigil_password'));
  assert.equal(db.hostname, 'mariadb');
  const migrator = new URL(at('migrate', '/run/migrator-secrets/database_url'));
  assert.equal(migrator.username, 'vigil_migrator');
  assert.equal(decodeURIComponent(migrator.password), at('db-users', '/run/secrets/migrator_password'));
  assert.equal(migrator.pathname, db.pathname);
  const users = readFileSync(join(COMPOSE_DIR, 'db-users.sh'), 'utf8');
  assert.match(users, /VIGIL_DB_USER:-vigil\}/);
  assert.match(users, /MIGRATOR_DB_USER:-vigil_migrator\}/);
  assert.equal(at('mariadb', '/run/secrets/root_password'), at('db-users', '/run/secrets/root_password'));

  // Metabase: the read-only user metabase-setup connects as, and its own application database.
  assert.equal(at('metabase-setup', '/run/secrets/db_password'), at('metabase-grants', '/run/secrets/metabase_password'));
  assert.equal(at('metabase', '/run/secrets/app_db_password'), at('metabase-grants', '/run/secrets/metabase_app_password'));
  assert.equal(envOf(services.metabase!).MB_DB_USER, 'metabase_app');
  assert.match(readFileSync(join(COMPOSE_DIR, 'metabase-grants.sh'), 'utf8'), /METABASE_APP_DB_USER:-metabase_app\}/);

  // The store's only identity is Vigil's own key pair.
  for (const key of ['s3_access_key_id', 's3_secret_access_key']) {
    assert.equal(at('seaweedfs', `/run/secrets/${key}`), at('facetraining', `/run/secrets/${key}`), key);
  }
  assert.ok(at('facetraining', '/run/secrets/s3_secret_access_key').length >= 32);
});

test('each container mounts only its own folder of the secrets, read-only; make-secrets alone writes them', () => {
  const expected: Record<string, string[]> = {
    ...Object.fromEntries(workers.map(([n]) => [n, ['vigil']])),
    migrate: ['vigil', 'migrator'],
    mariadb: ['mariadb'], 'db-users': ['mariadb'], 'metabase-grants': ['mariadb'],
    rabbitmq: ['rabbitmq'], seaweedfs: ['seaweedfs'],
    metabase: ['metabase'], 'metabase-setup': ['metabase'], grafana: ['grafana'],
  };
  for (const [name, s] of Object.entries(services)) {
    const mounts = secretMounts(s);
    if (name === 'make-secrets') {
      assert.deepEqual(mounts.map((m) => [m.subpath, m.readOnly]), [[undefined, false]]);
      continue;
    }
    assert.deepEqual(mounts.map((m) => m.subpath), expected[name] ?? [], name);
    for (const m of mounts) assert.ok(m.readOnly, `${name}: ${m.subpath} is writable`);
    // Whoever reads secrets waits for them (directly or through what it waits for).
    if (mounts.length > 0) assert.ok(waitsFor(name, 'make-secrets'), `${name} does not wait for make-secrets`);
  }
  // The store and the broker read theirs where their images look.
  const store = [services.seaweedfs!.command].flat().join('\n');
  for (const key of ['s3_access_key_id', 's3_secret_access_key']) assert.match(store, new RegExp(`/run/secrets/${key}\\b`));
  assert.match([services.rabbitmq!.entrypoint].flat().join(' '), /\/run\/secrets\/default-user\.conf \/etc\/rabbitmq\/conf\.d\/30-default-user\.conf/);
  assert.equal(envOf(services.mariadb!).MARIADB_ROOT_PASSWORD_FILE, '/run/secrets/root_password');
  assert.equal(new URL(envOf(services.facetraining!).S3_ENDPOINT!).host, 'seaweedfs:8333');
});

function waitsFor(name: string, target: string, seen = new Set<string>()): boolean {
  if (seen.has(name)) return false;
  seen.add(name);
  return Object.keys(dependsOn(services[name]!)).some((d) => d === target || waitsFor(d, target, seen));
}

test('migrations run once, before any worker starts', () => {
  const migrate = services.migrate;
  assert.ok(migrate, 'no migrate service');
  // The schema first, then the doctor for every service: a broken host fails `up` here.
  assert.deepEqual(migrate.entrypoint, ['/bin/sh', '-c']);
  // The schema as the migrator, the doctor as the services connect (its database check then proves their grants).
  assert.deepEqual(migrate.command, ['DATABASE_URL_FILE=/run/migrator-secrets/database_url node services/cli/bin.js migrate && exec node services/cli/bin.js doctor']);
  assert.equal(envOf(migrate).DATABASE_URL_FILE, '/run/secrets/database_url');
  assert.equal(migrate.restart, 'no');
  assert.equal(dependsOn(migrate).migrate, undefined, 'migrate must not wait for itself');
  // The doctor checks the broker, the store, its buckets and SMTP too: all up first.
  for (const infra of ['mariadb', 'rabbitmq', 'seaweedfs', 'mailpit']) assert.equal(dependsOn(migrate)[infra]?.condition, 'service_healthy', infra);
  assert.equal(dependsOn(migrate).buckets?.condition, 'service_completed_successfully');
  assert.equal(dependsOn(migrate)['db-users']?.condition, 'service_completed_successfully', 'the users exist before the schema');
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
      if (typeof v === 'object' && v.source === 'secrets') continue; // read-only, made by make-secrets
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
