import { errorCode, errorMessage } from '../../errors.ts';
import { createObjectStore, type ObjectStore, type ObjectStoreConfig } from '../../storage/object-store.ts';
import { fail, ok, warn, type CheckResult, type HostCheck } from './check.ts';
import { isUnreachable } from './unreachable.ts';
import { MAIN_STORE, type StoreRole } from './store-role.ts';

/**
 * The object store: reachable with these credentials, and each bucket the named services
 * use present or creatable.
 */
export function storageCheck(config: ObjectStoreConfig, buckets: readonly string[], role: StoreRole = MAIN_STORE): HostCheck {
  const { name, bucketPrefix, env } = role;
  return {
    name,
    async run() {
      const where = config.endpoint ?? `AWS S3 in ${config.region} (${env}_ENDPOINT is not set)`;
      // One try, short timeouts: a doctor answers in seconds, jobs have their own retries.
      const store = createObjectStore(config, { maxAttempts: 1, connectionTimeoutMs: 3_000, socketTimeoutMs: 5_000 });
      try {
        const results: CheckResult[] = [];
        for (const bucket of buckets) {
          const found = await bucketState(store, bucket);
          // The first answer says whether the store is there at all.
          if (results.length === 0) {
            if (found instanceof Error) return [storeFailure(found, where, name, env)];
            results.push(ok(name, `reachable at ${where}`));
          }
          const bucketName = `${bucketPrefix}bucket ${bucket}`;
          if (found instanceof Error) results.push(fail(bucketName, errorMessage(found), 'check the S3 server log'));
          else if (found) results.push(ok(bucketName, 'present'));
          else if (config.createBuckets) results.push(warn(bucketName, 'missing; created at first use', 'nothing, or create it now to set its policy'));
          else results.push(fail(bucketName, `missing, and ${env}_CREATE_BUCKETS is false`, `create bucket ${bucket}, or set ${env}_CREATE_BUCKETS=true`));
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

function storeFailure(err: Error, where: string, name: string, env: string): CheckResult {
  if (isUnreachable(err)) return fail(name, `cannot reach ${where}: ${errorMessage(err)}`, `start the S3 server or fix ${env}_ENDPOINT`, true);
  if (errorCode(err) === 'STORAGE_ACCESS_DENIED') return fail(name, `access denied at ${where}`, `check ${env}_ACCESS_KEY_ID and ${env}_SECRET_ACCESS_KEY`);
  if (/Credential/i.test(`${(err.cause as Error | undefined)?.name ?? ''} ${err.message}`)) {
    return fail(name, `no credentials for ${where}`, `set ${env}_ENDPOINT, ${env}_ACCESS_KEY_ID and ${env}_SECRET_ACCESS_KEY`);
  }
  return fail(name, `${where}: ${errorMessage(err)}`, `check ${env}_ENDPOINT and the S3 server log`);
}
