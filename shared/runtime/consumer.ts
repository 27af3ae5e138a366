import type { Channel, ChannelModel, ConsumeMessage, MessagePropertyHeaders } from 'amqplib';
import type { Logger } from '../logger.ts';
import type { Metrics, MessageOutcome } from '../metrics.ts';
import { closeChannel } from './close-channel.ts';
import type { BrokerConnection } from './connection.ts';
import { errorCode, errorMessage, isPermanent } from '../errors.ts';
import type { MessageCodec } from '../contract/messages.ts';
import type { PublishProperties, Publisher } from './publisher.ts';
import { assertTopology, describeTopology, type Topology, type TopologyOptions } from './topology.ts';

/**
 * What a handler says happened. Thrown errors say the rest: a `PermanentError` nothing
 * recorded is dead-lettered; anything else is retried with back-off, then dead-lettered.
 * - `done`: the work is done and recorded.
 * - `duplicate`: a redelivery of work already done; nothing was done again.
 * - `rejected`: bad input, and the handler recorded why (e.g. status `F` on its row).
 */
export type HandlerOutcome = 'done' | 'duplicate' | 'rejected';

export interface JobContext {
  /** Child logger bound to this message (queue, message id, attempt). */
  log: Logger;
  /** 1 on the first delivery, counted by Vigil's own header across retries. */
  attempt: number;
  /** The broker redelivered it: an earlier delivery may have done part of the work. */
  redelivered: boolean;
  messageId: string | undefined;
  /** Aborts when shutdown runs past its deadline: stop before writing anything more. */
  signal: AbortSignal;
}

export interface ServiceDefinition<P> {
  /** The `service` label of the metrics. */
  service: string;
  /** The logical queue (without prefix). */
  queue: string;
  /** Messages handled at once; the channel's prefetch equals it. */
  concurrency: number;
  codec: Pick<MessageCodec<P>, 'parse' | 'key'>;
  handle(payload: P, ctx: JobContext): Promise<HandlerOutcome>;
}

export interface ConsumerDeps {
  broker: BrokerConnection;
  publisher: Publisher;
  metrics: Metrics;
  logger: Logger;
  topology: TopologyOptions;
  /** Attempts (the first included) before a transient failure is dead-lettered. */
  maxAttempts: number;
  /** Wait before re-subscribing after the broker closed the channel or cancelled. @default 1000 */
  resubscribeDelayMs?: number;
}

export const ATTEMPT_HEADER = 'x-vigil-attempt';

interface InFlight {
  channel: Channel;
  message: ConsumeMessage;
  abort: AbortController;
  /** Acked or nacked already: a delivery tag may be settled only once per channel. */
  settled: boolean;
  /** Counted in the metrics already (requeued by shutdown while the handler still ran). */
  counted: boolean;
  done: Promise<void>;
}

/**
 * Consumes one queue with a bounded prefetch and turns each delivery into exactly one
 * outcome. Acks go only to the channel that delivered the message; when that channel is
 * gone the broker redelivers, and the handler's idempotency (or the in-process join on a
 * job still running) makes that harmless.
 */
export class Consumer<P> {
  private readonly topology: Topology;
  /** Where Vigil's own retries come back from: the only source of a believable attempt count. */
  private readonly retryQueues: ReadonlySet<string>;
  private readonly log: Logger;
  private readonly labels: { service: string; queue: string };
  private readonly inFlight = new Set<InFlight>();
  /** Job key → resolves true once the running job's outcome is durable (acked or copied). */
  private readonly running = new Map<string, Promise<boolean>>();
  private channel: Channel | undefined;
  private consumerTag: string | undefined;
  private stopping = false;
  private resubscribeTimer: NodeJS.Timeout | undefined;

  private readonly def: ServiceDefinition<P>;
  private readonly deps: ConsumerDeps;

  constructor(
    def: ServiceDefinition<P>,
    deps: ConsumerDeps,
  ) {
    this.def = def;
    this.deps = deps;
    this.topology = describeTopology(def.queue, deps.topology);
    this.retryQueues = new Set(this.topology.declarations.slice(2).map((d) => d.name));
    this.labels = { service: def.service, queue: def.queue };
    this.log = deps.logger.child({ service: def.service, queue: this.topology.work });
  }

  /** Subscribes now if connected, and again after every reconnect. */
  async start(): Promise<void> {
    await this.deps.broker.onConnected((conn) => this.attach(conn));
  }

  /** True while a consumer is registered with the broker. */
  get attached(): boolean {
    return !this.stopping && this.consumerTag !== undefined;
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /**
   * Stops taking messages, lets in-flight ones finish within `timeoutMs`, then aborts the
   * rest and requeues what still has not finished, and closes the channel.
   */
  async close(timeoutMs: number, graceMs = 5_000): Promise<void> {
    this.stopping = true;
    clearTimeout(this.resubscribeTimer);
    const ch = this.channel;
    const tag = this.consumerTag;
    this.consumerTag = undefined;
    if (ch && tag) await ch.cancel(tag).catch(() => undefined);

    if (!(await settleWithin([...this.inFlight].map((j) => j.done), timeoutMs))) {
      this.log.warn({ inFlight: this.inFlight.size }, 'shutdown deadline reached; aborting in-flight jobs');
      for (const job of this.inFlight) job.abort.abort(new Error('shutting down'));
      await settleWithin([...this.inFlight].map((j) => j.done), graceMs);
      for (const job of this.inFlight) {
        if (this.nack(job, true)) this.count('requeued', job);
      }
    }
    this.channel = undefined;
    if (ch) await closeChannel(ch);
  }

  private async attach(conn: ChannelModel): Promise<void> {
    if (this.stopping) return;
    const ch = await conn.createChannel();
    ch.on('error', (err: Error) => this.log.warn({ err }, 'consumer channel error'));
    ch.on('close', () => {
      if (this.channel !== ch) return;
      this.channel = undefined;
      this.consumerTag = undefined;
      // The channel went but the connection stayed (a channel-level error, or a consumer
      // timeout): subscribe again on a new channel. A lost connection is the
      // connection's business; its hooks subscribe again after the reconnect.
      if (!this.stopping && this.deps.broker.connection === conn) this.scheduleResubscribe(conn);
    });
    this.channel = ch;
    // Prefetch equals concurrency, per consumer (global=false): a replica never hoards
    // more heavy jobs than it runs.
    await ch.prefetch(this.def.concurrency, false);
    await assertTopology(ch, this.topology);
    const { consumerTag } = await ch.consume(this.topology.work, (msg) => this.onDelivery(ch, msg), { noAck: false });
    this.consumerTag = consumerTag;
    this.log.info({ concurrency: this.def.concurrency }, 'consuming');
  }

  private scheduleResubscribe(conn: ChannelModel): void {
    clearTimeout(this.resubscribeTimer);
    this.resubscribeTimer = setTimeout(() => {
      if (this.stopping || this.deps.broker.connection !== conn) return;
      this.attach(conn).catch((err: unknown) => {
        this.log.warn({ err }, 'resubscribe failed; trying again');
        this.scheduleResubscribe(conn);
      });
    }, this.deps.resubscribeDelayMs ?? 1000);
  }

  private onDelivery(ch: Channel, msg: ConsumeMessage | null): void {
    if (msg === null) {
      // The broker cancelled us (queue deleted, or a quorum leader moved): drop this
      // channel; its close handler subscribes again after redeclaring the topology.
      this.log.warn('consumer cancelled by the broker; resubscribing');
      this.consumerTag = undefined;
      void closeChannel(ch);
      return;
    }
    const job: InFlight = { channel: ch, message: msg, abort: new AbortController(), settled: false, counted: false, done: Promise.resolve() };
    this.inFlight.add(job);
    this.deps.metrics.inFlight.inc({ service: this.def.service });
    job.done = this.handle(job).finally(() => {
      this.inFlight.delete(job);
      this.deps.metrics.inFlight.dec({ service: this.def.service });
    });
  }

  /** Never rejects: every path ends in an outcome that is counted and logged. */
  private async handle(job: InFlight): Promise<void> {
    const started = performance.now();
    const msg = job.message;
    const attempt = attemptOf(msg.properties.headers, this.retryQueues, this.deps.maxAttempts);
    const messageId = typeof msg.properties.messageId === 'string' ? msg.properties.messageId : undefined;
    const log = this.log.child({ messageId, attempt });
    let outcome: MessageOutcome;
    let error: unknown;
    try {
      ({ outcome, error } = await this.process(job, attempt, messageId, log));
    } catch (err) {
      // Only a bug in the runtime itself gets here; the message stays with the broker.
      error = err;
      this.nack(job, true);
      outcome = 'requeued';
    }
    const seconds = (performance.now() - started) / 1000;
    this.deps.metrics.messageDuration.observe(this.labels, seconds);
    this.count(outcome, job);
    const fields = { outcome, durationMs: Math.round(seconds * 1000), err: error };
    if (outcome === 'done' || outcome === 'duplicate') {
      if (log.isLevelEnabled('debug')) log.debug(fields, 'message handled');
    } else if (outcome === 'rejected') log.info(fields, 'message rejected (recorded)');
    else if (outcome === 'retried' || outcome === 'requeued') log.warn(fields, `message ${outcome}`);
    else log.error(fields, 'message dead-lettered');
  }

  private async process(
    job: InFlight,
    attempt: number,
    messageId: string | undefined,
    log: Logger,
  ): Promise<{ outcome: MessageOutcome; error?: unknown }> {
    let payload: P;
    try {
      payload = this.def.codec.parse(job.message.content);
    } catch (err) {
      // Nothing can record a body that names no row: keep it in the dead-letter queue.
      return { outcome: await this.deadLetter(job, attempt, err), error: err };
    }

    const key = this.def.codec.key(payload) ?? messageId;
    for (let other = key && this.running.get(key); other; other = key && this.running.get(key)) {
      // A redelivery of a job still running here (its first channel died): wait for it,
      // then settle this copy the same way rather than doing the work twice.
      if (await other) return { outcome: this.ack(job) ? 'duplicate' : 'requeued' };
    }
    let durable!: (v: boolean) => void;
    if (key) this.running.set(key, new Promise<boolean>((r) => (durable = r)));
    let outcome: MessageOutcome = 'requeued';
    try {
      const result = await this.def.handle(payload, {
        log,
        attempt,
        redelivered: job.message.fields.redelivered,
        messageId,
        signal: job.abort.signal,
      });
      this.ack(job);
      outcome = result;
      return { outcome };
    } catch (err) {
      if (job.abort.signal.aborted && this.stopping) {
        this.nack(job, true);
        return { outcome: 'requeued', error: err };
      }
      if (isPermanent(err) || attempt >= this.deps.maxAttempts) {
        outcome = await this.deadLetter(job, attempt, err);
      } else {
        outcome = await this.retry(job, attempt, err);
      }
      return { outcome, error: err };
    } finally {
      if (key) {
        this.running.delete(key);
        durable(outcome !== 'requeued');
      }
    }
  }

  private async retry(job: InFlight, attempt: number, err: unknown): Promise<MessageOutcome> {
    const queue = this.topology.retryQueue(attempt - 1);
    const props = forward(job.message, { [ATTEMPT_HEADER]: attempt + 1, 'x-vigil-last-error': describe(err) });
    try {
      await this.deps.publisher.send(queue, job.message.content, props);
    } catch (pubErr) {
      this.log.error({ err: pubErr }, 'could not publish to the retry queue; requeueing');
      this.nack(job, true);
      return 'requeued';
    }
    this.ack(job);
    this.deps.metrics.retriesTotal.inc(this.labels);
    return 'retried';
  }

  private async deadLetter(job: InFlight, attempt: number, err: unknown): Promise<MessageOutcome> {
    const props = forward(job.message, {
      [ATTEMPT_HEADER]: attempt,
      'x-vigil-error-code': errorCode(err),
      'x-vigil-error': describe(err),
      'x-vigil-service': this.def.service,
      'x-vigil-queue': this.topology.work,
      'x-vigil-failed-at': new Date().toISOString(),
    });
    try {
      await this.deps.publisher.send(this.topology.dlq, job.message.content, props);
    } catch (pubErr) {
      this.log.error({ err: pubErr }, 'could not publish to the dead-letter queue; requeueing');
      this.nack(job, true);
      return 'requeued';
    }
    this.ack(job);
    this.deps.metrics.deadLetteredTotal.inc(this.labels);
    return 'dead_lettered';
  }

  /** Acks on the delivering channel; false when it is gone (the broker will redeliver). */
  private ack(job: InFlight): boolean {
    if (job.settled) return false;
    job.settled = true;
    try {
      job.channel.ack(job.message);
      return true;
    } catch {
      return false;
    }
  }

  private nack(job: InFlight, requeue: boolean): boolean {
    if (job.settled) return false;
    job.settled = true;
    try {
      job.channel.nack(job.message, false, requeue);
      return true;
    } catch {
      return false;
    }
  }

  private count(outcome: MessageOutcome, job: InFlight): void {
    if (job.counted) return;
    job.counted = true;
    this.deps.metrics.messagesTotal.inc({ ...this.labels, outcome });
  }
}

/**
 * The attempt a delivery is: Vigil's own `x-vigil-attempt`, believed only on a message
 * that came back from one of this queue's retry queues (the broker's newest `x-death`
 * entry names it), and never past `maxAttempts`. A producer's own header is ignored, so it
 * cannot skip the retries or make a job look like its last try; a message replayed from
 * the dead-letter queue starts again at 1.
 */
export function attemptOf(headers: MessagePropertyHeaders | undefined, retryQueues: ReadonlySet<string>, maxAttempts: number): number {
  const raw = headers?.[ATTEMPT_HEADER];
  const n = typeof raw === 'number' ? raw : Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) return 1;
  const deaths = headers?.['x-death'] as { queue?: unknown }[] | undefined;
  const from = Array.isArray(deaths) ? deaths[0]?.queue : undefined;
  if (typeof from !== 'string' || !retryQueues.has(from)) return 1;
  return Math.min(n, maxAttempts);
}

/** The message's own properties, minus the broker's dead-letter bookkeeping, plus `extra`. */
function forward(msg: ConsumeMessage, extra: Record<string, unknown>): PublishProperties {
  const headers: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(msg.properties.headers ?? {})) {
    if (k === 'x-death' || k.startsWith('x-first-death') || k.startsWith('x-last-death') || k === 'x-delivery-count') continue;
    headers[k] = v;
  }
  const p = msg.properties;
  return {
    messageId: p.messageId,
    correlationId: p.correlationId,
    contentType: p.contentType,
    timestamp: p.timestamp,
    type: p.type,
    headers: { ...headers, ...extra },
  };
}

function describe(err: unknown): string {
  return `${errorCode(err)}: ${errorMessage(err)}`.slice(0, 1000);
}

async function settleWithin(promises: Promise<unknown>[], ms: number): Promise<boolean> {
  if (promises.length === 0) return true;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((r) => {
    timer = setTimeout(() => r(false), ms);
  });
  const all = Promise.allSettled(promises).then(() => true as const);
  try {
    return await Promise.race([all, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
