// The compose/ files, parsed as Compose reads them, and the helpers the static tests of
// the deployment share (test/unit/compose.test.ts, compose-stack.test.ts, readme.test.ts).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { loadConfig } from '../../services/config.ts';
import { QUEUE_NAMES } from '../../shared/contract/queue-names.ts';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const COMPOSE_DIR = join(ROOT, 'compose');
export const SECRETS_PREFIX = '/run/secrets/';

export interface DependsOn {
  condition?: string;
}

export interface Service {
  image?: string;
  entrypoint?: string[] | string;
  profiles?: string[];
  ports?: (string | { host_ip?: string; published?: string | number; target?: number })[];
  build?: { context?: string; dockerfile?: string } | string;
  command?: string[] | string;
  environment?: Record<string, string | number | boolean | null> | string[];
  secrets?: (string | { source: string; target?: string })[];
  volumes?: (string | Mount)[];
  user?: string;
  depends_on?: Record<string, DependsOn> | string[];
  stop_grace_period?: string;
  restart?: string;
  healthcheck?: { test?: string[] | string; disable?: boolean };
  deploy?: { replicas?: number };
}

export interface Mount {
  type?: string;
  source?: string;
  target?: string;
  read_only?: boolean;
  volume?: { subpath?: string };
}

export interface ComposeFile {
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
export function interpolate(text: string): string {
  return text.replace(/\$\$|\$\{([A-Z0-9_]+)(?::?-([^}]*))?\}/g, (m, _name: string | undefined, dflt: string | undefined) => (m === '$$' ? '$' : (dflt ?? '')));
}

export function readYaml<T>(path: string, opts: { interpolate?: boolean } = {}): T {
  const text = readFileSync(path, 'utf8');
  // `merge: true` resolves `<<: *anchor` as Compose does.
  const doc = parseDocument(opts.interpolate ? interpolate(text) : text, { merge: true });
  assert.deepEqual(doc.errors.map(String), [], `${path} does not parse`);
  assert.deepEqual(doc.warnings.map(String), [], `${path} parses with warnings`);
  return doc.toJS() as T;
}

export const COMPOSE_TEXT = readFileSync(join(COMPOSE_DIR, 'docker-compose.yml'), 'utf8');
export const compose = readYaml<ComposeFile>(join(COMPOSE_DIR, 'docker-compose.yml'), { interpolate: true });
export const services = compose.services;
export const topSecrets = compose.secrets ?? {};

/** Services running Vigil itself: the Vigil image with its own entrypoint (not a deployment script in it). */
export const vigilServices = Object.entries(services).filter(([, s]) => s.build !== undefined && !/\.mjs$/.test([s.entrypoint].flat().at(-1) ?? ''));
export const workers = vigilServices.filter(([name]) => name !== 'migrate');

export function envOf(service: Service): Record<string, string> {
  const env = service.environment ?? {};
  assert.ok(!Array.isArray(env), 'environment must be a map, so `<<: *vigil-env` can merge it');
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

export function secretNames(service: Service): string[] {
  return (service.secrets ?? []).map((s) => (typeof s === 'string' ? s : s.source));
}

export function dependsOn(service: Service): Record<string, DependsOn> {
  const d = service.depends_on ?? {};
  return Array.isArray(d) ? Object.fromEntries(d.map((n) => [n, {}])) : d;
}

/** Compose durations are Go durations: `60s`, `1m30s`, `500ms`. */
export function composeDurationMs(text: string): number {
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 1e-3, µs: 1e-3, ns: 1e-6 };
  assert.match(text, /^(\d+(\.\d+)?(h|m|s|ms|us|µs|ns))+$/, `not a Compose duration: ${text}`);
  let total = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)/g)) total += Number(m[1]) * units[m[2]!]!;
  return total;
}

/** The contract's configuration variables (CONTRACT.md, "Configuration"). */
export const CONTRACT_VARIABLES = new Set([
  'AMQP_URL', 'DATABASE_URL', 'VIGIL_QUEUE_PREFIX', 'S3_ENDPOINT', 'S3_REGION', 'S3_ACCESS_KEY_ID',
  'S3_SECRET_ACCESS_KEY', 'SMTP_URL', 'BUCKET_SOURCE', 'BUCKET_VIDEO', 'BUCKET_FRAMES', 'BUCKET_LIBRARY',
  'METRICS_PORT', 'FACE_BACKEND', 'FACE_MATCH_THRESHOLD', 'LOG_LEVEL',
  ...QUEUE_NAMES.map((q) => `${q.toUpperCase()}_CONCURRENCY`),
]);
/** Read by the platform rather than by loadConfig. */
export const PLATFORM_VARIABLES = new Set(['TMPDIR']);

export const baseName = (variable: string) => variable.replace(/_FILE$/, '');

/** The folders of the `secrets` volume a service mounts: where, which folder, read-only or not. */
export function secretMounts(service: Service): { target: string; subpath: string | undefined; readOnly: boolean }[] {
  return (service.volumes ?? [])
    .map((v): Mount => {
      if (typeof v !== 'string') return v;
      const [source, target, mode] = v.split(':');
      return { source, target, read_only: mode === 'ro' };
    })
    .filter((v) => v.source === 'secrets')
    .map((v) => ({ target: v.target!, subpath: v.volume?.subpath, readOnly: v.read_only === true }));
}

let generated: string | undefined;
/**
 * The `secrets` volume as compose/make-secrets.mjs fills it on a trial host (no site
 * folder), run as it is into a temporary folder, once per test process.
 */
export function generatedSecrets(): string {
  if (generated) return generated;
  const dir = mkdtempSync(join(tmpdir(), 'vigil-secrets-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  execFileSync(process.execPath, [join(COMPOSE_DIR, 'make-secrets.mjs')], {
    env: { VIGIL_SECRETS_OUT: join(dir, 'out'), VIGIL_SECRETS_SITE: join(dir, 'site') },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return (generated = join(dir, 'out'));
}

/** Where a path inside a service's container lies in the generated volume, or undefined if no secrets mount holds it. */
export function secretPath(service: Service, path: string): string | undefined {
  for (const m of secretMounts(service)) {
    const rel = posix.relative(m.target, path);
    if (rel && !rel.startsWith('..') && !posix.isAbsolute(rel)) return join(generatedSecrets(), m.subpath ?? '', rel);
  }
  return undefined;
}

/** A generated secret, as the container at `path` reads it. */
export function secretValue(service: Service, path: string): string {
  const file = secretPath(service, path);
  assert.ok(file, `no secrets mount holds ${path}`);
  return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
}

/**
 * A service's environment with every `X_FILE` pointed at the generated file its container
 * would read, so the real loader reads what a trial host starts with.
 */
export function envWithGeneratedSecrets(service: Service): Record<string, string> {
  const env = envOf(service);
  for (const [k, v] of Object.entries(env)) {
    if (!k.endsWith('_FILE')) continue;
    const file = secretPath(service, v);
    assert.ok(file, `${k}: ${v} is in no secrets mount`);
    env[k] = file;
  }
  return env;
}

/** A reference Compose pulls: `name[:tag][@sha256:…]`. */
export function parseImage(ref: string): { name: string; tag?: string; digest?: string } {
  const m = /^([^@]+?)(?::([\w][\w.-]{0,127}))?(?:@(sha256:[0-9a-f]{64}))?$/.exec(ref);
  assert.ok(m, `not an image reference: ${ref}`);
  return { name: m[1]!, ...(m[2] && { tag: m[2] }), ...(m[3] && { digest: m[3] }) };
}


export const isOneShot = (s: Service) => s.restart === 'no';

/**
 * Why `docker compose up -d --wait` would fail, for each set of profiles: a one-shot that
 * runs and that no running service waits for with service_completed_successfully (Compose
 * counts its clean exit as a failure, docker/compose#10596; any service of the project
 * counts as a waiter, one-shots too, as in Compose's getDependencyCondition), or a
 * dependency that does not run with those profiles.
 */
export function upWaitProblems(all: Record<string, Service>): string[] {
  const problems: string[] = [];
  const profiles = [...new Set(Object.values(all).flatMap((s) => s.profiles ?? []))];
  for (let mask = 0; mask < 1 << profiles.length; mask++) {
    const on = profiles.filter((_, i) => mask & (1 << i));
    const active = Object.entries(all).filter(([, s]) => !s.profiles || s.profiles.some((p) => on.includes(p)));
    const names = new Set(active.map(([n]) => n));
    for (const [name, s] of active) {
      for (const dep of Object.keys(dependsOn(s))) if (!names.has(dep)) problems.push(`[${on}] ${name} waits for ${dep}, which does not run`);
      if (!isOneShot(s)) continue;
      const waiters = active.filter(([, o]) => dependsOn(o)[name]?.condition === 'service_completed_successfully');
      if (waiters.length === 0) problems.push(`[${on}] one-shot ${name} is awaited by no service`);
    }
  }
  return problems;
}

/** Published ports that are not bound to 127.0.0.1 (compose already interpolated with an empty environment). */
export function portsOnEveryInterface(all: Record<string, Service>): string[] {
  return Object.entries(all).flatMap(([name, s]) =>
    (s.ports ?? [])
      .map((p) => (typeof p === 'string' ? p : `${p.host_ip ?? ''}:${p.published}:${p.target}`))
      .filter((text) => !/^127\.0\.0\.1:\d+:\d+$/.test(text))
      .map((text) => `${name}: ${text}`),
  );
}


/**
 * Every name loadConfig reads, found by running it: no second list to keep in step. It runs
 * once per environment of `envs` (one that sets a switch reaches the section it turns on);
 * `X_FILE` is folded into `X`.
 */
export function variablesLoadConfigReads(envs: Record<string, string>[] = [{}]): Set<string> {
  const read = new Set<string>();
  for (const env of envs) {
    const spy = new Proxy({ ...env }, {
      get: (target, key) => {
        if (typeof key === 'string') read.add(key);
        return Reflect.get(target, key);
      },
    });
    loadConfig(spy);
  }
  return new Set([...read].filter((v) => !v.endsWith('_FILE') || !read.has(v.slice(0, -'_FILE'.length))));
}
