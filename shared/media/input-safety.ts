/**
 * Demuxers allowed to open a downloaded file. `-protocol_whitelist file` alone is not
 * enough: ffmpeg 5.1 still detects an HLS playlist or an ffconcat script by content, even in
 * a file named `.avi`, and those demuxers then read other local files (`file` is allowed)
 * into the output. With a demuxer whitelist they refuse to open at all, which also makes
 * their own guards moot (concat's `-safe`, default 1, and hls's `allowed_extensions`) and
 * needs no `-f avi` (that would refuse an MP4 talk or a misnamed camera file). The old GAB2
 * "HLS inside AVI" subtitle trick is closed in avidec since 2017 (it probes srt/ass only),
 * and nested opens inherit both whitelists anyway.
 */
export const DEFAULT_INPUT_FORMATS: readonly string[] = ['avi', 'mov', 'matroska', 'mpeg', 'mpegts', 'asf', 'flv'];

export interface InputSafety {
  /** Demuxer names ffmpeg may use on the input (`-format_whitelist`). @default DEFAULT_INPUT_FORMATS */
  formatWhitelist?: readonly string[];
  /**
   * The decoder refuses pictures larger than this (`-max_pixels`), whatever the headers
   * said to the probe. Decoders allocate padded pictures (320×240 decodes into 448×280), so
   * give it room above the largest size accepted. @default unbounded
   */
  maxDecodePixels?: number;
}

/** `file:` makes a path that contains a colon a path, not a protocol (`x:y.avi`). */
export function fileUrl(path: string): string {
  return `file:${path}`;
}

/** A path inside a filter option: escaped for the option parser, then for the graph parser. */
export function escapeFilterPath(path: string): string {
  const option = path.replace(/[\\':]/g, '\\$&');
  return option.replace(/[\\'[\],;]/g, '\\$&');
}

/** Input options that keep ffmpeg from leaving the local file: only `file:` and known demuxers. */
export function safeInputArgs(path: string, opts: InputSafety = {}, before: readonly string[] = []): string[] {
  const formats = opts.formatWhitelist ?? DEFAULT_INPUT_FORMATS;
  const pixels = opts.maxDecodePixels !== undefined ? ['-max_pixels', String(Math.round(opts.maxDecodePixels))] : [];
  return [...before, ...pixels, '-protocol_whitelist', 'file', '-format_whitelist', formats.join(','), '-i', fileUrl(path)];
}
