/**
 * The contract's queues (CONTRACT.md, "Queues"). Each is consumed by the service of its
 * name; services without a queue (upkeep, the console) are listed in services/registry.ts.
 * Written here once; everything else derives from it.
 */
export const QUEUE_NAMES = ['facetraining', 'facestreaming', 'transcoder', 'uploader', 'notifier'] as const;

export type QueueName = (typeof QUEUE_NAMES)[number];

export function isQueueName(name: string): name is QueueName {
  return (QUEUE_NAMES as readonly string[]).includes(name);
}

/** The broker-side names of one logical queue under a prefix. */
export interface QueueNames {
  work: string;
  dlq: string;
  retry(delayMs: number): string;
}

export function queueNames(prefix: string, queue: string): QueueNames {
  const work = `${prefix}${queue}`;
  return {
    work,
    dlq: `${work}.dlq`,
    // The delay is part of the name: a queue's x-message-ttl cannot change once declared,
    // so new delays get new queues instead of a PRECONDITION_FAILED at start.
    retry: (delayMs) => `${work}.retry.${formatDelay(delayMs)}`,
  };
}

function formatDelay(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
