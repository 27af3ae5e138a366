import type { ServiceNeeds } from '../../shared/app/checks/service-checks.ts';

/** What `vigil run facetraining` and `vigil doctor facetraining` check on this host. */
export const needs: ServiceNeeds = { queues: ['facetraining'], face: true };
