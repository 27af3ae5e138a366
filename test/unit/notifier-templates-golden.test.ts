import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CASES, PARTS, expectedOutputs, renderCases } from '../fixtures/notifier-templates/cases.ts';

// Every notifier template, each part, for the data in cases.ts, byte for byte against the
// outputs stored in test/fixtures/notifier-templates/expected.json (written by write.ts there).

test('notifier templates: every case renders its stored subject, text and HTML byte for byte', async () => {
  const expected = await expectedOutputs();
  for (const [name, message] of await renderCases()) {
    for (const part of PARTS) assert.equal(message[part], expected[name]?.[part], `${name}.${part}`);
  }
});

test('notifier templates: the cases cover every template, and every stored output is a case', async () => {
  const { loadTemplates } = await import('../../services/notifier/templates.ts');
  const templates = [...(await loadTemplates()).keys()].sort();
  assert.deepEqual([...new Set(Object.values(CASES).map((c) => c.template))].sort(), templates);
  assert.deepEqual(Object.keys(await expectedOutputs()).sort(), Object.keys(CASES).sort());
});
