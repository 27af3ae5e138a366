import { isIP } from 'node:net';
import type { EnvReader } from './env-reader.ts';

/**
 * The supervisor console (`vigil run console`, CONTRACT.md "Console"). `CONSOLE_URL` is read
 * here, beside the console's own settings, because alerts and emails carry its deep links.
 */
export interface ConsoleConfig {
  /** `CONSOLE_PORT`: where the console listens; 0 picks a free port. @default 8080 */
  port: number;
  /** `CONSOLE_URL`: the console's address as people reach it (links in alerts and emails). @default undefined */
  url: string | undefined;
  /** `CONSOLE_SESSION_IDLE`: a session unused this long ends. @default 30 min */
  sessionIdleMs: number;
  /** `CONSOLE_SESSION_MAX`: a session ends this long after sign-in, used or not. @default 12 h */
  sessionMaxMs: number;
  /**
   * `CONSOLE_SECURE_COOKIE`: the session cookie is sent over HTTPS only. Defaults to true
   * when `CONSOLE_URL` is https; a console behind a TLS proxy reached over https must have it.
   */
  secureCookie: boolean;
  /** `CONSOLE_SIGNIN_MAX_FAILURES`: failed sign-ins per account name or address within the window before it is locked. @default 5 */
  signinMaxFailures: number;
  /** `CONSOLE_SIGNIN_WINDOW`: the window those failures are counted in, and how long the lock lasts. @default 15 min */
  signinWindowMs: number;
  /**
   * `CONSOLE_TRUST_PROXY`: addresses or CIDR ranges of the proxies (a load balancer) whose
   * `X-Forwarded-For` names the client; without it every sign-in behind a proxy would share
   * the proxy's address, and its throttle. @default [] (none trusted)
   */
  trustProxy: string[];
  /** `CONSOLE_GRAFANA_URL`: Grafana as people reach it; the console's header links to it when set. @default undefined */
  grafanaUrl: string | undefined;
  /** `CONSOLE_METABASE_URL`: Metabase as people reach it; linked like Grafana. @default undefined */
  metabaseUrl: string | undefined;
}

const HOUR = 3_600_000;

export function readConsoleConfig(r: EnvReader): ConsoleConfig {
  const url = r.url('CONSOLE_URL', undefined, ['http', 'https']);
  return {
    port: r.int('CONSOLE_PORT', 8080, 0, 65535),
    url,
    sessionIdleMs: r.duration('CONSOLE_SESSION_IDLE', 30 * 60_000, 60_000, 24 * HOUR),
    sessionMaxMs: r.duration('CONSOLE_SESSION_MAX', 12 * HOUR, 60_000, 30 * 24 * HOUR),
    secureCookie: r.bool('CONSOLE_SECURE_COOKIE', url?.startsWith('https:') ?? false),
    signinMaxFailures: r.int('CONSOLE_SIGNIN_MAX_FAILURES', 5, 1, 1000),
    signinWindowMs: r.duration('CONSOLE_SIGNIN_WINDOW', 15 * 60_000, 1000, 24 * HOUR),
    trustProxy: readProxies(r),
    grafanaUrl: r.url('CONSOLE_GRAFANA_URL', undefined, ['http', 'https']),
    metabaseUrl: r.url('CONSOLE_METABASE_URL', undefined, ['http', 'https']),
  };
}

function readProxies(r: EnvReader): string[] {
  const v = r.optionalString('CONSOLE_TRUST_PROXY');
  if (v === undefined) return [];
  const list = v.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = list.filter((s) => {
    const [addr = '', bits, ...rest] = s.split('/');
    const family = isIP(addr);
    if (family === 0 || rest.length > 0) return true;
    return bits !== undefined && !(/^\d+$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128));
  });
  if (bad.length > 0) {
    r.problems.push({ variable: 'CONSOLE_TRUST_PROXY', expected: 'comma-separated IP addresses or CIDR ranges', got: bad.join(',') });
    return [];
  }
  return list;
}
