'use strict';
// PostgreSQL for `npm test`: the PostgreSQL suites run against a real server. CI (.ci/run) starts a
// throwaway cluster and exports BETRACE_TEST_DATABASE_URL; on a dev machine without it, the global
// setup starts the same cluster with scripts/test-postgres.sh when PostgreSQL's binaries exist, and
// stops it at the end. Without binaries the PostgreSQL suites skip, and say so once here and in each
// skipped suite's name (tests/support/postgres.ts).
const { spawnSync } = require('child_process');
const path = require('path');

const script = path.join(__dirname, '..', '..', 'scripts', 'test-postgres.sh');

function setup(tmpdir) {
  if (process.env.BETRACE_TEST_DATABASE_URL) {
    return;
  }
  // The cluster's folder must be reachable by the `postgres` user when running as root, so it is
  // made under the system's temporary folder, not the run's private one.
  const r = spawnSync(script, ['start'], { encoding: 'utf8', env: { ...process.env, TMPDIR: tmpdir } });
  if (r.status === 0) {
    const [dir, url] = r.stdout.trim().split('\n');
    process.env.BETRACE_TEST_POSTGRES_DIR = dir;
    process.env.BETRACE_TEST_DATABASE_URL = url;
    return;
  }
  if (r.status !== 3) {
    // Binaries exist but the server did not start: a broken setup fails the run rather than
    // quietly skipping every PostgreSQL suite.
    throw new Error(`scripts/test-postgres.sh could not start PostgreSQL: ${(r.stderr || String(r.error)).trim()}`);
  }
  const why = (r.stderr || String(r.error || '')).trim().split('\n').slice(-3).join(' ');
  process.env.BETRACE_TEST_POSTGRES_SKIP = why || `scripts/test-postgres.sh exited ${r.status}`;
  process.stderr.write(`\nPostgreSQL suites SKIPPED: ${process.env.BETRACE_TEST_POSTGRES_SKIP}\n`);
}

function teardown() {
  const dir = process.env.BETRACE_TEST_POSTGRES_DIR;
  if (dir) {
    spawnSync(script, ['stop', dir], { stdio: 'inherit' });
  }
}

module.exports = { setup, teardown };
