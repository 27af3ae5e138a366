// The floors of the code (.ci/layers.cjs) hold: no import climbs, services do not import
// each other. The rules are also run on a small tree with one wrong import of each kind,
// so a rule that stopped matching anything would fail here instead of passing silently.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ROOT } from '../helpers/compose-file.ts';

const CONFIG = join(ROOT, '.ci/layers.cjs');
// The package's own `depcruise` entry, wherever a release keeps it.
const DEPCRUISE = join(ROOT, 'node_modules/dependency-cruiser', (JSON.parse(readFileSync(join(ROOT, 'node_modules/dependency-cruiser/package.json'), 'utf8')) as { bin: Record<string, string> }).bin.depcruise!);

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
}

function cruise(cwd: string, dirs: string[], extra: string[] = []): Violation[] {
  const r = spawnSync(process.execPath, [DEPCRUISE, '--config', CONFIG, '--output-type', 'json', ...extra, ...dirs], { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.ok(r.stdout.startsWith('{'), `depcruise printed no report (exit ${r.status}): ${r.stderr.slice(0, 2000)}`);
  return (JSON.parse(r.stdout) as { summary: { violations: Violation[] } }).summary.violations;
}

test('no import in shared/, db/ or services/ climbs a floor or crosses into another service', () => {
  const violations = cruise(ROOT, ['shared', 'db', 'services']);
  assert.deepEqual(violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`), []);
});

test('each rule catches the wrong import it is for', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-layers-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const files: Record<string, string> = {
    'shared/contract/messages.ts': "import { x } from '../app/run.ts';\nexport const m = x;\n",
    'shared/app/run.ts': "export const x = 1;\n",
    'db/schema.ts': "import { y } from '../shared/runtime/publisher.ts';\nexport const s = y;\n",
    'shared/runtime/publisher.ts': "import { z } from '../../services/notifier/main.ts';\nexport const y = z;\n",
    'services/notifier/main.ts': "import { w } from '../uploader/handler.ts';\nexport const z = w;\n",
    'services/uploader/handler.ts': "export const w = 1;\n",
    'services/cli/main.ts': "import { w } from '../uploader/handler.ts';\nexport const c = w;\n",
    'shared/newfloor/thing.ts': "import { m } from '../contract/messages.ts';\nexport const t = m;\n",
  };
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  // The fixture tree has no tsconfig of its own; its imports name their files exactly.
  const found = cruise(dir, ['shared', 'db', 'services'], ['--ts-config', join(ROOT, 'tsconfig.json')]).map((v) => `${v.rule.name}: ${v.from} → ${v.to}`);
  assert.deepEqual(found.sort(), [
    'cli-imports-service-internals: services/cli/main.ts → services/uploader/handler.ts',
    'floor-0-climbs: shared/contract/messages.ts → shared/app/run.ts',
    'floor-1-climbs: db/schema.ts → shared/runtime/publisher.ts',
    'floor-2-climbs: shared/runtime/publisher.ts → services/notifier/main.ts',
    'service-imports-service: services/notifier/main.ts → services/uploader/handler.ts',
    'unplaced: shared/newfloor/thing.ts → shared/contract/messages.ts',
  ]);
});
