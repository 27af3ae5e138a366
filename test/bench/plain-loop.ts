import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface LoopRate {
  rate: number;
  backend: string;
  /** CPU ms per step of the loop's own process, every thread. */
  cpuMsPerStep: number;
}

function runLoop(script: string, args: string[]): Promise<LoopRate> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(new URL(script, import.meta.url)), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!)) : reject(new Error(`${script} exited ${code}`))));
  });
}

/** Runs `face-plain-loop.ts` in its own process (its own TensorFlow.js, one thread) and returns its rate. */
export function plainLoop(mode: 'enrol' | 'verify' | 'large' | 'webcam', n: number, extra: string[] = []): Promise<LoopRate> {
  return runLoop('./face-plain-loop.ts', [mode, String(n), ...extra]);
}

/** Runs `face-engine-loop.ts`: the service's engine on one thread, in its own process. */
export function engineLoop(n: number): Promise<LoopRate> {
  return runLoop('./face-engine-loop.ts', [String(n)]);
}
