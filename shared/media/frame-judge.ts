import { DEAD_FRAME_DEFAULTS, freezeIntervals, judgeFrames, type DeadFrameOptions, type FrameVerdict, type MetadataFrame } from './frame-select.ts';

/**
 * Verdicts on sampled frames while ffmpeg still measures them, each one exactly what
 * `judgeFrames` says once the pass has ended. What makes a verdict final:
 *
 * - Its own entry is complete: the sampled print has moved on to the next frame (the
 *   metadata filter writes all of one frame's lines before it passes the frame on).
 * - No freeze that would cover it can still be announced. freezedetect names a freeze's
 *   start only on the frame where the stillness has lasted `freezeMinSeconds`, so a freeze
 *   covering time t is announced by t + freezeMinSeconds at the latest. The sampled print
 *   is further down the same filter chain than the freeze print, so a sampled frame at
 *   time T vouches that every freeze entry up to T has been written (read the sampled
 *   print first, then the freeze print). A black frame needs no look-ahead (black wins
 *   over frozen), nor does one inside a freeze already announced and not yet ended (its
 *   end comes later than anything seen, so later than the frame).
 *
 * Frames within the look-ahead of the end of the stream are judged when it ends.
 */

/** Beyond `freezeMinSeconds`: `pts_time` is printed to 6 significant digits, and a wait costs little. */
export const FREEZE_SLACK_SECONDS = 1;

export class FrameJudge {
  private readonly opts: Required<DeadFrameOptions>;
  private decided = 0;

  private readonly every: number;

  constructor(
    every: number,
    opts: DeadFrameOptions = {},
  ) {
    this.every = every;
    this.opts = { ...DEAD_FRAME_DEFAULTS, ...opts };
  }

  /** Sampled frames judged so far. */
  get count(): number {
    return this.decided;
  }

  /**
   * The verdicts that became final since the last call, in output order. `sampled` and
   * `freezes` are everything read so far, the sampled print read before the freeze print;
   * `ended`: ffmpeg has exited and both prints are complete.
   */
  next(sampled: readonly MetadataFrame[], freezes: readonly MetadataFrame[], ended: boolean): FrameVerdict[] {
    const complete = ended ? sampled.length : sampled.length - 1;
    if (complete <= this.decided) return [];
    let reached = -Infinity;
    for (const f of sampled) if (f.ptsTime !== undefined && f.ptsTime > reached) reached = f.ptsTime;
    let known: readonly MetadataFrame[] = freezes;
    // A freeze event without a time cannot be placed: until the end, it may cover any frame.
    let unplaced = false;
    if (!ended) {
      // An entry past `reached` may be half written.
      const cut = freezes.findIndex((f) => f.ptsTime === undefined || f.ptsTime > reached);
      if (cut >= 0) {
        unplaced = freezes[cut]!.ptsTime === undefined;
        known = freezes.slice(0, cut);
      }
    }
    const intervals = freezeIntervals(known);
    const lookAhead = this.opts.freezeMinSeconds + FREEZE_SLACK_SECONDS;
    const out: FrameVerdict[] = [];
    while (this.decided < complete) {
      const v = judgeFrames([sampled[this.decided]!], intervals, this.every, this.opts)[0]!;
      const final =
        ended ||
        !this.opts.enabled ||
        v.dead === 'black' ||
        // judgeFrames never calls a frame without a time frozen, whatever comes later.
        v.ptsTime === undefined ||
        (!unplaced && (v.dead === 'frozen' || v.ptsTime + lookAhead <= reached));
      if (!final) break;
      out.push(v);
      this.decided++;
    }
    return out;
  }
}
