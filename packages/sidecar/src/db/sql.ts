/**
 * The one interface the stores use for SQL, whichever engine is under it: the synchronous,
 * better-sqlite3-shaped subset the stores were written against (prepare → run/get/all,
 * transaction, exec). better-sqlite3's Database satisfies it as it is; PgDatabase (db/pgSync.ts)
 * gives PostgreSQL the same shape, so every store runs on both engines unchanged.
 */
import type BetterSqlite3 from 'better-sqlite3';

export type SqlEngine = 'sqlite' | 'postgres';

/** The error code of a PostgreSQL store that cannot take work now (unreachable, shutting down, full, timed out). */
export const POSTGRES_UNAVAILABLE = 'POSTGRES_UNAVAILABLE';

export interface RunResult {
  /** Rows inserted, updated or deleted. */
  changes: number;
  /** SQLite only (PostgreSQL answers 0): use `RETURNING` where a generated key is needed. */
  lastInsertRowid: number | bigint;
}

export interface SqlStatement {
  /** Parameters: positional values (`?`), or one object of named values (`@name`). */
  run(...params: unknown[]): RunResult;
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
}

export interface SqlDatabase {
  prepare(sql: string): SqlStatement;
  /** Wraps `fn` so that calling it runs it in one transaction (a savepoint when nested). */
  transaction<F extends (...args: any[]) => any>(fn: F): (...args: Parameters<F>) => ReturnType<F>;
  /** Runs statements without parameters (migrations, DDL). */
  exec(sql: string): unknown;
  readonly inTransaction: boolean;
  readonly open: boolean;
  close(): unknown;
}

/** The better-sqlite3 handle under `db`, for what only SQLite has (pragmas, backups), or undefined on PostgreSQL. */
export function sqliteOf(db: SqlDatabase): BetterSqlite3.Database | undefined {
  return engineOf(db) === 'sqlite' ? (db as unknown as BetterSqlite3.Database) : undefined;
}

/** The engine under a database handle: PgDatabase says so; anything else is better-sqlite3. */
export function engineOf(db: SqlDatabase): SqlEngine {
  return (db as { engine?: SqlEngine }).engine === 'postgres' ? 'postgres' : 'sqlite';
}

/** Whether a store target names PostgreSQL (`postgres://` or `postgresql://`) rather than a SQLite file. */
export function isPostgresUrl(target: string): boolean {
  return /^postgres(ql)?:\/\//i.test(target);
}

/**
 * Inside a transaction: makes every other replica's transaction that locks the same key wait
 * until this one ends (PostgreSQL's advisory transaction lock). SQLite has one writer at a time
 * already: nothing to do.
 */
export function lockKey(db: SqlDatabase, key: string): void {
  (db as { lockKey?: (k: string) => void }).lockKey?.(key);
}
