import { publishNotification } from '../../shared/runtime/alert-outbox.ts';
import { uploaderRepository } from '../../db/repositories/uploader.repository.ts';
import type { ServiceModule } from '../../shared/app/app-context.ts';
import type { PlatformConfig } from '../../shared/config/platform-config.ts';
import type { UploaderConfig } from './config.ts';
import { CODECS } from '../../shared/contract/messages.ts';
import { createObjectStore } from '../../shared/storage/object-store.ts';
import { FacebookClient } from './facebook-client.ts';
import { uploadToFacebook, type FacebookTarget } from './facebook-target.ts';
import { uploaderHandler } from './handler.ts';
import { libraryKeyRefusal, libraryUrl, uploadToLibrary, type LibraryTarget } from './library-target.ts';
import { startSweeper } from './sweeper.ts';

export const service: ServiceModule<PlatformConfig & { uploader: UploaderConfig }> = {
  name: 'uploader',
  async create(app) {
    const log = app.logger.child({ service: 'uploader' });
    const { uploader: u, buckets } = app.config;
    // Only the configured buckets are ever created; a job naming another source bucket that is missing fails.
    const source = createObjectStore(app.config.s3, {}, { creatableBuckets: Object.values(buckets) });
    const library = u.library.store ? createObjectStore(u.library.store, {}, { creatableBuckets: [buckets.library] }) : source;
    const libraryLocation = u.library.store ?? app.config.s3;
    const facebook = u.facebook && new FacebookClient(u.facebook);
    const repo = uploaderRepository(app.database.db);
    const libraryTarget: LibraryTarget = {
      source, library, sameStore: library === source, bucket: buckets.library,
      urlOf: (key) => libraryUrl({ publicUrl: u.library.publicUrl, endpoint: libraryLocation.endpoint, region: libraryLocation.region }, buckets.library, key),
      multipartCopyAboveBytes: u.library.multipartCopyAboveBytes,
      copyPartBytes: u.library.copyPartBytes,
    };
    const facebookTarget: FacebookTarget = { client: facebook, source, saveSession: (id, s, etag) => repo.saveSession(id, s, etag), log };
    const handle = uploaderHandler({
      repo,
      locks: app.locks,
      targets: {
        library: (job, _row, signal) => uploadToLibrary(libraryTarget, job, signal),
        facebook: (job, row, signal) => uploadToFacebook(facebookTarget, job, row, signal),
      },
      defaultTargets: u.defaultTargets,
      sourceBuckets: [buckets.video, ...u.extraSourceBuckets],
      refuseJob: (job, targets) => (targets.includes('library') ? libraryKeyRefusal(job) : undefined),
      publishNotice: (n) => publishNotification(app.publisher, n),
      rateLimitWaitMs: u.rateLimitWaitMs,
      maxPostpones: u.maxPostpones,
      worker: app.workerName,
      maxAttempts: app.config.broker.maxAttempts,
    });
    const sweeper = startSweeper({
      repo,
      publish: (job, messageId) => app.publisher.publish('uploader', job, { messageId }),
      intervalMs: u.sweepIntervalMs,
      log,
    });
    return {
      consumers: [{
        service: 'uploader',
        queue: 'uploader',
        concurrency: app.config.concurrency.uploader,
        codec: CODECS.uploader,
        handle,
      }],
      async close() {
        await sweeper.stop();
        source.close();
        if (library !== source) library.close();
      },
    };
  },
};
