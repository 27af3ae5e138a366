import { constants as osConstants } from 'node:os';
import { PermanentError, TransientError, type VigilError } from '../errors.ts';
import { ProgressReader, progressAdvanced, type FfmpegProgress } from './ffmpeg-progress.ts';
import { OutputTail } from './output-tail.ts';
import { killGroup, spawnInGroup } from './process-group.ts';

export { killAllFfmpeg } from './process-group.ts';

export type MediaTool = 'ffmpeg' | 'ffprobe';

/** The `cause` of a failed run: what a person needs to see why, never the whole stderr. */
export class MediaToolFailure extends Error {
  readonly tool: MediaTool;
  readonly args: readonly string[];
  readonly exitCode: number | null;
  readonly signal: string | null;
  /** At most `stderrTailBytes` of the end of stderr. */
  readonly stderrTail: string;

  constructor(
    message: string,
    tool: MediaTool,
    args: readonly string[],
    exitCode: number | null,
    signal: string | null,
    stderrTail: string,
  ) {
    super(message);
    this.tool = tool;
    this.args = args;
    this.exitCode = exitCode;
    this.signal = signal;
    this.stderrTail = stderrTail;
    this.name = 'MediaToolFailure';
  }
}

export interface MediaToolRun {
  tool: MediaTool;
  bin: string;
  args: readonly string[];
  /** Kill the group when `markProgress` has not been called for this long; 0: never. */
  stallMs: number;
  /** Kill the group after this long in any case; 0: never. */
  timeoutMs: number;
  signal?: AbortSignal;
  tailBytes: number;
  cwd?: string;
  /** The tool's address space at most (`ulimit -v`); 0 or unset: unbounded. */
  memoryLimitBytes?: number;
  /** stdout as it comes; `markProgress` feeds the stall watchdog. */
  onStdout?: (chunk: Buffer, markProgress: () => void) => void;
}

export interface MediaToolExit {
  /** The tool's exit code (a signal N that killed it shows as 128+N, as in a shell). */
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: OutputTail;
  elapsedMs: number;
}

const LAST_LINES = 15;

function tailLines(tail: OutputTail): string {
  const lines = tail.lastLines(LAST_LINES);
  return lines.length > 0 ? `\n${lines.join('\n')}` : ' (no output on stderr)';
}

function signalName(n: number): string {
  const entry = Object.entries(osConstants.signals).find(([, v]) => v === n);
  return entry ? entry[0] : `signal ${n}`;
}

/**
 * Runs one tool in its own guarded process group (see process-group.ts), drains stderr into
 * a bounded tail, and kills the whole group on stall, timeout or abort. Resolves with the
 * exit status (non-zero included) once the group is gone and its pipes are closed; rejects
 * only for stall, timeout, abort, or a failure to start.
 */
export function runMediaTool(run: MediaToolRun): Promise<MediaToolExit> {
  const TOOL = run.tool.toUpperCase();
  return new Promise<MediaToolExit>((resolve, reject) => {
    const failure = (code: string, what: string, tail: OutputTail, cause?: unknown): VigilError =>
      new TransientError(
        `${TOOL}_${code}`,
        `${run.tool} ${what}${tailLines(tail)}`,
        cause ?? new MediaToolFailure(what, run.tool, run.args, null, null, tail.text()),
      );
    if (run.signal?.aborted) {
      reject(new TransientError(`${TOOL}_ABORTED`, `${run.tool} not started: aborted`, run.signal.reason));
      return;
    }
    const started = performance.now();
    const tail = new OutputTail(run.tailBytes);
    let killedFor: VigilError | undefined;
    let lastProgressAt = started;
    const timers: NodeJS.Timeout[] = [];

    const child = spawnInGroup(run.bin, run.args, { cwd: run.cwd, memoryLimitBytes: run.memoryLimitBytes });
    const pgid = child.pid;
    let exited = false;
    const killFor = (err: VigilError): void => {
      // After 'exit' the group id may already belong to someone else: never signal it then.
      if (killedFor || exited) return;
      killedFor = err;
      if (pgid !== undefined) killGroup(pgid);
    };
    const onAbort = (): void => {
      killFor(new TransientError(`${TOOL}_ABORTED`, `${run.tool} aborted; killed its process group${tailLines(tail)}`, run.signal?.reason));
    };
    run.signal?.addEventListener('abort', onAbort, { once: true });
    if (run.timeoutMs > 0) {
      const t = setTimeout(() => {
        killFor(failure('TIMEOUT', `ran past its ${run.timeoutMs} ms limit; killed its process group`, tail));
      }, run.timeoutMs);
      timers.push(t);
    }
    if (run.stallMs > 0) {
      const t = setInterval(
        () => {
          if (performance.now() - lastProgressAt < run.stallMs) return;
          killFor(failure('STALLED', `made no progress for ${run.stallMs} ms; killed its process group`, tail));
        },
        Math.max(20, Math.min(1000, run.stallMs / 4)),
      );
      timers.push(t);
    }
    for (const t of timers) t.unref();

    const markProgress = (): void => {
      lastProgressAt = performance.now();
    };
    child.stderr.on('data', (chunk: Buffer) => tail.push(chunk));
    child.stdout.on('data', (chunk: Buffer) => run.onStdout?.(chunk, markProgress));

    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      run.signal?.removeEventListener('abort', onAbort);
      child.stdin.destroy();
      fn();
    };
    child.once('error', (err) => {
      // Only a failure to start /bin/sh itself lands here; a missing ffmpeg is exit code 127.
      if (pgid === undefined) settle(() => reject(failure('SPAWN_FAILED', `could not be started: ${err.message}`, tail, err)));
    });
    child.once('exit', () => {
      exited = true;
    });
    child.once('close', (code, signal) => {
      settle(() => {
        if (killedFor) reject(killedFor);
        else resolve({ code, signal, stderr: tail, elapsedMs: performance.now() - started });
      });
    });
  });
}

/**
 * The error for a non-zero exit: permanent unless it looks like the machine, not the input.
 * With a memory limit set, running out of memory is the input's doing (it needs more than
 * the limit allows): permanent, naming the limit. A SIGKILL we did not send is most often
 * the kernel's OOM killer: retried, and the message names the limit that would stop it.
 */
export function exitFailure(tool: MediaTool, bin: string, args: readonly string[], exit: MediaToolExit, limits: { memoryLimitBytes?: number; memoryLimitName?: string } = {}): VigilError {
  const TOOL = tool.toUpperCase();
  const limit = limits.memoryLimitBytes ?? 0;
  const limitName = limits.memoryLimitName ?? 'the memory limit';
  let what: string;
  let transient = false;
  let code = `${TOOL}_FAILED`;
  const killedBy = exit.signal ?? (exit.code !== null && exit.code > 128 ? signalName(exit.code - 128) : undefined);
  const outOfMemory = /Cannot allocate memory|Out of memory|malloc of size \d+ failed|failed to allocate|failed to map segment/i.test(exit.stderr.text());
  if (killedBy === 'SIGKILL') {
    what =
      limit > 0
        ? `was killed by SIGKILL (not by Vigil: the kernel's out-of-memory killer, or an operator) while ${limitName} allowed ${formatGiB(limit)}; lower ${limitName} below the host's free memory`
        : `was killed by SIGKILL (not by Vigil: the kernel's out-of-memory killer, or an operator); ${limitName} would stop it first`;
    transient = true;
    code = `${TOOL}_KILLED`;
  } else if (limit > 0 && exit.code !== 0 && outOfMemory) {
    what = `ran out of the ${formatGiB(limit)} of memory ${limitName} allows`;
    code = `${TOOL}_MEMORY_LIMIT`;
  } else if (exit.signal) {
    what = `was killed by ${exit.signal}`;
    transient = true;
    code = `${TOOL}_KILLED`;
  } else if (exit.code === 127 || exit.code === 126) {
    what = `could not be run (${bin}: ${exit.code === 127 ? 'not found' : 'not executable'})`;
    transient = true;
    code = `${TOOL}_NOT_FOUND`;
  } else if (exit.code !== null && exit.code > 128) {
    what = `was killed by ${signalName(exit.code - 128)}`;
    transient = true;
    code = `${TOOL}_KILLED`;
  } else {
    what = `exited with code ${exit.code}`;
    transient = /No space left on device|Cannot allocate memory|Out of memory|Too many open files|Resource temporarily unavailable/i.test(
      exit.stderr.text(),
    );
  }
  const cause = new MediaToolFailure(`${tool} ${what}`, tool, args, exit.code, exit.signal, exit.stderr.text());
  const message = `${tool} ${what}${tailLines(exit.stderr)}`;
  return transient ? new TransientError(code, message, cause) : new PermanentError(code, message, cause);
}

function formatGiB(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
}

export interface FfmpegRunOptions {
  /** The ffmpeg binary (config passes `FFMPEG_PATH`). @default 'ffmpeg' */
  ffmpegPath?: string;
  /** Kill ffmpeg when no progress block shows movement for this long; 0 disables. @default 60_000 */
  stallMs?: number;
  /** Hard limit for the whole run; 0 disables. Callers should scale it with the input's duration. @default 10_800_000 (3 h) */
  timeoutMs?: number;
  /** Aborting kills the process group and rejects with FFMPEG_ABORTED. */
  signal?: AbortSignal;
  /** Called for every `-progress` block. Must not throw (an exception is swallowed). */
  onProgress?: (progress: FfmpegProgress) => void;
  /** How much of the end of stderr is kept for errors. @default 65_536 */
  stderrTailBytes?: number;
  /** ffmpeg's `-loglevel`. @default 'warning' */
  logLevel?: 'quiet' | 'panic' | 'fatal' | 'error' | 'warning' | 'info' | 'verbose';
  /** @default the current directory */
  cwd?: string;
  /** ffmpeg's address space at most; 0: unbounded. @default 0 */
  memoryLimitBytes?: number;
  /** The setting that sets it, named in errors. @default 'the memory limit' */
  memoryLimitName?: string;
}

export interface FfmpegRunResult {
  elapsedMs: number;
  /** The last progress block (`progress=end` after a normal run). */
  lastProgress?: FfmpegProgress;
  /** Warnings ffmpeg printed, bounded like the error tail. */
  stderrTail: string;
}

/**
 * Runs `ffmpeg <global options> ...args` and resolves when it exits 0. The global options
 * are always `-hide_banner -nostdin -nostats -loglevel … -progress pipe:1`: `-nostdin`
 * keeps ffmpeg from treating stdin as keyboard commands, `-nostats` keeps the
 * carriage-return stats line out of the stderr tail, and `-progress pipe:1` gives
 * parseable progress on stdout (a block every 0.5 s, so `stallMs` must be well above that).
 */
export async function runFfmpeg(args: readonly string[], opts: FfmpegRunOptions = {}): Promise<FfmpegRunResult> {
  const bin = opts.ffmpegPath ?? 'ffmpeg';
  const fullArgs = ['-hide_banner', '-nostdin', '-nostats', '-loglevel', opts.logLevel ?? 'warning', '-progress', 'pipe:1', ...args];
  const reader = new ProgressReader();
  let last: FfmpegProgress | undefined;
  const exit = await runMediaTool({
    tool: 'ffmpeg',
    bin,
    args: fullArgs,
    stallMs: opts.stallMs ?? 60_000,
    timeoutMs: opts.timeoutMs ?? 3 * 3600_000,
    signal: opts.signal,
    tailBytes: opts.stderrTailBytes ?? 64 * 1024,
    cwd: opts.cwd,
    memoryLimitBytes: opts.memoryLimitBytes,
    onStdout: (chunk, markProgress) => {
      for (const p of reader.push(chunk.toString('utf8'))) {
        if (progressAdvanced(last, p)) markProgress();
        last = p;
        try {
          opts.onProgress?.(p);
        } catch {
          // A faulty progress callback must not kill the encode nor crash the process.
        }
      }
    },
  });
  if (exit.code !== 0) throw exitFailure('ffmpeg', bin, fullArgs, exit, { memoryLimitBytes: opts.memoryLimitBytes, memoryLimitName: opts.memoryLimitName });
  return { elapsedMs: exit.elapsedMs, lastProgress: last, stderrTail: exit.stderr.text() };
}
