import type { ServiceNeeds } from '../../shared/app/checks/service-checks.ts';

/** What `vigil run notifier` and `vigil doctor notifier` check on this host. */
export const needs: ServiceNeeds = { queues: ['notifier'], smtp: true };
