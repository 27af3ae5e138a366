import type { ServiceNeeds } from '../../shared/app/checks/service-checks.ts';

/** What `vigil run transcoder` and `vigil doctor transcoder` check on this host. */
export const needs: ServiceNeeds = {
  queues: ['transcoder'],
  ffmpeg: true,
  buckets: (c) => [c.buckets.source, c.buckets.video, c.buckets.frames],
};
