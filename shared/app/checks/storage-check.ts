import { errorCode, errorMessage } from '../../errors.ts';
import { createObjectStore, type ObjectStore, type ObjectStoreConfig } from '../../storage/object-store.ts';
import { fail, ok, warn, type CheckResult, type HostCheck } from './check.ts';
import { isUnreachable } from './unreachable.ts';

/** The object store: reachable with these credentials, and each bucket the named services use present or creatable. */
export function storageCheck(config: ObjectStoreConfig, buckets: readonly string[]): HostCheck {
  return {
    name: 'storage',
    async run() {
      const where = config.endpoint ?? `AWS S3 in ${config.region} (S3_ENDPOINT is not set)`;
      // One try, short timeouts: a doctor answers in seconds, jobs have their own retries.
      const store = createObjectStore(config, { maxAttempts: 1, connectionTimeoutMs: 3_000, socketTimeoutMs: 5_000 });
      try {
        const results: CheckResult[] = [];
        for (const bucket of buckets) {
          const found = await bucketState(store, bucket);
          // The first answer says whether the store is there at all.
          if (results.length === 0) {
            if (found instanceof Error) return [storeFailure(found, where)];
            results.push(ok('storage', `reachable at ${where}`));
          }
          const name = `bucket ${bucket}`;
          if (found instanceof Error) results.push(fail(name, errorMessage(found), 'check the S3 server log'));
          else if (found) results.push(ok(name, 'present'));
          else if (config.createBuckets) results.push(warn(name, 'missing; created at first use', 'nothing, or create it now to set its policy'));
          else results.push(fail(name, 'missing, and S3_CREATE_BUCKETS is false', `create bucket ${bucket}, or set S3_CREATE_BUCKETS=true`));
        }
        return results;
      } finally {
        store.close();
      }
    },
  };
}

async function bucketState(store: ObjectStore, bucket: string): Promise<boolean | Error> {
  try {
    return await store.bucketExists(bucket);
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

function storeFailure(err: Error, where: string): CheckResult {
  if (isUnreachable(err)) return fail('storage', `cannot reach ${where}: ${errorMessage(err)}`, 'start the S3 server (MinIO) or fix S3_ENDPOINT', true);
  if (errorCode(err) === 'STORAGE_ACCESS_DENIED') return fail('storage', `access denied at ${where}`, 'check S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY');
  if (/Credential/i.test(`${(err.cause as Error | undefined)?.name ?? ''} ${err.message}`)) {
    return fail('storage', `no credentials for ${where}`, 'set S3_ENDPOINT, S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY');
  }
  return fail('storage', `${where}: ${errorMessage(err)}`, 'check S3_ENDPOINT and the S3 server log');
}
