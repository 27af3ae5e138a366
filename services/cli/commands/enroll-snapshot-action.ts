import { readFile, stat } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { largestInsertableImage } from '../../../db/packet-limit.ts';
import type { CliContext } from '../context.ts';

export async function runEnroll(ctx: CliContext, lanId: string, imagePath: string, opts: { json?: boolean }): Promise<void> {
  const { id, messageId } = await insertAndPublish(ctx, 'train_img', 'facetraining', lanId, imagePath);
  ctx.print(!!opts.json, { id, lanId, messageId }, () => `train_img ${id} for ${lanId} queued for facetraining\n`);
}

export async function runSnapshot(ctx: CliContext, lanId: string, imagePath: string, opts: { json?: boolean; captureTime?: Date }): Promise<void> {
  const { id, messageId } = await insertAndPublish(ctx, 'stream_img', 'facestreaming', lanId, imagePath, opts.captureTime);
  ctx.print(!!opts.json, { id, lanId, messageId }, () => `stream_img ${id} for ${lanId} queued for facestreaming\n`);
}

/** `enroll` and `snapshot`: the row is committed before its id is published. */
export async function insertAndPublish(
  ctx: CliContext,
  table: 'train_img' | 'stream_img',
  queue: 'facetraining' | 'facestreaming',
  lanId: string,
  imagePath: string,
  captureTime = new Date(),
): Promise<{ id: number; messageId: string }> {
  if (!/^.{1,64}$/u.test(lanId)) throw new Error('lan_id must be 1 to 64 characters');
  // One process per image in scripts: the broker's clients load while the row is written.
  ctx.preloadPublisher();
  const cannotRead = (err: NodeJS.ErrnoException) => {
    throw new Error(`cannot read ${imagePath}: ${err.code ?? err.message}`);
  };
  // Checked before reading: the file may be anything, of any size.
  const { size } = await stat(imagePath).catch(cannotRead);
  const limit = ctx.config().face.maxImageBytes;
  if (size > limit) throw new Error(`${imagePath} is ${mib(size)}, more than the ${mib(limit)} an image may be (FACE_MAX_IMAGE_BYTES)`);
  const image = await readFile(imagePath).catch(cannotRead);
  const id = await ctx.withDatabase(async (db) => {
    const fits = await largestInsertableImage(db);
    if (image.length > fits.bytes) {
      throw new Error(
        `${imagePath} is ${mib(image.length)}; this database takes images up to ${mib(fits.bytes)} (max_allowed_packet is ${mib(fits.maxAllowedPacket)} and images travel hex-encoded): raise max_allowed_packet on the server, or send a smaller image`,
      );
    }
    const r = await db.insertInto(table).values({ lan_id: lanId, image, capture_time: captureTime }).executeTakeFirstOrThrow();
    return Number(r.insertId);
  });
  const messageId = randomUUID();
  await ctx.withPublisher((p) => p.publish(queue, { id }, { messageId }));
  return { id, messageId };
}

const mib = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
