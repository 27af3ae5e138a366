import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runFfmpeg } from '../../shared/media/ffmpeg-runner.ts';

/**
 * Test videos made with ffmpeg's lavfi sources, encoded like the cameras' uploads:
 * XviD (`mpeg4` with the `xvid` tag) and MP3 in AVI. Sections have known content, so the
 * frames that must be kept or dropped are known exactly.
 */
export type SectionKind = 'moving' | 'black' | 'frozen' | 'blurred';

export interface Section {
  kind: SectionKind;
  seconds: number;
}

export interface AviSpec {
  sections: Section[];
  /** @default '320x240' */
  size?: string;
  /** Whole frames per second. @default 10 */
  fps?: number;
  /** A 440 Hz sine track. @default true */
  audio?: boolean;
}

/** 5 minutes: 60 s moving, 30 s black, 60 s frozen, 60 s blurred, 90 s moving. */
export const FIVE_MINUTES: Section[] = [
  { kind: 'moving', seconds: 60 },
  { kind: 'black', seconds: 30 },
  { kind: 'frozen', seconds: 60 },
  { kind: 'blurred', seconds: 60 },
  { kind: 'moving', seconds: 90 },
];

/** Blur strong enough for blurdetect at 320×240 (~20 against ~5 for sharp frames). */
const BLUR_SIGMA = 8;

function source(s: Section, size: string, fps: number): { input: string; filter?: string } {
  switch (s.kind) {
    case 'moving':
      return { input: `testsrc2=s=${size}:r=${fps}:d=${s.seconds}` };
    case 'black':
      return { input: `color=c=black:s=${size}:r=${fps}:d=${s.seconds}` };
    case 'blurred':
      return { input: `testsrc2=s=${size}:r=${fps}:d=${s.seconds}`, filter: `gblur=sigma=${BLUR_SIGMA}` };
    case 'frozen': {
      // One picture repeated: its frames are bit-identical, so freezedetect sees no change.
      const frames = Math.round(s.seconds * fps);
      return { input: `testsrc2=s=${size}:r=${fps}:d=1`, filter: `trim=end_frame=1,loop=loop=${frames - 1}:size=1:start=0,setpts=N/(${fps}*TB)` };
    }
  }
}

/** Writes an XviD/MP3 AVI made of `spec.sections`. */
export async function makeAvi(path: string, spec: AviSpec): Promise<void> {
  const size = spec.size ?? '320x240';
  const fps = spec.fps ?? 10;
  const total = spec.sections.reduce((t, s) => t + s.seconds, 0);
  const args: string[] = ['-y'];
  const chains: string[] = [];
  spec.sections.forEach((s, i) => {
    const src = source(s, size, fps);
    args.push('-f', 'lavfi', '-i', src.input);
    chains.push(`[${i}:v]${src.filter ?? 'null'}[s${i}]`);
  });
  const n = spec.sections.length;
  const labels = spec.sections.map((_, i) => `[s${i}]`).join('');
  const graph = `${chains.join(';')};${labels}concat=n=${n}:v=1:a=0,format=yuv420p[v]`;
  args.push('-filter_complex', graph, '-map', '[v]');
  if (spec.audio ?? true) {
    args.splice(args.indexOf('-filter_complex'), 0, '-f', 'lavfi', '-i', `sine=f=440:r=44100:d=${total}`);
    args.push('-map', `${n}:a`, '-c:a', 'libmp3lame', '-b:a', '64k');
  }
  args.push('-c:v', 'mpeg4', '-vtag', 'xvid', '-q:v', '5', '-f', 'avi', path);
  await runFfmpeg(args, { logLevel: 'error', timeoutMs: 120_000 });
}

export interface ExpectedFrames {
  sampled: number;
  kept: number;
  dropped: { black: number; frozen: number; blurred: number };
}

/**
 * What the frames pass must report for `sections` sampled every `every` frames: moving
 * frames are kept, black and blurred ones dropped, a frozen section keeps its first frame
 * (it is the picture; the rest repeat it).
 */
export function expectedFrames(sections: readonly Section[], fps: number, every: number): ExpectedFrames {
  const out: ExpectedFrames = { sampled: 0, kept: 0, dropped: { black: 0, frozen: 0, blurred: 0 } };
  let first = 0;
  for (const s of sections) {
    const end = first + Math.round(s.seconds * fps);
    for (let n = first; n < end; n++) {
      if (n % every !== 0) continue;
      out.sampled++;
      if (s.kind === 'moving' || (s.kind === 'frozen' && n === first)) out.kept++;
      else out.dropped[s.kind === 'frozen' ? 'frozen' : s.kind]++;
    }
    first = end;
  }
  return out;
}

/** Mean luma (0–255) of every frame of a video, decoded to gray by ffmpeg. */
export async function frameLumas(path: string, tmpRaw: string): Promise<number[]> {
  await runFfmpeg(['-y', '-i', path, '-vf', 'scale=64:36,format=gray', '-f', 'rawvideo', tmpRaw], { logLevel: 'error' });
  const raw = await readFile(tmpRaw);
  const frame = 64 * 36;
  const means: number[] = [];
  for (let off = 0; off + frame <= raw.length; off += frame) {
    let sum = 0;
    for (let i = off; i < off + frame; i++) sum += raw[i]!;
    means.push(sum / frame);
  }
  return means;
}

/**
 * A copy of `src` whose bytes from `fraction` of its length on are overwritten with garbage:
 * the header (and so the declared duration) is intact, the media after that point is not.
 */
export async function corruptCopy(src: string, dst: string, fraction: number): Promise<void> {
  const bytes = Buffer.from(await readFile(src));
  for (let i = Math.floor(bytes.length * fraction); i < bytes.length; i++) bytes[i] = (i * 7919 + 13) % 251;
  await writeFile(dst, bytes);
}

/**
 * The three AVIs the media tests share, made one after another (two cores are shared with
 * other work): the 5-minute one with every kind of section, a 60 s one, and a 40 s talk.
 */
export async function makeTestAvis(dir: string, fiveName = 'five.avi'): Promise<{ five: string; minute: string; talk: string }> {
  const files = { five: join(dir, fiveName), minute: join(dir, 'minute.avi'), talk: join(dir, 'talk.avi') };
  await makeAvi(files.five, { sections: FIVE_MINUTES });
  await makeAvi(files.minute, { sections: [{ kind: 'moving', seconds: 60 }] });
  await makeAvi(files.talk, { sections: [{ kind: 'moving', seconds: 40 }] });
  return files;
}

/**
 * A 7 KB Matroska file whose header claims `claimedSeconds` (the EBML Duration element,
 * id 0x4489, an 8-byte float in milliseconds), made from 2 s of 64×64 video: an input that
 * only claims to be huge, so no test has to make one that is.
 */
export async function mkvClaiming(path: string, claimedSeconds: number): Promise<void> {
  const small = `${path}.src.mkv`;
  await runFfmpeg(['-y', '-f', 'lavfi', '-i', 'testsrc=size=64x64:rate=5:d=2', '-c:v', 'mpeg4', small]);
  const bytes = Buffer.from(await readFile(small));
  const at = bytes.indexOf(Buffer.from([0x44, 0x89, 0x88]));
  if (at < 0) throw new Error('no 8-byte EBML Duration element in the file ffmpeg wrote');
  bytes.writeDoubleBE(claimedSeconds * 1000, at + 3);
  await writeFile(path, bytes);
  await rm(small, { force: true });
}
