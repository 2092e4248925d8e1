/**
 * The PostgreSQL connection of one PgDatabase, on its own thread: requests come in over a
 * MessagePort, run on one `pg` Client (one connection, so a transaction is simply the statements
 * between BEGIN and COMMIT), and each answer is posted back before the shared flag the caller
 * waits on (Atomics.wait) is raised.
 *
 * When the connection is lost, requests fail at once with POSTGRES_UNAVAILABLE (the caller's
 * thread is never held for a connect timeout per request) while a timer reconnects every
 * RECONNECT_MS. Each connection has a generation: statements of a transaction carry the
 * generation of its BEGIN and are refused on a newer connection, so a reconnect can never turn
 * the rest of a transaction into autocommitted statements.
 */
import { parentPort, workerData, type MessagePort } from 'worker_threads';
import { Client, types } from 'pg';
import { POSTGRES_UNAVAILABLE } from './sql';

export interface PgWorkerData {
  url: string;
  schema: string | undefined;
  port: MessagePort;
  flag: SharedArrayBuffer;
  connectTimeoutMs: number;
  statementTimeoutMs: number;
  applicationName: string;
}

export type PgRequest =
  | { id: number; op: 'query'; text: string; values: unknown[]; name: string | undefined; gen: number | undefined }
  | { id: number; op: 'exec'; text: string; gen: number | undefined }
  | { id: number; op: 'begin' }
  | { id: number; op: 'close' };

export type PgResponse =
  | { id: number; ok: true; rows: unknown[] | undefined; changes: number; gen: number }
  | { id: number; ok: false; code: string; message: string; unavailable: boolean };

const RECONNECT_MS = 500;

// BIGINT (count(*), sums of integers, our epoch-ms columns) and NUMERIC (sum() of BIGINT) come back
// as numbers, as SQLite gives them: every such value here is far below 2^53.
types.setTypeParser(20, (v) => Number(v));
types.setTypeParser(1700, (v) => Number(v));

/** SQLSTATE classes and codes that mean "the database cannot take work now", not "this statement is wrong". */
function isUnavailable(e: { code?: unknown; message?: string }): boolean {
  const code = typeof e.code === 'string' ? e.code : '';
  if (/^(08|53|57P|58)/.test(code) || code === '57014' || code === '25P03') {
    return true;
  }
  if (/^E[A-Z]+$/.test(code)) {
    return true; // ECONNREFUSED, ECONNRESET, EPIPE, ETIMEDOUT, ENOTFOUND …
  }
  return /Connection terminated|connection timeout|Query read timeout|not queryable|Client has encountered a connection error/i.test(e.message ?? '');
}

const data = workerData as PgWorkerData;
const flag = new Int32Array(data.flag);
const port = data.port;

let client: Client | undefined;
let connecting: Promise<Client> | undefined;
let generation = 0;
let down: string | undefined;
let reconnectTimer: NodeJS.Timeout | undefined;
let closed = false;

function answer(r: PgResponse): void {
  port.postMessage(r);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
}

function lost(reason: string): void {
  const c = client;
  client = undefined;
  down = reason;
  c?.end().catch(() => undefined);
  if (reconnectTimer === undefined && !closed) {
    reconnectTimer = setInterval(() => {
      if (client === undefined && connecting === undefined) {
        connect().catch(() => undefined);
      }
    }, RECONNECT_MS);
    reconnectTimer.unref();
  }
}

async function connect(): Promise<Client> {
  if (client !== undefined) {
    return client;
  }
  if (connecting !== undefined) {
    return connecting;
  }
  connecting = (async () => {
    const c = new Client({
      connectionString: data.url,
      connectionTimeoutMillis: data.connectTimeoutMs,
      statement_timeout: data.statementTimeoutMs,
      // The client-side bound for a server that stopped answering without closing the connection.
      query_timeout: data.statementTimeoutMs + 2000,
      application_name: data.applicationName,
    });
    c.on('error', (e) => {
      if (client === c) {
        lost(e.message);
      }
    });
    c.on('end', () => {
      if (client === c) {
        lost('the connection was closed');
      }
    });
    try {
      await c.connect();
      if (data.schema !== undefined) {
        const ident = `"${data.schema.replace(/"/g, '""')}"`;
        // Under a lock: CREATE … IF NOT EXISTS is not safe against itself (replicas connecting
        // together to a new schema both pass the check, and one fails on the catalog's unique key).
        await c.query('BEGIN');
        await c.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', ['betrace:create-schema']);
        await c.query(`CREATE SCHEMA IF NOT EXISTS ${ident}`);
        await c.query('COMMIT');
        await c.query(`SET search_path TO ${ident}`);
      }
    } catch (e) {
      await c.end().catch(() => undefined);
      throw e;
    }
    generation++;
    client = c;
    down = undefined;
    if (reconnectTimer !== undefined) {
      clearInterval(reconnectTimer);
      reconnectTimer = undefined;
    }
    return c;
  })();
  try {
    return await connecting;
  } finally {
    connecting = undefined;
  }
}

function failure(id: number, e: unknown): PgResponse {
  const err = e as { code?: unknown; message?: string };
  const unavailable = isUnavailable(err);
  return { id, ok: false, code: typeof err.code === 'string' ? err.code : 'UNKNOWN', message: err.message ?? String(e), unavailable };
}

async function handle(req: PgRequest): Promise<PgResponse> {
  if (req.op === 'close') {
    closed = true;
    if (reconnectTimer !== undefined) {
      clearInterval(reconnectTimer);
    }
    const c = client;
    client = undefined;
    await c?.end().catch(() => undefined);
    return { id: req.id, ok: true, rows: undefined, changes: 0, gen: generation };
  }
  if (down !== undefined && client === undefined) {
    return { id: req.id, ok: false, code: POSTGRES_UNAVAILABLE, message: down, unavailable: true };
  }
  let c: Client;
  try {
    c = await connect();
  } catch (e) {
    const f = failure(req.id, e);
    lost((e as Error).message);
    return { ...f, unavailable: true } as PgResponse;
  }
  if (req.op !== 'begin' && req.gen !== undefined && req.gen !== generation) {
    return { id: req.id, ok: false, code: POSTGRES_UNAVAILABLE, message: 'the connection was lost inside this transaction', unavailable: true };
  }
  try {
    if (req.op === 'begin') {
      await c.query('BEGIN');
      return { id: req.id, ok: true, rows: undefined, changes: 0, gen: generation };
    }
    if (req.op === 'exec') {
      await c.query(req.text);
      return { id: req.id, ok: true, rows: undefined, changes: 0, gen: generation };
    }
    const values = req.values.map((v) => (ArrayBuffer.isView(v) && !Buffer.isBuffer(v) ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : v));
    const r = await c.query(req.name === undefined ? { text: req.text, values } : { name: req.name, text: req.text, values });
    return { id: req.id, ok: true, rows: r.rows, changes: r.rowCount ?? 0, gen: generation };
  } catch (e) {
    const f = failure(req.id, e);
    if (f.ok === false && f.unavailable && client === c && !/^57014$/.test(f.code)) {
      lost(f.message);
    }
    return f;
  }
}

// One request at a time, in order: the caller sends the next only after this one's answer.
let chain: Promise<void> = Promise.resolve();
port.on('message', (req: PgRequest) => {
  chain = chain.then(async () => answer(await handle(req)));
});
parentPort?.on('message', () => undefined);
