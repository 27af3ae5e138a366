// The compose/ files, parsed as Compose reads them, and the helpers the static tests of
// the deployment share (test/unit/compose.test.ts, compose-stack.test.ts, readme.test.ts).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { loadConfig } from '../../services/config.ts';
import { QUEUE_NAMES } from '../../shared/contract/queue-names.ts';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const COMPOSE_DIR = join(ROOT, 'compose');
export const EXAMPLES_DIR = join(COMPOSE_DIR, 'secrets.example');
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
  volumes?: (string | { type?: string; source?: string; target?: string })[];
  depends_on?: Record<string, DependsOn> | string[];
  stop_grace_period?: string;
  restart?: string;
  healthcheck?: { test?: string[] | string; disable?: boolean };
  deploy?: { replicas?: number };
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

/** Services running the Vigil image: built from compose/Dockerfile. */
export const vigilServices = Object.entries(services).filter(([, s]) => s.build !== undefined);
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

/**
 * A service's environment with every `/run/secrets/x` path pointed at the example file of
 * secret x, so the real loader reads what an operator starts from.
 */
export function envWithExampleSecrets(service: Service): Record<string, string> {
  const env = envOf(service);
  for (const [k, v] of Object.entries(env)) {
    if (!k.endsWith('_FILE')) continue;
    const file = topSecrets[v.slice(SECRETS_PREFIX.length)]?.file;
    assert.ok(file, `${k}: no secret behind ${v}`);
    env[k] = join(EXAMPLES_DIR, basename(file));
  }
  return env;
}

export function exampleSecret(name: string): string {
  const file = topSecrets[name]?.file;
  assert.ok(file, `secret ${name} is not declared`);
  return readFileSync(join(EXAMPLES_DIR, basename(file)), 'utf8').replace(/\r?\n$/, '');
}

/** A reference Compose pulls: `name[:tag][@sha256:…]`. */
export function parseImage(ref: string): { name: string; tag?: string; digest?: string } {
  const m = /^([^@]+?)(?::([\w][\w.-]{0,127}))?(?:@(sha256:[0-9a-f]{64}))?$/.exec(ref);
  assert.ok(m, `not an image reference: ${ref}`);
  return { name: m[1]!, ...(m[2] && { tag: m[2] }), ...(m[3] && { digest: m[3] }) };
}


export const isOneShot = (s: Service) => s.restart === 'no';


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
