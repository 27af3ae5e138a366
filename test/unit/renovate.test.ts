// .renovaterc.json: Renovate finds every version this repository pins, so updates arrive as
// reviewed changes rather than never. Its own managers read package.json, the compose file
// and the Dockerfile; the Node release in .ci/run needs the custom one checked here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, parseImage, services } from '../helpers/compose-file.ts';

interface Rule { matchDepNames?: string[]; matchPackageNames?: string[]; allowedVersions?: string; groupName?: string }
const config = JSON.parse(readFileSync(join(ROOT, '.renovaterc.json'), 'utf8')) as {
  extends: string[];
  lockFileMaintenance?: { enabled?: boolean };
  customManagers: { managerFilePatterns: string[]; matchStrings: string[]; depNameTemplate: string; datasourceTemplate: string }[];
  packageRules: Rule[];
};

/** Renovate's `/…/` pattern strings, as JavaScript regular expressions. */
const pattern = (p: string) => new RegExp(p.replace(/^\/|\/$/g, ''));
const rule = (name: string) => config.packageRules.find((r) => r.matchDepNames?.includes(name) || r.matchPackageNames?.includes(name));

test('Renovate reads the Node release of .ci/run, and moves it with the Dockerfile\'s', () => {
  const ci = readFileSync(join(ROOT, '.ci/run'), 'utf8');
  const managers = config.customManagers.filter((m) => m.managerFilePatterns.some((p) => pattern(p).test('.ci/run')));
  assert.equal(managers.length, 1);
  const found = [...ci.matchAll(new RegExp(managers[0]!.matchStrings[0]!, 'g'))].map((m) => m.groups?.currentValue);
  assert.equal(found.length, 1, 'one NODE_VERSION line');
  const dockerfile = readFileSync(join(ROOT, 'compose/Dockerfile'), 'utf8');
  assert.equal(`node:${found[0]}-bookworm-slim`, /^FROM (\S+)$/m.exec(dockerfile)?.[1]);
  assert.equal(managers[0]!.depNameTemplate, 'node');
  assert.equal(managers[0]!.datasourceTemplate, 'node-version');
  assert.equal(rule('node')?.groupName, 'node', 'the two Node pins move in one change');
  assert.equal(rule('node')?.allowedVersions, '<25', 'and stay on the LTS line');
});

test('image digests are pinned, MariaDB stays on 10.11, and the lockfile is refreshed', () => {
  assert.ok(config.extends.includes('config:recommended'));
  assert.ok(config.extends.includes('docker:pinDigests'));
  assert.equal(config.lockFileMaintenance?.enabled, true);
  assert.equal(rule('mariadb')?.allowedVersions, '<10.12');
  for (const s of Object.values(services)) if (s.image && parseImage(s.image).name === 'mariadb') assert.match(parseImage(s.image).tag ?? '', /^10\.11\.\d+$/);
  // Node's types follow the Node release.
  assert.equal(rule('@types/node')?.allowedVersions, '<25');
});
