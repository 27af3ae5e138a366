import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A TCP proxy on loopback in front of a real server (RabbitMQ, MariaDB), for fault
 * injection: `cut()` drops every open connection mid-flight; `block()` also refuses new
 * ones until `unblock()`, as when the server is unreachable; `stall()` keeps connections
 * open but forwards nothing, as when the server hangs.
 */
export class TcpProxy {
  private readonly sockets = new Set<Socket>();
  private blocked = false;
  cuts = 0;
  /** Bytes forwarded each way, over every connection: what a client really sent and received. */
  bytesToTarget = 0;
  bytesFromTarget = 0;
  /** Sees every chunk forwarded to the target (e.g. to find a request header in the traffic). */
  tap: ((chunk: Buffer) => void) | undefined;

  private readonly server: Server;
  readonly port: number;

  private constructor(
    server: Server,
    port: number,
  ) {
    this.server = server;
    this.port = port;
  }

  static async start(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
    let proxy!: TcpProxy;
    const server = createServer((client) => {
      if (proxy.blocked) {
        client.destroy();
        return;
      }
      const upstream = connect(targetPort, targetHost);
      proxy.sockets.add(client);
      proxy.sockets.add(upstream);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        proxy.sockets.delete(client);
        proxy.sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.on('data', (d: Buffer) => {
        proxy.bytesToTarget += d.length;
        proxy.tap?.(d);
      });
      upstream.on('data', (d: Buffer) => (proxy.bytesFromTarget += d.length));
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = new TcpProxy(server, (server.address() as AddressInfo).port);
    return proxy;
  }

  /** `base` with its host and port replaced by this proxy's. */
  url(base: string): string {
    const u = new URL(base);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString().replace(/\/$/, '');
  }

  get openConnections(): number {
    return this.sockets.size / 2;
  }

  cut(): void {
    this.cuts += 1;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  /** Stops forwarding on open connections without closing them: the peer just goes quiet. */
  stall(): void {
    for (const s of this.sockets) s.pause();
  }

  block(): void {
    this.blocked = true;
    this.cut();
  }

  unblock(): void {
    this.blocked = false;
  }

  async close(): Promise<void> {
    this.block();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
