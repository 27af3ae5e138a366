import { Worker, type Transferable } from 'node:worker_threads';
import type { Logger } from '../logger.ts';
import { errorCode, isPermanent, TransientError, VigilError } from '../errors.ts';

/** Errors cross the thread boundary as plain data; this keeps code and permanence. */
export interface WireError {
  name: string;
  message: string;
  code: string;
  permanent: boolean;
}

export type WorkerReply<O> = { id: number; ok: true; output: O } | { id: number; ok: false; error: WireError } | { ready: true } | { ready: false; error: WireError };

export interface WorkerPoolOptions<O = unknown> {
  /** The worker module (it calls `serveWorker`). */
  entry: URL;
  /** Threads; one per core keeps every core busy. */
  size: number;
  name: string;
  /** Given to the worker's `init`. */
  workerData?: unknown;
  /** Tasks waiting for a thread before `run` refuses more. @default 10_000 */
  maxQueue?: number;
  logger: Logger;
  resourceLimits?: { maxOldGenerationSizeMb?: number };
  /**
   * Replace a thread that sat idle `idleMs` after a task whose output `when` flags (its
   * memory grew past what it started with: WebAssembly memory never shrinks), so that a
   * burst of large inputs does not keep its high-water mark for the life of the process.
   * A busy thread is never replaced, so a steady stream of large inputs costs nothing.
   * @default never
   */
  recycleIdle?: { idleMs: number; when(output: O): boolean };
}

interface Task<I, O> {
  id: number;
  input: I;
  transfer: Transferable[];
  resolve(o: O): void;
  reject(e: unknown): void;
}

interface Slot<I, O> {
  worker: Worker;
  ready: boolean;
  task: Task<I, O> | undefined;
  /** The thread's last 'error' event: why a thread that exits before ready failed. */
  lastError?: Error;
  /** Set while the thread is being replaced on purpose (recycled), not after a crash. */
  retiring?: boolean;
  recycleTimer?: NodeJS.Timeout;
}

/** Replacements of threads that died after start wait this long, doubling to the max. */
const RESPAWN_MIN_MS = 200;
const RESPAWN_MAX_MS = 30_000;

/**
 * A fixed pool of worker threads for CPU-heavy work (face inference), so the event loop
 * stays free for AMQP heartbeats and acks. A thread that dies fails its task with a
 * transient error (the message is retried) and is replaced, after a back-off when
 * replacements keep dying. A thread that fails before it is ready (its module throws at
 * load, a native addon is broken) fails `ready()` instead: respawning cannot fix that.
 */
export class WorkerPool<I, O> {
  private readonly slots: Slot<I, O>[] = [];
  private readonly queue: Task<I, O>[] = [];
  private nextId = 1;
  private closed = false;
  private readyWaiters: { resolve(): void; reject(e: unknown): void }[] = [];
  private startupError: unknown;
  private respawnDelayMs = 0;
  private readonly timers = new Set<NodeJS.Timeout>();

  private readonly opts: WorkerPoolOptions<O>;

  constructor(opts: WorkerPoolOptions<O>) {
    this.opts = opts;
    for (let i = 0; i < opts.size; i++) this.slots.push(this.spawn());
  }

  /** Resolves once every thread has finished its `init` (models loaded, warmed up). */
  ready(): Promise<void> {
    if (this.startupError) return Promise.reject(this.startupError);
    if (this.slots.every((s) => s.ready)) return Promise.resolve();
    return new Promise((resolve, reject) => this.readyWaiters.push({ resolve, reject }));
  }

  get size(): number {
    return this.slots.length;
  }

  run(input: I, transfer: Transferable[] = []): Promise<O> {
    if (this.closed) return Promise.reject(new TransientError('POOL_CLOSED', `${this.opts.name} pool is closed`));
    // Once every thread has failed to start, none will take the task: it would wait forever.
    if (this.startupError) return Promise.reject(this.startupError);
    if (this.queue.length >= (this.opts.maxQueue ?? 10_000)) {
      return Promise.reject(new TransientError('POOL_BUSY', `${this.opts.name} pool queue is full`));
    }
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, input, transfer, resolve, reject });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const s of this.slots) clearTimeout(s.recycleTimer);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const t of this.queue.splice(0)) t.reject(new TransientError('POOL_CLOSED', `${this.opts.name} pool closed`));
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private spawn(): Slot<I, O> {
    // Node runs the TypeScript entry itself (type stripping), in the thread as in the main one.
    const worker = new Worker(this.opts.entry, {
      workerData: { data: this.opts.workerData },
      name: this.opts.name,
      resourceLimits: this.opts.resourceLimits,
    });
    const slot: Slot<I, O> = { worker, ready: false, task: undefined };
    worker.on('message', (msg: WorkerReply<O>) => this.onMessage(slot, msg));
    worker.on('error', (err) => {
      slot.lastError = err;
      this.opts.logger.error({ err, pool: this.opts.name }, 'worker thread failed');
    });
    worker.on('exit', (code) => this.onExit(slot, code));
    return slot;
  }

  private onMessage(slot: Slot<I, O>, msg: WorkerReply<O>): void {
    if ('ready' in msg) {
      if (!msg.ready) {
        this.startupError = toError(msg.error);
        for (const w of this.readyWaiters.splice(0)) w.reject(this.startupError);
        return;
      }
      slot.ready = true;
      this.respawnDelayMs = 0;
      if (this.slots.every((s) => s.ready)) for (const w of this.readyWaiters.splice(0)) w.resolve();
      this.dispatch();
      return;
    }
    const task = slot.task;
    if (!task || task.id !== msg.id) return;
    slot.task = undefined;
    if (msg.ok) {
      task.resolve(msg.output);
      this.armRecycle(slot, msg.output);
    } else task.reject(toError(msg.error));
    this.dispatch();
  }

  private armRecycle(slot: Slot<I, O>, output: O): void {
    const recycle = this.opts.recycleIdle;
    if (!recycle || !recycle.when(output)) return;
    clearTimeout(slot.recycleTimer);
    slot.recycleTimer = setTimeout(() => {
      if (this.closed || slot.task || !slot.ready || !this.slots.includes(slot)) return;
      slot.retiring = true;
      slot.ready = false;
      this.opts.logger.info({ pool: this.opts.name, idleMs: recycle.idleMs }, 'worker thread replaced to give back the memory a large input grew');
      void slot.worker.terminate();
    }, recycle.idleMs);
    slot.recycleTimer.unref();
  }

  private onExit(slot: Slot<I, O>, code: number): void {
    const i = this.slots.indexOf(slot);
    if (i < 0) return;
    clearTimeout(slot.recycleTimer);
    if (slot.retiring) {
      if (!this.closed) this.slots[i] = this.spawn();
      return;
    }
    const task = slot.task;
    slot.task = undefined;
    task?.reject(new TransientError('WORKER_EXITED', `${this.opts.name} worker exited with code ${code} during a task`));
    const wasReady = slot.ready;
    slot.ready = false;
    if (this.closed) return;
    if (!wasReady && !this.startupError) {
      const why = slot.lastError ? `: ${slot.lastError.message.split('\n')[0]}` : '';
      this.startupError = new VigilError('WORKER_START_FAILED', `${this.opts.name} worker exited with code ${code} before it was ready${why}`, { cause: slot.lastError });
      for (const w of this.readyWaiters.splice(0)) w.reject(this.startupError);
    }
    if (this.startupError) {
      for (const t of this.queue.splice(0)) t.reject(this.startupError);
      return;
    }
    this.respawnDelayMs = Math.min(RESPAWN_MAX_MS, Math.max(RESPAWN_MIN_MS, this.respawnDelayMs * 2));
    this.opts.logger.warn({ pool: this.opts.name, code, inMs: this.respawnDelayMs }, 'worker thread exited; replacing it');
    // The slot stays (not ready, no task) so dispatch skips it until the replacement is up.
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.closed) this.slots[i] = this.spawn();
    }, this.respawnDelayMs);
    this.timers.add(timer);
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (!slot.ready || slot.task) continue;
      const task = this.queue.shift()!;
      clearTimeout(slot.recycleTimer);
      slot.task = task;
      slot.worker.postMessage({ id: task.id, input: task.input }, task.transfer);
    }
  }
}

export function toWire(err: unknown): WireError {
  const e = err instanceof Error ? err : new Error(String(err));
  return {
    name: e.name,
    message: e.message,
    code: errorCode(err),
    permanent: isPermanent(err),
  };
}

function toError(w: WireError): VigilError {
  return new VigilError(w.code, w.message, { permanent: w.permanent });
}
