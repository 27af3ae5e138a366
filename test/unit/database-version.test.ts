import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serverVersion } from '../../shared/app/checks/database-check.ts';

// `vigil doctor` and `vigil run` judge the server by SELECT VERSION(): the lan_id identity
// collation needs MariaDB 10.10 (utf8mb4_uca1400_nopad_as_ci), the UTC_TIMESTAMP column
// defaults MySQL 8.0.13 (expression defaults).

const where = 'db:3306/vigil';
const status = (v: string) => serverVersion(v, where).status;

test('MariaDB from 10.10 and MySQL from 8.0.13 pass, with the version in the detail', () => {
  for (const v of ['10.10.2-MariaDB', '10.11.19-MariaDB-0+deb12u1', '11.4.3-MariaDB-ubu2404', '5.5.5-10.11.6-MariaDB', '8.0.13', '8.0.36-0ubuntu0.22.04.1', '8.4.2', '9.0.1']) {
    assert.equal(status(v), 'ok', v);
  }
  assert.equal(serverVersion('10.11.19-MariaDB-0+deb12u1', where).detail, 'MariaDB 10.11.19 at db:3306/vigil');
  assert.equal(serverVersion('8.0.36-0ubuntu0.22.04.1', where).detail, 'MySQL 8.0.36 at db:3306/vigil');
});

test('older servers fail, saying what they lack and what to do', () => {
  for (const v of ['10.9.8-MariaDB', '10.6.18-MariaDB-log', '10.5.9-MariaDB', '5.5.5-10.6.1-MariaDB']) {
    const r = serverVersion(v, where);
    assert.equal(r.status, 'fail', v);
    assert.match(r.detail, /older than Vigil supports.*10\.10.*utf8mb4_uca1400_nopad_as_ci/, v);
    assert.match(r.fix ?? '', /upgrade to MariaDB 10\.11/, v);
  }
  for (const v of ['8.0.12', '8.0.4-rc-log', '5.7.44-log', '5.6.51']) {
    const r = serverVersion(v, where);
    assert.equal(r.status, 'fail', v);
    assert.match(r.detail, /older than Vigil supports.*8\.0\.13.*expression defaults/, v);
    assert.match(r.fix ?? '', /upgrade to MySQL 8\.0\.13 or later/, v);
  }
});

test('a version that cannot be read warns instead of guessing', () => {
  const r = serverVersion('unknown', where);
  assert.equal(r.status, 'warn');
  assert.match(r.detail, /cannot tell the server's version/);
});
