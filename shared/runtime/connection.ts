import { connect, type ChannelModel } from 'amqplib';
import type { Logger } from '../logger.ts';
import { redactUrl } from '../logger.ts';

export interface BrokerConnectionOptions {
  url: string;
  /** @default 15 */
  heartbeatSeconds?: number;
  /** Back-off between reconnect attempts, doubled each time, with jitter. @default 500 */
  reconnectMinMs?: number;
  /** @default 30_000 */
  reconnectMaxMs?: number;
  /** Shown in the broker's connection list. */
  connectionName: string;
  logger: Logger;
}

/** Runs after every (re)connect: declare topology, open channels, consume. */
export type ConnectedHook = (conn: ChannelModel) => Promise<void>;

/**
 * One AMQP connection kept alive: reconnects with back-off after the broker or the network
 * goes away, and runs the registered hooks after each connect, so topology and consumers
 * come back by themselves. No 'error' event escapes: amqplib emits 'error' before 'close',
 * and an EventEmitter 'error' without a listener would end the process.
 */
export class BrokerConnection {
  private conn: ChannelModel | undefined;
  private readonly hooks: ConnectedHook[] = [];
  private readonly waiters = new Set<() => void>();
  private closing = false;
  private attempt = 0;
  private timer: NodeJS.Timeout | undefined;
  private loop: Promise<void> | undefined;
  private generation = 0;

  private readonly opts: BrokerConnectionOptions;

  constructor(opts: BrokerConnectionOptions) {
    this.opts = opts;
  }

  /** Starts connecting in the background; `waitUntilConnected` awaits the first success. */
  start(): void {
    if (!this.loop) this.loop = this.connectLoop();
  }

  /** Registers a hook; it also runs at once when already connected. */
  async onConnected(hook: ConnectedHook): Promise<void> {
    this.hooks.push(hook);
    if (this.conn) await this.runHook(this.conn, hook);
  }

  get connection(): ChannelModel | undefined {
    return this.conn;
  }

  /** Bumped on every new connection, so callers can tell a stale channel from a fresh one. */
  get connectionGeneration(): number {
    return this.generation;
  }

  get isConnected(): boolean {
    return this.conn !== undefined;
  }

  /** Resolves with the live connection, or rejects after `timeoutMs`. */
  async waitUntilConnected(timeoutMs: number): Promise<ChannelModel> {
    if (this.conn) return this.conn;
    if (this.closing) throw new Error('broker connection is closed');
    await new Promise<void>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(done);
        reject(new Error(`broker not reachable within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.add(done);
    });
    if (!this.conn) throw new Error('broker connection closed while waiting');
    return this.conn;
  }

  async close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.timer);
    for (const w of [...this.waiters]) w();
    const conn = this.conn;
    this.conn = undefined;
    if (conn) await closeConnection(conn);
  }

  private async connectLoop(initialDelayMs = 0): Promise<void> {
    const log = this.opts.logger;
    if (initialDelayMs > 0) await this.sleep(initialDelayMs);
    while (!this.closing) {
      try {
        const conn = await connect(withHeartbeat(this.opts.url, this.opts.heartbeatSeconds ?? 15), {
          clientProperties: { connection_name: this.opts.connectionName },
          timeout: 10_000,
          noDelay: true,
        });
        if (this.closing) {
          await closeConnection(conn);
          return;
        }
        await this.adopt(conn);
        return;
      } catch (err) {
        if (this.closing) return;
        const delay = this.nextDelay();
        log.warn({ err, url: redactUrl(this.opts.url), retryInMs: delay }, 'broker connection failed');
        await this.sleep(delay);
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((r) => {
      this.timer = setTimeout(r, ms);
    });
  }

  private async adopt(conn: ChannelModel): Promise<void> {
    const log = this.opts.logger;
    let lost = false;
    let ready = false;
    const onLost = (err?: unknown) => {
      if (lost) return;
      lost = true;
      if (this.conn === conn) this.conn = undefined;
      if (this.closing) return;
      // A connection that never finished its setup backs off like a failed connect, so a
      // refused declaration cannot turn into a tight reconnect loop.
      const delay = ready ? 0 : this.nextDelay();
      log.warn({ err, retryInMs: delay }, 'broker connection lost; reconnecting');
      this.loop = this.connectLoop(delay);
    };
    conn.on('error', (err: Error) => log.warn({ err }, 'broker connection error'));
    conn.on('close', (err?: Error) => onLost(err));
    conn.on('blocked', (reason: string) => log.warn({ reason }, 'broker blocked this connection (resource alarm)'));
    conn.on('unblocked', () => log.info('broker unblocked this connection'));

    this.generation += 1;
    this.conn = conn;
    for (const hook of this.hooks) {
      if (lost) return;
      await this.runHook(conn, hook);
    }
    if (lost || this.conn !== conn) return;
    ready = true;
    this.attempt = 0;
    log.info({ url: redactUrl(this.opts.url), generation: this.generation }, 'broker connected');
    for (const w of [...this.waiters]) w();
  }

  private async runHook(conn: ChannelModel, hook: ConnectedHook): Promise<void> {
    try {
      await hook(conn);
    } catch (err) {
      // A hook that cannot set up (a declaration refused, a channel closed) gets a fresh
      // connection after back-off rather than a half-configured one.
      this.opts.logger.error({ err }, 'broker setup failed; reconnecting');
      await closeConnection(conn);
    }
  }

  private nextDelay(): number {
    const min = this.opts.reconnectMinMs ?? 500;
    const max = this.opts.reconnectMaxMs ?? 30_000;
    const base = Math.min(max, min * 2 ** this.attempt);
    this.attempt += 1;
    return Math.round(base / 2 + Math.random() * (base / 2));
  }
}

/** The heartbeat goes in the URL's query unless the URL sets one itself. */
export function withHeartbeat(url: string, seconds: number): string {
  const u = new URL(url);
  if (!u.searchParams.has('heartbeat')) u.searchParams.set('heartbeat', String(seconds));
  return u.toString();
}

/**
 * Closes a connection, bounded in time: amqplib waits for the broker's CloseOk without a
 * limit, so a broker that hangs would hang shutdown. Past the limit the socket is dropped;
 * the broker requeues whatever was unacked on it.
 */
export async function closeConnection(conn: ChannelModel, timeoutMs = 3000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const closed = await Promise.race([
    conn.close().then(() => true, () => true),
    new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  if (!closed) (conn as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
}
