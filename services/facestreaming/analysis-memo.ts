/**
 * The snapshot analyses under way in this process, keyed by stream_img id, so that one
 * snapshot is analysed once however many jobs need it: a job analyses its own snapshot
 * outside the employee's lock, and another job of the same employee that holds the lock
 * and catches up on earlier snapshots awaits that analysis instead of running it again.
 *
 * Each job works through its own scope: what it starts is shared with every other scope
 * and forgotten when the job ends (`end`). The shared map is bounded; past `maxEntries`
 * a scope still keeps what it started for itself, it just is not shared.
 */
export interface AnalysisScope<T> {
  /** The analysis of `id`: this job's or another's under way, else `run()`, started now. A failed one rejects for every job awaiting it. */
  analyse(id: number, run: () => Promise<T>): Promise<T>;
  /** The job is over: its analyses are forgotten. */
  end(): void;
}

export interface AnalysisMemo<T> {
  scope(): AnalysisScope<T>;
  /** Analyses shared now (for tests and metrics). */
  readonly size: number;
}

export function analysisMemo<T>(maxEntries = 256): AnalysisMemo<T> {
  const shared = new Map<number, Promise<T>>();
  return {
    get size() {
      return shared.size;
    },
    scope() {
      const mine = new Map<number, Promise<T>>();
      return {
        analyse(id, run) {
          const known = mine.get(id) ?? shared.get(id);
          if (known) return known;
          const started = run();
          // Whoever awaits it sees the failure; the memo itself never leaves it unhandled.
          started.catch(() => undefined);
          mine.set(id, started);
          if (shared.size < maxEntries) shared.set(id, started);
          return started;
        },
        end() {
          for (const [id, p] of mine) if (shared.get(id) === p) shared.delete(id);
          mine.clear();
        },
      };
    },
  };
}
