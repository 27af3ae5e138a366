import { errorMessage } from '../../errors.ts';

export type CheckStatus = 'ok' | 'warn' | 'fail';

/** One line of `vigil doctor`'s table, and what `vigil run` acts on at start. */
export interface CheckResult {
  /** `database`, `ffmpeg`, `storage: bucket video-avi`, … */
  name: string;
  status: CheckStatus;
  detail: string;
  /** What to do about a warn or fail, in words an operator can act on. */
  fix?: string;
  /**
   * The dependency did not answer (connection refused, timed out). `vigil run` waits for
   * it with back-off instead of exiting: in a compose stack it may simply start later.
   */
  unreachable?: boolean;
}

/** A check of this host; it never throws: every problem is a result. */
export interface HostCheck {
  name: string;
  run(): Promise<CheckResult[]>;
}

export const ok = (name: string, detail: string): CheckResult => ({ name, status: 'ok', detail });
export const warn = (name: string, detail: string, fix: string): CheckResult => ({ name, status: 'warn', detail, fix });
export const fail = (name: string, detail: string, fix: string, unreachable = false): CheckResult =>
  unreachable ? { name, status: 'fail', detail, fix, unreachable } : { name, status: 'fail', detail, fix };

/**
 * Runs one check within `timeoutMs`; a check that throws or hangs becomes one failed,
 * unreachable result rather than a stuck `vigil doctor`.
 */
export async function runCheck(check: HostCheck, timeoutMs: number): Promise<CheckResult[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<CheckResult[]>((resolve) => {
    timer = setTimeout(
      () => resolve([fail(check.name, `no answer within ${Math.round(timeoutMs / 1000)} s`, 'check that the service is up and reachable from this host', true)]),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([
      check.run().catch((err: unknown) => [fail(check.name, errorMessage(err), 'see the detail', false)]),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Every check, in order, each bounded. */
export async function runChecks(checks: HostCheck[], timeoutMs = 20_000): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const c of checks) results.push(...(await runCheck(c, timeoutMs)));
  return results;
}

export const passed = (results: CheckResult[]): boolean => results.every((r) => r.status !== 'fail');

/** `name: detail — fix`, the one line a failed start prints. */
export function describeFailure(r: CheckResult): string {
  return `${r.name}: ${r.detail}${r.fix ? ` — ${r.fix}` : ''}`;
}

/** The plain-text table: check, status, detail, what to do. */
export function formatChecks(results: CheckResult[]): string {
  const header = ['check', 'status', 'detail', 'what to do'];
  const rows = results.map((r) => [r.name, r.status, r.detail, r.fix ?? '']);
  const widths = header.map((h, i) => Math.min(i === 2 ? 70 : 40, Math.max(h.length, ...rows.map((row) => row[i]!.length))));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const failed = results.filter((r) => r.status === 'fail').length;
  const warned = results.filter((r) => r.status === 'warn').length;
  const summary = failed > 0 ? `${failed} failed, ${warned} warnings` : warned > 0 ? `ready, ${warned} warnings` : 'ready';
  return `${[line(header), ...rows.map(line)].join('\n')}\n${summary}\n`;
}
