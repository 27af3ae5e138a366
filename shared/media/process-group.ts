import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';

/**
 * ffmpeg and ffprobe run in a process group of their own, so that a stall, a timeout, an
 * abort or our own exit can kill everything they started with one `kill(-pgid)`, and so
 * that a Ctrl-C in a terminal (SIGINT to the foreground group) does not reach them behind
 * the service's back.
 *
 * Node has no `prctl(PR_SET_PDEATHSIG)`, so a child of a node process that dies by SIGKILL
 * (OOM killer, `docker kill`) would keep running: `-nostdin` takes away the usual "stdin
 * closed" signal, and ffmpeg ignores SIGPIPE and write errors on its progress and log
 * pipes, so it would finish (or hang on a stalled input) on its own. The practical fix is
 * a guard: the group leader is a tiny `sh` that starts the tool in the background and
 * blocks reading a pipe whose only writer is this node process. The kernel closes that
 * pipe however node dies, the read returns, and the guard kills its own group. It costs
 * one `sh` per run (Debian's dash, ~1 MiB) and no npm package. Inside a container the
 * orphans are reaped by a real PID 1 (`init: true` in compose).
 */
const GUARD_SCRIPT = [
  // A memory bound for the tool (`ulimit -v`, KiB of address space): a header can lie to
  // the probe, and an ffmpeg that tries to decode 16000×16000 frames must fail alone
  // rather than wake the kernel's OOM killer for the whole host.
  'if [ -n "$VIGIL_MEDIA_AS_KIB" ]; then ulimit -v "$VIGIL_MEDIA_AS_KIB" || exit 125; fi',
  'exec 3<&0', // the guard pipe from node
  '"$@" </dev/null 3<&- &',
  'tool=$!',
  '(read -r _ <&3; kill -s KILL 0) </dev/null &',
  'guard=$!',
  'exec 3<&-',
  'wait "$tool"; code=$?',
  'kill -s KILL "$guard" 2>/dev/null',
  'exit "$code"',
].join('\n');

export type GroupChild = ChildProcessByStdio<Writable, Readable, Readable>;

/** Live groups by process-group id (= the guard's pid). */
const live = new Map<number, GroupChild>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers must be synchronous; process.kill is. This covers process.exit() and a
  // normal end of the event loop, not a fatal signal: see killAllFfmpeg.
  process.on('exit', () => {
    killAllFfmpeg();
  });
}

/**
 * Starts `bin args…` as the only real job of a new, guarded process group. stdout and
 * stderr are pipes; the child's stdin is /dev/null (the pipe node holds is the guard's).
 */
export function spawnInGroup(bin: string, args: readonly string[], opts: { cwd?: string; memoryLimitBytes?: number } = {}): GroupChild {
  installExitHook();
  const limit = opts.memoryLimitBytes ?? 0;
  const child = spawn('/bin/sh', ['-c', GUARD_SCRIPT, 'vigil-media-guard', bin, ...args], {
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
    cwd: opts.cwd,
    env: limit > 0 ? { ...process.env, VIGIL_MEDIA_AS_KIB: String(Math.ceil(limit / 1024)) } : process.env,
  });
  const pgid = child.pid;
  if (pgid !== undefined) {
    live.set(pgid, child);
    child.once('exit', () => live.delete(pgid));
  }
  // The guard never reads what we write; an EPIPE here only means the group is gone.
  child.stdin.on('error', () => {});
  return child;
}

/** SIGKILLs a whole group; a group that is already gone is not an error. */
export function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/**
 * Kills every ffmpeg/ffprobe group this process started and has not yet seen exit.
 * Synchronous. It runs on `process.on('exit')` already (process.exit, an uncaught
 * exception, the loop running dry). A service's SIGTERM path must first abort its jobs
 * (their AbortSignal: the job fails transiently and is redelivered) and then call this
 * before it exits by any other way than `process.exit`; a fatal signal skips 'exit' and
 * leaves only the guard, which acts once the kernel has closed our end of its pipe.
 */
export function killAllFfmpeg(): number {
  let n = 0;
  for (const pgid of live.keys()) {
    killGroup(pgid);
    n++;
  }
  live.clear();
  return n;
}

/** Process-group ids of the groups still running (for tests and diagnostics). */
export function liveFfmpegGroups(): number[] {
  return [...live.keys()];
}
