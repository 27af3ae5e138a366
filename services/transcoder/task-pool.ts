/**
 * Runs tasks `limit` at a time in the order added: a job has hundreds of frames to upload,
 * or of objects to delete after a failure, and started at once they would all be in flight
 * together. A failing task goes to `onError` (the clips-and-frames pass aborts the job with
 * it); the tasks check the job's signal before they start.
 */
export class TaskPool {
  private active = 0;
  private readonly queue: (() => Promise<void>)[] = [];
  private waiters: (() => void)[] = [];

  private readonly limit: number;
  private readonly onError: (err: unknown) => void;

  constructor(
    limit: number,
    onError: (err: unknown) => void,
  ) {
    this.limit = limit;
    this.onError = onError;
  }

  add(task: () => Promise<void>): void {
    this.queue.push(task);
    this.pump();
  }

  /** Settles once nothing is queued or running. */
  idle(): Promise<void> {
    if (this.active === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private pump(): void {
    while (this.active < this.limit && this.queue.length > 0) {
      const task = this.queue.shift()!;
      this.active++;
      task().catch(this.onError).finally(() => {
        this.active--;
        this.pump();
        if (this.active === 0 && this.queue.length === 0) for (const w of this.waiters.splice(0)) w();
      });
    }
  }
}
