// Which store engine this test run uses. The `sidecar` jest project runs on SQLite; the
// `sidecar-postgres` project runs the store-backed suites again on a real PostgreSQL server
// (BETRACE_TEST_ENGINE=postgres, BETRACE_TEST_DATABASE_URL from jest's global setup or CI), with
// every store and every sidecar's DATA_DIR mapped to a schema of its own (support/pg/).
import { createHash, randomBytes } from 'crypto';

export const TEST_ENGINE: 'sqlite' | 'postgres' = process.env.BETRACE_TEST_ENGINE === 'postgres' ? 'postgres' : 'sqlite';

const run = randomBytes(3).toString('hex');

/**
 * Where a test's store lives: on SQLite the target itself (a file, or ':memory:'); on PostgreSQL
 * a schema of the run's test database: a new one for ':memory:', the same one for the same file
 * or folder (a store reopened, a sidecar restarted on its DATA_DIR, sees what it wrote).
 */
export function storeTarget(sqliteTarget = ':memory:'): string {
  if (TEST_ENGINE === 'sqlite') {
    return sqliteTarget;
  }
  const url = process.env.BETRACE_TEST_DATABASE_URL;
  if (url === undefined || url === '') {
    throw new Error(`the PostgreSQL test run needs a server: ${process.env.BETRACE_TEST_POSTGRES_SKIP ?? 'BETRACE_TEST_DATABASE_URL is not set'}`);
  }
  const key = sqliteTarget === ':memory:' ? randomBytes(8).toString('hex') : createHash('sha256').update(sqliteTarget.replace(/\/betrace\.db$/, '')).digest('hex').slice(0, 16);
  const u = new URL(url);
  u.searchParams.set('schema', `t_${run}_${key}`);
  return u.toString();
}

/** The environment a CLI command run in-process needs to find a test sidecar's store: DATABASE_URL on the PostgreSQL run. */
export function storeEnv(dataDir: string): Record<string, string> {
  return TEST_ENGINE === 'sqlite' ? {} : { DATABASE_URL: storeTarget(dataDir) };
}
