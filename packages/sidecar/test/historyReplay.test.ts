/**
 * The history in a served sidecar without Tempo: accepted traces reach DATA_DIR/history once the
 * ingest log lets their segment go, survive a restart, and `POST /api/v1/replay` replays a range
 * from them (same job shape, dry runs, signals with the live signals' ids, cancel). Without Tempo
 * and without a history, the 409 says what is missing.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import pino from 'pino';
import type { Trace } from '@betrace/evaluator';
import { loadConfig } from '../src/config';
import { createSidecar, Sidecar } from '../src/sidecar';
import { sha256Hex } from '../src/tenants';
import { root, until } from './support/serve';
import { jsonBody, protobufBody, shopTrace, TestSpan, traceIdOf } from './support/historyTraces';

interface Running {
  sidecar: Sidecar;
  otlp: string;
  api: string;
  dataDir: string;
}

const running: Running[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) {
    await r.sidecar.stop();
  }
});
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

async function start(dataDir?: string, env: Record<string, string> = {}): Promise<Running> {
  const dir = dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-history-replay-'));
  if (dataDir === undefined) dirs.push(dir);
  const config = loadConfig({
    EVAL_WORKERS: '0',
    DATA_DIR: dir,
    RULES_DIR: path.join(root, 'examples/rules'),
    OTLP_PORT: '0',
    API_PORT: '0',
    HOST: '127.0.0.1',
    DECISION_WAIT: '100ms',
    MAX_TRACE_AGE: '300ms',
    BETRACE_API_TOKEN: 'history-token',
    ...env,
  });
  const sidecar = createSidecar(config, { logger: pino({ level: 'silent' }), tickMs: 20 });
  const { otlpPort, apiPort } = await sidecar.start();
  const r = { sidecar, otlp: `http://127.0.0.1:${otlpPort}/v1/traces`, api: `http://127.0.0.1:${apiPort}`, dataDir: dir };
  running.push(r);
  return r;
}

async function call(r: Running, method: string, url: string, body?: unknown, token = 'history-token'): Promise<{ status: number; json: any }> {
  const res = await fetch(`${r.api}${url}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}

async function post(r: Running, spans: readonly TestSpan[], protobuf: boolean, ingestKey?: string): Promise<number> {
  const headers: Record<string, string> = { 'content-type': protobuf ? 'application/x-protobuf' : 'application/json', ...(ingestKey ? { 'x-api-key': ingestKey } : {}) };
  const res = await fetch(r.otlp, { method: 'POST', headers, body: protobuf ? protobufBody(spans) : jsonBody(spans) });
  await res.arrayBuffer();
  return res.status;
}

async function historyTraces(r: Running, from: number, to: number): Promise<Trace[]> {
  const out: Trace[] = [];
  for await (const t of r.sidecar.history!.source('default', from, to)()) out.push(t);
  return out;
}

async function metric(r: Running, name: string): Promise<number> {
  const m = r.sidecar.metrics.registry.getSingleMetric(name);
  return m === undefined ? Number.NaN : (await m.get()).values.reduce((n, v) => n + v.value, 0);
}

interface Job {
  id: string;
  source: string;
  status: string;
  windowsDone: number;
  windowsTotal: number;
  tracesFetched: number;
  violationsFound: number;
  signalsCreated: number;
  violations: Array<{ ruleId: string; traceId: string }>;
}

async function replay(r: Running, body: Record<string, unknown>, token = 'history-token', tenant = 'default'): Promise<Job> {
  const res = await call(r, 'POST', '/api/v1/replay', body, token);
  expect(res.status).toBe(202);
  await r.sidecar.replays.get(tenant)!.idle();
  return (await call(r, 'GET', `/api/v1/replay/${(res.json as Job).id}`, undefined, token)).json as Job;
}

describe('history in a served sidecar', () => {
  it('keeps accepted traces, replays a range from them without Tempo, and keeps them across a restart', async () => {
    const r = await start();
    expect(r.sidecar.history).toBeDefined();
    const t0 = Date.now();
    const violating = [0, 1, 2].map((i) => traceIdOf('a0', i));
    const satisfying = [3, 4, 5].map((i) => traceIdOf('a0', i));
    for (const [i, id] of violating.entries()) {
      expect(await post(r, shopTrace(id, t0 + i, ['payment.charge', 'payment.auto_approve']), i % 2 === 0)).toBe(200);
    }
    for (const [i, id] of satisfying.entries()) {
      expect(await post(r, shopTrace(id, t0 + i, ['payment.charge']), i % 2 === 1)).toBe(200);
    }
    const live = () => r.sidecar.store.listSignals('default', { limit: 100 }).signals;
    await until('the live signals', () => live().filter((s) => s.ruleId === 'no-auto-approve').length === 3);
    // Once evaluated and let go, the log's segment moves to the history.
    await until('the traces to reach the history', async () => (await historyTraces(r, t0 - 60_000, t0 + 60_000)).length === 6, 15_000);
    expect(await metric(r, 'betrace_history_segments')).toBeGreaterThan(0);
    expect(await metric(r, 'betrace_history_bytes')).toBeGreaterThan(0);
    // Compression runs off the HTTP thread, after the segment arrived: wait for it rather than race it.
    await until('a compressed history segment', () => fs.readdirSync(path.join(r.dataDir, 'history')).some((f) => f.endsWith('.seg.br')), 30_000);

    const range = { from: new Date(t0 - 10 * 60_000).toISOString(), to: new Date(t0 + 60_000).toISOString() };
    const dry = await replay(r, { ...range, ruleIds: ['no-auto-approve'], dryRun: true });
    expect(dry).toMatchObject({ source: 'history', status: 'done', windowsTotal: 3, windowsDone: 3, tracesFetched: 6, violationsFound: 3, signalsCreated: 0 });
    expect(dry.violations.map((v) => v.traceId).sort()).toEqual(violating);
    const signalsBefore = live().length;

    // Not a dry run: the live signals have the same ids, so none is added.
    const again = await replay(r, { ...range, ruleIds: ['no-auto-approve'] });
    expect(again).toMatchObject({ status: 'done', signalsCreated: 0 });
    expect(live()).toHaveLength(signalsBefore);

    // A rule written after the traces passed: replay raises its signals, once.
    const rule = { id: 'charges-seen', name: 'charges seen', severity: 'low', condition: 'payment.charge' };
    expect((await call(r, 'POST', '/api/v1/rules', rule)).status).toBe(201);
    const created = await replay(r, { ...range, ruleIds: ['charges-seen'] });
    expect(created).toMatchObject({ status: 'done', signalsCreated: 6 });
    const replayed = live().filter((s) => s.ruleId === 'charges-seen');
    expect(replayed.map((s) => s.traceId).sort()).toEqual([...violating, ...satisfying].sort());
    expect(replayed.every((s) => s.source === 'replay')).toBe(true);
    expect((await replay(r, { ...range, ruleIds: ['charges-seen'] })).signalsCreated).toBe(0);

    // An unsaved rule, as a dry run.
    const draft = await replay(r, { ...range, rule: { condition: 'payment.auto_approve' }, dryRun: true });
    expect(draft.violations.map((v) => [v.ruleId, v.traceId]).sort()).toEqual(violating.map((id) => ['unsaved', id]));

    // A range the traces are not in.
    const empty = await replay(r, { from: String(t0 - 3_600_000), to: String(t0 - 1_800_000), ruleIds: ['no-auto-approve'], dryRun: true });
    expect(empty).toMatchObject({ status: 'done', tracesFetched: 0, violationsFound: 0 });

    // Cancel: a job queued behind another is cancelled before it reads anything.
    const first = await call(r, 'POST', '/api/v1/replay', { ...range, dryRun: true });
    const second = await call(r, 'POST', '/api/v1/replay', { ...range, dryRun: true });
    expect((await call(r, 'DELETE', `/api/v1/replay/${second.json.id}`)).json.status).toBe('cancelled');
    await r.sidecar.replay!.idle();
    expect((await call(r, 'GET', `/api/v1/replay/${first.json.id}`)).json.status).toBe('done');
    expect((await call(r, 'GET', `/api/v1/replay/${second.json.id}`)).json).toMatchObject({ status: 'cancelled', tracesFetched: 0 });

    // A restart keeps the history.
    await r.sidecar.stop();
    running.splice(running.indexOf(r), 1);
    const restarted = await start(r.dataDir);
    expect((await historyTraces(restarted, t0 - 60_000, t0 + 60_000)).map((t) => t.traceId).sort()).toEqual([...violating, ...satisfying].sort());
    const after = await replay(restarted, { ...range, ruleIds: ['no-auto-approve'], dryRun: true });
    expect(after.violations.map((v) => v.traceId).sort()).toEqual(violating);
  }, 60_000);

  it('replays each tenant’s own traces only, the same trace id in two tenants included', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-history-tenants-'));
    dirs.push(dir);
    const rules = path.join(root, 'examples/rules');
    const file = path.join(dir, 'tenants.yaml');
    fs.writeFileSync(
      file,
      ['a', 'b']
        .map((t) => `  - id: ${t}\n    apiTokens: [{ name: api, sha256: ${sha256Hex(`token-${t}`)} }]\n    ingestKeys: [{ name: collector, sha256: ${sha256Hex(`ingest-${t}`)} }]\n    rulesDir: ${rules}\n`)
        .reduce((all, t) => all + t, 'tenants:\n'),
    );
    const r = await start(path.join(dir, 'data'), { TENANTS_FILE: file });
    const t0 = Date.now();
    const shared = traceIdOf('c0', 1);
    const onlyA = traceIdOf('ca', 1);
    const onlyB = traceIdOf('cb', 1);
    expect(await post(r, shopTrace(shared, t0, ['payment.charge', 'payment.auto_approve']), true, 'ingest-a')).toBe(200);
    expect(await post(r, shopTrace(onlyA, t0, ['payment.charge', 'payment.skip_verification']), false, 'ingest-a')).toBe(200);
    expect(await post(r, shopTrace(shared, t0, ['payment.charge']), false, 'ingest-b')).toBe(200); // B's spans of the shared id satisfy the rule
    expect(await post(r, shopTrace(onlyB, t0, ['payment.charge', 'payment.auto_approve']), true, 'ingest-b')).toBe(200);
    const inHistory = async (tenant: string) => {
      const out: string[] = [];
      for await (const t of r.sidecar.history!.source(tenant, t0 - 60_000, t0 + 60_000)()) out.push(t.traceId);
      return out.sort();
    };
    await until('both tenants’ traces in the history', async () => (await inHistory('a')).length === 2 && (await inHistory('b')).length === 2, 15_000);
    const range = { from: String(t0 - 60_000), to: String(t0 + 60_000), ruleIds: ['no-auto-approve'], dryRun: true };
    const a = await replay(r, range, 'token-a', 'a');
    const b = await replay(r, range, 'token-b', 'b');
    expect(a).toMatchObject({ source: 'history', status: 'done', tracesFetched: 2 });
    expect(b).toMatchObject({ source: 'history', status: 'done', tracesFetched: 2 });
    expect(a.violations.map((v) => v.traceId).sort()).toEqual([shared, onlyA].sort());
    expect(b.violations.map((v) => v.traceId)).toEqual([onlyB]);
    // A's job is not B's to read.
    expect((await call(r, 'GET', `/api/v1/replay/${a.id}`, undefined, 'token-b')).status).toBe(404);
  }, 30_000);

  it('has no history with HISTORY_MAX_BYTES=off or DATA_DIR=:memory:, and replay’s 409 says what is missing', async () => {
    const off = await start(undefined, { HISTORY_MAX_BYTES: 'off' });
    expect(off.sidecar.history).toBeUndefined();
    const refused = await call(off, 'POST', '/api/v1/replay', { from: '0', to: '1000', dryRun: true });
    expect(refused).toEqual({
      status: 409,
      json: { error: 'no_tempo', message: 'replay needs traces to read: set TEMPO_URL (pull mode), or turn the history of recent traces on (HISTORY_MAX_BYTES is off)' },
    });
    // The log deletes segments as before: no history folder.
    expect(await post(off, shopTrace(traceIdOf('b0', 1), Date.now()), false)).toBe(200);
    await until('the log to be truncated', async () => (await metric(off, 'betrace_ingest_log_bytes')) === 0, 10_000);
    expect(fs.existsSync(path.join(off.dataDir, 'history'))).toBe(false);

    const memory = await start(undefined, { DATA_DIR: ':memory:' });
    expect(memory.sidecar.history).toBeUndefined();
    expect((await call(memory, 'POST', '/api/v1/replay', { from: '0', to: '1000', dryRun: true })).json.message).toBe(
      'replay needs traces to read: set TEMPO_URL (pull mode), or give DATA_DIR a directory so that the sidecar keeps a history of recent traces (DATA_DIR=:memory: keeps none)',
    );
  }, 30_000);
});
