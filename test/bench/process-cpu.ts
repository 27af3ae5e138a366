// CPU seconds per process while a bench row runs: this process (the service under test,
// the SDK's GET stream, the bare loops) and its children (the Graph API server, s3rver),
// read from /proc, plus this process's event-loop delay. It shows which process a row
// spends its time in, so a ratio can be told apart from a host short of cores.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

export interface CpuReading {
  /**
   * CPU seconds of each process over the row, by name (`bench` is this process); `host` is
   * the rest of the host's busy time (kernel threads, other processes).
   */
  seconds: Record<string, number>;
  /** This process's event-loop delay over the row: 99th percentile and worst, in ms. */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}

const TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

function childPids(): number[] {
  const pids: number[] = [];
  for (const task of readdirSync(`/proc/${process.pid}/task`)) {
    const list = readFileSync(`/proc/${process.pid}/task/${task}/children`, 'utf8').trim();
    if (list) pids.push(...list.split(/\s+/).map(Number));
  }
  return pids;
}

/** The fields of `/proc/<pid>/stat` after the command name, numbered from `state` (0). */
function statFields(pid: number | 'self'): string[] {
  // The command name (field 2) may hold spaces: the fields after it start past its ')'.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** utime + stime of a process, in seconds; 0 once it is gone. */
function cpuOf(pid: number): number {
  try {
    const fields = statFields(pid);
    return (Number(fields[11]) + Number(fields[12])) / TICKS;
  } catch {
    return 0;
  }
}

/** CPU seconds of this process's children that have exited and been waited for (ffmpeg, ffprobe): cutime + cstime. */
function exitedChildrenCpu(): number {
  const fields = statFields('self');
  return (Number(fields[13]) + Number(fields[14])) / TICKS;
}

/** Busy CPU seconds of the whole host (every process and the kernel's own threads), from /proc/stat. */
function hostBusyCpu(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: idle and iowait are not busy.
  const busy = fields.slice(0, 8).reduce((a, b, i) => (i === 3 || i === 4 ? a : a + b), 0);
  return busy / TICKS;
}

/**
 * `named` gives known children a name; any other child whose command line mentions s3rver
 * is `s3rver`, the rest `other`; `exited` is the children that ended during the row
 * (each ffmpeg and ffprobe run).
 */
export function cpuMeter(named: Record<string, number>): { start(): { stop(): CpuReading } } {
  const nameOf = (pid: number): string => {
    const known = Object.entries(named).find(([, p]) => p === pid);
    if (known) return known[0];
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('s3rver') ? 's3rver' : 'other';
    } catch {
      return 'other';
    }
  };
  const sample = () => {
    const own = process.cpuUsage();
    const out: Record<string, number> = { bench: (own.user + own.system) / 1e6, exited: exitedChildrenCpu(), host: hostBusyCpu() };
    for (const pid of childPids()) {
      const name = nameOf(pid);
      out[name] = (out[name] ?? 0) + cpuOf(pid);
    }
    return out;
  };
  return {
    start() {
      const before = sample();
      const delay = monitorEventLoopDelay({ resolution: 10 });
      delay.enable();
      return {
        stop() {
          delay.disable();
          const after = sample();
          const seconds: Record<string, number> = {};
          for (const [name, s] of Object.entries(after)) seconds[name] = s - (before[name] ?? 0);
          // What the host did besides the processes named: the kernel's own threads
          // (writeback, network), and anything else running.
          const named = Object.entries(seconds).reduce((a, [n, v]) => (n === 'host' ? a : a + v), 0);
          seconds.host = Math.max(0, seconds.host! - named);
          return { seconds, loopDelayP99Ms: delay.percentile(99) / 1e6, loopDelayMaxMs: delay.max / 1e6 };
        },
      };
    },
  };
}

/** `bench 4.1 s, graph 2.0 s, s3rver 3.2 s; loop delay p99 12 ms` — the mean of the readings. */
export function describeCpu(readings: CpuReading[]): string {
  const names = [...new Set(readings.flatMap((r) => Object.keys(r.seconds)))].filter((n) => (n !== 'other' && n !== 'exited') || readings.some((r) => (r.seconds[n] ?? 0) > 0.05));
  const mean = (f: (r: CpuReading) => number) => readings.reduce((a, r) => a + f(r), 0) / readings.length;
  const cpu = names.map((n) => `${n} ${mean((r) => r.seconds[n] ?? 0).toFixed(1)} s`).join(', ');
  return `${cpu}; loop delay p99 ${mean((r) => r.loopDelayP99Ms).toFixed(0)} ms, max ${mean((r) => r.loopDelayMaxMs).toFixed(0)} ms`;
}

/**
 * `service process 412 ms, rest of host 60 ms per image`: a service row's CPU per image, the
 * service's own process (main thread and face threads) apart from the rest of the host
 * (MariaDB, RabbitMQ, the kernel, anything else running).
 */
export function describeCpuPerImage(r: CpuReading, images: number): string {
  const per = (s: number) => `${((s * 1000) / images).toFixed(0)} ms`;
  return `service process ${per(r.seconds.bench ?? 0)}, rest of host ${per(r.seconds.host ?? 0)} per image`;
}
