// `npm test`: every *.test.ts under test/ through node's built-in runner; Node runs the
// TypeScript itself (type stripping). The files are listed here, so a run names exactly what it ran.
// `npm test -- test/unit/config.test.ts` runs the files named instead.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..');

function find(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'bench' || e.name === 'fixtures' ? [] : find(p);
    return e.name.endsWith('.test.ts') ? [relative(root, p)] : [];
  });
}

const named = process.argv.slice(2);
const files = named.length > 0 ? named : find(join(root, 'test')).sort();
// One file at a time: the integration tests share one broker and one database server,
// and their fault injection (cutting connections, a database outage) is timed. TAP on every
// Node release (Node 24 prints its spec format otherwise), so what reads the run's closing
// counts keeps reading them. A test that hangs fails after 10 minutes (the longest takes under
// a minute) instead of holding the run until CI's limit.
const child = spawn(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=tap', '--test-timeout=600000', ...files], {
  cwd: root,
  stdio: 'inherit',
});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
