import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TranscodeOutputs } from '../../shared/media/ffmpeg-args.ts';
import { clipObjectName } from '../../shared/media/output-names.ts';
import { parseSegmentList } from '../../shared/media/segment-list.ts';

/*
 * Which clips of the one clips-and-frames pass are finished, read from the segment
 * muxer's list: clips go up while ffmpeg still encodes the next one. The muxer adds a row
 * to its list as it ends a clip and opens the next file only after it has closed that
 * one, so "listed, and the next file exists" means a clip is complete.
 */

export interface ClipFile {
  path: string;
  /** Object name per the contract. */
  name: string;
  startSeconds: number;
  endSeconds: number;
}

/** Hands over each clip once the segment muxer has closed it; all of them once ffmpeg has exited. */
export class ClipWatcher {
  private handed = 0;

  private readonly outputs: TranscodeOutputs;
  private readonly stem: string;
  private readonly ready: (clip: ClipFile) => void;

  constructor(
    outputs: TranscodeOutputs,
    stem: string,
    ready: (clip: ClipFile) => void,
  ) {
    this.outputs = outputs;
    this.stem = stem;
    this.ready = ready;
  }

  async poll(ffmpegExited: boolean): Promise<void> {
    const text = await readFile(this.outputs.segmentList!, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return '';
      throw err;
    });
    // Only whole rows: the muxer may be half way through writing the next one.
    const entries = parseSegmentList(text.slice(0, text.lastIndexOf('\n') + 1));
    const dir = join(this.outputs.segmentList!, '..');
    while (this.handed < entries.length) {
      const i = this.handed;
      const next = this.outputs.clips[i + 1]?.path;
      const closed = ffmpegExited || i + 1 < entries.length || (next !== undefined && (await exists(next)));
      if (!closed) return;
      const e = entries[i]!;
      this.handed++;
      this.ready({ path: join(dir, e.file), name: clipObjectName(this.stem, i), startSeconds: e.startSeconds, endSeconds: e.endSeconds });
    }
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(() => true, () => false);
}
