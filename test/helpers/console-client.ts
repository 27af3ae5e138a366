// How console tests reach the app: accounts made in the database, a sign-in through the real
// form (login token, password, session cookie), and GET/POST as that account through
// `app.inject`, a form post carrying the page's CSRF token unless told otherwise.
import assert from 'node:assert/strict';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { Kysely } from 'kysely';
import { consoleUserRepository } from '../../db/repositories/console-user.repository.ts';
import type { Database } from '../../db/schema.ts';
import { hashPassword } from '../../shared/accounts/password.ts';
import type { Role } from '../../shared/contract/roles.ts';

export const CONSOLE_PASSWORD = 'correct horse battery staple';

export interface SignedIn {
  name: string;
  session: string;
  csrf: string;
}

export interface ConsoleClient {
  signIn(username: string): Promise<SignedIn>;
  get(url: string, who: SignedIn | null, accept?: string): Promise<LightMyRequestResponse>;
  /** A form post; `csrf: null` sends none. */
  post(url: string, who: SignedIn, fields?: Record<string, string>, csrf?: string | null): Promise<LightMyRequestResponse>;
}

/** Adds the accounts, all with CONSOLE_PASSWORD. */
export async function addConsoleAccounts(db: Kysely<Database>, accounts: readonly (readonly [string, Role])[]): Promise<void> {
  const hash = await hashPassword(CONSOLE_PASSWORD);
  const users = consoleUserRepository(db);
  for (const [name, role] of accounts) assert.ok(await users.add({ name, role, passwordHash: hash, by: 'test' }), `account ${name} added`);
}

/** Each sign-in comes from its own address, so the throttle of one test never meets another's. */
export function consoleClient(app: FastifyInstance, addressPrefix = '10.77.0.'): ConsoleClient {
  let next = 1;
  const get = (url: string, who: SignedIn | null, accept = 'text/html') =>
    app.inject({ method: 'GET', url, cookies: who ? { vigil_session: who.session } : {}, headers: { accept } });
  return {
    async signIn(username) {
      const remoteAddress = `${addressPrefix}${next++}`;
      const login = await app.inject({ method: 'GET', url: '/login', remoteAddress, headers: { accept: 'text/html' } });
      const formToken = /name="_csrf" value="([^"]+)"/.exec(login.body)![1]!;
      const form = login.cookies.find((c) => c.name === 'vigil_login')!;
      const payload = new URLSearchParams({ username, password: CONSOLE_PASSWORD, _csrf: formToken }).toString();
      const r = await app.inject({
        method: 'POST', url: '/login', remoteAddress, cookies: { vigil_login: form.value }, payload,
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      });
      assert.equal(r.statusCode, 303, r.body);
      const session = r.cookies.find((c) => c.name === 'vigil_session')!.value;
      const home = await get('/', { name: username, session, csrf: '' });
      return { name: username, session, csrf: /name="_csrf" value="([^"]+)"/.exec(home.body)![1]! };
    },
    get,
    post(url, who, fields = {}, csrf = who.csrf) {
      return app.inject({
        method: 'POST', url, cookies: { vigil_session: who.session },
        payload: new URLSearchParams({ ...fields, ...(csrf !== null && { _csrf: csrf }) }).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      });
    },
  };
}

/** Script or style written into a page rather than loaded from the console's /assets/ (the CSP would block it). */
export const INLINE_CODE = /<script(?![^>]*\ssrc="\/assets\/[a-z.-]+\.js")|<style|\sstyle=|\son[a-z]+=/i;
