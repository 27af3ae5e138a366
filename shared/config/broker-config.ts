import { QUEUE_TYPES, type TopologyOptions } from '../runtime/topology.ts';
import type { EnvReader } from './env-reader.ts';

export interface BrokerConfig {
  /** @default 'amqp://guest:guest@127.0.0.1:5672' */
  url: string;
  /** Prefix of every queue name, so tests and tenants share one broker. @default '' */
  queuePrefix: string;
  /** @default 'quorum' */
  queueType: TopologyOptions['queueType'];
  /** AMQP heartbeat; a dead peer is noticed after about twice this. @default 15 */
  heartbeatSeconds: number;
  /** Back-off before each retry; the last one repeats. @default [5s, 30s, 2m, 10m] */
  retryDelaysMs: number[];
  /** Attempts (first delivery included) before a transient failure is dead-lettered. @default 6 */
  maxAttempts: number;
  /**
   * Quorum queues only: deliveries of one message (crash loops included) before the broker
   * dead-letters it. Guards against a body that kills the process each time. @default 20
   */
  deliveryLimit: number;
  /** Longest wait for a publisher confirm. @default 10s */
  publishTimeoutMs: number;
  /** Reconnect back-off bounds. @default 500ms .. 30s */
  reconnectMinMs: number;
  reconnectMaxMs: number;
}

export function readBrokerConfig(r: EnvReader): BrokerConfig {
  const broker: BrokerConfig = {
    url: r.url('AMQP_URL', 'amqp://guest:guest@127.0.0.1:5672', ['amqp', 'amqps'])!,
    // Queue names are at most 255 bytes; keep room for ".retry.10m" and the queue itself.
    queuePrefix: r.matching('VIGIL_QUEUE_PREFIX', '', (v) => /^[A-Za-z0-9_.:-]{0,100}$/.test(v), 'at most 100 of the characters A-Z a-z 0-9 _ . : -'),
    queueType: r.oneOf('VIGIL_QUEUE_TYPE', 'quorum', QUEUE_TYPES),
    heartbeatSeconds: r.int('VIGIL_HEARTBEAT_SECONDS', 15, 1, 600),
    retryDelaysMs: r.durationList('VIGIL_RETRY_DELAYS', [5_000, 30_000, 120_000, 600_000], 100, 24 * 3600_000),
    maxAttempts: r.int('VIGIL_MAX_ATTEMPTS', 6, 1, 100),
    deliveryLimit: r.int('VIGIL_DELIVERY_LIMIT', 20, 2, 1000),
    publishTimeoutMs: r.duration('VIGIL_PUBLISH_TIMEOUT', 10_000, 100, 600_000),
    reconnectMinMs: r.duration('VIGIL_RECONNECT_MIN', 500, 10, 60_000),
    reconnectMaxMs: r.duration('VIGIL_RECONNECT_MAX', 30_000, 100, 600_000),
  };
  if (broker.reconnectMinMs > broker.reconnectMaxMs) {
    r.problems.push({ variable: 'VIGIL_RECONNECT_MIN', expected: 'at most VIGIL_RECONNECT_MAX' });
  }
  return broker;
}
