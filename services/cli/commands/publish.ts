import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { CODECS } from '../../../shared/contract/messages.ts';
import { QUEUE_NAMES, isQueueName } from '../../../shared/contract/queue-names.ts';
import type { CliContext } from '../context.ts';

export function registerPublish(program: Command, ctx: CliContext): void {
  program
    .command('publish')
    .description('publish ids or a JSON body to a queue (checked against the queue\'s message format first)')
    .argument('<queue>', QUEUE_NAMES.join(' | '))
    .argument('<body...>', 'ids such as 42, or one JSON body per argument')
    .option('--json', 'print one JSON document')
    .action(async (queue: string, bodies: string[], opts: { json?: boolean }) => {
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
    });
}
