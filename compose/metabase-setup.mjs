// Run by the one-shot metabase-setup service (profile dashboards) once Metabase answers:
// creates its admin on a fresh Metabase (the site's email, the password in
// secrets/metabase_admin_password), then points it at the vigil database as the read-only
// user metabase-grants.sh created. Idempotent: on a Metabase already set up it logs in as
// that admin and updates the connection (a rotated password is applied), never adds a second.
// A deployment script, not part of the services: it reads its own few variables.
// test/integration/metabase-setup.test.ts runs it against a local server speaking this API.
import { readFileSync } from 'node:fs';

const env = process.env;
const base = (env.METABASE_URL ?? 'http://metabase:3000').replace(/\/+$/, '');
const secret = (name, fallback) => readFileSync(env[name] ?? fallback, 'utf8').replace(/\r?\n$/, '');
const admin = {
  email: env.METABASE_ADMIN_EMAIL ?? 'admin@example.org',
  password: secret('METABASE_ADMIN_PASSWORD_FILE', '/run/secrets/metabase_admin_password'),
};
const database = {
  engine: 'mysql', // MariaDB too
  name: env.METABASE_DATABASE_NAME ?? 'Vigil',
  details: {
    host: env.METABASE_DB_HOST ?? 'mariadb',
    port: Number(env.METABASE_DB_PORT ?? 3306),
    dbname: env.METABASE_DB_NAME ?? 'vigil',
    user: env.METABASE_DB_USER ?? 'metabase',
    password: secret('METABASE_DB_PASSWORD_FILE', '/run/secrets/metabase_db_password'),
    ssl: false,
  },
};

/** One API call; a non-2xx answer throws with its status and Metabase's message, never a request body. */
async function call(method, path, body, session) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(session && { 'x-metabase-session': session }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  if (!res.ok) {
    let message = text.slice(0, 300);
    try {
      const parsed = JSON.parse(text);
      message = parsed.message ?? JSON.stringify(parsed.errors ?? parsed).slice(0, 300);
    } catch {}
    const err = new Error(`${method} ${path}: HTTP ${res.status}: ${message}`);
    err.status = res.status;
    throw err;
  }
  return text ? JSON.parse(text) : undefined;
}

async function session() {
  const props = await call('GET', '/api/session/properties');
  const token = props['setup-token'] ?? props.setup_token;
  if (!props['has-user-setup'] && token) {
    const created = await call('POST', '/api/setup', {
      token,
      user: { email: admin.email, password: admin.password, first_name: 'Vigil', last_name: 'Admin', site_name: 'Vigil' },
      prefs: { site_name: 'Vigil', site_locale: 'en', allow_tracking: false },
    });
    console.log(`metabase: created admin ${admin.email}`);
    return created.id;
  }
  try {
    return (await call('POST', '/api/session', { username: admin.email, password: admin.password })).id;
  } catch (err) {
    if (err.status === 401 || err.status === 400) {
      throw new Error(`metabase is already set up and ${admin.email} cannot log in with secrets/metabase_admin_password: add the database by hand (README, "Metabase") or fix the secret`);
    }
    throw err;
  }
}

async function main() {
  const id = await session();
  const listed = await call('GET', '/api/database', undefined, id);
  const existing = (Array.isArray(listed) ? listed : (listed.data ?? [])).find((d) => d.name === database.name);
  if (existing) {
    await call('PUT', `/api/database/${existing.id}`, { details: database.details }, id);
    console.log(`metabase: database "${database.name}" (id ${existing.id}) updated: ${database.details.user}@${database.details.host}/${database.details.dbname}`);
  } else {
    const created = await call('POST', '/api/database', { ...database, is_full_sync: true }, id);
    console.log(`metabase: database "${database.name}" (id ${created.id}) added: ${database.details.user}@${database.details.host}/${database.details.dbname}`);
  }
}

main().catch((err) => {
  console.error(`metabase-setup: ${err.message}`);
  process.exitCode = 1;
});
