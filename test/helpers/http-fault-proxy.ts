import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An HTTP proxy on loopback in front of a real server (s3rver), for fault injection per
 * request: while `failWhen` holds for a request, its connection is cut before anything is
 * forwarded (as a network failure mid-upload), on every retry too; while `holdWhen` holds,
 * the request is kept unanswered in `held` (as a client stuck mid-upload); `putDelayMs`
 * slows every PUT. `seen` records every request as `METHOD path`.
 */
export class HttpFaultProxy {
  failWhen: ((req: IncomingMessage) => boolean) | undefined;
  holdWhen: ((req: IncomingMessage) => boolean) | undefined;
  putDelayMs = 0;
  cuts = 0;
  readonly seen: string[] = [];
  readonly held: IncomingMessage[] = [];

  private readonly server: Server;
  readonly endpoint: string;

  private constructor(
    server: Server,
    endpoint: string,
  ) {
    this.server = server;
    this.endpoint = endpoint;
  }

  static async start(target: string): Promise<HttpFaultProxy> {
    const t = new URL(target);
    let proxy!: HttpFaultProxy;
    const server = createServer((req, res) => {
      proxy.seen.push(`${req.method} ${req.url}`);
      if (proxy.failWhen?.(req)) {
        proxy.cuts += 1;
        req.socket.destroy();
        return;
      }
      if (proxy.holdWhen?.(req)) {
        proxy.held.push(req);
        return;
      }
      const forward = () => {
        const up = request({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        });
        up.on('error', () => res.destroy());
        req.pipe(up);
      };
      if (req.method === 'PUT' && proxy.putDelayMs > 0) setTimeout(forward, proxy.putDelayMs);
      else forward();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = new HttpFaultProxy(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return proxy;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
