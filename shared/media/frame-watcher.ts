import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { PermanentError } from '../errors.ts';
import type { FrameOutputs } from './ffmpeg-args.ts';
import { FrameJudge } from './frame-judge.ts';
import { countVerdicts, MetadataPrintReader, type DeadFrameOptions, type FrameCounts, type FrameVerdict } from './frame-select.ts';
import { frameObjectName } from './output-names.ts';

/** A sampled frame whose verdict is final and whose JPEG ffmpeg has closed. */
export interface JudgedFrame {
  verdict: FrameVerdict;
  /** The JPEG in the work folder. */
  path: string;
  /** Object name per the contract: `<stem>/<stem>_f000120.jpg`. */
  name: string;
}

/**
 * Hands over each sampled frame of the clips-and-frames pass, in output order, as soon as
 * its verdict is final (frame-judge.ts) and its JPEG is complete: image2 writes one file
 * after the other and closes each before it opens the next, so "the next file exists"
 * means this one is whole. Call `poll(false)` while ffmpeg runs and `poll(true)` once it
 * has exited; the last call also checks that every measured frame had a JPEG and every
 * JPEG a measurement.
 *
 * Its file calls are synchronous on purpose: it looks at every sampled frame's file
 * (hundreds a job) in the job's local folder, and an fs.promises call's round trip through
 * the thread pool costs a virtual machine 10 to 20 times the system call itself, CPU taken
 * from the ffmpeg pass running beside it (services/transcoder/uploads.ts, putFrame, says more).
 */
export class FrameWatcher {
  private readonly judge: FrameJudge;
  private readonly sampled = new PrintTail();
  private readonly freezes = new PrintTail();
  private readonly waiting: FrameVerdict[] = [];
  private readonly verdicts: FrameVerdict[] = [];
  private handed = 0;

  private readonly outputs: FrameOutputs;
  private readonly stem: string;
  private readonly ready: (frame: JudgedFrame) => Promise<void> | void;

  constructor(
    outputs: FrameOutputs,
    stem: string,
    dead: DeadFrameOptions | undefined,
    ready: (frame: JudgedFrame) => Promise<void> | void,
  ) {
    this.outputs = outputs;
    this.stem = stem;
    this.ready = ready;
    this.judge = new FrameJudge(outputs.every, dead);
  }

  counts(): FrameCounts {
    return countVerdicts(this.verdicts);
  }

  async poll(ffmpegExited: boolean): Promise<void> {
    const { sampledMetadata, freezeMetadata } = this.outputs;
    if (sampledMetadata && freezeMetadata) {
      // The sampled print first: its newest frame vouches for the freeze print up to its time.
      this.sampled.read(sampledMetadata, ffmpegExited);
      this.freezes.read(freezeMetadata, ffmpegExited);
      this.waiting.push(...this.judge.next(this.sampled.frames, this.freezes.frames, ffmpegExited));
    } else {
      // No detection: every JPEG is kept, and the files themselves are the measurement.
      let k = this.handed + this.waiting.length;
      while (existsSync(this.jpeg(k + 1)) || (ffmpegExited && existsSync(this.jpeg(k)))) {
        this.waiting.push({ outputIndex: k, sourceIndex: k * this.outputs.every });
        k++;
      }
    }
    while (this.waiting.length > 0) {
      const v = this.waiting[0]!;
      const path = this.jpeg(v.outputIndex);
      if (!ffmpegExited && !existsSync(this.jpeg(v.outputIndex + 1))) return;
      if (v.outputIndex !== this.handed || !existsSync(path)) {
        throw new PermanentError('FRAMES_MISMATCH', `no JPEG for sampled frame ${v.outputIndex} in ${this.outputs.dir}`);
      }
      this.waiting.shift();
      this.verdicts.push(v);
      this.handed++;
      await this.ready({ verdict: v, path, name: frameObjectName(this.stem, v.sourceIndex) });
    }
    if (ffmpegExited) await this.checkNoneLeft();
  }

  private async checkNoneLeft(): Promise<void> {
    const extra = (await readdir(this.outputs.dir)).filter((f) => {
      const m = JPEG_NAME.exec(f);
      return m !== null && Number(m[1]) >= this.handed;
    });
    if (extra.length > 0) {
      throw new PermanentError('FRAMES_MISMATCH', `${this.handed + extra.length} JPEGs written but ${this.handed} frames measured in ${this.outputs.dir}`);
    }
  }

  private jpeg(outputIndex: number): string {
    return join(this.outputs.dir, `f_${String(outputIndex).padStart(6, '0')}.jpg`);
  }
}

const JPEG_NAME = /^f_(\d{6,})\.jpg$/;

/** The part of a growing print not read yet, parsed on; a file not there yet is empty. */
class PrintTail {
  private readonly reader = new MetadataPrintReader();
  private readonly decoder = new StringDecoder('utf8');
  private offset = 0;

  get frames() {
    return this.reader.frames;
  }

  read(path: string, complete: boolean): void {
    const fd = openIfThere(path);
    if (fd !== undefined) {
      try {
        const buf = Buffer.allocUnsafe(64 * 1024);
        for (;;) {
          const bytesRead = readSync(fd, buf, 0, buf.length, this.offset);
          if (bytesRead === 0) break;
          this.offset += bytesRead;
          this.reader.push(this.decoder.write(buf.subarray(0, bytesRead)));
        }
      } finally {
        closeSync(fd);
      }
    }
    if (complete) {
      this.reader.push(this.decoder.end());
      this.reader.end();
    }
  }
}

/** A file descriptor, or undefined while ffmpeg has not made the file yet. */
function openIfThere(path: string): number | undefined {
  try {
    return openSync(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
