// Apart from app-context.ts so a process that only publishes (`vigil enroll`, `snapshot`,
// `publish`) loads the broker's clients without the metrics, the pools and the locks.
import type { PlatformConfig } from '../config/platform-config.ts';
import type { Logger } from '../logger.ts';
import { BrokerConnection } from '../runtime/connection.ts';
import { Publisher } from '../runtime/publisher.ts';
import type { TopologyOptions } from '../runtime/topology.ts';

export function topologyOptions(config: PlatformConfig): TopologyOptions {
  return {
    prefix: config.broker.queuePrefix,
    queueType: config.broker.queueType,
    retryDelaysMs: config.broker.retryDelaysMs,
    deliveryLimit: config.broker.deliveryLimit,
  };
}

/** The broker connection and its publisher, as the configuration sets them (not started). */
export function brokerClients(config: PlatformConfig, logger: Logger, connectionName: string): { broker: BrokerConnection; publisher: Publisher } {
  const broker = new BrokerConnection({
    url: config.broker.url,
    heartbeatSeconds: config.broker.heartbeatSeconds,
    reconnectMinMs: config.broker.reconnectMinMs,
    reconnectMaxMs: config.broker.reconnectMaxMs,
    connectionName,
    logger,
  });
  const publisher = new Publisher(broker, { timeoutMs: config.broker.publishTimeoutMs, topology: topologyOptions(config), logger });
  return { broker, publisher };
}
