/** One block of ffmpeg's `-progress` output (all fields optional: ffmpeg prints N/A early on). */
export interface FfmpegProgress {
  /** Video frames written by the first output. */
  frame?: number;
  fps?: number;
  /** Output position in seconds (the furthest of all outputs). */
  outTimeSeconds?: number;
  /** Encoding speed relative to real time, e.g. 2.5 for `speed=2.5x`. */
  speed?: number;
  totalSizeBytes?: number;
  /** `progress=end`: the last block, ffmpeg is finishing. */
  done: boolean;
  /** Every key of the block as printed. */
  raw: Record<string, string>;
}

function num(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number.parseFloat(v);
  return Number.isFinite(n) ? n : undefined;
}

/** Turns one `key=value … progress=continue|end` block into a typed progress record. */
export function progressFromBlock(raw: Record<string, string>): FfmpegProgress {
  // `out_time_ms` is microseconds too (a historic ffmpeg misnomer kept for compatibility);
  // `out_time_us` only exists since 4.4, so fall back to it, then to `out_time`.
  const us = num(raw.out_time_us) ?? num(raw.out_time_ms);
  let outTimeSeconds = us === undefined ? undefined : us / 1e6;
  if (outTimeSeconds === undefined && raw.out_time) {
    const m = /^(-?)(\d+):(\d\d):(\d\d(?:\.\d+)?)$/.exec(raw.out_time);
    if (m) outTimeSeconds = (m[1] ? -1 : 1) * (Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4]));
  }
  const p: FfmpegProgress = { done: raw.progress === 'end', raw };
  const frame = num(raw.frame);
  if (frame !== undefined) p.frame = frame;
  const fps = num(raw.fps);
  if (fps !== undefined) p.fps = fps;
  if (outTimeSeconds !== undefined && outTimeSeconds >= 0) p.outTimeSeconds = outTimeSeconds;
  const speed = num(raw.speed?.replace(/x$/, ''));
  if (speed !== undefined) p.speed = speed;
  const size = num(raw.total_size);
  if (size !== undefined) p.totalSizeBytes = size;
  return p;
}

/**
 * Incremental reader of `-progress pipe:1`: feed it stdout chunks as they come, it returns
 * the blocks completed by each chunk (a block ends with its `progress=` line).
 */
export class ProgressReader {
  private partial = '';
  private block: Record<string, string> = {};

  push(chunk: string): FfmpegProgress[] {
    const text = this.partial + chunk;
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    // A runaway line without newline is not progress output; do not let it grow.
    if (this.partial.length > 4096) this.partial = '';
    const out: FfmpegProgress[] = [];
    for (const line of lines) {
      const eq = line.indexOf('=');
      if (eq <= 0) continue;
      const key = line.slice(0, eq).trim();
      const value = line.slice(eq + 1).trim();
      this.block[key] = value;
      if (key === 'progress') {
        out.push(progressFromBlock(this.block));
        this.block = {};
      }
    }
    return out;
  }
}

/**
 * Whether `next` shows work done since `prev`. The stall watchdog needs movement, not just a
 * block: ffmpeg prints blocks from its main loop, which keeps turning while an input answers
 * "try again" without ever delivering data.
 */
export function progressAdvanced(prev: FfmpegProgress | undefined, next: FfmpegProgress): boolean {
  if (next.done) return true;
  if (!prev) return true;
  return (
    (next.frame ?? 0) > (prev.frame ?? 0) ||
    (next.outTimeSeconds ?? 0) > (prev.outTimeSeconds ?? 0) ||
    (next.totalSizeBytes ?? 0) > (prev.totalSizeBytes ?? 0)
  );
}
