import type { ServiceNeeds } from '../../shared/app/checks/service-checks.ts';

/**
 * What `vigil run console` and `vigil doctor console` check on this host: the database (its
 * accounts, sessions and sign-in throttle) and the broker, which every service gets; nothing more.
 */
export const needs: ServiceNeeds = {};
