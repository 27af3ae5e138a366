import type { ConsoleSessionRepository } from '../../db/repositories/console-session.repository.ts';
import type { ConsoleSigninRepository } from '../../db/repositories/console-signin.repository.ts';
import type { ConsoleConfig } from '../../shared/config/console-config.ts';
import { errorCode } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';

/** How often each replica removes sessions never seen again and sign-in counts long past. */
export const HOUSEKEEPING_EVERY_MS = 10 * 60_000;

/**
 * One round: expired sessions (a request deletes its own when it comes back, but most never
 * do) and throttle rows whose window and lock have passed. Idempotent, so every replica may
 * run it; a failure is logged and tried next round.
 */
export async function consoleHousekeeping(deps: { sessions: ConsoleSessionRepository; signins: ConsoleSigninRepository; config: ConsoleConfig; log: Logger; now: Date }): Promise<void> {
  try {
    const sessions = await deps.sessions.purgeExpired(deps.now, deps.config.sessionIdleMs, deps.config.sessionMaxMs);
    const throttles = await deps.signins.purgeStale(deps.now, deps.config.signinWindowMs);
    if (sessions + throttles > 0) deps.log.info({ sessions, throttles }, 'console housekeeping removed expired rows');
  } catch (err) {
    deps.log.warn({ err, code: errorCode(err) }, 'console housekeeping failed; trying again next round');
  }
}
