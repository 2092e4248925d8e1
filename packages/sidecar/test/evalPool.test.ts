/**
 * Evaluation on worker threads: sharding by (tenant, trace id), the span cap, the evaluation
 * budget, backpressure, crashed and stuck workers, and the SIGTERM drain — with whole sidecars
 * in-process on random ports and real worker threads running the current sources.
 */
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import pino from 'pino';
import { buildTrace, compileRule, decodeOtlpJsonText, RuleDefinition } from '@betrace/evaluator';
import { loadConfig } from '../src/config';
import { EvalPool, MAX_IN_FLIGHT_SPANS_PER_WORKER } from '../src/eval/pool';
import { runRules } from '../src/eval/run';
import { defaultWorkerEntry, WorkerEntry } from '../src/eval/workerEntry';
import { TraceAssembler } from '../src/ingest/assembler';
import { Metrics } from '../src/metrics';
import { truncationNote } from '../src/pipeline';
import { createSidecar, Sidecar, SidecarDeps } from '../src/sidecar';
import { Store } from '../src/store';
const { chainRequest } = require('./support/chainTrace') as { chainRequest: (traceId: string, spans: number, o?: { offset?: number; count?: number }) => object };

interface Running {
  sidecar: Sidecar;
  otlp: string;
  api: string;
  clock: { now: number };
  dataDir: string;
}

const running: Running[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) {
    await r.sidecar.stop();
  }
});

async function start(env: Record<string, string>, deps: SidecarDeps = {}): Promise<Running> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-evalpool-'));
  const config = loadConfig({ DATA_DIR: dataDir, OTLP_PORT: '0', API_PORT: '0', HOST: '127.0.0.1', DECISION_WAIT: '10s', BETRACE_API_TOKEN: 'token', ...env });
  const clock = { now: 1_764_028_800_000 };
  const sidecar = createSidecar(config, { now: () => clock.now, logger: pino({ level: 'silent' }), tickMs: 3_600_000, ...deps });
  const { otlpPort, apiPort } = await sidecar.start();
  const r = { sidecar, otlp: `http://127.0.0.1:${otlpPort}/v1/traces`, api: `http://127.0.0.1:${apiPort}`, clock, dataDir };
  running.push(r);
  return r;
}

const auth = { authorization: 'Bearer token', 'content-type': 'application/json' };

async function addRule(r: Running, rule: Partial<RuleDefinition> & { id: string; condition: string }): Promise<void> {
  const res = await fetch(`${r.api}/api/v1/rules`, { method: 'POST', headers: auth, body: JSON.stringify({ name: rule.id, severity: 'low', ...rule }) });
  expect(res.status).toBe(201);
}

/** One POST on its own TCP connection (no keep-alive), so requests of one trace arrive on different connections. */
function postOwnConnection(url: string, body: object): Promise<{ status: number; port: number }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', connection: 'close' } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, port: req.socket?.localPort ?? 0 }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

async function settle(r: Running): Promise<void> {
  r.clock.now += 10_001;
  r.sidecar.assembler.tick();
  await r.sidecar.evaluated();
}

async function metrics(r: Running): Promise<string> {
  return (await fetch(`${r.api}/metrics`)).text();
}

/** The value of one series, 0 when absent. */
function series(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

const traceId = (n: number) => n.toString(16).padStart(32, '0');

/** A worker that behaves like the real one, but first runs `prelude` (code with `m`, the message, and `progress`). */
function misbehaving(prelude: string): WorkerEntry {
  const base = defaultWorkerEntry();
  const hook = `
const { parentPort, workerData } = require('worker_threads');
const progress = new Int32Array(workerData.progress);
parentPort.on('message', (m) => { ${prelude} });
`;
  return base.eval ? { filename: hook + base.filename, eval: true } : { filename: `${hook}\nrequire(${JSON.stringify(base.filename)});`, eval: true };
}

describe('sharding', () => {
  it('sends a trace to the same shard every time, and spreads traces over the shards', () => {
    const pool = new EvalPool({ workers: 4, budgetMs: 1000, hardLimitMs: 5000, maxSpansPerTrace: 10, pipeline: undefined as never, rules: undefined as never, metrics: new Metrics(), log: pino({ level: 'silent' }) });
    const shards = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const s = pool.shardOf('default', traceId(i));
      expect(pool.shardOf('default', traceId(i))).toBe(s);
      shards.add(s);
    }
    expect([...shards].sort()).toEqual([0, 1, 2, 3]);
    // The tenant is part of the key: one trace id of two tenants is two traces.
    const spread = new Set(Array.from({ length: 50 }, (_, i) => pool.shardOf(`tenant-${i}`, traceId(7))));
    expect(spread.size).toBeGreaterThan(1);
    // An idle shard takes any trace, even one over the in-flight span bound.
    expect(pool.hasRoom('default', traceId(1), MAX_IN_FLIGHT_SPANS_PER_WORKER + 1)).toBe(true);
  });

  it('evaluates a trace sent in three requests over three connections once, on its shard, with all its spans; a late span meets it there again', async () => {
    const r = await start({ EVAL_WORKERS: '2' });
    // Fires only when one evaluation sees all 30 spans: 29 steps and the leaf below the first.
    await addRule(r, { id: 'whole-chain', condition: 'trace.count(step) == 29 and trace.has(leaf.descendant_of(step.where(depth == 0)))' });
    const id = traceId(0xabc);
    const ports = new Set<number>();
    for (const [offset, count] of [
      [0, 10],
      [10, 10],
      [20, 10],
    ]) {
      const res = await postOwnConnection(r.otlp, chainRequest(id, 30, { offset, count }));
      expect(res.status).toBe(200);
      ports.add(res.port);
    }
    expect(ports.size).toBe(3);
    await settle(r);
    const shard = String(r.sidecar.pool.shardOf('default', id));
    let m = await metrics(r);
    expect(series(m, 'betrace_traces_evaluated_total', 'tenant="default"')).toBe(1);
    const byWorker = m.split('\n').filter((l) => l.startsWith('betrace_eval_worker_evaluations_total{'));
    expect(byWorker).toHaveLength(1);
    expect(byWorker[0]).toMatch(new RegExp(`^betrace_eval_worker_evaluations_total\\{worker="${shard}",thread="[1-9]\\d*"\\} 1$`));
    expect(r.sidecar.store.listSignals('default').signals.map((s) => [s.ruleId, s.traceId])).toEqual([['whole-chain', id]]);

    // A late span of the held trace: re-evaluated with its earlier spans, on the same worker thread.
    const late = chainRequest(id, 31, { offset: 30, count: 1 });
    expect((await postOwnConnection(r.otlp, late)).status).toBe(200);
    await settle(r);
    m = await metrics(r);
    expect(m.split('\n').filter((l) => l.startsWith('betrace_eval_worker_evaluations_total{'))).toEqual([byWorker[0].replace(/ 1$/, ' 2')]);
  });
});

describe('the span cap (MAX_SPANS_PER_TRACE)', () => {
  it('evaluates a trace at the cap whole, and one past it on the spans it holds, counted and marked', async () => {
    const r = await start({ EVAL_WORKERS: '1', MAX_SPANS_PER_TRACE: '30' });
    await addRule(r, { id: 'has-steps', condition: 'trace.has(step)' });
    const atCap = traceId(1);
    const past = traceId(2);
    expect((await postOwnConnection(r.otlp, chainRequest(atCap, 30))).status).toBe(200);
    await settle(r);
    let m = await metrics(r);
    expect(series(m, 'betrace_traces_truncated_total', 'tenant="default"')).toBe(0);
    expect(series(m, 'betrace_traces_dropped_total', 'reason="span_cap"')).toBe(0);
    // Past it: 25 spans, then 10 more in a second request; 5 are over the cap.
    expect((await postOwnConnection(r.otlp, chainRequest(past, 35, { offset: 0, count: 25 }))).status).toBe(200);
    expect((await postOwnConnection(r.otlp, chainRequest(past, 35, { offset: 25, count: 10 }))).status).toBe(200);
    await settle(r);
    m = await metrics(r);
    expect(series(m, 'betrace_traces_truncated_total', 'tenant="default"')).toBe(1);
    expect(series(m, 'betrace_traces_dropped_total', 'reason="span_cap"')).toBe(5);
    const byTrace = new Map(r.sidecar.store.listSignals('default').signals.map((s) => [s.traceId, s.message]));
    expect(byTrace.get(atCap)).not.toContain('truncated');
    expect(byTrace.get(past)).toMatch(new RegExp(`${truncationNote(30, 5).replace(/[[\]]/g, '\\$&')}$`));
  });

  it('caps traces that do not come through assembly (pull, replay) the same way', async () => {
    const r = await start({ EVAL_WORKERS: '1', MAX_SPANS_PER_TRACE: '30' });
    await addRule(r, { id: 'has-steps', condition: 'trace.has(step)' });
    const [trace] = decodeOtlpJsonText(JSON.stringify(chainRequest(traceId(3), 31)));
    const [signal] = await r.sidecar.pool.evaluate('default', trace, 'pull');
    expect(signal.message).toContain(truncationNote(30, 1));
    expect(series(await metrics(r), 'betrace_traces_dropped_total', 'reason="span_cap"')).toBe(1);
  });
});

describe('the evaluation budget (EVAL_BUDGET)', () => {
  const rules = ['a', 'b', 'c'].map((id) => compileRule({ id, name: id, severity: 'low', enabled: true, condition: 'trace.has(step)' }).rule!);
  const trace = buildTrace(traceId(4), decodeOtlpJsonText(JSON.stringify(chainRequest(traceId(4), 3)))[0].spans);
  /** A clock that advances `step` ms at every reading. */
  const ticking = (step: number) => {
    let t = 0;
    return () => (t += step);
  };

  it('runs a rule that starts just before the budget is spent', () => {
    // Readings: start 10, rule a at 20 (10 spent), b at 30 (20), c at 40 (30 < 31).
    const run = runRules(rules, trace, 31, undefined, ticking(10));
    expect(run.evaluated).toEqual(['a', 'b', 'c']);
    expect(run.skipped).toEqual([]);
  });

  it('skips, with reason time-budget, every rule that would start once the budget is spent', () => {
    const run = runRules(rules, trace, 30, undefined, ticking(10));
    expect(run.evaluated).toEqual(['a', 'b']);
    expect(run.skipped).toEqual([{ ruleId: 'c', reason: 'time-budget' }]);
    expect(run.violations.map((v) => v.ruleId)).toEqual(['a', 'b']);
  });
});

describe('backpressure', () => {
  it('holds a due trace while evaluation has no room, and releases it once there is', () => {
    let room = false;
    const ready: string[] = [];
    let now = 0;
    const assembler = new TraceAssembler({ decisionWaitMs: 10, maxTraceAgeMs: 100, maxSpans: 1000, maxBytes: 1e6, now: () => now, hasRoom: () => room, onReady: (_t, trace) => ready.push(trace.traceId), onDrop: () => undefined });
    assembler.add('default', decodeOtlpJsonText(JSON.stringify(chainRequest(traceId(5), 3))), 100);
    now += 20;
    expect(assembler.tick()).toBe(0);
    expect(assembler.bufferedSpans).toBe(3);
    now += 200; // past max_trace_age too: still held, never dropped
    expect(assembler.tick()).toBe(0);
    room = true;
    expect(assembler.tick()).toBe(1);
    expect(ready).toEqual([traceId(5)]);
  });

  it('shows each worker’s queue depth', async () => {
    const r = await start({ EVAL_WORKERS: '2' });
    const m = await metrics(r);
    expect(series(m, 'betrace_eval_queue_depth', 'worker="0"')).toBe(0);
    expect(series(m, 'betrace_eval_queue_depth', 'worker="1"')).toBe(0);
    expect(m).toMatch(/^betrace_eval_queue_depth\{worker="1"\} 0$/m);
  });
});

describe('workers that crash or hang', () => {
  it('replaces a worker that crashes once and evaluates its traces on the new one', async () => {
    const marker = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-crash-')), 'crashed');
    // Crashes on the first trace it is given, once per test (the marker file outlives the worker).
    const entry = misbehaving(`if (m.type === 'evaluate' && !require('fs').existsSync(${JSON.stringify(marker)})) { require('fs').writeFileSync(${JSON.stringify(marker)}, ''); process.exit(3); }`);
    const r = await start({ EVAL_WORKERS: '1' }, { evalWorker: entry });
    await addRule(r, { id: 'has-steps', condition: 'trace.has(step)' });
    for (const n of [10, 11, 12]) {
      expect((await postOwnConnection(r.otlp, chainRequest(traceId(n), 3))).status).toBe(200);
    }
    await settle(r);
    expect(r.sidecar.store.listSignals('default').signals.map((s) => s.traceId).sort()).toEqual([traceId(10), traceId(11), traceId(12)]);
    const m = await metrics(r);
    expect(series(m, 'betrace_eval_worker_restarts_total', 'reason="crash"')).toBe(1);
    expect(series(m, 'betrace_traces_not_evaluated_total', 'tenant="default",reason="worker-crash"')).toBe(0);
  });

  it('records a trace that crashes its worker every time as not evaluated, with a reason, and evaluates the others', async () => {
    const poison = traceId(0xdead);
    const entry = misbehaving(`if (m.type === 'evaluate' && m.trace.traceId === ${JSON.stringify(poison)}) process.exit(3);`);
    const r = await start({ EVAL_WORKERS: '1' }, { evalWorker: entry });
    await addRule(r, { id: 'has-steps', condition: 'trace.has(step)' });
    expect((await postOwnConnection(r.otlp, chainRequest(poison, 3))).status).toBe(200);
    expect((await postOwnConnection(r.otlp, chainRequest(traceId(20), 3))).status).toBe(200);
    await settle(r);
    expect(r.sidecar.store.listSignals('default').signals.map((s) => s.traceId)).toEqual([traceId(20)]);
    const m = await metrics(r);
    expect(series(m, 'betrace_traces_not_evaluated_total', 'tenant="default",reason="worker-crash"')).toBe(1);
    expect(series(m, 'betrace_rule_skipped_total', 'tenant="default",rule="has-steps",reason="worker-crash"')).toBe(1);
    expect(series(m, 'betrace_eval_worker_restarts_total', 'reason="crash"')).toBe(2);
    const rules = (await (await fetch(`${r.api}/api/v1/rules`, { headers: auth })).json()) as { rules: Array<{ id: string; skipped: { count: number; lastReason?: string } }> };
    expect(rules.rules.find((x) => x.id === 'has-steps')!.skipped).toMatchObject({ count: 1, lastReason: 'worker-crash', byReason: { 'worker-crash': 1 } });
  });

  it('terminates a worker stuck in a rule past EVAL_HARD_LIMIT, skips that rule (hard-limit) and evaluates the rest', async () => {
    // Stuck inside rule `stuck` (it reports the rule as running, as the real worker does) whenever that rule is sent.
    const entry = misbehaving(`if (m.type === 'evaluate' && m.ruleIds.includes('stuck')) { Atomics.store(progress, 0, m.jobId); Atomics.store(progress, 1, m.ruleIds.indexOf('stuck') + 1); for (;;) {} }`);
    const r = await start({ EVAL_WORKERS: '1', EVAL_BUDGET: '100ms', EVAL_HARD_LIMIT: '300ms' }, { evalWorker: entry });
    await addRule(r, { id: 'has-steps', condition: 'trace.has(step)' });
    await addRule(r, { id: 'stuck', condition: 'trace.has(leaf)' });
    expect((await postOwnConnection(r.otlp, chainRequest(traceId(30), 3))).status).toBe(200);
    await settle(r);
    expect(r.sidecar.store.listSignals('default').signals.map((s) => s.ruleId)).toEqual(['has-steps']);
    const m = await metrics(r);
    expect(series(m, 'betrace_eval_worker_restarts_total', 'reason="hard-limit"')).toBe(1);
    expect(series(m, 'betrace_rule_skipped_total', 'tenant="default",rule="stuck",reason="hard-limit"')).toBe(1);
    expect(series(m, 'betrace_rule_evaluations_total', 'tenant="default",rule="stuck"')).toBe(0);
    expect(series(m, 'betrace_rule_evaluations_total', 'tenant="default",rule="has-steps"')).toBe(1);
    const rules = (await (await fetch(`${r.api}/api/v1/rules`, { headers: auth })).json()) as { rules: Array<{ id: string; skipped: { count: number } }> };
    expect(rules.rules.find((x) => x.id === 'stuck')!.skipped).toMatchObject({ count: 1, lastReason: 'hard-limit', byReason: { 'hard-limit': 1 } });
    expect(rules.rules.find((x) => x.id === 'has-steps')!.skipped).toEqual({ count: 0, byReason: {} });
  });
});

describe('stop (SIGTERM)', () => {
  it('evaluates every buffered trace on the workers before they are terminated', async () => {
    const r = await start({ EVAL_WORKERS: '2' });
    await addRule(r, { id: 'has-steps', condition: 'trace.has(step)' });
    const ids = [40, 41, 42, 43].map(traceId);
    for (const id of ids) {
      expect((await postOwnConnection(r.otlp, chainRequest(id, 3))).status).toBe(200);
    }
    running.splice(running.indexOf(r), 1);
    await r.sidecar.stop(); // nothing was due: the drain hands everything over
    const store = new Store(path.join(r.dataDir, 'betrace.db'));
    try {
      expect(store.listSignals('default').signals.map((s) => s.traceId).sort()).toEqual(ids);
    } finally {
      store.close();
    }
  });
});
