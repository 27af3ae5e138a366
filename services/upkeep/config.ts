import { isEmailAddress } from '../../shared/contract/email-address.ts';
import type { AlertRoute } from '../../shared/contract/messages.ts';
import type { EnvReader } from '../../shared/config/env-reader.ts';

/**
 * The scheduled jobs of the upkeep service (one runner cluster-wide per job); an interval of
 * 0 turns a job off. The variables keep the `NOTIFIER_` names they had when the notifier ran
 * these jobs, so existing deployments need no change.
 */
export interface UpkeepConfig {
  /** `NOTIFIER_UPKEEP_TICK`: how often each replica looks for due jobs. @default 15s */
  tickMs: number;
  /** `NOTIFIER_RESCUE_INTERVAL`: the orphan rescue of `vigil rescue` (rows idle past `VIGIL_RESCUE_AGE`). @default 5 min */
  rescueIntervalMs: number;
  /** `NOTIFIER_DIGEST_INTERVAL`: the `work_pending` digest. @default 2 h */
  digestIntervalMs: number;
  /** `NOTIFIER_DEAD_LETTER_INTERVAL`: the check of the `.dlq` queues (`dead_letters` alert). @default 5 min */
  deadLetterIntervalMs: number;
  /**
   * `NOTIFIER_SUPERVISORS_CHANNEL` (`email`, `webhook`) and `NOTIFIER_SUPERVISORS` (addresses
   * or webhook names): who gets the digest and the dead-letter alert. Without any, neither is sent.
   * @default { channel: 'email', to: [] }
   */
  supervisors: AlertRoute;
  /** `NOTIFIER_RETENTION_INTERVAL`: how often old snapshot bytes are removed. @default 1 h */
  retentionIntervalMs: number;
  /**
   * `VIGIL_STREAM_IMAGE_RETENTION_DAYS`: the image bytes of processed `stream_img` rows
   * older than this are removed (row and result stay); 0 keeps them. @default 30
   */
  streamImageRetentionDays: number;
  /**
   * `VIGIL_REPORT_ROLLUP_INTERVAL`: how often the report roll-ups count new snapshots; the
   * hourly and daily report views lag by one to two of it. @default 1 min
   */
  reportRollupIntervalMs: number;
  /**
   * `VIGIL_STREAM_ROW_RETENTION_DAYS`: judged `stream_img` rows (with their attempts and
   * traces) captured longer ago than this are deleted, once counted in the roll-ups; 0 keeps
   * every row. @default 0
   */
  streamRowRetentionDays: number;
}

const DAY = 24 * 3_600_000;

/** The orphan rescue's interval, and the back-off unit of `vigil rescue` when the scheduled rescue is off. */
export const DEFAULT_RESCUE_INTERVAL_MS = 5 * 60_000;

export function readUpkeepConfig(r: EnvReader): UpkeepConfig {
  const channel = r.oneOf('NOTIFIER_SUPERVISORS_CHANNEL', 'email', ['email', 'webhook'] as const);
  let to = (r.optionalString('NOTIFIER_SUPERVISORS') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const bad = channel === 'email' ? to.filter((v) => !isEmailAddress(v)) : [];
  if (bad.length > 0) {
    r.problems.push({ variable: 'NOTIFIER_SUPERVISORS', expected: 'comma-separated email addresses (NOTIFIER_SUPERVISORS_CHANNEL is email)', got: bad.join(',') });
    to = [];
  }
  return {
    tickMs: r.duration('NOTIFIER_UPKEEP_TICK', 15_000, 100, 3_600_000),
    rescueIntervalMs: r.duration('NOTIFIER_RESCUE_INTERVAL', DEFAULT_RESCUE_INTERVAL_MS, 0, DAY),
    digestIntervalMs: r.duration('NOTIFIER_DIGEST_INTERVAL', 2 * 3_600_000, 0, 7 * DAY),
    deadLetterIntervalMs: r.duration('NOTIFIER_DEAD_LETTER_INTERVAL', 5 * 60_000, 0, DAY),
    supervisors: { channel, to },
    retentionIntervalMs: r.duration('NOTIFIER_RETENTION_INTERVAL', 3_600_000, 0, 7 * DAY),
    streamImageRetentionDays: r.int('VIGIL_STREAM_IMAGE_RETENTION_DAYS', 30, 0, 36_500),
    reportRollupIntervalMs: r.duration('VIGIL_REPORT_ROLLUP_INTERVAL', 60_000, 0, DAY),
    streamRowRetentionDays: r.int('VIGIL_STREAM_ROW_RETENTION_DAYS', 0, 0, 36_500),
  };
}
