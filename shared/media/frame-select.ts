/**
 * Pure decisions about sampled frames: parse what ffmpeg's `metadata=print` filters wrote,
 * find frozen stretches, and say which sampled frames are dead (black, frozen, blurred).
 */

/** Thresholds for dead frames. The ffmpeg side (ffmpeg-args.ts) and the verdict share them. */
export interface DeadFrameOptions {
  /** Detect and drop dead frames at all (the job's `frames.dropDead`). @default true */
  enabled?: boolean;
  /** A luma value below this (0–255) is a black pixel (blackframe `threshold`). @default 32 */
  blackPixelThreshold?: number;
  /** A frame with at least this percent of black pixels is black. @default 98 */
  blackPercent?: number;
  /** freezedetect's noise floor in dB: frames closer than this count as identical. @default -60 */
  freezeNoiseDb?: number;
  /** A picture that does not change for at least this long is frozen. @default 2 */
  freezeMinSeconds?: number;
  /**
   * blurdetect's value (about the width of an edge, in pixels) above which a frame is blurred.
   * Measured on the scaled frame. Natural photos at 1280 px (face-api's samples) read
   * 6-8 sharp, 9-11 with a Gaussian blur of sigma 2, 13-15 at sigma 4, 20-22 at sigma 8;
   * synthetic testsrc2 frames read 4.5 sharp and 19-23 at sigma 8 at 320-1280 px.
   * @default 12
   */
  blurThreshold?: number;
}

export const DEAD_FRAME_DEFAULTS: Required<DeadFrameOptions> = {
  enabled: true,
  blackPixelThreshold: 32,
  blackPercent: 98,
  freezeNoiseDb: -60,
  freezeMinSeconds: 2,
  blurThreshold: 12,
};

/** One frame as printed by `metadata=mode=print`. */
export interface MetadataFrame {
  /** The metadata filter's own frame counter, from 0. */
  frame: number;
  pts?: number;
  ptsTime?: number;
  tags: Record<string, string>;
}

const HEADER = /^frame:\s*(\d+)\s+pts:\s*(\S+)\s+pts_time:\s*(\S+)/;

/** Parses the text of one `metadata=mode=print:file=…` output. Unknown lines are skipped. */
export function parseMetadataPrint(text: string): MetadataFrame[] {
  const reader = new MetadataPrintReader();
  reader.push(text);
  reader.end();
  return reader.frames;
}

/**
 * Reads a print as it grows (`direct=1` writes each line as it is printed): feed it the
 * appended text; only whole lines are taken, so `frames` never holds half a line. The
 * last frame may still be missing tags that ffmpeg has yet to write.
 */
export class MetadataPrintReader {
  readonly frames: MetadataFrame[] = [];
  private partial = '';

  push(text: string): void {
    const all = this.partial + text;
    const cut = all.lastIndexOf('\n') + 1;
    this.partial = all.slice(cut);
    for (const line of all.slice(0, cut).split('\n')) this.line(line);
  }

  /** The file is complete: a last line without a newline counts too. */
  end(): void {
    this.line(this.partial);
    this.partial = '';
  }

  private line(raw: string): void {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const m = HEADER.exec(line);
    if (m) {
      const f: MetadataFrame = { frame: Number(m[1]), tags: {} };
      const pts = Number(m[2]);
      const ptsTime = Number(m[3]);
      if (Number.isFinite(pts)) f.pts = pts;
      if (Number.isFinite(ptsTime)) f.ptsTime = ptsTime;
      this.frames.push(f);
      return;
    }
    const eq = line.indexOf('=');
    const current = this.frames.at(-1);
    if (current && eq > 0) current.tags[line.slice(0, eq)] = line.slice(eq + 1);
  }
}

/** A frozen stretch in seconds; `end` is missing when the video ended frozen. */
export interface FreezeInterval {
  start: number;
  end?: number;
}

/**
 * freezedetect announces `freeze_start` late (on the frame where the stillness has lasted
 * `freezeMinSeconds`) and `freeze_end` on the first frame that moves again; this pairs them.
 */
export function freezeIntervals(frames: readonly MetadataFrame[]): FreezeInterval[] {
  const out: FreezeInterval[] = [];
  let open: FreezeInterval | undefined;
  for (const f of frames) {
    const start = Number(f.tags['lavfi.freezedetect.freeze_start']);
    const end = Number(f.tags['lavfi.freezedetect.freeze_end']);
    if (f.tags['lavfi.freezedetect.freeze_end'] !== undefined && Number.isFinite(end)) {
      if (open) open.end = end;
      else out.push({ start: end - Number(f.tags['lavfi.freezedetect.freeze_duration'] ?? 0), end });
      open = undefined;
    }
    if (f.tags['lavfi.freezedetect.freeze_start'] !== undefined && Number.isFinite(start)) {
      open = { start };
      out.push(open);
    }
  }
  return out;
}

/**
 * The first frame of a frozen stretch is the picture itself and is kept; the ones after it
 * repeat it. Both ends come from the same `av_ts2timestr` formatting as the frame's
 * `pts_time`, so exact comparison is safe.
 */
export function isFrozenAt(t: number, freezes: readonly FreezeInterval[]): boolean {
  return freezes.some((f) => t > f.start && (f.end === undefined || t < f.end));
}

export type DeadReason = 'black' | 'frozen' | 'blurred';

export interface FrameVerdict {
  /** Position among the written JPEGs, from 0 (the image2 number). */
  outputIndex: number;
  /** Frame index in the source, from 0: `outputIndex × every`. */
  sourceIndex: number;
  ptsTime?: number;
  /** Missing: the frame is kept. */
  dead?: DeadReason;
  /** Percent of black pixels. */
  pblack?: number;
  /** blurdetect's value (NaN on a flat picture, which has no edges to measure). */
  blur?: number;
}

/**
 * Judges the sampled frames: black first (a black stretch is also frozen), then frozen,
 * then blurred. `sampled` is the print of the metadata filter after `select`, so its frame
 * counter is the JPEG number; `every` maps it back to the source frame index.
 */
export function judgeFrames(
  sampled: readonly MetadataFrame[],
  freezes: readonly FreezeInterval[],
  every: number,
  opts: DeadFrameOptions = {},
): FrameVerdict[] {
  const o = { ...DEAD_FRAME_DEFAULTS, ...opts };
  return sampled.map((f) => {
    const v: FrameVerdict = { outputIndex: f.frame, sourceIndex: f.frame * every };
    if (f.ptsTime !== undefined) v.ptsTime = f.ptsTime;
    const pblack = Number(f.tags['lavfi.blackframe.pblack']);
    if (Number.isFinite(pblack)) v.pblack = pblack;
    const blurText = f.tags['lavfi.blur'];
    if (blurText !== undefined) v.blur = Number.parseFloat(blurText);
    if (!o.enabled) return v;
    if (v.pblack !== undefined && v.pblack >= o.blackPercent) v.dead = 'black';
    else if (v.ptsTime !== undefined && isFrozenAt(v.ptsTime, freezes)) v.dead = 'frozen';
    else if (v.blur !== undefined && Number.isFinite(v.blur) && v.blur > o.blurThreshold) v.dead = 'blurred';
    return v;
  });
}

export interface FrameCounts {
  kept: number;
  dropped: Record<DeadReason, number>;
}

export function countVerdicts(verdicts: readonly FrameVerdict[]): FrameCounts {
  const counts: FrameCounts = { kept: 0, dropped: { black: 0, frozen: 0, blurred: 0 } };
  for (const v of verdicts) {
    if (v.dead) counts.dropped[v.dead]++;
    else counts.kept++;
  }
  return counts;
}
