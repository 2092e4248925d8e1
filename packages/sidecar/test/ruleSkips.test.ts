/**
 * Rule evaluations not completed on a trace: the store keeps them per tenant and rule across a
 * restart, the counter counts them, and the rule routes show them to their own tenant only.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import pino from 'pino';
import { loadConfig } from '../src/config';
import { Metrics } from '../src/metrics';
import { RuleSkips } from '../src/ruleSkips';
import { createSidecar, Sidecar } from '../src/sidecar';
import { Store } from '../src/store';
import { DEFAULT_REDACTION, sha256Hex, Tenant } from '../src/tenants';

const T1 = 'a1'.repeat(16);
const T2 = 'b2'.repeat(16);
const T3 = 'c3'.repeat(16);
const AT = Date.parse('2026-11-28T10:00:00.000Z');
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-skips-'));

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) {
    await c();
  }
});

function open(file: string): { store: Store; metrics: Metrics; skips: RuleSkips } {
  const store = new Store(file);
  cleanups.push(() => store.close());
  const metrics = new Metrics();
  return { store, metrics, skips: new RuleSkips(store.db, metrics.ruleSkipped) };
}

describe('RuleSkips', () => {
  it('counts by reason and keeps the latest skip, across a reopen of the database file', () => {
    const file = path.join(tmp(), 'betrace.db');
    const first = open(file);
    expect(first.skips.of('a', 'r1')).toEqual({ count: 0, byReason: {} });
    first.store.db.transaction(() => {
      first.skips.record('a', 'r1', 'time-budget', T1, AT);
      first.skips.record('a', 'r1', 'time-budget', T2, AT + 1000);
      first.skips.record('a', 'r1', 'step-budget', T3, AT + 2000);
    })();
    first.store.close();

    const again = open(file);
    expect(again.skips.of('a', 'r1')).toEqual({
      count: 3,
      byReason: { 'time-budget': 2, 'step-budget': 1 },
      lastSkippedAt: '2026-11-28T10:00:02.000Z',
      lastReason: 'step-budget',
      lastTraceId: T3,
    });
  });

  it('counts an older skip without making it the latest (a replay of old traces)', () => {
    const { skips } = open(':memory:');
    skips.record('a', 'r1', 'time-budget', T2, AT + 1000);
    skips.record('a', 'r1', 'time-budget', T1, AT);
    expect(skips.of('a', 'r1')).toEqual({ count: 2, byReason: { 'time-budget': 2 }, lastSkippedAt: new Date(AT + 1000).toISOString(), lastReason: 'time-budget', lastTraceId: T2 });
  });

  it('keeps tenants and rules apart', () => {
    const { skips } = open(':memory:');
    skips.record('a', 'r1', 'error', T1, AT);
    skips.record('a', 'r2', 'step-budget', T2, AT);
    expect(skips.of('b', 'r1')).toEqual({ count: 0, byReason: {} });
    expect(skips.of('a', 'r2')).toMatchObject({ count: 1, byReason: { 'step-budget': 1 }, lastTraceId: T2 });
    expect([...skips.ofAll('a').keys()].sort()).toEqual(['r1', 'r2']);
    expect(skips.ofAll('a').get('r1')).toEqual(skips.of('a', 'r1'));
    expect(skips.ofAll('b').size).toBe(0);
  });

  it('increments betrace_rule_skipped_total{tenant,rule,reason}', async () => {
    const { skips, metrics } = open(':memory:');
    skips.record('a', 'r1', 'time-budget', T1, AT);
    skips.record('a', 'r1', 'time-budget', T2, AT);
    skips.record('b', 'r1', 'error', T3, AT);
    const text = await metrics.registry.getSingleMetricAsString('betrace_rule_skipped_total');
    expect(text).toContain('betrace_rule_skipped_total{tenant="a",rule="r1",reason="time-budget"} 2');
    expect(text).toContain('betrace_rule_skipped_total{tenant="b",rule="r1",reason="error"} 1');
  });
});

describe('the rule routes', () => {
  const tenant = (id: string): Tenant => ({ id, apiTokens: [{ name: `${id}-ui`, sha256: sha256Hex(`token-${id}`) }], ingestKeys: [], evidenceKeys: [], redaction: { ...DEFAULT_REDACTION } });

  async function sidecar(): Promise<{ sidecar: Sidecar; call: (tenantId: string, method: string, url: string, body?: unknown) => Promise<{ status: number; json: any }> }> {
    const config = loadConfig({ DATA_DIR: tmp(), OTLP_PORT: '0', API_PORT: '0', HOST: '127.0.0.1' });
    const s = createSidecar(config, { now: () => AT, logger: pino({ level: 'silent' }), tickMs: 3_600_000, tenants: [tenant('a'), tenant('b')] });
    const { apiPort } = await s.start();
    cleanups.push(() => s.stop());
    const call = async (tenantId: string, method: string, url: string, body?: unknown) => {
      const res = await fetch(`http://127.0.0.1:${apiPort}${url}`, {
        method,
        headers: { authorization: `Bearer token-${tenantId}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, json: res.status === 204 ? undefined : await res.json() };
    };
    return { sidecar: s, call };
  }

  it("show each rule's skipped evaluations, to its own tenant only", async () => {
    const { sidecar: s, call } = await sidecar();
    const rule = { id: 'slow-checkout', name: 'Slow checkout', severity: 'high', condition: 'checkout.where(duration > 2s)' };
    // The same rule id in both tenants: only A's rule was skipped.
    for (const t of ['a', 'b']) {
      const created = await call(t, 'POST', '/api/v1/rules', { ...rule, id: 'slow-checkout' });
      expect(created.status).toBe(201);
      expect(created.json.skipped).toEqual({ count: 0, byReason: {} });
    }
    expect((await call('a', 'POST', '/api/v1/rules', { ...rule, id: 'never-skipped' })).status).toBe(201);
    s.store.db.transaction(() => {
      s.ruleSkips.record('a', 'slow-checkout', 'time-budget', T1, AT);
      s.ruleSkips.record('a', 'slow-checkout', 'time-budget', T2, AT + 5000);
    })();
    const skipped = { count: 2, byReason: { 'time-budget': 2 }, lastSkippedAt: '2026-11-28T10:00:05.000Z', lastReason: 'time-budget', lastTraceId: T2 };

    const listA = await call('a', 'GET', '/api/v1/rules');
    expect(listA.json.rules.map((r: { id: string; skipped: unknown }) => [r.id, r.skipped])).toEqual([
      ['never-skipped', { count: 0, byReason: {} }],
      ['slow-checkout', skipped],
    ]);
    expect((await call('a', 'GET', '/api/v1/rules/slow-checkout')).json.skipped).toEqual(skipped);

    const listB = await call('b', 'GET', '/api/v1/rules');
    expect(listB.json.rules.map((r: { id: string; skipped: unknown }) => [r.id, r.skipped])).toEqual([['slow-checkout', { count: 0, byReason: {} }]]);
    const oneB = await call('b', 'GET', '/api/v1/rules/slow-checkout');
    expect(oneB.json.skipped).toEqual({ count: 0, byReason: {} });
    expect(JSON.stringify([listB.json, oneB.json])).not.toContain(T2);

    // A new version keeps the marker: the rule answered by PUT is the same rule.
    const updated = await call('a', 'PUT', '/api/v1/rules/slow-checkout', { ...rule, name: 'Slow checkout (v2)' });
    expect(updated.status).toBe(200);
    expect(updated.json.skipped).toEqual(skipped);

    const metricsText = await s.metrics.registry.getSingleMetricAsString('betrace_rule_skipped_total');
    expect(metricsText).toContain('betrace_rule_skipped_total{tenant="a",rule="slow-checkout",reason="time-budget"} 2');
    // Tenant b's rule has its series, at 0 (zeroed when its rules compiled, at the change): none of a's skips.
    expect(metricsText.split('\n').filter((l) => l.includes('tenant="b"'))).toEqual(['step-budget', 'time-budget', 'error'].map((r) => `betrace_rule_skipped_total{tenant="b",rule="slow-checkout",reason="${r}"} 0`));
  });
});
