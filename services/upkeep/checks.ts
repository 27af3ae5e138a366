import type { ServiceNeeds } from '../../shared/app/checks/service-checks.ts';

/**
 * What `vigil run upkeep` and `vigil doctor upkeep` check on this host: the database and the
 * broker only (it publishes to the notifier and the work queues, and reads every `.dlq`).
 */
export const needs: ServiceNeeds = {};
