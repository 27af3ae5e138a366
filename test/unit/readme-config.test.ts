// The configuration reference (shared/config/README.md) cannot drift from the loader
// (shared/config and services/<name>/config.ts): every variable loadConfig reads has a row
// in one of its `variable | default | meaning` tables,
// every row names a variable it reads, and a default written as a literal is the loader's
// own (setting the variable to it changes nothing).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../services/config.ts';
import { ROOT, variablesLoadConfigReads } from '../helpers/compose-file.ts';

/** The reference this test holds to the loader, relative to the repository root. */
const REFERENCE = 'shared/config/README.md';

/** Turns on the sections read only when another variable is set (the library's own store). */
const SECTION_SWITCHES: Record<string, string> = { LIBRARY_S3_ENDPOINT: 'http://library-store:9000' };

interface Row {
  line: number;
  variables: string[];
  defaults: string;
  meaning: string;
}

/** The rows of every `| variable | default | meaning |` table in the reference. */
function referenceRows(): Row[] {
  const rows: Row[] = [];
  let inTable = false;
  readFileSync(join(ROOT, REFERENCE), 'utf8').split('\n').forEach((text, i) => {
    if (/^\| variable \| default \| meaning \|\s*$/.test(text)) {
      inTable = true;
      return;
    }
    if (!text.startsWith('|')) inTable = false;
    if (!inTable || /^\|[-| ]+\|\s*$/.test(text)) return;
    const [, first = '', defaults = '', ...rest] = text.split('|');
    const variables = [...first.matchAll(/`([A-Z][A-Z0-9_]*[A-Z0-9])`/g)].map((m) => m[1]!);
    rows.push({ line: i + 1, variables, defaults: defaults.trim(), meaning: rest.join('|').trim() });
  });
  return rows;
}

/** Every name loadConfig reads with an empty environment and with the switches on. */
const READ = variablesLoadConfigReads([{}, SECTION_SWITCHES]);
const ROWS = referenceRows();
const HOW = `${REFERENCE}: add or fix its row (variable, default, meaning)`;

test('every variable loadConfig reads has a row in the configuration reference, with a meaning', () => {
  assert.ok(READ.size > 50 && ROWS.length > 50, `${READ.size} variables, ${ROWS.length} rows`);
  const documented = new Set(ROWS.flatMap((r) => r.variables));
  const missing = [...READ].filter((v) => !documented.has(v));
  assert.deepEqual(missing, [], `not in ${REFERENCE}: ${missing.join(', ')} — ${HOW}`);
  for (const r of ROWS) assert.ok(r.meaning.length > 0, `${REFERENCE}:${r.line}: no meaning`);
});

test('every variable the configuration reference documents is one loadConfig reads', () => {
  // A row naming only a family (`UPLOADER_*`) points to a section's own table and names nothing.
  for (const r of ROWS) {
    for (const v of r.variables) assert.ok(READ.has(v), `${REFERENCE}:${r.line}: ${v} is read by nothing in shared/config or services/<name>/config.ts — remove or rename the row`);
  }
});

/** The literal defaults of a row, paired with its variables; undefined when the cell is prose. */
function literalDefaults(r: Row): [string, string][] | undefined {
  const cell = r.defaults;
  if (r.variables.length === 1) {
    const m = /^`([^`]+)`/.exec(cell);
    return m ? [[r.variables[0]!, m[1]!]] : undefined;
  }
  // `a`, `b`, `c` for as many variables as the row names.
  if (!/^`[^`]+`(\s*,\s*`[^`]+`)*$/.test(cell)) return undefined;
  const values = [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
  const vars = r.variables;
  return values.length === vars.length ? vars.map((v, i) => [v, values[i]!]) : undefined;
}

test("a default the configuration reference writes as a value is the loader's default", () => {
  const base = loadConfig(SECTION_SWITCHES);
  let checked = 0;
  for (const r of ROWS) {
    for (const [variable, value] of literalDefaults(r) ?? []) {
      if (value.includes('<') || variable in SECTION_SWITCHES) continue; // a placeholder, not a value
      let config;
      try {
        config = loadConfig({ ...SECTION_SWITCHES, [variable]: value });
      } catch (err) {
        assert.fail(`${REFERENCE}:${r.line}: ${variable}=${value} is not even valid: ${(err as Error).message} — ${HOW}`);
      }
      assert.deepEqual(config, base, `${REFERENCE}:${r.line}: ${variable}'s default is not ${value} — ${HOW}`);
      checked++;
    }
  }
  assert.ok(checked > 40, `only ${checked} defaults checked`);
});
