import { open, type FileHandle } from 'node:fs/promises';
import { PermanentError } from '../errors.ts';
import { boxHeader, Mp4ParseError, parseMoov, type Mp4Movie } from './mp4-boxes.ts';

export interface Mp4Box {
  type: string;
  offset: number;
  /** Header included. */
  size: number;
  /** 8, or 16 with a 64-bit size. */
  headerSize: number;
}

/** The top-level boxes of an MP4 (ftyp, moov, mdat, …), read from their headers only. */
export async function readTopLevelBoxes(path: string, maxBoxes = 32): Promise<Mp4Box[]> {
  const fh = await open(path, 'r');
  try {
    return await topLevelBoxes(fh, (await fh.stat()).size, maxBoxes);
  } finally {
    await fh.close();
  }
}

async function topLevelBoxes(fh: FileHandle, fileSize: number, maxBoxes: number): Promise<Mp4Box[]> {
  const boxes: Mp4Box[] = [];
  const head = Buffer.alloc(16);
  let offset = 0;
  while (offset + 8 <= fileSize && boxes.length < maxBoxes) {
    const { bytesRead } = await fh.read(head, 0, 16, offset);
    const h = boxHeader(head.subarray(0, bytesRead), fileSize - offset);
    if (!h || h.size < h.headerSize) break;
    boxes.push({ type: h.type, offset, size: h.size, headerSize: h.headerSize });
    offset += h.size;
  }
  return boxes;
}

/** Faststart: the index (`moov`) comes before the media (`mdat`), so a browser can start playing at once. */
export function isFastStart(boxes: readonly Mp4Box[]): boolean {
  const moov = boxes.findIndex((b) => b.type === 'moov');
  const mdat = boxes.findIndex((b) => b.type === 'mdat');
  return moov >= 0 && mdat >= 0 && moov < mdat;
}

export interface Mp4Expectation {
  /** Expected duration in seconds. */
  durationSeconds: number;
  /** Allowed difference. @default max(0.5 s, 1 % of the duration) */
  toleranceSeconds?: number;
  /** An AAC stream must be there (the source had audio). */
  audio: boolean;
}

/** An index larger than this is not one our ffmpeg wrote for a clip. */
const MAX_MOOV_BYTES = 64 * 1024 * 1024;

/**
 * Checks an output before anything is deleted: H.264 yuv420p (+ AAC), the expected length,
 * moov before mdat, every box within the file. Throws `PermanentError('OUTPUT_INVALID')`
 * naming what is wrong. Read from the file's own index (mp4-boxes.ts), not by ffprobe:
 * a probe is a process start, about 70 ms of CPU a clip that the ffmpeg pass encoding the
 * next clip beside it would lose.
 */
export async function verifyMp4(path: string, expect: Mp4Expectation): Promise<{ durationSeconds: number }> {
  const problems: string[] = [];
  const movie = await readIndex(path, problems);
  if (movie) problems.push(...indexProblems(movie, expect));
  if (!movie || problems.length > 0) throw new PermanentError('OUTPUT_INVALID', `${path}: ${problems.join('; ')}`);
  return { durationSeconds: movie.duration / movie.timescale };
}

/** The file's box layout checked and its moov parsed; undefined (with `problems` saying why) when there is none to read. */
async function readIndex(path: string, problems: string[]): Promise<Mp4Movie | undefined> {
  const fh = await open(path, 'r');
  try {
    const { size: fileSize } = await fh.stat();
    const boxes = await topLevelBoxes(fh, fileSize, 1024);
    const last = boxes.at(-1);
    if (!last || last.offset + last.size !== fileSize) problems.push(`the boxes do not end where the file does (${fileSize} bytes): it is cut short or has trailing bytes`);
    if (!boxes.some((b) => b.type === 'mdat')) problems.push('no mdat box');
    const moov = boxes.find((b) => b.type === 'moov');
    if (!moov) problems.push('no moov box');
    else if (!isFastStart(boxes)) problems.push('moov is not before mdat (no faststart)');
    if (!moov || problems.length > 0) return undefined;
    if (moov.size > MAX_MOOV_BYTES) {
      problems.push(`a moov of ${moov.size} bytes`);
      return undefined;
    }
    const buf = Buffer.alloc(moov.size - moov.headerSize);
    const { bytesRead } = await fh.read(buf, 0, buf.length, moov.offset + moov.headerSize);
    if (bytesRead !== buf.length) {
      problems.push('moov is cut short');
      return undefined;
    }
    try {
      return parseMoov(buf);
    } catch (err) {
      if (!(err instanceof Mp4ParseError)) throw err;
      problems.push(`unreadable index: ${err.message}`);
      return undefined;
    }
  } finally {
    await fh.close();
  }
}

/** What the index says that a browser MP4 of the expected length must not. */
function indexProblems(movie: Mp4Movie, expect: Mp4Expectation): string[] {
  const problems: string[] = [];
  const video = movie.tracks.find((t) => t.handler === 'vide');
  const audio = movie.tracks.find((t) => t.handler === 'soun');
  if (!video) problems.push('video missing');
  else {
    if (video.sampleEntry !== 'avc1' && video.sampleEntry !== 'avc3') problems.push(`video codec ${video.sampleEntry}, not h264`);
    else if (!video.avc) problems.push('h264 without its configuration (avcC)');
    else if (video.avc.chromaFormat !== 1 || video.avc.bitDepthLuma !== 8 || video.avc.bitDepthChroma !== 8) {
      problems.push(`pixel format not yuv420p (H.264 profile ${video.avc.profile}, chroma format ${video.avc.chromaFormat}, ${video.avc.bitDepthLuma}-bit)`);
    }
    if (video.samples === 0) problems.push('no video frames');
  }
  if (expect.audio) {
    if (!audio || audio.sampleEntry !== 'mp4a' || !AAC_OBJECT_TYPES.has(audio.audioObjectType ?? -1)) {
      const type = audio?.audioObjectType === undefined ? '' : ` (object type 0x${audio.audioObjectType.toString(16)})`;
      problems.push(`audio codec ${audio?.sampleEntry ?? 'missing'}${type}, not aac`);
    } else if (audio.samples === 0) problems.push('no audio samples');
  }
  const durationSeconds = movie.duration / movie.timescale;
  const tolerance = expect.toleranceSeconds ?? Math.max(0.5, expect.durationSeconds * 0.01);
  if (!(Math.abs(durationSeconds - expect.durationSeconds) <= tolerance)) {
    problems.push(`duration ${durationSeconds} s, expected ${expect.durationSeconds} ± ${tolerance} s`);
  }
  return problems;
}

/** MPEG-4 audio, and MPEG-2 AAC's three profiles (what ffprobe names `aac`). */
const AAC_OBJECT_TYPES = new Set([0x40, 0x66, 0x67, 0x68]);
