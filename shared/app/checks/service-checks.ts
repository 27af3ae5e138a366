import type { Config } from '../../config/config.ts';
import type { ServiceName } from '../../contract/queue-names.ts';
import type { FaceAnalyzer } from '../../face/face-analyzer.ts';
import { topologyOptions } from '../app-context.ts';
import { brokerCheck } from './broker-check.ts';
import { fail, type HostCheck } from './check.ts';
import { databaseCheck } from './database-check.ts';
import { faceCheck } from './face-check.ts';
import { ffmpegCheck } from './ffmpeg-check.ts';
import { smtpCheck } from './smtp-check.ts';
import { LIBRARY_STORE, storageCheck } from './storage-check.ts';

/** What each service needs of this host beyond the database and the broker, which all need. */
interface ServiceNeeds {
  face?: true;
  ffmpeg?: true;
  buckets?: (c: Config) => string[];
  smtp?: true;
}

const NEEDS: Record<ServiceName, ServiceNeeds> = {
  facetraining: { face: true },
  facestreaming: { face: true },
  transcoder: { ffmpeg: true, buckets: (c) => [c.buckets.source, c.buckets.video, c.buckets.frames] },
  // A library on a store of its own (`LIBRARY_S3_*`) is checked there, not on this one.
  uploader: { buckets: (c) => (c.uploader.library.store ? [c.buckets.video] : [c.buckets.video, c.buckets.library]) },
  notifier: { smtp: true },
};

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
export function hostChecks(config: Config, services: readonly ServiceName[], opts: HostCheckOptions): HostCheck[] {
  const needs = services.map((s) => NEEDS[s]);
  const checks: HostCheck[] = [];
  if (needs.some((n) => n.ffmpeg)) checks.push(ffmpegCheck(config.media));
  if (needs.some((n) => n.face)) checks.push(faceCheck(opts.face, { closeAfter: opts.closeFace }));
  checks.push(databaseCheck(config.database.url));
  checks.push(brokerCheck(config.broker.url, services, topologyOptions(config)));
  const buckets = [...new Set(needs.flatMap((n) => n.buckets?.(config) ?? []))];
  if (buckets.length > 0) checks.push(storageCheck(config.s3, buckets));
  const library = config.uploader.library.store;
  if (services.includes('uploader') && library) checks.push(storageCheck(library, [config.buckets.library], LIBRARY_STORE));
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
