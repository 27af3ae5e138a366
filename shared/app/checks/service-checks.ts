import type { PlatformConfig } from '../../config/platform-config.ts';
import type { QueueName } from '../../contract/queue-names.ts';
import type { ObjectStoreConfig } from '../../storage/object-store.ts';
import type { FaceAnalyzer } from '../../face/face-analyzer.ts';
import { topologyOptions } from '../broker-clients.ts';
import { brokerCheck } from './broker-check.ts';
import { fail, type HostCheck } from './check.ts';
import { databaseCheck } from './database-check.ts';
import { faceCheck } from './face-check.ts';
import { ffmpegCheck } from './ffmpeg-check.ts';
import { smtpCheck } from './smtp-check.ts';
import { storageCheck } from './storage-check.ts';
import type { StoreRole } from './store-role.ts';

/**
 * What a service needs of this host beyond the database and the broker, which all need.
 * Each service declares its own, beside its code (`services/<name>/checks.ts`); `C` is the
 * configuration its functions read (a service's own section included).
 */
export interface ServiceNeeds<C extends PlatformConfig = PlatformConfig> {
  /** The queues it consumes: the broker check reports their depth and dead letters. */
  queues?: readonly QueueName[];
  face?: true;
  ffmpeg?: true;
  /** Buckets on the main store (`S3_*`). */
  buckets?: (c: C) => string[];
  /** Stores of its own beyond the main one, each with its buckets and how the checks name it. */
  stores?: (c: C) => { store: ObjectStoreConfig; buckets: string[]; role: StoreRole }[];
  smtp?: true;
}

export interface HostCheckOptions {
  /** The face engine to check: `vigil run` passes its own pool, `vigil doctor` starts one. */
  face: () => Promise<FaceAnalyzer>;
  /** Close the engine after checking it (the doctor's; the services keep theirs). */
  closeFace: boolean;
}

/**
 * The checks for the named services, cheapest and most local first, so that `vigil run`
 * (which stops at the first hard failure) fails in seconds. `vigil doctor` runs the same
 * list, so the two never disagree.
 */
export function hostChecks<C extends PlatformConfig>(config: C, needs: readonly ServiceNeeds<C>[], opts: HostCheckOptions): HostCheck[] {
  const checks: HostCheck[] = [];
  if (needs.some((n) => n.ffmpeg)) checks.push(ffmpegCheck(config.media));
  if (needs.some((n) => n.face)) checks.push(faceCheck(opts.face, { closeAfter: opts.closeFace }));
  checks.push(databaseCheck(config.database.url));
  checks.push(brokerCheck(config.broker.url, [...new Set(needs.flatMap((n) => n.queues ?? []))], topologyOptions(config)));
  const buckets = [...new Set(needs.flatMap((n) => n.buckets?.(config) ?? []))];
  if (buckets.length > 0) checks.push(storageCheck(config.s3, buckets));
  for (const s of needs.flatMap((n) => n.stores?.(config) ?? [])) checks.push(storageCheck(s.store, s.buckets, s.role));
  if (needs.some((n) => n.smtp)) {
    checks.push(
      config.smtpUrl
        ? smtpCheck(config.smtpUrl)
        : { name: 'smtp', run: async () => [fail('smtp', 'SMTP_URL is not set: email notifications cannot be sent', 'set SMTP_URL, e.g. smtp://user:pass@relay:587')] },
    );
  } else if (config.smtpUrl) {
    // Set but not needed by these services: worth knowing, not worth refusing a start for.
    checks.push(asWarnings(smtpCheck(config.smtpUrl)));
  }
  return checks;
}

function asWarnings(check: HostCheck): HostCheck {
  return {
    name: check.name,
    run: async () => (await check.run()).map((r) => (r.status === 'fail' ? { name: r.name, status: 'warn', detail: r.detail, ...(r.fix && { fix: r.fix }) } : r)),
  };
}
