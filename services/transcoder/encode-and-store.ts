import { isPermanent } from '../../shared/errors.ts';
import { checkCoverage } from './coverage.ts';
import type { EncodeOptions, EncodeResult } from './encode-types.ts';
import { splitAndFrames } from './split-and-frames.ts';
import { trimAndStore } from './trim.ts';
import { Uploads } from './uploads.ts';

/**
 * The media half of a job, on local files and the store: the job's one ffmpeg pass (a trim,
 * or the clips and frames), every output verified and uploaded, then checked to cover the
 * source before the handler may delete it.
 */

/**
 * Encodes and stores; on a permanent failure what was already uploaded is deleted again.
 * Resolves only once the stored clips are checked to cover the source (or the trim) end
 * to end, so that nothing after it (deleting the source) acts on partial outputs.
 */
export async function encodeAndStore(o: EncodeOptions): Promise<EncodeResult> {
  const uploads = new Uploads(o.store);
  try {
    const work = o.plan.work;
    const result = work.kind === 'trim' ? await trimAndStore(o, work, uploads) : await splitAndFrames(o, work, uploads);
    const expected = work.kind === 'trim' ? { start: work.start, end: Math.min(work.end, o.info.durationSeconds) } : { start: 0, end: o.info.durationSeconds };
    checkCoverage(result.clips, expected);
    return result;
  } catch (err) {
    if (isPermanent(err)) await uploads.removeAll();
    throw err;
  }
}
