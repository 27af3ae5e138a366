import { randomUUID } from 'node:crypto';
import { CODECS } from '../../../shared/contract/messages.ts';
import { QUEUE_NAMES, isQueueName } from '../../../shared/contract/queue-names.ts';
import type { CliContext } from '../context.ts';

export async function run(ctx: CliContext, queue: string, bodies: string[], opts: { json?: boolean }): Promise<void> {
  if (!isQueueName(queue)) throw new Error(`unknown queue ${JSON.stringify(queue)}; expected one of ${QUEUE_NAMES.join(', ')}`);
  // Check every body before sending any, so a typo publishes nothing; what is sent is
  // the message as the queue's codec writes it (an id `42` goes as `{"id":42}`).
  const messages = bodies.map((text, i) => {
    try {
      return CODECS[queue].parse(Buffer.from(text));
    } catch (err) {
      throw new Error(`body ${i + 1} (${JSON.stringify(text.slice(0, 60))}) is not a valid ${queue} message: ${(err as Error).message}`);
    }
  });
  const ids: string[] = [];
  await ctx.withPublisher(async (publisher) => {
    for (const payload of messages) {
      const messageId = randomUUID();
      await publisher.publish(queue, payload, { messageId, timestamp: Math.floor(Date.now() / 1000) });
      ids.push(messageId);
    }
  });
  const routingKey = `${ctx.config().broker.queuePrefix}${queue}`;
  ctx.print(!!opts.json, { queue: routingKey, published: ids.length, messageIds: ids }, () => `published ${ids.length} message(s) to ${routingKey}\n`);
}
