// Issue 24 benchmark: how long `vigil` takes to answer, wall time of a whole process as a
// script sees it, next to `node -e 0` measured in the same run
// (the median of BENCH_CLI_RUNS runs each). `vigil snapshot` runs against the local MariaDB
// and RabbitMQ with its own database and queue prefix, publish included, removed afterwards.
// Targets: `vigil --help` under 0.3 s, `vigil snapshot` under 0.6 s.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { BIN } from '../helpers/cli.ts';
import { createTestEnv } from '../helpers/test-env.ts';
import { median, printTable } from './table.ts';

/** `BENCH_CLI_RUNS`: processes timed per row. */
const RUNS = Number(process.env.BENCH_CLI_RUNS ?? 7);
const IMAGE = fileURLToPath(new URL('../fixtures/faces/img5.jpg', import.meta.url));

/** Seconds from spawn to exit; a non-zero exit is an error, so a broken command never times well. */
function timed(args: string[], env: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, args, { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const s = (performance.now() - t0) / 1000;
      if (code === 0) resolve(s);
      else reject(new Error(`node ${args.join(' ')} exited ${code}: ${stderr.slice(0, 500)}`));
    });
  });
}

async function medianOf(args: string[], env: Record<string, string> = {}): Promise<{ median: number; min: number; max: number }> {
  await timed(args, env); // a warm-up run: the file cache, not the first-run cost, is what a script calling once per image sees
  const xs: number[] = [];
  for (let i = 0; i < RUNS; i++) xs.push(await timed(args, env));
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
}

export async function benchCli(): Promise<void> {
  const t = await createTestEnv('benchcli', { LOG_LEVEL: 'warn' });
  try {
    const rows: { name: string; args: string[]; env?: Record<string, string>; target?: number }[] = [
      { name: 'node -e 0 (baseline)', args: ['-e', '0'] },
      { name: 'vigil --help', args: [BIN, '--help'], target: 0.3 },
      { name: 'vigil snapshot <lan_id> <image>', args: [BIN, 'snapshot', 'NA\\bench', IMAGE], env: t.env, target: 0.6 },
    ];
    const out: (string | number)[][] = [];
    let base = 0;
    for (const r of rows) {
      const m = await medianOf(r.args, r.env);
      if (base === 0) base = m.median;
      out.push([
        r.name,
        m.median.toFixed(3),
        `${m.min.toFixed(3)}–${m.max.toFixed(3)}`,
        `${(m.median / base).toFixed(1)}x`,
        r.target === undefined ? '' : `< ${r.target}`,
        r.target === undefined ? '' : m.median < r.target ? 'met' : 'not met',
      ]);
    }
    printTable(`vigil CLI start-up: wall time per process, median of ${RUNS} runs (s)`, ['command', 'median s', 'range s', 'vs node -e 0', 'target s', ''], out);
  } finally {
    await t.cleanup();
  }
}
