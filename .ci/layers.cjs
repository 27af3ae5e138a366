// The floors of Vigil's code (README.md, "Layout"). An import may stay on its floor or go
// down, never up; `npm test` (test/unit/layers.test.ts) and `npm run layers` enforce it.
//   0  shared/contract/, shared/errors.ts, shared/logger.ts   what everything may use
//   1  db/                                                     schema, migrations, repositories
//   2  shared/runtime, face, media, storage, config, templates, gallery, accounts, lock, metrics   the platform
//   3  shared/app/                                             composition root: context, run, host checks
//   4  services/                                               the services, the CLI, the registry, loadConfig
const FLOORS = [
  ['^shared/contract/', '^shared/errors\\.ts$', '^shared/logger\\.ts$'],
  ['^db/'],
  ['^shared/(runtime|face|media|storage|config|templates|gallery|accounts)/', '^shared/(lock|metrics|employee-lock-key|employee-deletion)\\.ts$'],
  ['^shared/app/'],
  ['^services/'],
];
const any = (patterns) => patterns.join('|');

const climbing = FLOORS.slice(0, -1).map((floor, i) => ({
  name: `floor-${i}-climbs`,
  comment: `floor ${i} (${floor.join(' ')}) imports from a floor above it`,
  severity: 'error',
  from: { path: any(floor) },
  to: { path: any(FLOORS.slice(i + 1).flat()) },
}));

module.exports = {
  forbidden: [
    ...climbing,
    {
      name: 'unplaced',
      comment: 'every source file under shared/ sits on a floor: add it to FLOORS in .ci/layers.cjs',
      severity: 'error',
      from: { path: '^shared/', pathNot: any(FLOORS.flat()) },
      to: {},
    },
    {
      name: 'service-imports-service',
      comment: 'a service imports only shared/ and db/; the registry and the CLI are the only ones that name services',
      severity: 'error',
      from: { path: '^services/([^/]+)/', pathNot: '^services/cli/' },
      to: { path: '^services/', pathNot: '^services/$1/' },
    },
    {
      name: 'cli-imports-service-internals',
      comment: 'the CLI starts services through services/registry.ts and reads the configuration through services/config.ts only',
      severity: 'error',
      from: { path: '^services/cli/' },
      to: { path: '^services/(?!cli/|registry\\.ts$|config\\.ts$)' },
    },
    {
      name: 'code-imports-tests',
      severity: 'error',
      from: { path: '^(shared|db|services)/' },
      to: { path: '^test/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^node_modules/' },
    // Type-only imports count: a type from a floor above is a climb all the same.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
