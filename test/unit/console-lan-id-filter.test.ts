import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLanIdFilter } from '../../services/console/employee-params.ts';
import { parseExportQuery } from '../../services/console/exports.ts';
import { parseQueueQuery } from '../../services/console/review-params.ts';

const LONGEST = 'x'.repeat(64);
const TOO_LONG = 'x'.repeat(65);

test('a list\'s lan_id filter takes one lan_id of the column\'s 64 characters, or none', () => {
  assert.deepEqual(parseLanIdFilter(undefined), {});
  assert.deepEqual(parseLanIdFilter(''), {});
  assert.deepEqual(parseLanIdFilter('NA\\ada'), { lanId: 'NA\\ada' });
  assert.deepEqual(parseLanIdFilter(LONGEST), { lanId: LONGEST });
  // 64 characters, not bytes: a name in another script is as long as it reads.
  assert.deepEqual(parseLanIdFilter('é'.repeat(64)), { lanId: 'é'.repeat(64) });
  for (const bad of [TOO_LONG, 'a\u0000b', 'a\nb', ['a', 'b'], 7]) {
    assert.deepEqual(parseLanIdFilter(bad), { error: 'lan_id must be one lan_id: at most 64 characters, no control character.' }, String(bad));
  }
});

test('the review queue and the exports read the lan_id filter alike', () => {
  assert.equal((parseQueueQuery({ lan_id: LONGEST }) as { lanId?: string }).lanId, LONGEST);
  assert.equal((parseExportQuery({ days: '7', lan_id: LONGEST }) as { lanId?: string }).lanId, LONGEST);
  for (const bad of [TOO_LONG, 'a\u0007b', ['a', 'b']]) {
    assert.match((parseQueueQuery({ lan_id: bad }) as { error: string }).error, /^lan_id must be one lan_id/);
    assert.match((parseExportQuery({ days: '7', lan_id: bad }) as { error: string }).error, /^lan_id must be one lan_id/);
  }
});
