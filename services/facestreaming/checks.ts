import type { ServiceNeeds } from '../../shared/app/checks/service-checks.ts';

/** What `vigil run facestreaming` and `vigil doctor facestreaming` check on this host. */
export const needs: ServiceNeeds = { queues: ['facestreaming'], face: true };
