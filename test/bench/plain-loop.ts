import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Runs `face-plain-loop.ts` in its own process (its own TensorFlow.js, one thread) and returns its rate. */
export function plainLoop(mode: 'enrol' | 'verify', n: number): Promise<{ rate: number; backend: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./face-plain-loop.ts', import.meta.url)), mode, String(n)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!)) : reject(new Error(`plain loop exited ${code}`))));
  });
}
