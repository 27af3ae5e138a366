import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { once } from 'node:events';
import { ZipFile } from 'yazl';
import { PermanentError } from '../errors.ts';
import type { ExportCursor, ExportFilter, FaceExportRepository } from '../../db/repositories/face-export.repository.ts';
import { cropFaces } from './face-crop.ts';
import { cropName, CSV_HEADER, csvLine, jsonLine } from './face-export-format.ts';

export interface FaceExportDeps {
  repo: FaceExportRepository;
  /** Where `faces.csv` and `faces.jsonl` are written while the crops stream (removed afterwards). @default os.tmpdir() */
  tmpDir?: string;
  /** Snapshots read per query. @default 200 */
  pageSize?: number;
  now?: () => Date;
}

export interface FaceExportOptions {
  since: Date;
  refused: boolean;
  lanId?: string;
}

export interface FaceExportSummary {
  /** Snapshots listed. */
  snapshots: number;
  /** Faces listed (with a crop or without). */
  faces: number;
  /** Bytes of the archive. */
  bytes: number;
}

/**
 * Writes the face export, a ZIP, to `out` as it is made, so the command line (a file) and
 * the console (a download) serve the same archive and neither holds it in memory:
 *
 * - `faces/<stream_img id>-<face index>.jpg`: each face's crop (`face-crop.ts`);
 * - `faces.csv` and `faces.jsonl`: one line per face, and with `refused` one per snapshot
 *   without faces (`face-export-format.ts`).
 *
 * Snapshots are read in pages and their images one at a time; each crop waits until the
 * archive has taken the one before, so a slow reader slows the export instead of filling
 * memory. ZIP entries are written one after another, so the two lists, which grow with
 * every face, go to temporary files and into the archive last. Snapshots captured after
 * the start are not listed (a live table would otherwise keep the export going).
 * Resolves once `out` has finished; on an error `out` is destroyed with it.
 */
export async function writeFaceExport(deps: FaceExportDeps, opts: FaceExportOptions, out: Writable): Promise<FaceExportSummary> {
  // A pipeline into a stream that has ended already never settles: refuse it at once.
  if (out.destroyed || out.writableEnded) throw new PermanentError('EXPORT_OUTPUT_CLOSED', 'the face export was given an output that is closed already (EXPORT_OUTPUT_CLOSED)');
  const pageSize = deps.pageSize ?? 200;
  const filter: ExportFilter = { since: opts.since, until: (deps.now ?? (() => new Date()))(), refused: opts.refused, lanId: opts.lanId };
  const zip = new ZipFile();
  // A PassThrough (the types say only NodeJS.ReadableStream).
  const archive = zip.outputStream as Readable;
  let bytes = 0;
  const written = pipeline(
    archive,
    async function* count(source: AsyncIterable<Buffer>) {
      for await (const chunk of source) {
        bytes += chunk.length;
        yield chunk;
      }
    },
    out,
  );
  // Rejects when the pipeline fails, so a step waiting on the archive stops waiting.
  const broken = written.then(() => new Promise<never>(() => undefined));
  broken.catch(() => undefined);

  let dir: string | undefined;
  let csv: WriteStream | undefined;
  let jsonl: WriteStream | undefined;
  let snapshots = 0;
  let faces = 0;
  try {
    dir = await mkdtemp(join(deps.tmpDir ?? tmpdir(), 'vigil-face-export-'));
    const csvPath = join(dir, 'faces.csv');
    const jsonlPath = join(dir, 'faces.jsonl');
    csv = createWriteStream(csvPath);
    jsonl = createWriteStream(jsonlPath);
    await write(csv, CSV_HEADER);
    let after: ExportCursor | undefined;
    for (;;) {
      const page = await deps.repo.snapshotPage(filter, after, pageSize);
      for (const s of page) {
        snapshots++;
        if (s.faces.length === 0) {
          await write(csv, csvLine(s, null, null));
          await write(jsonl, jsonLine(s, null, null));
          continue;
        }
        const image = await deps.repo.image(s.id);
        const crops = image ? await cropFaces(image, s.faces) : new Map<number, Buffer>();
        for (const f of s.faces) {
          const crop = crops.get(f.index);
          const name = crop ? cropName(s.id, f.index) : null;
          if (crop && name) await addCrop(zip, crop, name, s.captureTime, broken);
          await write(csv, csvLine(s, f, name));
          await write(jsonl, jsonLine(s, f, name));
          faces++;
        }
      }
      if (page.length < pageSize) break;
      const last = page[page.length - 1]!;
      after = { captureTime: last.captureTime, id: last.id };
    }
    csv.end();
    jsonl.end();
    await Promise.all([finished(csv), finished(jsonl)]);
    const mtime = filter.until;
    zip.addFile(csvPath, 'faces.csv', { mtime });
    zip.addFile(jsonlPath, 'faces.jsonl', { mtime });
    zip.end();
    await written;
    return { snapshots, faces, bytes };
  } catch (err) {
    archive.destroy(err as Error);
    out.destroy(err as Error);
    await written.catch(() => undefined);
    throw err;
  } finally {
    // Discarded either way; a write still pending on them would otherwise throw unhandled.
    for (const list of [csv, jsonl]) list?.on('error', () => undefined).destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}

async function write(stream: WriteStream, text: string): Promise<void> {
  if (!stream.write(text)) await once(stream, 'drain');
}

/** Adds a crop, stored (a JPEG does not deflate), and waits until the archive has read it. */
async function addCrop(zip: ZipFile, crop: Buffer, name: string, mtime: Date, broken: Promise<never>): Promise<void> {
  const source = new PassThrough();
  const consumed = once(source, 'end');
  zip.addReadStream(source, name, { compress: false, size: crop.length, mtime });
  source.end(crop);
  await Promise.race([consumed, broken]);
}
