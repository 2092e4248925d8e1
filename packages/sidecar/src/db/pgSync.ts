/**
 * PostgreSQL behind the stores' synchronous SQL interface (db/sql.ts): the same prepare → run /
 * get / all and transaction calls as better-sqlite3, so every store runs on both engines.
 *
 * The connection lives on a worker thread (db/pgWorker.ts). A call posts its request and waits
 * for the answer with Atomics.wait, then takes it with receiveMessageOnPort: the caller's thread
 * is held for one round trip, as it is for a better-sqlite3 statement (a loopback round trip is
 * tens of microseconds; the store's hot paths run a few statements per decided trace).
 *
 * Failures the database cannot help (connection lost or refused, server shutting down, disk full,
 * statement timeout) throw PostgresUnavailableError, code POSTGRES_UNAVAILABLE: the ingest
 * storage health turns that into 503 + Retry-After and /readyz 503 until a probe write succeeds
 * again (ingest/log/health.ts). While the connection is down, calls fail at once instead of
 * waiting for a connect timeout each.
 */
import * as fs from 'fs';
import * as path from 'path';
import { MessageChannel, receiveMessageOnPort, Worker } from 'worker_threads';
import { bindValues, toPostgres, type PgStatementText } from './pgDialect';
import { describeDatabaseUrl, splitSchema } from './postgresCheck';
import { POSTGRES_UNAVAILABLE, type RunResult, type SqlDatabase, type SqlStatement } from './sql';
import type { PgRequest, PgResponse, PgWorkerData } from './pgWorker';

export interface PgOptions {
  /** How long a connection attempt may take (ms). */
  connectTimeoutMs?: number;
  /** PostgreSQL's statement_timeout (ms); the caller waits at most this plus a margin. */
  statementTimeoutMs?: number;
  applicationName?: string;
}

/** A SQL error from PostgreSQL, with its SQLSTATE as `code` (23505 unique violation, P0001 raised, …). */
export class PostgresError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'PostgresError';
  }
}

/** The database cannot take work now (unreachable, shutting down, full, timed out): retry later. */
export class PostgresUnavailableError extends PostgresError {
  constructor(message: string) {
    super(POSTGRES_UNAVAILABLE, message);
    this.name = 'PostgresUnavailableError';
  }
}

function workerFile(): string {
  for (const file of [path.join(__dirname, 'pgWorker.js'), path.join(__dirname, '../../dist/db/pgWorker.js')]) {
    if (fs.existsSync(file)) {
      return file;
    }
  }
  throw new Error('the PostgreSQL worker (dist/db/pgWorker.js) is not built: run `npm run build:packages`');
}

export class PgDatabase implements SqlDatabase {
  readonly engine = 'postgres' as const;
  private readonly worker: Worker;
  private readonly port: MessageChannel['port1'];
  private readonly flag: Int32Array;
  private readonly waitMs: number;
  private readonly where: string;
  private nextId = 1;
  private depth = 0;
  private gen: number | undefined;
  private closed = false;
  private readonly texts = new Map<string, { st: PgStatementText; name: string }>();

  constructor(url: string, options: PgOptions = {}) {
    const { url: bare, schema } = splitSchema(url);
    this.where = describeDatabaseUrl(bare);
    const statementTimeoutMs = options.statementTimeoutMs ?? 30_000;
    const connectTimeoutMs = options.connectTimeoutMs ?? 5000;
    this.waitMs = Math.max(statementTimeoutMs, connectTimeoutMs) + 5000;
    const shared = new SharedArrayBuffer(4);
    this.flag = new Int32Array(shared);
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const data: PgWorkerData = {
      url: bare,
      schema,
      port: port2,
      flag: shared,
      connectTimeoutMs,
      statementTimeoutMs,
      applicationName: options.applicationName ?? 'betrace',
    };
    this.worker = new Worker(workerFile(), { workerData: data, transferList: [port2] });
    // The thread must not keep a process alive that has nothing else to do (a CLI command).
    this.worker.unref();
    this.port.unref();
  }

  get open(): boolean {
    return !this.closed;
  }

  get inTransaction(): boolean {
    return this.depth > 0;
  }

  private call(req: PgRequest extends infer R ? (R extends PgRequest ? Omit<R, 'id'> : never) : never): Extract<PgResponse, { ok: true }> {
    if (this.closed) {
      throw new TypeError('The database connection is not open');
    }
    const id = this.nextId++;
    this.port.postMessage({ ...req, id });
    const deadline = Date.now() + this.waitMs;
    for (;;) {
      Atomics.store(this.flag, 0, 0);
      const got = receiveMessageOnPort(this.port);
      if (got !== undefined) {
        const r = got.message as PgResponse;
        if (r.id !== id) {
          continue; // the answer to a request given up on (timed out) before
        }
        if (!r.ok) {
          if (r.unavailable) {
            throw new PostgresUnavailableError(`PostgreSQL at ${this.where} is unavailable: ${r.message}`);
          }
          throw new PostgresError(r.code, r.message);
        }
        return r;
      }
      const left = deadline - Date.now();
      if (left <= 0 || Atomics.wait(this.flag, 0, 0, left) === 'timed-out') {
        throw new PostgresUnavailableError(`PostgreSQL at ${this.where} is unavailable: no answer within ${this.waitMs} ms`);
      }
    }
  }

  /** `sql` in PostgreSQL's dialect with its prepared statement's name, translated once per text. */
  private statementFor(sql: string): { st: PgStatementText; name: string } {
    let entry = this.texts.get(sql);
    if (entry === undefined) {
      entry = { st: toPostgres(sql), name: `betrace_${this.texts.size + 1}` };
      this.texts.set(sql, entry);
    }
    return entry;
  }

  /** Runs one statement (translated, bound) and gives its rows as better-sqlite3 would. */
  query(sql: string, args: unknown[]): { rows: unknown[]; changes: number } {
    const entry = this.statementFor(sql);
    const values = bindValues(entry.st, args);
    const r = this.call({ op: 'query', text: entry.st.text, values, name: entry.name, gen: this.gen });
    return { rows: (r.rows ?? []).map(asSqliteRow), changes: r.changes };
  }

  prepare(sql: string): SqlStatement {
    // Translating up front reports a statement PostgreSQL cannot run where it is prepared, as better-sqlite3 does.
    this.statementFor(sql);
    return {
      run: (...args: unknown[]): RunResult => ({ changes: this.query(sql, args).changes, lastInsertRowid: 0 }),
      get: (...args: unknown[]): unknown => this.query(sql, args).rows[0],
      all: (...args: unknown[]): unknown[] => this.query(sql, args).rows,
    };
  }

  exec(sql: string): this {
    this.call({ op: 'exec', text: sql, gen: this.gen });
    return this;
  }

  transaction<F extends (...args: any[]) => any>(fn: F): (...args: Parameters<F>) => ReturnType<F> {
    const wrapped = (...args: Parameters<F>): ReturnType<F> => {
      const outer = this.depth === 0;
      const savepoint = `betrace_sp_${this.depth}`;
      if (outer) {
        this.gen = this.call({ op: 'begin' }).gen;
      } else {
        this.exec(`SAVEPOINT ${savepoint}`);
      }
      this.depth++;
      let result: ReturnType<F>;
      try {
        result = fn(...args) as ReturnType<F>;
      } catch (e) {
        this.depth--;
        try {
          this.exec(outer ? 'ROLLBACK' : `ROLLBACK TO SAVEPOINT ${savepoint}`);
        } catch {
          // The connection went with the transaction: nothing of it was committed.
        }
        if (outer) {
          this.gen = undefined;
        }
        throw e;
      }
      this.depth--;
      try {
        this.exec(outer ? 'COMMIT' : `RELEASE SAVEPOINT ${savepoint}`);
      } catch (e) {
        if (outer) {
          try {
            this.exec('ROLLBACK');
          } catch {
            // as above
          }
        }
        throw e;
      } finally {
        if (outer) {
          this.gen = undefined;
        }
      }
      return result;
    };
    return wrapped;
  }

  /**
   * Serializes writers of one key (a tenant's evidence chain) across every replica until this
   * transaction ends: PostgreSQL's transaction-scoped advisory lock on the key's hash.
   */
  lockKey(key: string): void {
    if (this.depth === 0) {
      throw new Error('lockKey needs a transaction');
    }
    this.query('SELECT pg_advisory_xact_lock(hashtextextended(?, 0)) AS locked', [key]);
  }

  close(): void {
    if (this.closed) {
      return;
    }
    try {
      this.call({ op: 'close' });
    } catch {
      // closing a connection that is already gone
    }
    this.closed = true;
    void this.worker.terminate();
  }
}

/** Values as better-sqlite3 gives them: BYTEA arrives from the worker as a Uint8Array and becomes a Buffer again. */
function asSqliteRow(row: unknown): unknown {
  const r = row as Record<string, unknown>;
  for (const k in r) {
    const v = r[k];
    if (v instanceof Uint8Array && !Buffer.isBuffer(v)) {
      r[k] = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
    }
  }
  return r;
}
