import type { Channel, Options } from 'amqplib';
import { queueNames } from '../contract/queue-names.ts';

export const QUEUE_TYPES = ['quorum', 'classic'] as const;

export interface TopologyOptions {
  /** @default '' */
  prefix: string;
  /** @default 'quorum' */
  queueType: (typeof QUEUE_TYPES)[number];
  /** One retry queue per distinct delay. */
  retryDelaysMs: number[];
  /** Quorum only: redeliveries (crash loops) before the broker dead-letters. */
  deliveryLimit: number;
}

export interface QueueDeclaration {
  name: string;
  options: Options.AssertQueue;
}

export interface Topology {
  work: string;
  dlq: string;
  /** Retry queue for the n-th retry (0-based); the last delay repeats. */
  retryQueue(retryIndex: number): string;
  declarations: QueueDeclaration[];
}

/**
 * The queues behind one logical queue:
 * - `<q>`: the durable work queue (quorum by default). Quorum queues also get a delivery
 *   limit, so a body that crashes the process on every delivery ends in `<q>.dlq`
 *   instead of looping forever.
 * - `<q>.retry.<delay>`: one per back-off step; a message waits out the queue's TTL and
 *   is dead-lettered back to `<q>`. Classic queues: TTL expiry from the head is exact there,
 *   and each queue holds one delay, so nothing waits behind a longer TTL.
 * - `<q>.dlq`: what could not be handled, with the reason in `x-vigil-*` headers.
 */
export function describeTopology(queue: string, opts: TopologyOptions): Topology {
  const names = queueNames(opts.prefix, queue);
  const delays = opts.retryDelaysMs.length > 0 ? opts.retryDelaysMs : [5_000];
  const workArgs: Record<string, unknown> = {
    'x-queue-type': opts.queueType,
    'x-dead-letter-exchange': '',
    'x-dead-letter-routing-key': names.dlq,
  };
  if (opts.queueType === 'quorum') workArgs['x-delivery-limit'] = opts.deliveryLimit;

  const retryNames = [...new Set(delays)].map((d) => ({ delay: d, name: names.retry(d) }));
  return {
    work: names.work,
    dlq: names.dlq,
    retryQueue: (i) => names.retry(delays[Math.min(i, delays.length - 1)]!),
    declarations: [
      { name: names.work, options: { durable: true, arguments: workArgs } },
      { name: names.dlq, options: { durable: true, arguments: { 'x-queue-type': opts.queueType } } },
      ...retryNames.map(({ delay, name }) => ({
        name,
        options: {
          durable: true,
          arguments: {
            'x-queue-type': 'classic',
            'x-message-ttl': delay,
            'x-dead-letter-exchange': '',
            'x-dead-letter-routing-key': names.work,
          },
        },
      })),
    ],
  };
}

/** Declares every queue; idempotent while the arguments stay the same. */
export async function assertTopology(channel: Pick<Channel, 'assertQueue'>, topology: Topology): Promise<void> {
  for (const d of topology.declarations) await channel.assertQueue(d.name, d.options);
}
