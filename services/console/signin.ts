import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Counter } from 'prom-client';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { writeAudit } from '../../db/repositories/audit.repository.ts';
import type { ConsoleSessionRepository } from '../../db/repositories/console-session.repository.ts';
import type { ConsoleSigninRepository, SigninKey } from '../../db/repositories/console-signin.repository.ts';
import type { ConsoleUserRepository } from '../../db/repositories/console-user.repository.ts';
import { MAX_ACCOUNT_NAME_LENGTH } from '../../shared/accounts/account-name.ts';
import { MAX_PASSWORD_LENGTH, verifyPassword } from '../../shared/accounts/password.ts';
import type { ConsoleConfig } from '../../shared/config/console-config.ts';
import type { Logger } from '../../shared/logger.ts';
import { renderPage } from './pages.ts';
import { SESSION_COOKIE } from './session-guard.ts';
import { newToken, safeNext, sameSecret, sha256Hex, tokenShaped } from './tokens.ts';

/** The sign-in form's own token (login CSRF), in a cookie only /login sees and a hidden field. */
export const FORM_COOKIE = 'vigil_login';

/** The words of every failed sign-in: an unknown name, a wrong password and a disabled account alike. */
export const SIGNIN_FAILED = 'Wrong account name or password.';
export const SIGNIN_THROTTLED = 'Too many failed sign-ins. Try again later.';
const FORM_EXPIRED = 'The sign-in form expired. Please try again.';

export interface SigninDeps {
  db: Kysely<Database>;
  users: Pick<ConsoleUserRepository, 'findByName'>;
  sessions: ConsoleSessionRepository;
  signins: ConsoleSigninRepository;
  config: ConsoleConfig;
  log: Logger;
  now: () => Date;
  /** `vigil_console_signins_total`, when the app runs as a service. */
  signinsTotal?: Counter<'outcome'>;
  /** A hash no password verifies against, checked for unknown names so they take as long as known ones. */
  decoyHash: () => Promise<string>;
}

interface SigninBody {
  username?: unknown;
  password?: unknown;
  _csrf?: unknown;
  next?: unknown;
}

const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/**
 * The throttle's key for an account name: the account's id when there is one, since the
 * lookup's collation finds it under other spellings too (case, accents, trailing spaces),
 * each of which would otherwise get a count of its own; the name folded alike when there is not.
 */
export function signinAccountKey(user: { id: number } | undefined, name: string): string {
  // An unknown name folded as the lookup folds it (case, accents, trailing spaces), so its
  // spellings also share a count: otherwise which ones do would tell which names exist.
  const folded = name.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().replace(/ +$/, '');
  return sha256Hex(user ? `account:${user.id}` : `name:${folded}`);
}

export function signinRoutes(app: FastifyInstance, deps: SigninDeps): void {
  const cookie = (path: string) => ({ httpOnly: true, sameSite: 'strict' as const, secure: deps.config.secureCookie, path });

  function formToken(request: FastifyRequest, reply: FastifyReply): string {
    const existing = request.cookies[FORM_COOKIE];
    const token = tokenShaped(existing) ? existing : newToken();
    reply.setCookie(FORM_COOKIE, token, cookie('/login'));
    return token;
  }

  function page(request: FastifyRequest, reply: FastifyReply, status: number, next: string, message?: string): FastifyReply {
    return renderPage(reply.code(status), 'login', { formToken: formToken(request, reply), next, message });
  }

  app.get<{ Querystring: { next?: string } }>('/login', { config: { public: true } }, async (request, reply) => {
    return page(request, reply, 200, safeNext(request.query.next));
  });

  app.post<{ Body: SigninBody }>('/login', { config: { public: true } }, async (request, reply) => {
    const body = request.body ?? {};
    const next = safeNext(body.next);
    if (!tokenShaped(request.cookies[FORM_COOKIE]) || !sameSecret(text(body._csrf), request.cookies[FORM_COOKIE])) {
      deps.signinsTotal?.inc({ outcome: 'form_expired' });
      return page(request, reply, 403, next, FORM_EXPIRED);
    }
    const name = text(body.username) ?? '';
    const password = text(body.password) ?? '';
    const now = deps.now();
    const address = request.ip;
    const plausible = name.length > 0 && [...name].length <= MAX_ACCOUNT_NAME_LENGTH && password.length > 0 && password.length <= MAX_PASSWORD_LENGTH;
    const user = plausible ? await deps.users.findByName(name) : undefined;
    const keys: SigninKey[] = [{ kind: 'account', key: signinAccountKey(user, name) }, { kind: 'address', key: sha256Hex(address) }];
    const { signinMaxFailures: max, signinWindowMs: windowMs } = deps.config;
    // Counted before the password is checked: parallel guesses cannot outrun the count.
    const locked = await deps.signins.lockedUntil(keys, now);
    const count = locked ? 0 : await deps.signins.countAttempt(keys, now, max, windowMs);
    if (locked || count > max) {
      deps.signinsTotal?.inc({ outcome: 'throttled' });
      await audit('console.signin_refused', undefined, { address, reason: 'throttled' });
      const until = locked ?? new Date(now.getTime() + windowMs);
      reply.header('retry-after', String(Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000))));
      return page(request, reply, 429, next, SIGNIN_THROTTLED);
    }
    // Unknown names are checked against a decoy hash: as slow as a known one, so timing tells nothing.
    const matches = plausible && (await verifyPassword(password, user?.passwordHash ?? (await deps.decoyHash())));
    if (!user || !matches || user.disabled) {
      const reason = !user ? 'unknown_account' : !matches ? 'wrong_password' : 'disabled';
      deps.signinsTotal?.inc({ outcome: 'failed' });
      await audit('console.signin_failed', user?.name, { address, reason });
      return page(request, reply, 401, next, SIGNIN_FAILED);
    }

    // A new session id at every sign-in: a session the request already carried is ended, never reused.
    const previous = request.cookies[SESSION_COOKIE];
    if (tokenShaped(previous)) await deps.sessions.remove(sha256Hex(previous));
    const token = newToken();
    await deps.sessions.create({ id: sha256Hex(token), userId: user.id, csrfToken: sha256Hex(newToken()), at: now });
    await deps.signins.forgive(keys[0]!, keys[1]!, max);
    deps.signinsTotal?.inc({ outcome: 'success' });
    await audit('console.signin', user.name, { address, role: user.role });
    deps.log.info({ account: user.name, role: user.role }, 'console sign-in');
    reply.setCookie(SESSION_COOKIE, token, cookie('/'));
    reply.clearCookie(FORM_COOKIE, cookie('/login'));
    return reply.code(303).header('location', next).send();
  });

  app.post('/logout', { config: { role: 'viewer' } }, async (request, reply) => {
    const s = request.session!;
    await deps.sessions.remove(s.id);
    await audit('console.signout', s.name, {});
    reply.clearCookie(SESSION_COOKIE, cookie('/'));
    return reply.code(303).header('location', '/login').send();
  });

  async function audit(action: string, account: string | undefined, after: Record<string, unknown>): Promise<void> {
    // An unknown name is not written down: it may be a password typed into the wrong field.
    await writeAudit(deps.db, { actor: account ?? '(unknown)', action, subject: account === undefined ? null : `user:${account}`, after });
  }
}
