import { readFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { openDatabase } from '../../../db/connection.ts';
import { CODECS } from '../../../shared/runtime/messages.ts';
import type { CliContext } from '../context.ts';

export function registerEnroll(program: Command, ctx: CliContext): void {
  program
    .command('enroll')
    .description('insert a train_img row for an employee and publish it to facetraining')
    .argument('<lan_id>', 'the employee, e.g. NA\\\\ada')
    .argument('<image>', 'path of the enrolment photo (JPEG, PNG, WebP or TIFF)')
    .option('--json', 'print one JSON document')
    .action(async (lanId: string, imagePath: string, opts: { json?: boolean }) => {
      const { id, messageId } = await insertAndPublish(ctx, 'train_img', 'facetraining', lanId, imagePath);
      ctx.print(!!opts.json, { id, lanId, messageId }, () => `train_img ${id} for ${lanId} queued for facetraining\n`);
    });
}

/** Shared by `enroll` and `snapshot`: the row is committed before its id is published. */
export async function insertAndPublish(
  ctx: CliContext,
  table: 'train_img' | 'stream_img',
  queue: 'facetraining' | 'facestreaming',
  lanId: string,
  imagePath: string,
): Promise<{ id: number; messageId: string }> {
  if (!/^.{1,64}$/u.test(lanId)) throw new Error('lan_id must be 1 to 64 characters');
  const image = await readFile(imagePath).catch((err: NodeJS.ErrnoException) => {
    throw new Error(`cannot read ${imagePath}: ${err.code ?? err.message}`);
  });
  const handle = openDatabase(ctx.config().database.url, { poolSize: 1 });
  let id: number;
  try {
    const r = await handle.db.insertInto(table).values({ lan_id: lanId, image, capture_time: new Date() }).executeTakeFirstOrThrow();
    id = Number(r.insertId);
  } finally {
    await handle.close();
  }
  const messageId = randomUUID();
  await ctx.withPublisher((p) => p.sendToQueue(queue, CODECS[queue].encode({ id }), { messageId, contentType: 'application/json' }));
  return { id, messageId };
}
