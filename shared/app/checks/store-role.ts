// Apart from storage-check.ts so a service's `needs` (which the registry, and so every
// `vigil` command, loads) can name a store without loading the S3 SDK.

/** Which store a check is about: its check name, its buckets' names and the variables that configure it. */
export interface StoreRole {
  name: string;
  bucketPrefix: string;
  env: string;
}

/** The store every service uses (`S3_*`). */
export const MAIN_STORE: StoreRole = { name: 'storage', bucketPrefix: '', env: 'S3' };
/** The uploader's library on a store of its own (`LIBRARY_S3_*`). */
export const LIBRARY_STORE: StoreRole = { name: 'library storage', bucketPrefix: 'library ', env: 'LIBRARY_S3' };
