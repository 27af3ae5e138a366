import { once } from 'node:events';
import type { ConfirmChannel, Options } from 'amqplib';
import type { Logger } from '../logger.ts';
import type { BrokerConnection } from './connection.ts';
import { closeChannel } from './close-channel.ts';
import { TransientError } from '../errors.ts';
import { CODECS, type MessageCodec, type PayloadOf } from '../contract/messages.ts';
import type { QueueName } from '../contract/queue-names.ts';
import { assertTopology, describeTopology, type TopologyOptions } from './topology.ts';

export interface PublisherOptions {
  /** Longest wait for the broker, the drain of a full socket buffer, and the confirm. */
  timeoutMs: number;
  /** Publishes awaiting their confirm at once; beyond it `send` fails fast. @default 1000 */
  maxPending?: number;
  topology: TopologyOptions;
  logger: Logger;
}

export type PublishProperties = Pick<Options.Publish, 'messageId' | 'headers' | 'contentType' | 'correlationId' | 'timestamp' | 'type'>;

export interface PublishOptions {
  /** The consumer's redelivery key (`message_id`); give one wherever a repeat must be recognised. */
  messageId?: string;
  /** Seconds since 1970 (`timestamp`), for a message whose age an operator may want to see. */
  timestamp?: number;
}

/**
 * Persistent publishes to the default exchange on a confirm channel: `send` resolves only
 * once the broker has taken responsibility for the message. Bounded: when the socket
 * buffer is full it waits for 'drain', and at most `maxPending` publishes wait at once.
 */
export class Publisher {
  private channel: ConfirmChannel | undefined;
  private channelGeneration = -1;
  private opening: Promise<ConfirmChannel> | undefined;
  private drained: Promise<unknown> | undefined;
  private readonly declared = new Set<string>();
  private pending = 0;
  private readonly maxPending: number;

  private readonly broker: BrokerConnection;
  private readonly opts: PublisherOptions;

  constructor(
    broker: BrokerConnection,
    opts: PublisherOptions,
  ) {
    this.broker = broker;
    this.opts = opts;
    this.maxPending = opts.maxPending ?? 1000;
  }

  /**
   * Publishes a message of the contract to its queue: the payload's type follows the queue,
   * and it is encoded with the queue's codec, as JSON. Every publisher in Vigil goes through
   * here, so no body, content type or queue name is written out twice.
   */
  async publish<Q extends QueueName>(queue: Q, payload: PayloadOf<Q>, opts: PublishOptions = {}): Promise<void> {
    const codec = CODECS[queue] as MessageCodec<PayloadOf<Q>>;
    await this.sendToQueue(queue, codec.encode(payload), {
      contentType: 'application/json',
      ...(opts.messageId !== undefined && { messageId: opts.messageId }),
      ...(opts.timestamp !== undefined && { timestamp: opts.timestamp }),
    });
  }

  /**
   * A body as it is (no codec) to a logical queue: `publish`'s transport, and the tests'
   * way to send what no codec would make. Publishes to a logical queue under the prefix,
   * declaring its topology first (once per connection) so nothing is dropped when its
   * consumer has never run.
   */
  async sendToQueue(queue: string, body: Buffer, props: PublishProperties = {}): Promise<void> {
    const topology = describeTopology(queue, this.opts.topology);
    await this.send(topology.work, body, props, async (ch) => {
      if (this.declared.has(topology.work)) return;
      await assertTopology(ch, topology);
      this.declared.add(topology.work);
    });
  }

  /** Publishes to a queue by its broker-side name (a retry or dead-letter queue). */
  async send(
    routingKey: string,
    body: Buffer,
    props: PublishProperties = {},
    prepare?: (ch: ConfirmChannel) => Promise<void>,
  ): Promise<void> {
    if (this.pending >= this.maxPending) {
      throw new TransientError('PUBLISH_BACKPRESSURE', `${this.pending} publishes already await a confirm`);
    }
    this.pending += 1;
    const deadline = Date.now() + this.opts.timeoutMs;
    try {
      const ch = await this.getChannel(deadline);
      await prepare?.(ch);
      if (this.drained) await withDeadline(this.drained, deadline, 'socket drain');
      await withDeadline(
        new Promise<void>((resolve, reject) => {
          const ok = ch.publish('', routingKey, body, { ...props, persistent: true }, (err) => (err ? reject(err) : resolve()));
          if (!ok && !this.drained) {
            this.drained = once(ch, 'drain').finally(() => {
              this.drained = undefined;
            });
            this.drained.catch(() => undefined);
          }
        }),
        deadline,
        'publisher confirm',
      );
    } catch (err) {
      if (err instanceof TransientError) throw err;
      throw new TransientError('PUBLISH_FAILED', `publish to ${routingKey} failed: ${(err as Error).message}`, err);
    } finally {
      this.pending -= 1;
    }
  }

  async close(): Promise<void> {
    const ch = this.channel;
    this.channel = undefined;
    if (ch) await closeChannel(ch);
  }

  private async getChannel(deadline: number): Promise<ConfirmChannel> {
    const conn = await this.broker.waitUntilConnected(Math.max(1, deadline - Date.now())).catch((err: unknown) => {
      throw new TransientError('BROKER_UNAVAILABLE', 'broker not reachable', err);
    });
    const generation = this.broker.connectionGeneration;
    if (this.channel && this.channelGeneration === generation) return this.channel;
    if (this.opening) return withDeadline(this.opening, deadline, 'channel open');
    this.opening = (async () => {
      const ch = await conn.createConfirmChannel();
      ch.on('error', (err: Error) => this.opts.logger.warn({ err }, 'publisher channel error'));
      ch.on('close', () => {
        if (this.channel === ch) this.channel = undefined;
      });
      this.declared.clear();
      this.drained = undefined;
      this.channel = ch;
      this.channelGeneration = generation;
      return ch;
    })().finally(() => {
      this.opening = undefined;
    });
    return withDeadline(this.opening, deadline, 'channel open');
  }
}

function withDeadline<T>(p: Promise<T>, deadline: number, what: string): Promise<T> {
  const ms = Math.max(1, deadline - Date.now());
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TransientError('PUBLISH_TIMEOUT', `${what} took longer than the publish timeout`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
