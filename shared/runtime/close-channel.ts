import type { Channel } from 'amqplib';

/**
 * Closes a channel, bounded in time. amqplib's `close()` waits for the broker's CloseOk and
 * never settles when the connection goes away in the meantime; shutdown must not hang on it.
 */
export async function closeChannel(ch: Channel, timeoutMs = 2000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    ch.close().catch(() => undefined),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    }),
  ]);
  clearTimeout(timer);
}
