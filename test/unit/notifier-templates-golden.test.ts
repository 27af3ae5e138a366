import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { CASES, FIXTURES_DIR, PARTS, fixtureFiles, renderCases } from '../fixtures/notifier-templates/cases.ts';

// Every notifier template, each part, for the data in cases.ts, byte for byte against the
// outputs stored in test/fixtures/notifier-templates/ (written by write.ts there).

test('notifier templates: every case renders its stored subject, text and HTML byte for byte', async () => {
  const rendered = await renderCases();
  for (const [name, message] of rendered) {
    for (const part of PARTS) {
      const expected = await readFile(new URL(`${name}.${part}`, FIXTURES_DIR), 'utf8');
      assert.equal(message[part], expected, `${name}.${part}`);
    }
  }
});

test('notifier templates: the cases cover every template, and every fixture file is a case', async () => {
  const { loadTemplates } = await import('../../services/notifier/templates.ts');
  const templates = [...(await loadTemplates()).keys()].sort();
  assert.deepEqual([...new Set(Object.values(CASES).map((c) => c.template))].sort(), templates);
  const expected = Object.keys(CASES).flatMap((name) => PARTS.map((part) => `${name}.${part}`)).sort();
  assert.deepEqual(await fixtureFiles(), expected);
});
