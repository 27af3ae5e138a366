import { REPORT_VIEWS } from './migrations/20261201T1300-metabase-views.ts';

/**
 * Every report_* view `vigil migrate` leaves in the database, by name: the first six
 * (20261201T1300) and the daily roll-up's (20261208T0900). What Metabase's user is granted,
 * and what the tests and the scale bench expect to find.
 */
export const REPORT_VIEW_NAMES: readonly string[] = [...Object.keys(REPORT_VIEWS), 'report_results_per_day'].sort();
