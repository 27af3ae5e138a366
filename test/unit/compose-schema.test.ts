// The compose file against the Compose Specification's JSON schema (the copy the maintained
// linter dclint ships), with YAML merge keys and `${VAR:-default}` resolved as Compose
// resolves them: no Docker engine runs in CI, so this is what catches a key Compose would
// refuse. A broken copy must fail, or the check proves nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { ROOT, compose } from '../helpers/compose-file.ts';

// Read from the package's folder: its `exports` do not name the schema file.
const schema = JSON.parse(readFileSync(join(ROOT, 'node_modules/dclint/schemas/compose.schema.json'), 'utf8')) as Record<string, unknown>;
// Draft-07, which Ajv 8 validates by default; it names the meta-schema by an https URL Ajv
// does not know, so that one key is left out. Formats are descriptive only here.
const { $schema: _metaSchema, ...draft07 } = schema;
const validate = new Ajv({ allErrors: true, strict: false, validateFormats: false }).compile(draft07);

const problems = (doc: unknown): string[] =>
  validate(doc) ? [] : (validate.errors ?? []).map((e: ErrorObject) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);

test('compose/docker-compose.yml is valid against the Compose Specification schema', () => {
  assert.equal(schema.title, 'Compose Specification');
  assert.deepEqual(problems(compose), []);
});

test('a deliberately broken copy fails the schema: a misspelt key, a port that is no port, depends_on as a bare string', () => {
  const copy = structuredClone(compose) as { services: Record<string, Record<string, unknown>> };
  const [first, second, third] = Object.keys(copy.services);
  copy.services[first!]!.healthcheks = copy.services[first!]!.healthcheck;
  copy.services[second!]!.ports = [true];
  copy.services[third!]!.depends_on = 'mariadb';
  const found = problems(copy);
  assert.ok(found.some((p) => p.includes(`/services/${first}`) && p.includes('healthcheks')), found.join('\n'));
  assert.ok(found.some((p) => p.startsWith(`/services/${second}/ports`)), found.join('\n'));
  assert.ok(found.some((p) => p.startsWith(`/services/${third}/depends_on`)), found.join('\n'));
});
