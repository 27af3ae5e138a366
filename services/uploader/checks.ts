import type { ServiceNeeds } from '../../shared/app/checks/service-checks.ts';
import { LIBRARY_STORE } from '../../shared/app/checks/store-role.ts';
import type { PlatformConfig } from '../../shared/config/platform-config.ts';
import type { UploaderConfig } from './config.ts';

/** What `vigil run uploader` and `vigil doctor uploader` check on this host. */
export const needs: ServiceNeeds<PlatformConfig & { uploader: UploaderConfig }> = {
  queues: ['uploader'],
  // A library on a store of its own (`LIBRARY_S3_*`) is checked there, not on the main one.
  buckets: (c) => (c.uploader.library.store ? [c.buckets.video] : [c.buckets.video, c.buckets.library]),
  stores: (c) => (c.uploader.library.store ? [{ store: c.uploader.library.store, buckets: [c.buckets.library], role: LIBRARY_STORE }] : []),
};
