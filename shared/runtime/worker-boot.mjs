// Worker thread entry: TypeScript sources need tsx's loader, and Node 20 neither passes a
// loader registered in the main thread to workers nor accepts `--import` in their execArgv.
import { workerData } from 'node:worker_threads';

if (workerData.entry.endsWith('.ts')) {
  const { register } = await import('tsx/esm/api');
  register();
}
await import(workerData.entry);
