// PostgreSQL for tests: a real server (never a double). The run's cluster comes from
// BETRACE_TEST_DATABASE_URL (CI's .ci/run, or jest's global setup via scripts/test-postgres.sh).
// Each test file takes its own database with freshDatabase() and drops it afterwards, so suites
// running in parallel never see each other's tables.
import { randomBytes } from 'crypto';
import { Client } from 'pg';

/** The run's server URL (a superuser that may CREATE DATABASE), or undefined when there is none. */
export const testDatabaseUrl: string | undefined = process.env.BETRACE_TEST_DATABASE_URL || undefined;

/** Why PostgreSQL suites are skipped in this run, or undefined when a server is available. */
export const postgresSkipReason: string | undefined =
  testDatabaseUrl === undefined
    ? (process.env.BETRACE_TEST_POSTGRES_SKIP ?? 'BETRACE_TEST_DATABASE_URL is not set')
    : undefined;

/**
 * describe() for a PostgreSQL suite: runs it when a server is available, otherwise skips it with the
 * reason in its name, so a skipped run says so in the report instead of passing silently.
 */
export const describePostgres = (name: string, fn: () => void): void => {
  if (postgresSkipReason === undefined) {
    describe(name, fn);
  } else {
    describe.skip(`${name} [PostgreSQL SKIPPED: ${postgresSkipReason}]`, fn);
  }
};

export interface FreshDatabase {
  /** postgres:// URL of the new, empty database. */
  readonly url: string;
  readonly name: string;
  /** Drops the database (terminating any connection still open on it). */
  drop(): Promise<void>;
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function admin<T>(fn: (c: Client) => Promise<T>): Promise<T> {
  if (testDatabaseUrl === undefined) {
    throw new Error(`no PostgreSQL test server: ${postgresSkipReason}`);
  }
  const c = new Client({ connectionString: testDatabaseUrl, connectionTimeoutMillis: 10_000 });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** CREATE DATABASE with a unique name on the run's server; call drop() (e.g. in afterAll) when done. */
export async function freshDatabase(): Promise<FreshDatabase> {
  const name = `betrace_t_${process.pid}_${randomBytes(4).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  return {
    name,
    url: withDatabase(testDatabaseUrl as string, name),
    drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}
