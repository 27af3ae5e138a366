import { createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { once } from 'node:events';
import { dirname, resolve } from 'node:path';
import { faceExportRepository } from '../../../db/repositories/face-export.repository.ts';
import { PermanentError } from '../../../shared/errors.ts';
import { faceExportOptions } from '../../../shared/gallery/face-export-options.ts';
import { writeFaceExport, type FaceExportSummary } from '../../../shared/gallery/face-export.ts';
import type { CliContext } from '../context.ts';
import { printable } from '../printable.ts';

export async function run(ctx: CliContext, opts: { since: number; out: string; refused?: boolean; lanId?: string; json?: boolean }): Promise<void> {
  const out = resolve(opts.out);
  const dir = await stat(dirname(out)).catch(() => undefined);
  if (!dir?.isDirectory()) {
    throw new PermanentError('EXPORT_DIR_MISSING', `refused: the folder of ${printable(out)} does not exist; nothing written (EXPORT_DIR_MISSING)`);
  }
  if ((await stat(out).catch(() => undefined))?.isDirectory()) {
    throw new PermanentError('EXPORT_OUT_IS_DIRECTORY', `refused: ${printable(out)} is a folder; give the archive's file name (EXPORT_OUT_IS_DIRECTORY)`);
  }
  const options = faceExportOptions({ backMs: opts.since, refused: !!opts.refused, lanId: opts.lanId });
  // Written beside the target and renamed when complete, so a failed or interrupted export
  // never leaves a half archive under the name asked for (nor replaces a good one).
  const partial = `${out}.partial`;
  const file = createWriteStream(partial);
  await once(file, 'open');
  let summary: FaceExportSummary;
  try {
    summary = await ctx.withDatabase((db) =>
      writeFaceExport({ repo: faceExportRepository(db) }, options, file),
    );
  } catch (err) {
    // Closed before it is removed, or a late close would leave it behind.
    if (!file.closed) await once(file.destroy(), 'close');
    await rm(partial, { force: true });
    throw err;
  }
  await rename(partial, out);
  ctx.print(!!opts.json, { out, ...summary }, () => `wrote ${printable(out)}: ${summary.snapshots} snapshot(s), ${summary.faces} face(s), ${summary.bytes} bytes\n`);
}
