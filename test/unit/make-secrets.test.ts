// compose/make-secrets.mjs, run as the one-shot runs it (node, root on this machine as in
// the container), against folders of its own: a trial host gets every credential with no
// set-up, a second `up` keeps them, a site's own file wins and rotates, and nothing is
// printed or half-written.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMPOSE_DIR } from '../helpers/compose-file.ts';

const root = mkdtempSync(join(tmpdir(), 'vigil-make-secrets-'));
after(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
function folders(): { out: string; site: string } {
  const dir = join(root, String(n++));
  mkdirSync(join(dir, 'site'), { recursive: true });
  return { out: join(dir, 'out'), site: join(dir, 'site') };
}

function run({ out, site }: { out: string; site: string }): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(COMPOSE_DIR, 'make-secrets.mjs')], {
    env: { VIGIL_SECRETS_OUT: out, VIGIL_SECRETS_SITE: site },
    encoding: 'utf8',
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const read = (out: string, path: string) => readFileSync(join(out, path), 'utf8').replace(/\n$/, '');
/** Every file the run wrote, by its path in the volume. */
function snapshot(out: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const dir of readdirSync(out)) for (const f of readdirSync(join(out, dir))) files[`${dir}/${f}`] = read(out, `${dir}/${f}`);
  return files;
}

test('a trial host: every credential generated, random, each folder its reader\'s alone, and no value printed', () => {
  const f = folders();
  const r = run(f);
  assert.equal(r.status, 0, r.stderr);
  const files = snapshot(f.out);
  for (const path of ['vigil/amqp_url', 'vigil/database_url', 'vigil/s3_access_key_id', 'vigil/s3_secret_access_key', 'migrator/database_url',
    'mariadb/root_password', 'mariadb/vigil_password', 'mariadb/migrator_password', 'mariadb/metabase_password', 'mariadb/metabase_app_password',
    'rabbitmq/default-user.conf', 'seaweedfs/s3_access_key_id', 'metabase/admin_password', 'metabase/db_password', 'metabase/app_db_password',
    'grafana/admin_password']) {
    assert.ok(files[path], `${path} missing`);
  }
  const passwords = Object.entries(files).filter(([p]) => p.startsWith('base/')).map(([, v]) => v);
  assert.equal(passwords.length, 10);
  for (const p of passwords) assert.match(p, /^[A-Za-z0-9]{32}$/);
  assert.equal(new Set(passwords).size, passwords.length, 'every generated value differs');
  for (const p of passwords) assert.ok(!r.stdout.includes(p), 'a value was printed');
  assert.match(r.stdout, /mariadb_root_password\s+generated/);
  // Readable by the user of the container that mounts it, nobody else; the image users' ids.
  const owners: Record<string, number> = { vigil: 1000, migrator: 1000, mariadb: 999, rabbitmq: 0, seaweedfs: 0, metabase: 1000, grafana: 472, base: 0 };
  for (const [dir, uid] of Object.entries(owners)) {
    const st = statSync(join(f.out, dir));
    assert.equal(st.mode & 0o077, 0, `${dir} is open to others`);
    if (process.getuid?.() === 0) assert.equal(st.uid, uid, dir);
    for (const file of readdirSync(join(f.out, dir))) {
      const fs = statSync(join(f.out, dir, file));
      assert.equal(fs.mode & 0o777, 0o400, `${dir}/${file}`);
      if (process.getuid?.() === 0) assert.equal(fs.uid, uid, `${dir}/${file}`);
    }
  }
  // The URLs carry the passwords the users are created with.
  const db = new URL(files['vigil/database_url']!);
  assert.equal(`${db.username}:${db.password}@${db.host}${db.pathname}`, `vigil:${files['mariadb/vigil_password']}@mariadb:3306/vigil`);
  const amqp = new URL(files['vigil/amqp_url']!);
  assert.equal(files['rabbitmq/default-user.conf'], `default_user = vigil\ndefault_pass = ${amqp.password}`);
});

test('a second start keeps every value; a site file wins, rotates, and may hold what a URL must escape', () => {
  const f = folders();
  assert.equal(run(f).status, 0);
  const first = snapshot(f.out);
  assert.equal(run(f).status, 0);
  assert.deepEqual(snapshot(f.out), first, 'a second start changed a value');

  writeFileSync(join(f.site, 'vigil_db_password'), "p@ss:/w'rd%\n");
  writeFileSync(join(f.site, 'mariadb_root_password'), 'site-root\n');
  const r = run(f);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /vigil_db_password\s+site/);
  assert.match(r.stdout, /rabbitmq_password\s+kept/);
  const now = snapshot(f.out);
  assert.equal(now['mariadb/vigil_password'], "p@ss:/w'rd%");
  assert.equal(decodeURIComponent(new URL(now['vigil/database_url']!).password), "p@ss:/w'rd%");
  assert.equal(now['mariadb/root_password'], 'site-root');
  assert.equal(now['vigil/amqp_url'], first['vigil/amqp_url'], 'an untouched value moved');
});

test('a site gives whole URLs and the outside services\' tokens; one it takes back is removed', () => {
  const f = folders();
  writeFileSync(join(f.site, 'database_url'), 'mysql://app:secret@db.example.org:3306/vigil\n');
  writeFileSync(join(f.site, 'facebook_page_token'), 'EAAB-token\n');
  assert.equal(run(f).status, 0);
  assert.equal(read(f.out, 'vigil/database_url'), 'mysql://app:secret@db.example.org:3306/vigil');
  assert.equal(read(f.out, 'vigil/facebook_page_token'), 'EAAB-token');
  rmSync(join(f.site, 'facebook_page_token'));
  assert.equal(run(f).status, 0);
  assert.ok(!readdirSync(join(f.out, 'vigil')).includes('facebook_page_token'));
});

test('a value with a line break is refused before anything is written', () => {
  const f = folders();
  writeFileSync(join(f.site, 's3_secret_access_key'), 'two\nlines\n');
  const r = run(f);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /s3_secret_access_key is empty or holds a control character/);
  assert.doesNotMatch(r.stderr + r.stdout, /lines/);
  assert.ok(!existsSync(f.out), 'something was written');
});
