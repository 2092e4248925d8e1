// The start-time check of DATABASE_URL: connect once, see that the database is this build's to use,
// and turn what goes wrong into one line for the operator (never with the password in it).
import { Client } from 'pg';
import { POSTGRES_MIGRATIONS } from './pgSchema';

/** The PostgreSQL schema version this build writes; a database at a higher version is refused. */
export const POSTGRES_SCHEMA_VERSION = POSTGRES_MIGRATIONS.length;
/** One row per applied migration: (version integer primary key, applied_at timestamptz). */
export const SCHEMA_VERSION_TABLE = 'betrace_schema_version';

/** What is wrong with DATABASE_URL, as one line that starts with `DATABASE_URL: `. */
export class DatabaseStartError extends Error {}

const serverOf = (u: URL): string => `${u.hostname}:${u.port || '5432'}`;
const databaseOf = (u: URL): string => decodeURIComponent(u.pathname.replace(/^\/+/, ''));

/**
 * The URL without BeTrace's own `schema` parameter, and that schema: `?schema=betrace` puts
 * BeTrace's tables into that schema (created if missing) instead of `public`.
 */
export function splitSchema(url: string): { url: string; schema: string | undefined } {
  const u = new URL(url);
  const schema = u.searchParams.get('schema') ?? undefined;
  u.searchParams.delete('schema');
  return { url: u.toString(), schema: schema === '' ? undefined : schema };
}

/** Where the URL points, for messages: host:port/database, without credentials. */
export function describeDatabaseUrl(url: string): string {
  const u = new URL(url);
  return `${serverOf(u)}/${databaseOf(u)}`;
}

function problem(e: unknown, url: string): string {
  const u = new URL(url);
  const server = serverOf(u);
  const where = `${server}/${databaseOf(u)}`;
  const err = e as { code?: string; message?: string };
  switch (err.code) {
    case 'ECONNREFUSED':
      return `cannot connect to PostgreSQL at ${server} (connection refused): is the server running, and is the port right?`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot resolve the host ${JSON.stringify(u.hostname)}`;
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `cannot reach PostgreSQL at ${server} (${err.code})`;
    case '28P01':
    case '28000':
      return `PostgreSQL at ${where} refused the credentials of user ${JSON.stringify(decodeURIComponent(u.username))} (wrong password or no access)`;
    case '3D000':
      return `database ${JSON.stringify(databaseOf(u))} does not exist on ${server} (create it first)`;
    default:
      if (/timeout/i.test(err.message ?? '')) {
        return `no answer from PostgreSQL at ${server} within the connect timeout`;
      }
      // The server's own words (pg never puts the password into them), on one line.
      return `PostgreSQL at ${where}: ${(err.message ?? String(e)).split('\n')[0]}`;
  }
}

/**
 * Connects to DATABASE_URL and reads its schema version; throws DatabaseStartError naming an
 * unreachable host, refused credentials, a missing database, or a schema newer than this build.
 */
export async function checkPostgres(target: string, opts: { connectTimeoutMs?: number } = {}): Promise<{ schemaVersion: number }> {
  const { url, schema } = splitSchema(target);
  const table = schema === undefined ? SCHEMA_VERSION_TABLE : `"${schema.replace(/"/g, '""')}".${SCHEMA_VERSION_TABLE}`;
  const client = new Client({ connectionString: url, connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000, statement_timeout: 10_000 });
  // A connection that drops later must not become an unhandled 'error' event that kills the process.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (e) {
    throw new DatabaseStartError(`DATABASE_URL: ${problem(e, url)}`);
  }
  try {
    const found = await client.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [table]);
    if (found.rows[0]?.t === null || found.rows[0]?.t === undefined) {
      return { schemaVersion: 0 };
    }
    const r = await client.query<{ v: number | null }>(`SELECT max(version)::integer AS v FROM ${table}`);
    const v = r.rows[0]?.v ?? 0;
    if (v > POSTGRES_SCHEMA_VERSION) {
      throw new DatabaseStartError(
        `DATABASE_URL: the database ${describeDatabaseUrl(url)} has schema version ${v}, newer than this build's ${POSTGRES_SCHEMA_VERSION}: a newer BeTrace wrote it; run that version (or newer)`,
      );
    }
    return { schemaVersion: v };
  } catch (e) {
    if (e instanceof DatabaseStartError) {
      throw e;
    }
    throw new DatabaseStartError(`DATABASE_URL: ${problem(e, url)}`);
  } finally {
    await client.end().catch(() => undefined);
  }
}
