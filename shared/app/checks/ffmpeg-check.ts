import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fail, ok, type CheckResult, type HostCheck } from './check.ts';

const run = promisify(execFile);

/** What the transcoder's ffmpeg arguments use beyond ffmpeg's core (shared/media/ffmpeg-args.ts). */
export const TRANSCODER_NEEDS = { encoders: ['libx264', 'aac'], filters: ['freezedetect', 'blackframe', 'blurdetect'] } as const;

const INSTALL = 'install ffmpeg (Debian: apt-get install ffmpeg), or set FFMPEG_PATH / FFPROBE_PATH';

/** ffmpeg and ffprobe found and runnable, their versions, and the encoders and filters the transcoder uses. */
export function ffmpegCheck(paths: { ffmpegPath: string; ffprobePath: string }): HostCheck {
  return {
    name: 'ffmpeg',
    async run() {
      const results: CheckResult[] = [];
      const ffmpeg = await version('ffmpeg', paths.ffmpegPath, 'FFMPEG_PATH');
      results.push(ffmpeg.result, (await version('ffprobe', paths.ffprobePath, 'FFPROBE_PATH')).result);
      if (!ffmpeg.found) return results;
      const encoders = await list(paths.ffmpegPath, '-encoders');
      const filters = await list(paths.ffmpegPath, '-filters');
      const missing = [
        ...TRANSCODER_NEEDS.encoders.filter((e) => !encoders.has(e)).map((e) => `encoder ${e}`),
        ...TRANSCODER_NEEDS.filters.filter((f) => !filters.has(f)).map((f) => `filter ${f}`),
      ];
      const needed = [...TRANSCODER_NEEDS.encoders, ...TRANSCODER_NEEDS.filters].join(', ');
      results.push(
        missing.length === 0
          ? ok('ffmpeg features', needed)
          : fail('ffmpeg features', `${paths.ffmpegPath} lacks ${missing.join(', ')}`, 'install a full ffmpeg build (5.1 or later, with libx264), such as Debian\'s'),
      );
      return results;
    },
  };
}

async function version(tool: string, path: string, variable: string): Promise<{ found: boolean; result: CheckResult }> {
  try {
    const { stdout } = await run(path, ['-hide_banner', '-version'], { timeout: 10_000 });
    const first = stdout.split('\n')[0] ?? '';
    const v = /version (\S+)/.exec(first)?.[1] ?? 'unknown version';
    return { found: true, result: ok(tool, `${v} (${path})`) };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const detail = code === 'ENOENT' ? `${path} not found` : code === 'EACCES' ? `${path} is not executable` : `${path} -version failed: ${(err as Error).message.split('\n')[0]}`;
    return { found: false, result: fail(tool, `${detail}${path === tool ? '' : ` (${variable})`}`, INSTALL) };
  }
}

/** The names in `ffmpeg -encoders` / `-filters`: the second column of each listing line. */
async function list(path: string, flag: string): Promise<Set<string>> {
  try {
    const { stdout } = await run(path, ['-hide_banner', flag], { timeout: 10_000, maxBuffer: 4 * 1024 * 1024 });
    return new Set(stdout.split('\n').map((l) => l.trim().split(/\s+/)[1]).filter((n): n is string => !!n));
  } catch {
    return new Set();
  }
}
