import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** A named readiness check; it throws or returns false when not ready. */
export type ReadinessCheck = () => Promise<boolean> | boolean;

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

/**
 * `/metrics` (Prometheus), `/healthz` (the process lives) and `/readyz` (every check
 * passes: broker and database reachable, consumers attached).
 */
export async function startHealthServer(opts: {
  port: number;
  /** @default '0.0.0.0' */
  host?: string;
  registry: Registry;
  checks: Record<string, ReadinessCheck>;
  /** Per-check time limit, so a hung dependency makes /readyz say no instead of hang. @default 2000 */
  checkTimeoutMs?: number;
}): Promise<HealthServer> {
  const timeoutMs = opts.checkTimeoutMs ?? 2000;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const reply = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, 'text/plain', 'method not allowed\n');
    if (path === '/healthz') return reply(200, 'text/plain', 'ok\n');
    if (path === '/metrics') {
      opts.registry.metrics().then(
        (text) => reply(200, opts.registry.contentType, text),
        (err: unknown) => reply(500, 'text/plain', `metrics failed: ${String(err)}\n`),
      );
      return;
    }
    if (path === '/readyz') {
      runChecks(opts.checks, timeoutMs).then((results) => {
        const ok = Object.values(results).every(Boolean);
        reply(ok ? 200 : 503, 'application/json', `${JSON.stringify({ ready: ok, checks: results })}\n`);
      }, () => reply(503, 'application/json', '{"ready":false}\n'));
      return;
    }
    reply(404, 'text/plain', 'not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function runChecks(checks: Record<string, ReadinessCheck>, timeoutMs: number): Promise<Record<string, boolean>> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]): Promise<[string, boolean]> => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      });
      try {
        return [name, await Promise.race([Promise.resolve().then(check), timeout])];
      } catch {
        return [name, false];
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return Object.fromEntries(entries);
}
