// force timezone to UTC to allow tests to work regardless of local timezone
process.env.TZ = 'UTC';

const path = require('path');

// The plugin (src/) runs in jsdom with Grafana's scaffolded config; the workspace packages run in Node.
// Every project resolves @betrace/evaluator to its TypeScript source, so tests never need a build.
const swcTransform = {
  '^.+\\.(t|j)sx?$': [
    '@swc/jest',
    { sourceMaps: 'inline', jsc: { parser: { syntax: 'typescript', tsx: true, decorators: true }, target: 'es2022' } },
  ],
};
const evaluatorSource = { '^@betrace/evaluator$': path.join(__dirname, 'packages/evaluator/src/index.ts') };

const nodeProject = (name, roots) => ({
  displayName: name,
  testEnvironment: 'node',
  roots,
  testMatch: ['**/*.test.ts'],
  transform: swcTransform,
  // fastify's inject (the OTLP/gRPC receiver hands each request to the OTLP/HTTP route with it)
  // loads `cookie`, which ships ESM only: Node 24 requires it natively, jest's CJS runtime needs it transformed.
  transformIgnorePatterns: ['/node_modules/(?!cookie/)'],
  moduleNameMapper: evaluatorSource,
});

// The store-backed suites, run a second time on PostgreSQL (project sidecar-postgres): each store
// and each sidecar's DATA_DIR gets a schema of its own in the run's test database
// (packages/sidecar/test/support/engine.ts). Suites about SQLite's own file (backup, crash and
// disk-full tests) run on SQLite only.
const POSTGRES_SUITES = [
  'store', 'tenancy', 'evidence', 'evidenceApi', 'evidenceFlow', 'evidenceTrust', 'writers', 'sidecar', 'apiToken',
  'ruleHealth', 'ruleSkips', 'discoverApi', 'openapi', 'pull', 'redact-writers', 'gateway', 'ingestSecurity', 'slo', 'ruleSync', 'pullLeases',
];
const sidecarSource = path.join(__dirname, 'packages/sidecar');
/** Whether this run can have a PostgreSQL server: given (CI), or binaries scripts/test-postgres.sh can start one with. */
function postgresAvailable() {
  if (process.env.BETRACE_TEST_DATABASE_URL) {
    return true;
  }
  const { spawnSync } = require('child_process');
  return spawnSync(path.join(__dirname, 'scripts/test-postgres.sh'), ['bin'], { stdio: 'ignore' }).status === 0;
}
const postgresProject = {
  ...nodeProject('sidecar-postgres', ['<rootDir>/packages/sidecar/test']),
  testMatch: POSTGRES_SUITES.map((s) => `**/packages/sidecar/test/${s}.test.ts`),
  setupFiles: ['<rootDir>/tests/support/enginePostgres.js'],
  moduleNameMapper: {
    ...evaluatorSource,
    '^\\.\\./src/store$': path.join(sidecarSource, 'test/support/pg/store.ts'),
    '^\\.\\./src/config$': path.join(sidecarSource, 'test/support/pg/config.ts'),
  },
};

const plugin = require('./.config/jest.config');
const { grafanaESModules, nodeModulesToTransform } = require('./.config/jest/utils');

module.exports = {
  // Integration tests run real servers, SQLite and child processes: on a loaded 2-core CI machine a
  // few take seconds, so the 5 s default would fail them for being slow rather than wrong.
  testTimeout: 30_000,
  // One temporary folder per run, removed at its end (tests/support/jestTmp.js).
  globalSetup: '<rootDir>/tests/support/jestGlobalSetup.js',
  globalTeardown: '<rootDir>/tests/support/jestGlobalTeardown.js',
  projects: [
    {
      ...plugin,
      displayName: 'plugin',
      // Grafana's ESM-only dependencies (d3-color …) ship .mjs files: transform those too.
      transform: { '^.+\\.m?(t|j)sx?$': Object.values(plugin.transform)[0] },
      // In jsdom, the evaluator's dependencies resolve to their browser (ESM) builds.
      transformIgnorePatterns: [nodeModulesToTransform([...grafanaESModules, 'yaml', 're2js', 'ohm-js', '@react-hookz', '@ver0'])],
      moduleNameMapper: { ...plugin.moduleNameMapper, ...evaluatorSource },
    },
    nodeProject('evaluator', ['<rootDir>/packages/evaluator/src', '<rootDir>/packages/evaluator/test']),
    nodeProject('sidecar', ['<rootDir>/packages/sidecar/src', '<rootDir>/packages/sidecar/test']),
    // Without PostgreSQL the second run of the store suites is left out (jest's global setup says
    // PostgreSQL suites are SKIPPED, and why); CI always has it.
    ...(postgresAvailable() ? [postgresProject] : []),
    nodeProject('repo', ['<rootDir>/tests/unit']),
    // The built plugin in Chromium against a real sidecar (tests/browser/plugin.browser.test.ts).
    { ...nodeProject('browser', ['<rootDir>/tests/browser']), testMatch: ['**/*.browser.test.ts'] },
  ],
};
