/**
 * Rule health end to end: example traces pushed over OTLP and evaluated (on the main thread and on
 * two shard workers), pulled from the Tempo double, and replayed, counted per tenant and rule
 * into the metrics and the hourly rule_health table, and answered by the health routes — to the
 * token's tenant only, with a 400 naming a bad parameter and a 404 for an unknown rule.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import pino from 'pino';
import { decodeOtlpJsonText, Span } from '@betrace/evaluator';
import { evaluateOutcome } from '../src/eval/outcome';
import { TempoDouble } from '../../../tests/support/tempoDouble';
import { loadConfig } from '../src/config';
import { noisyHint } from '../src/health/api';
import { HOUR_MS, RuleHealthStore } from '../src/health/store';
import { createSidecar, Sidecar } from '../src/sidecar';
import { Store } from '../src/store';
import { DEFAULT_REDACTION, sha256Hex, Tenant } from '../src/tenants';
import { requireBuiltCli, root } from './support/serve';

const RULE = 'payment-fraud-check';
const PAYMENT = {
  id: RULE,
  name: 'Large payments need a fraud check',
  severity: 'critical',
  condition: 'when { p: payment.charge.where(amount > 1000) }\nalways { payment.fraud_check.where(order_id == p.order_id).before(p, within 5s) }',
};
/** A rule none of the example traces triggers (no refund span): evaluated, never triggered. */
const REFUNDS = { id: 'refunds-audited', name: 'Refunds are audited', severity: 'high', condition: 'when { r: refund.issue }\nalways { audit.write }' };
const AT = Date.UTC(2026, 10, 25, 12, 30, 0);
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-health-'));

const example = (verdict: 'violates' | 'satisfies') => fs.readFileSync(path.join(root, 'examples/traces', RULE, `${verdict}-1.json`), 'utf8');

/** The example trace as an OTLP/JSON body under trace id `traceId`. */
function body(verdict: 'violates' | 'satisfies', traceId: string): string {
  return example(verdict).replace(/"traceId":\s*"[0-9a-f]{32}"/g, `"traceId": "${traceId}"`);
}

const traceId = (tenant: string, i: number) => `${tenant === 'a' ? 'aa' : 'bb'}${i.toString(16).padStart(30, '0')}`;

const tenant = (id: string): Tenant => ({
  id,
  apiTokens: [{ name: `${id}-ui`, sha256: sha256Hex(`token-${id}`) }],
  ingestKeys: [{ name: `${id}-collector`, sha256: sha256Hex(`ingest-${id}`) }],
  evidenceKeys: [],
  redaction: { ...DEFAULT_REDACTION },
});

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) {
    await c();
  }
});

interface Running {
  s: Sidecar;
  clock: { now: number };
  otlp: string;
  api: string;
  call: (tenantId: string, url: string, init?: { method?: string; body?: unknown }) => Promise<{ status: number; json: any }>;
}

async function start(env: Record<string, string>, tenants = [tenant('a'), tenant('b')]): Promise<Running> {
  const clock = { now: AT };
  const config = loadConfig({ DATA_DIR: tmp(), OTLP_PORT: '0', API_PORT: '0', HOST: '127.0.0.1', DECISION_WAIT: '10s', ...env });
  const s = createSidecar(config, { now: () => clock.now, logger: pino({ level: 'silent' }), tickMs: 3_600_000, tenants, pollIntervalMs: 0 });
  const { otlpPort, apiPort } = await s.start();
  cleanups.push(() => s.stop());
  const call = async (tenantId: string, url: string, init: { method?: string; body?: unknown } = {}) => {
    const res = await fetch(`http://127.0.0.1:${apiPort}${url}`, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer token-${tenantId}`, 'content-type': 'application/json' },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    return { status: res.status, json: await res.json() };
  };
  return { s, clock, otlp: `http://127.0.0.1:${otlpPort}/v1/traces`, api: `http://127.0.0.1:${apiPort}`, call };
}

async function push(r: Running, tenantId: string, verdict: 'violates' | 'satisfies', id: string): Promise<void> {
  const res = await fetch(r.otlp, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ingest-${tenantId}` }, body: body(verdict, id) });
  expect(res.status).toBe(200);
  await res.arrayBuffer();
}

/** A metric's value for exactly these labels (0 when the series is absent). */
async function metric(s: Sidecar, name: string, labels: Record<string, string>): Promise<number> {
  const m = s.metrics.registry.getSingleMetric(name);
  const values = m === undefined ? [] : (await m.get()).values;
  const v = values.find((x) => Object.entries(labels).every(([k, want]) => x.labels[k] === want) && Object.keys(x.labels).length === Object.keys(labels).length);
  return v?.value ?? 0;
}

describe('rule health through push evaluation', () => {
  it.each([0, 2])('counts every rule per tenant with EVAL_WORKERS=%i, in metrics and in hourly buckets', async (workers) => {
    if (workers > 0) {
      requireBuiltCli(); // shard workers run the built worker
    }
    const r = await start({ EVAL_WORKERS: String(workers) });
    for (const t of ['a', 'b']) {
      for (const rule of [PAYMENT, REFUNDS]) {
        expect((await r.call(t, '/api/v1/rules', { method: 'POST', body: rule })).status).toBe(201);
      }
    }
    // Tenant a: 20 violating and 12 complying payments; tenant b: one complying payment.
    for (let i = 0; i < 32; i++) {
      await push(r, 'a', i < 20 ? 'violates' : 'satisfies', traceId('a', i));
    }
    await push(r, 'b', 'satisfies', traceId('b', 0));
    r.clock.now += 10_001;
    expect(await r.s.shards.tick()).toBe(33);
    r.s.health.flush();

    const hour = Math.floor(r.clock.now / HOUR_MS) * HOUR_MS;
    const payment = r.s.health.totals('a', RULE, hour, hour + HOUR_MS);
    expect(payment).toMatchObject({ evaluated: 32, triggered: 32, violations: 20, skipped: 0 });
    expect(r.s.health.totals('a', REFUNDS.id, hour, hour + HOUR_MS)).toMatchObject({ evaluated: 32, triggered: 0, violations: 0, skipped: 0 });
    expect(r.s.health.totals('b', RULE, hour, hour + HOUR_MS)).toMatchObject({ evaluated: 1, triggered: 1, violations: 0 });
    expect(r.s.health.totals('a', RULE, hour + HOUR_MS, hour + 2 * HOUR_MS)).toMatchObject({ evaluated: 0 });
    // 1 trace in 16 per rule is timed: exactly 2 of 32 on one thread; on two shards each shard samples its own share.
    if (workers === 0) {
      expect(payment.costSamples).toBe(2);
      expect(r.s.health.totals('a', REFUNDS.id, hour, hour + HOUR_MS).costSamples).toBe(2);
    } else {
      expect(payment.costSamples).toBeGreaterThanOrEqual(1);
      expect(payment.costSamples).toBeLessThanOrEqual(4);
    }
    expect(r.s.health.series('a', RULE, hour - HOUR_MS, hour + HOUR_MS)).toEqual([{ bucketStart: hour, ...payment }]);

    const labels = { tenant: 'a', rule: RULE };
    expect(await metric(r.s, 'betrace_rule_evaluations_total', labels)).toBe(32);
    expect(await metric(r.s, 'betrace_rule_triggered_total', labels)).toBe(32);
    expect(await metric(r.s, 'betrace_rule_violations_total', labels)).toBe(20);
    expect(await metric(r.s, 'betrace_rule_cost_samples_total', labels)).toBe(payment.costSamples);
    expect(await metric(r.s, 'betrace_rule_cost_seconds_total', labels)).toBeGreaterThan(0);
    expect(await metric(r.s, 'betrace_rule_triggered_total', { tenant: 'a', rule: REFUNDS.id })).toBe(0);
    expect(await metric(r.s, 'betrace_rule_triggered_total', { tenant: 'b', rule: RULE })).toBe(1);
    expect(await metric(r.s, 'betrace_rule_violations_total', { tenant: 'b', rule: RULE })).toBe(0);

    expect(r.s.store.listSignals('a', { ruleId: RULE }).total).toBe(20);
  });

  it('counts a rule the evaluation budget stopped as skipped, not as evaluated', async () => {
    const r = await start({ EVAL_WORKERS: '0' }, [tenant('a')]);
    expect((await r.call('a', '/api/v1/rules', { method: 'POST', body: PAYMENT })).status).toBe(201);
    const [trace] = decodeOtlpJsonText(body('violates', traceId('a', 1)));
    // The outcome a shard sends when the trace's time budget ran out before the rule ran to its end
    // (the budget itself is the evaluator's, tested there): the rule is skipped, its partial finding stands.
    const full = evaluateOutcome(r.s.rules.active('a'), trace, undefined);
    expect(full.violations).toHaveLength(1);
    const outcome = { ...full, evaluated: [], triggered: [], costs: [], skipped: [{ ruleId: RULE, reason: 'time-budget' as const }] };
    r.s.store.db.transaction(() => r.s.pipeline.record('a', outcome, 'push'))();
    r.s.health.flush();
    const hour = Math.floor(r.clock.now / HOUR_MS) * HOUR_MS;
    expect(r.s.health.totals('a', RULE, hour, hour + HOUR_MS)).toMatchObject({ evaluated: 0, triggered: 0, violations: 0, skipped: 1 });
    expect(await metric(r.s, 'betrace_rule_skipped_total', { tenant: 'a', rule: RULE, reason: 'time-budget' })).toBe(1);
    expect(await metric(r.s, 'betrace_rule_evaluations_total', { tenant: 'a', rule: RULE })).toBe(0);
  });
});

describe('the rule_health table', () => {
  it('sums flushed counts per hour, keeps sub-microsecond costs across flushes, and survives a reopen', () => {
    const file = path.join(tmp(), 'betrace.db');
    const store = new Store(file);
    const health = new RuleHealthStore(store.db);
    const h0 = Math.floor(AT / HOUR_MS) * HOUR_MS;
    for (let i = 0; i < 4; i++) {
      health.count('a', 'r', h0 + 10, { evaluated: 1, triggered: 1, costUs: 0.4, costSamples: 1 });
      health.flush(); // 0.4 µs a flush: written as whole microseconds, the fractions carried
    }
    health.count('a', 'r', h0 + HOUR_MS + 5, { evaluated: 2, violations: 1, triggered: 1 });
    health.count('b', 'r', h0 + 10, { evaluated: 7 });
    health.flush();
    store.close();

    const again = new Store(file);
    cleanups.push(() => again.close());
    const read = new RuleHealthStore(again.db);
    expect(read.totals('a', 'r', h0, h0 + 2 * HOUR_MS)).toEqual({ evaluated: 6, triggered: 5, violations: 1, skipped: 0, costUs: 1, costSamples: 4 });
    expect(read.series('a', 'r', h0, h0 + 2 * HOUR_MS).map((b) => [b.bucketStart - h0, b.evaluated])).toEqual([
      [0, 4],
      [HOUR_MS, 2],
    ]);
    // [from, to) by bucket start.
    expect(read.totals('a', 'r', h0 + 1, h0 + 2 * HOUR_MS).evaluated).toBe(2);
    expect(read.totals('b', 'r', h0, h0 + HOUR_MS).evaluated).toBe(7);
    expect(read.totals('c', 'r', h0, h0 + HOUR_MS)).toEqual({ evaluated: 0, triggered: 0, violations: 0, skipped: 0, costUs: 0, costSamples: 0 });
  });
});

describe('the health routes', () => {
  /** Tenant a: 20 violating and 12 complying payments pushed and evaluated; 6 of its signals closed, 4 of them as false positives. */
  async function evaluated(): Promise<Running> {
    const r = await start({ EVAL_WORKERS: '0' });
    for (const t of ['a', 'b']) {
      for (const rule of [PAYMENT, REFUNDS]) {
        expect((await r.call(t, '/api/v1/rules', { method: 'POST', body: rule })).status).toBe(201);
      }
    }
    for (let i = 0; i < 32; i++) {
      await push(r, 'a', i < 20 ? 'violates' : 'satisfies', traceId('a', i));
    }
    r.clock.now += 10_001;
    await r.s.shards.tick();
    const signals = r.s.store.listSignals('a', { ruleId: RULE }).signals;
    const moves = ['false_positive', 'false_positive', 'false_positive', 'false_positive', 'resolved', 'acknowledged'];
    for (const [i, status] of moves.entries()) {
      expect((await r.call('a', `/api/v1/signals/${signals[i].id}`, { method: 'PATCH', body: { status } })).status).toBe(200);
    }
    r.clock.now += 1; // the signals were created at the previous instant: in [from, now)
    return r;
  }

  it('answer one rule’s totals, ratios, signal lifecycle, noisy hint and 24 hourly buckets', async () => {
    const r = await evaluated();
    const res = await r.call('a', `/api/v1/rules/${RULE}/health`);
    expect(res.status).toBe(200);
    const h = res.json;
    const hour = Math.floor(r.clock.now / HOUR_MS) * HOUR_MS;
    expect(h.from).toBe(new Date(Math.floor((r.clock.now - 24 * HOUR_MS) / HOUR_MS) * HOUR_MS).toISOString());
    expect(h.to).toBe(new Date(r.clock.now).toISOString());
    expect(h.totals).toMatchObject({ evaluated: 32, triggered: 32, violations: 20, skipped: 0, costSamples: 2 });
    expect(h.complianceRatio).toBeCloseTo(1 - 20 / 32, 10);
    expect(h.fireRatePerHour).toBeCloseTo(20 / ((Date.parse(h.to) - Date.parse(h.from)) / HOUR_MS), 10);
    expect(h.falsePositiveRate).toBeCloseTo(4 / 6, 10);
    expect(h.signals).toEqual({ open: 14, acknowledged: 1, resolved: 1, false_positive: 4, total: 20 });
    expect(h.lastFiredAt).toBe(new Date(r.clock.now - 1).toISOString());
    expect(h.noisy.reason).toBe('67% of its closed signals were marked false positive (4 of 6; flagged from 30%)');
    expect(h.costUsPerTrace).toBeCloseTo(h.totals.costUs / 2, 10);
    // Both rules are timed on the same number of traces: the shares are their costs' shares, summing to 1.
    const refunds = (await r.call('a', `/api/v1/rules/${REFUNDS.id}/health`)).json;
    expect(h.costShare + refunds.costShare).toBeCloseTo(1, 10);
    expect(refunds).toMatchObject({ complianceRatio: null, falsePositiveRate: null, lastFiredAt: null, noisy: null, fireRatePerHour: 0 });
    expect(refunds.totals).toMatchObject({ evaluated: 32, triggered: 0 });
    // Every hour of the range, the last one holding the counts.
    expect(h.series).toHaveLength(25);
    expect(h.series[24]).toMatchObject({ bucketStart: new Date(hour).toISOString(), evaluated: 32, triggered: 32, violations: 20 });
    expect(h.series[24].complianceRatio).toBeCloseTo(12 / 32, 10);
    expect(h.series[0]).toEqual({ bucketStart: h.from, evaluated: 0, triggered: 0, violations: 0, skipped: 0, costUs: 0, costSamples: 0, complianceRatio: null });

    // A range before anything was counted.
    const before = (await r.call('a', `/api/v1/rules/${RULE}/health?from=2026-11-01T00:00:00Z&to=${AT - 2 * HOUR_MS}`)).json;
    expect(before.totals).toEqual({ evaluated: 0, triggered: 0, violations: 0, skipped: 0, costUs: 0, costSamples: 0 });
    expect(before.complianceRatio).toBeNull();
    expect(before.from).toBe('2026-11-01T00:00:00.000Z');
  });

  it('list every rule of the tenant without series', async () => {
    const r = await evaluated();
    const res = await r.call('a', '/api/v1/rules/health');
    expect(res.status).toBe(200);
    expect(res.json.rules.map((x: { ruleId: string }) => x.ruleId)).toEqual([RULE, REFUNDS.id]);
    expect(res.json.rules[0].series).toBeUndefined();
    const one = (await r.call('a', `/api/v1/rules/${RULE}/health`)).json;
    const { series: _series, ...withoutSeries } = one;
    expect(res.json.rules[0]).toEqual(withoutSeries);
  });

  it('keep tenants apart', async () => {
    const r = await evaluated();
    const b = (await r.call('b', `/api/v1/rules/${RULE}/health`)).json;
    expect(b.totals).toEqual({ evaluated: 0, triggered: 0, violations: 0, skipped: 0, costUs: 0, costSamples: 0 });
    expect(b.signals.total).toBe(0);
    expect(b.costShare).toBeNull();
    const list = (await r.call('b', '/api/v1/rules/health')).json;
    expect(list.rules.every((x: { totals: { evaluated: number } }) => x.totals.evaluated === 0)).toBe(true);
    // A rule only tenant a has is unknown to b.
    expect((await r.call('a', '/api/v1/rules', { method: 'POST', body: { ...REFUNDS, id: 'only-a' } })).status).toBe(201);
    expect((await r.call('b', '/api/v1/rules/only-a/health')).status).toBe(404);
  });

  it('refuse bad parameters naming them, unknown rules and requests without a token', async () => {
    const r = await start({ EVAL_WORKERS: '0' });
    expect((await r.call('a', '/api/v1/rules', { method: 'POST', body: PAYMENT })).status).toBe(201);
    const cases: Array<[string, number, RegExp]> = [
      [`/api/v1/rules/${RULE}/health?from=yesterday`, 400, /^querystring\/from must be epoch milliseconds or an ISO 8601 time$/],
      [`/api/v1/rules/${RULE}/health?to=soon`, 400, /^querystring\/to must be epoch milliseconds or an ISO 8601 time$/],
      [`/api/v1/rules/${RULE}/health?from=${AT}&to=${AT - HOUR_MS}`, 400, /^querystring\/from \(.*\) must be before to/],
      [`/api/v1/rules/${RULE}/health?from=0&to=${AT}`, 400, /range is longer than 366 days/],
      ['/api/v1/rules/health?from=nope', 400, /^querystring\/from must be/],
      ['/api/v1/rules/no-such-rule/health', 404, /no rule no-such-rule/],
    ];
    for (const [url, status, message] of cases) {
      const res = await r.call('a', url);
      expect([url, res.status]).toEqual([url, status]);
      expect(res.json.message).toMatch(message);
    }
    for (const url of [`/api/v1/rules/${RULE}/health`, '/api/v1/rules/health']) {
      const res = await fetch(`${r.api}${url}`);
      expect(res.status).toBe(401);
      await res.arrayBuffer();
    }
  });
});

describe('rule health in pull mode', () => {
  it('counts the traces the poller evaluates', async () => {
    const clock = { now: Date.UTC(2026, 10, 25, 12, 0, 0) };
    const tempo = new TempoDouble({ now: () => clock.now });
    cleanups.push(() => tempo.stop());
    const url = await tempo.start();
    const config = loadConfig({ EVAL_WORKERS: '0', DATA_DIR: tmp(), RULES_DIR: path.join(root, 'examples/rules'), OTLP_PORT: '0', API_PORT: '0', HOST: '127.0.0.1', TEMPO_URL: url, POLL_START: '15m', POLL_SETTLE: '2m' });
    const s = createSidecar(config, { now: () => clock.now, logger: pino({ level: 'silent' }), tickMs: 3_600_000, pollIntervalMs: 0 });
    await s.start();
    cleanups.push(() => s.stop());
    tempo.ingest('single-tenant', exampleSpans('violates', 1, clock.now - 9.5 * 60_000));
    tempo.ingest('single-tenant', exampleSpans('satisfies', 2, clock.now - 8.5 * 60_000));
    tempo.ingest('single-tenant', exampleSpans('violates', 3, clock.now - 7.5 * 60_000));
    await s.poller!.pollOnce();
    s.health.flush();
    const hour = Math.floor(clock.now / HOUR_MS) * HOUR_MS;
    expect(s.health.totals('default', RULE, hour, hour + HOUR_MS)).toMatchObject({ evaluated: 3, triggered: 3, violations: 2, skipped: 0 });
    expect(await metric(s, 'betrace_rule_violations_total', { tenant: 'default', rule: RULE })).toBe(2);
  });
});

/** The payment example under a new trace id, its spans starting at `atMs` (for the Tempo double). */
function exampleSpans(verdict: 'violates' | 'satisfies', n: number, atMs: number): Span[] {
  const [trace] = decodeOtlpJsonText(example(verdict));
  const id = `${verdict === 'violates' ? 'aa' : 'bb'}${n.toString(16).padStart(30, '0')}`;
  const shift = BigInt(atMs) * 1_000_000n - trace.startNs;
  return trace.spans.map((sp) => ({ ...sp, traceId: id, startNs: sp.startNs + shift, endNs: sp.endNs + shift }));
}

describe('noisy-rule hints', () => {
  const totals = (triggered: number, violations: number) => ({ evaluated: triggered, triggered, violations, skipped: 0, costUs: 0, costSamples: 0 });
  const signals = (fp: number, other: number) => ({ open: 0, acknowledged: 0, resolved: other, false_positive: fp, total: fp + other });

  it('flag a false-positive rate of 30 % once 5 signals are closed, and violations on half the triggering traces once 20 triggered', () => {
    expect(noisyHint(totals(0, 0), signals(2, 3))).toEqual({ reason: '40% of its closed signals were marked false positive (2 of 5; flagged from 30%)' });
    expect(noisyHint(totals(0, 0), signals(2, 2))).toBeNull(); // 4 closed: too few to judge
    expect(noisyHint(totals(0, 0), signals(3, 7))).toEqual({ reason: '30% of its closed signals were marked false positive (3 of 10; flagged from 30%)' });
    expect(noisyHint(totals(0, 0), signals(2, 8))).toBeNull();
    expect(noisyHint(totals(20, 10), signals(0, 0))).toEqual({ reason: 'it fires on 50% of the traces it applies to (10 of 20; flagged from 50%)' });
    expect(noisyHint(totals(19, 19), signals(0, 0))).toBeNull(); // 19 triggers: too few
    expect(noisyHint(totals(40, 19), signals(0, 0))).toBeNull();
  });
});

describe('the metrics exposition', () => {
  it('starts each rule’s health series at 0 and counts per tenant and rule', async () => {
    const r = await start({ EVAL_WORKERS: '0' }, [tenant('a')]);
    expect((await r.call('a', '/api/v1/rules', { method: 'POST', body: PAYMENT })).status).toBe(201);
    const text = async () => (await fetch(`${r.api}/metrics`)).text();
    r.s.rules.active('a'); // the series start when the tenant's rules compile
    const before = await text();
    for (const name of ['betrace_rule_triggered_total', 'betrace_rule_violations_total', 'betrace_rule_cost_seconds_total', 'betrace_rule_cost_samples_total']) {
      expect(before).toContain(`${name}{tenant="a",rule="${RULE}"} 0`);
    }
    await push(r, 'a', 'violates', traceId('a', 1));
    r.clock.now += 10_001;
    await r.s.shards.tick();
    const after = await text();
    expect(after).toContain(`betrace_rule_triggered_total{tenant="a",rule="${RULE}"} 1`);
    expect(after).toContain(`betrace_rule_violations_total{tenant="a",rule="${RULE}"} 1`);
    // The first trace of a rule list is the one its first rule is timed on.
    expect(after).toContain(`betrace_rule_cost_samples_total{tenant="a",rule="${RULE}"} 1`);
    expect(after).toMatch(new RegExp(`^betrace_rule_cost_seconds_total\\{tenant="a",rule="${RULE}"\\} [0-9.e-]+$`, 'm'));
  });
});
