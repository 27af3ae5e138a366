// Stills cut from the real office-webcam clips (../shared/video/webcam-signs, five people,
// see its README): which moments to cut, cutting them once with ffmpeg into a cache folder
// outside the repository, and the enrolment to fall back on for a person none of whose
// stills the gate accepts. For benchmarks: the clips are not in the repository.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { qualityReasons, type FaceQuality, type QualityBounds } from '../../shared/face/quality.ts';

const run = promisify(execFile);

export interface WebcamClip {
  clip: string;
  person: string;
}

export interface WebcamStill extends WebcamClip {
  /** Seconds into the clip. */
  t: number;
  /** `<clip name>@<t>`, e.g. `again@1.05`: how tables and logs name the still. */
  name: string;
  file: string;
}

/** people.csv (`clip,person`) as rows; blank lines and the header skipped. */
export function parsePeople(csv: string): WebcamClip[] {
  return csv
    .split(/\r?\n/)
    .slice(1)
    .filter((l) => l.trim())
    .map((l) => {
      const [clip, person] = l.split(',').map((s) => s.trim());
      if (!clip || !person) throw new Error(`people.csv: bad row "${l}"`);
      return { clip, person };
    });
}

/**
 * `count` moments spread evenly over a clip of `duration` seconds, each in the middle of its
 * share, `margin` seconds kept clear at both ends (the first and last frames of a clip are
 * often a cut). Chosen by time alone, never by what the engine makes of the frame.
 */
export function stillTimes(duration: number, count: number, margin = 0.15): number[] {
  if (count <= 0 || duration <= 0) return [];
  const m = Math.min(margin, duration / 4);
  const span = duration - 2 * m;
  return Array.from({ length: count }, (_, k) => Math.round((m + ((k + 0.5) * span) / count) * 100) / 100);
}

/** The real office-webcam clips (../shared/video/webcam-signs beside the repository), or `BENCH_WEBCAM_DIR`. */
export const WEBCAM_DIR = process.env.BENCH_WEBCAM_DIR ?? fileURLToPath(new URL('../../../shared/video/webcam-signs/', import.meta.url));

export const WEBCAM_CACHE = join(process.env.BENCH_CACHE_DIR ?? join(tmpdir(), 'vigil-bench-cache'), 'webcam-stills');

async function duration(file: string): Promise<number> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file]);
  const d = Number(stdout.trim());
  if (!Number.isFinite(d) || d <= 0) throw new Error(`${file}: no duration from ffprobe (${stdout.trim()})`);
  return d;
}

/**
 * `perClip` stills of every clip listed in `dir`/people.csv, as JPEG (ffmpeg -q:v 2: a
 * webcam client's snapshot), cut once and kept in `cache`. Undefined when `dir` is absent.
 */
export async function webcamStills(dir: string, perClip: number, cache = WEBCAM_CACHE): Promise<{ stills: WebcamStill[]; cutSeconds: number } | undefined> {
  const list = join(dir, 'people.csv');
  if (!existsSync(list)) return undefined;
  const t0 = performance.now();
  mkdirSync(cache, { recursive: true });
  const stills: WebcamStill[] = [];
  for (const c of parsePeople(readFileSync(list, 'utf8'))) {
    const src = join(dir, c.clip);
    const stem = basename(c.clip).replace(/\.[^.]+$/, '');
    for (const t of stillTimes(await duration(src), perClip)) {
      const name = `${stem}@${t.toFixed(2)}`;
      const file = join(cache, `${name}.jpg`);
      if (!existsSync(file)) {
        // Written aside and renamed: an interrupted cut never leaves a half file in the cache.
        const part = `${file}.${process.pid}.part.jpg`;
        await run('ffmpeg', ['-v', 'error', '-y', '-ss', t.toFixed(3), '-i', src, '-frames:v', '1', '-q:v', '2', part]);
        renameSync(part, file);
      }
      stills.push({ ...c, t, name, file });
    }
  }
  return { stills, cutSeconds: (performance.now() - t0) / 1000 };
}

/** What the fallback enrolment looks at in each still: its faces' quality. */
export interface StillFaces {
  faces: { score: number; quality: FaceQuality }[];
}

/**
 * For a person none of whose stills the gate accepts: the still whose best face misses the
 * fewest of the gate's bounds, one-face stills first (the rule wants one face), then the
 * larger face, then the more confident. Undefined when no still shows a face. Returns the
 * still's index and the face's.
 */
export function bestByGate(stills: StillFaces[], bounds: QualityBounds): { still: number; face: number } | undefined {
  let best: { still: number; face: number; key: number[] } | undefined;
  for (const [s, still] of stills.entries()) {
    for (const [f, face] of still.faces.entries()) {
      // Smaller is better, compared in order.
      const key = [still.faces.length === 1 ? 0 : 1, qualityReasons(face.quality, bounds).length, -face.quality.sizePx, -face.score];
      if (!best || lexLess(key, best.key)) best = { still: s, face: f, key };
    }
  }
  return best && { still: best.still, face: best.face };
}

function lexLess(a: number[], b: number[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]!;
  return false;
}
