/**
 * Durable ingest in one process: a store that cannot take an evaluation's writes (SQLITE_READONLY,
 * made with query_only) turns ingest to 503 + Retry-After and /readyz to 503, keeps the trace
 * (in memory and in the log) and evaluates it once the store takes writes again, by itself; the
 * log is truncated once its traces are let go; a restart reads back what was accepted.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import pino from 'pino';
import { loadConfig } from '../src/config';
import { sqliteOf } from '../src/db/sql';
import { createSidecar, Sidecar } from '../src/sidecar';
import { root, until } from './support/serve';

const TRACE = fs.readFileSync(path.join(root, 'examples/traces/no-auto-approve/violates-1.json'), 'utf8');
const TRACE_ID = 'df326b326a9e839328c7eca715539a7a';

function withTraceId(i: number): string {
  return TRACE.split(TRACE_ID).join(`${'d'.repeat(24)}${i.toString(16).padStart(8, '0')}`);
}

/** One more span of trace `i` (a span id the trace does not have: the same span again would be held once). */
function lateSpanOf(i: number): string {
  const request = JSON.parse(withTraceId(i)) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<{ spanId: string }> }> }> };
  const rs = request.resourceSpans[0];
  const ss = rs.scopeSpans[0];
  return JSON.stringify({ resourceSpans: [{ ...rs, scopeSpans: [{ ...ss, spans: [{ ...ss.spans[0], spanId: 'fe'.repeat(8) }] }] }] });
}

interface Running {
  sidecar: Sidecar;
  otlp: string;
  api: string;
  dataDir: string;
}

const running: Running[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) {
    await r.sidecar.stop();
  }
});

async function start(dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-durable-in-')), env: Record<string, string> = {}): Promise<Running> {
  const config = loadConfig({ EVAL_WORKERS: '0',
    DATA_DIR: dataDir,
    RULES_DIR: path.join(root, 'examples/rules'),
    OTLP_PORT: '0',
    API_PORT: '0',
    HOST: '127.0.0.1',
    DECISION_WAIT: '100ms',
    MAX_TRACE_AGE: '400ms',
    BETRACE_API_TOKEN: 'durable-token',
    ...env,
  });
  const sidecar = createSidecar(config, { logger: pino({ level: 'silent' }), tickMs: 20 });
  const { otlpPort, apiPort } = await sidecar.start();
  const r = { sidecar, otlp: `http://127.0.0.1:${otlpPort}/v1/traces`, api: `http://127.0.0.1:${apiPort}`, dataDir };
  running.push(r);
  return r;
}

function post(r: Running, body: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(r.otlp, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
}

async function metric(r: Running, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = r.sidecar.metrics.registry.getSingleMetric(name);
  if (!m) {
    return 0;
  }
  const { values } = await m.get();
  return values.filter((v) => Object.entries(labels).every(([k, x]) => (v.labels as Record<string, unknown>)[k] === x)).reduce((n, v) => n + v.value, 0);
}

const signalsOf = (r: Running, traceId: string) => r.sidecar.store.listSignals('default', { limit: 1000 }).signals.filter((s) => s.traceId === traceId);

describe('durable ingest', () => {
  it('keeps a trace whose signals cannot be stored, refuses ingest with 503 meanwhile, and evaluates it once the store takes writes again', async () => {
    const r = await start();
    // A store that refuses writes (SQLITE_READONLY, as a read-only or remounted disk gives;
    // diskFull.test.ts fills a real disk for ENOSPC and SQLITE_FULL).
    const db = sqliteOf(r.sidecar.store.db);
    if (db === undefined) {
      throw new Error('this test makes the SQLite store read-only (postgresOutage.test.ts takes PostgreSQL away)');
    }
    db.pragma('query_only = 1');
    const first = withTraceId(1);
    expect((await post(r, first)).status).toBe(200); // durable in the log; evaluation comes later
    await until('the evaluation to fail on the full store', async () => (await fetch(`${r.api}/readyz`)).status === 503);
    expect(await metric(r, 'betrace_storage_errors_total', { component: 'store', reason: 'SQLITE_READONLY' })).toBeGreaterThan(0);
    expect(signalsOf(r, `${'d'.repeat(24)}00000001`)).toHaveLength(0);
    expect(r.sidecar.shards.bufferedSpans).toBeGreaterThan(0);
    expect(await metric(r, 'betrace_ingest_log_bytes')).toBeGreaterThan(0);

    const refused = await post(r, withTraceId(2));
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await refused.json()) as { message: string }).message).toMatch(/^the disk or the store cannot be written \(store: SQLITE_READONLY\); retry later$/);
    expect(await metric(r, 'betrace_ingest_refused_total', { reason: 'storage_unavailable' })).toBe(1);

    db.pragma('query_only = 0');
    await until('ingest to resume by itself', async () => (await fetch(`${r.api}/readyz`)).status === 200, 10_000);
    await until('the kept trace to be evaluated', () => signalsOf(r, `${'d'.repeat(24)}00000001`).length > 0, 10_000);
    expect(signalsOf(r, `${'d'.repeat(24)}00000001`)).toHaveLength(1);
    expect((await post(r, withTraceId(2))).status).toBe(200);
    await until('the retried trace to be evaluated', () => signalsOf(r, `${'d'.repeat(24)}00000002`).length === 1, 10_000);
  });

  it('deletes log segments once the traces they hold are evaluated and let go', async () => {
    const r = await start(undefined, { INGEST_LOG_SEGMENT_BYTES: '16KiB', INGEST_LOG_MAX_BYTES: '16MiB' });
    for (let i = 0; i < 20; i++) {
      expect((await post(r, withTraceId(100 + i))).status).toBe(200);
    }
    expect(await metric(r, 'betrace_ingest_log_segments')).toBeGreaterThan(2);
    await until('the log to be truncated', async () => (await metric(r, 'betrace_ingest_log_bytes')) === 0, 10_000);
    expect(await metric(r, 'betrace_ingest_log_segments')).toBe(1);
    expect(fs.readdirSync(path.join(r.dataDir, 'ingest-log')).filter((f) => f.endsWith('.wal'))).toHaveLength(1);
    expect(r.sidecar.store.decidedTraces()).toHaveLength(0);
    for (let i = 0; i < 20; i++) {
      expect(signalsOf(r, `${'d'.repeat(24)}${(100 + i).toString(16).padStart(8, '0')}`)).toHaveLength(1);
    }
  });

  it('answers 503 log_full with Retry-After when the log holds its bound, and takes batches again once it is truncated', async () => {
    const r = await start(undefined, { INGEST_LOG_SEGMENT_BYTES: '8KiB', INGEST_LOG_MAX_BYTES: '32KiB', MAX_BODY_BYTES: '16KiB', DECISION_WAIT: '300ms', MAX_TRACE_AGE: '300ms' });
    const statuses: number[] = [];
    let full: Response | undefined;
    for (let i = 0; i < 40 && full === undefined; i++) {
      const res = await post(r, withTraceId(200 + i));
      statuses.push(res.status);
      if (res.status === 503) {
        full = res;
      }
    }
    expect(full).toBeDefined();
    expect(full!.headers.get('retry-after')).toBe('1');
    expect(((await full!.json()) as { message: string }).message).toMatch(/ingest log is full/);
    expect(await metric(r, 'betrace_ingest_refused_total', { reason: 'log_full' })).toBe(1);
    const last = 200 + statuses.length - 1;
    await until('the full log to take the batch again', async () => (await post(r, withTraceId(last))).status === 200, 10_000);
    await until('every accepted trace to be evaluated', () => statuses.every((_, i) => signalsOf(r, `${'d'.repeat(24)}${(200 + i).toString(16).padStart(8, '0')}`).length === 1), 10_000);
  });

  it('reads back on restart what was accepted and not evaluated, and does not evaluate again what was', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-durable-in-'));
    const r = await start(dataDir, { DECISION_WAIT: '1h', MAX_TRACE_AGE: '2h' });
    expect((await post(r, withTraceId(300))).status).toBe(200);
    expect((await post(r, withTraceId(301), { 'x-idempotency-key': 'k-301' })).status).toBe(200);
    // A drain evaluates both and the log keeps them (held for late spans) ...
    await r.sidecar.stop();
    running.splice(0);
    const again = await start(dataDir, { DECISION_WAIT: '1h', MAX_TRACE_AGE: '2h' });
    // ... so the restart holds them again, already decided: not evaluated a second time.
    expect(again.sidecar.shards.bufferedSpans).toBe(2 * 8);
    expect(await again.sidecar.shards.tick()).toBe(0);
    expect(await metric(again, 'betrace_traces_evaluated_total')).toBe(0);
    expect(await metric(again, 'betrace_ingest_log_recovered_batches_total')).toBe(2);
    // The idempotency key came back with its batch: a retry is recognised.
    expect((await post(again, withTraceId(301), { 'x-idempotency-key': 'k-301' })).status).toBe(200);
    expect(await metric(again, 'betrace_ingest_duplicates_total')).toBe(1);
    expect(again.sidecar.shards.bufferedSpans).toBe(2 * 8);
    // A late span of a held trace makes it due again, with the earlier spans read back.
    expect((await post(again, lateSpanOf(300))).status).toBe(200);
    expect(await again.sidecar.shards.drain()).toBe(1);
    expect(await metric(again, 'betrace_traces_evaluated_total')).toBe(1);
  });
});
