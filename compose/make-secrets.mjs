// Run by the one-shot `secrets` service before anything else starts: every credential the
// stack needs, in the `secrets` volume, one folder per container that reads them (each
// container mounts only its own folder). A value the site put in its secrets folder
// (VIGIL_SECRETS_DIR, default compose/secrets/) wins and is copied at every start, so
// rotating one is editing its file and `up` again; a value generated before is kept; the
// rest are generated (random, 32 letters and digits). So a trial host needs no set-up and a
// production site provides what it must control. It prints where each value came from,
// never a value.
// A deployment script, not part of the services: it reads its own few variables.
// test/unit/make-secrets.test.ts runs it against folders of its own.
import { randomInt } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const OUT = process.env.VIGIL_SECRETS_OUT ?? '/secrets';
const SITE = process.env.VIGIL_SECRETS_SITE ?? '/site';

/** The values a site may set, by their file name in its folder. */
const BASE = [
  'mariadb_root_password',
  'vigil_db_password', // the services' own user, DML on vigil's tables (db-users.sh)
  'migrator_db_password', // `vigil migrate`'s user, DDL on vigil's schema
  'metabase_db_password', // Metabase's read-only user, the report views only
  'metabase_app_db_password', // Metabase's own application data (its database metabase_app)
  'metabase_admin_password',
  'grafana_admin_password',
  'rabbitmq_password',
  's3_access_key_id',
  's3_secret_access_key',
];
/** Whole values a site may give instead of the ones built from the parts (an outside broker or database). */
const OVERRIDES = ['amqp_url', 'database_url', 'migrator_database_url', 'rabbitmq_default_user.conf'];
/** Credentials of outside services only a site has, passed to the Vigil services when it gives them. */
const OPTIONAL = ['facebook_page_token', 'notifier_webhook_secret'];

// The users the images run as: node (the Vigil image), mysql, grafana; root for the rest.
const UID = { node: 1000, mysql: 999, grafana: 472, root: 0 };

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const random = () => Array.from({ length: 32 }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');

function readValue(path) {
  if (!existsSync(path)) return undefined;
  return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
}

function fail(message) {
  console.error(`secrets: ${message}`);
  process.exit(1);
}

const sources = [];
const base = {};
for (const name of BASE) {
  let value = readValue(join(SITE, name));
  let source = 'site';
  if (value === undefined) [value, source] = [readValue(join(OUT, 'base', name)), 'kept'];
  if (value === undefined) [value, source] = [random(), 'generated'];
  // A line break or control character would end the value early in a config file or a URL.
  if (value === '' || /[\u0000-\u001f\u007f]/.test(value)) fail(`${name} is empty or holds a control character`);
  base[name] = value;
  sources.push([name, source]);
}
const site = Object.fromEntries(OVERRIDES.map((n) => [n, readValue(join(SITE, n))]));
const optional = Object.fromEntries(OPTIONAL.map((n) => [n, readValue(join(SITE, n))]).filter(([, v]) => v !== undefined));
for (const n of [...OVERRIDES, ...OPTIONAL]) if (site[n] !== undefined || optional[n] !== undefined) sources.push([n, 'site']);

const enc = encodeURIComponent;
const folders = {
  // The Vigil services: AMQP_URL_FILE, DATABASE_URL_FILE, S3_*_FILE.
  vigil: {
    owner: UID.node,
    files: {
      amqp_url: site.amqp_url ?? `amqp://vigil:${enc(base.rabbitmq_password)}@rabbitmq:5672`,
      database_url: site.database_url ?? `mysql://vigil:${enc(base.vigil_db_password)}@mariadb:3306/vigil`,
      s3_access_key_id: base.s3_access_key_id,
      s3_secret_access_key: base.s3_secret_access_key,
      ...optional,
    },
  },
  // The one-shot migrate: its DATABASE_URL_FILE for `vigil migrate` only.
  migrator: {
    owner: UID.node,
    files: { database_url: site.migrator_database_url ?? `mysql://vigil_migrator:${enc(base.migrator_db_password)}@mariadb:3306/vigil` },
  },
  // The database server, db-users and metabase-grants (which create the users).
  mariadb: {
    owner: UID.mysql,
    files: {
      root_password: base.mariadb_root_password,
      vigil_password: base.vigil_db_password,
      migrator_password: base.migrator_db_password,
      metabase_password: base.metabase_db_password,
      metabase_app_password: base.metabase_app_db_password,
    },
  },
  // Read on RabbitMQ's first boot only (an empty rabbitmq-data volume).
  rabbitmq: {
    owner: UID.root,
    files: { 'default-user.conf': site['rabbitmq_default_user.conf'] ?? `default_user = vigil\ndefault_pass = ${base.rabbitmq_password}\n` },
  },
  seaweedfs: {
    owner: UID.root,
    files: { s3_access_key_id: base.s3_access_key_id, s3_secret_access_key: base.s3_secret_access_key },
  },
  // metabase-setup (the Vigil image, as node) and Metabase's MB_DB_PASS_FILE.
  metabase: {
    owner: UID.node,
    files: { admin_password: base.metabase_admin_password, db_password: base.metabase_db_password, app_db_password: base.metabase_app_db_password },
  },
  grafana: { owner: UID.grafana, files: { admin_password: base.grafana_admin_password } },
};

/** Written whole or not at all (a rename), readable by its owner only. */
function put(path, value, owner) {
  const tmp = `${path}.tmp`;
  rmSync(tmp, { force: true }); // a run that died here left one behind
  writeFileSync(tmp, value.endsWith('\n') ? value : `${value}\n`, { mode: 0o400 });
  chmodSync(tmp, 0o400);
  if (process.getuid?.() === 0) chownSync(tmp, owner, owner);
  renameSync(tmp, path);
}

// Everything is read and checked above; only now is anything written.
mkdirSync(join(OUT, 'base'), { recursive: true, mode: 0o700 });
for (const name of BASE) put(join(OUT, 'base', name), base[name], UID.root);
for (const [folder, { owner, files }] of Object.entries(folders)) {
  const dir = join(OUT, folder);
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o700);
  for (const [name, value] of Object.entries(files)) put(join(dir, name), value, owner);
  // One the site no longer gives is gone, not left behind from an earlier start.
  if (folder === 'vigil') for (const n of OPTIONAL) if (!(n in files)) rmSync(join(dir, n), { force: true });
  if (process.getuid?.() === 0) chownSync(dir, owner, owner);
  chmodSync(dir, 0o500);
}
chmodSync(join(OUT, 'base'), 0o700);

const width = Math.max(...sources.map(([n]) => n.length));
for (const [name, source] of sources) console.log(`secrets: ${name.padEnd(width)}  ${source}`);
console.log(`secrets: ${Object.keys(folders).join(', ')} ready`);
