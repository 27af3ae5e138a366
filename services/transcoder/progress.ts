import type { Metrics } from '../../shared/metrics.ts';

/**
 * Encoding progress as metrics without a label per job: the gauge is the mean over the jobs
 * running in this process (one, by default), the counter adds the seconds encoded.
 */
export class ProgressBoard {
  private readonly jobs = new Map<number, { seconds: number; ratio: number }>();
  private readonly labels = { service: 'transcoder' };

  private readonly metrics: Pick<Metrics, 'transcodeProgress' | 'transcodeMediaSeconds'>;

  constructor(metrics: Pick<Metrics, 'transcodeProgress' | 'transcodeMediaSeconds'>) {
    this.metrics = metrics;
  }

  update(jobId: number, seconds: number, totalSeconds: number): void {
    const before = this.jobs.get(jobId)?.seconds ?? 0;
    if (seconds > before) this.metrics.transcodeMediaSeconds.inc(this.labels, seconds - before);
    const done = Math.max(before, seconds);
    this.jobs.set(jobId, { seconds: done, ratio: totalSeconds > 0 ? Math.min(1, done / totalSeconds) : 0 });
    this.publish();
  }

  end(jobId: number): void {
    this.jobs.delete(jobId);
    this.publish();
  }

  private publish(): void {
    let sum = 0;
    for (const j of this.jobs.values()) sum += j.ratio;
    this.metrics.transcodeProgress.set(this.labels, this.jobs.size > 0 ? sum / this.jobs.size : 0);
  }
}
