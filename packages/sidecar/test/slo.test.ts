/**
 * SLOs on invariants: the generated burn-rate expressions pinned exactly; the Prometheus rules
 * they make evaluated over synthetic counter series (tests/support/promql.ts, Prometheus'
 * documented semantics) for a rule burning fast, slowly or not at all; and the API's budget,
 * burn rates and alert state over the same traffic, which must agree with the evaluation.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import pino from 'pino';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../src/config';
import { createSidecar, Sidecar } from '../src/sidecar';
import { alertExprInline, alertExprRecorded, BURN_ALERTS, burnThreshold, errorRatioExpr, grafanaAlertRules, grafanaAlertUid, prometheusRules, type SloRuleRef } from '../src/slo/alerts';
import { budgetRemainingExpr, burnRateExpr } from '../src/slo/dashboard';
import { main } from '../src/cli';
import { PromStore, runRules, extrapolatedRate, type Labels } from '../../../tests/support/promql';
import { ApiContract } from './support/apiContract';

const root = path.join(__dirname, '../../..');
const DAY = 86_400_000;
const HOUR = 3_600_000;
const fraud: SloRuleRef = { tenant: 'default', ruleId: 'payment-fraud-check', name: 'Large payments need a fraud check', slo: { objective: 0.999, windowMs: 30 * DAY } };
const [page, ticket] = BURN_ALERTS;

describe('generated SLO expressions', () => {
  it('are the workbook’s thresholds, scaled for the window', () => {
    expect([burnThreshold(page, 30 * DAY), burnThreshold(ticket, 30 * DAY)]).toEqual([14.4, 6]);
    expect([burnThreshold(page, 7 * DAY), burnThreshold(ticket, 7 * DAY)]).toEqual([3.36, 1.4]);
    expect([burnThreshold(page, 90 * DAY), burnThreshold(ticket, 90 * DAY)]).toEqual([43.2, 18]);
  });

  it('are pinned, character for character', () => {
    expect(errorRatioExpr('default', 'payment-fraud-check', '5m')).toBe(
      'sum(rate(betrace_rule_violations_total{tenant="default",rule="payment-fraud-check"}[5m])) / sum(rate(betrace_rule_triggered_total{tenant="default",rule="payment-fraud-check"}[5m]))',
    );
    expect(alertExprRecorded('default', 'payment-fraud-check', fraud.slo, page)).toBe(
      'tenant_rule:betrace_rule_error_ratio:rate1h{tenant="default",rule="payment-fraud-check"} > (14.4 * (1 - 0.999)) and tenant_rule:betrace_rule_error_ratio:rate5m{tenant="default",rule="payment-fraud-check"} > (14.4 * (1 - 0.999))',
    );
    expect(alertExprRecorded('default', 'payment-fraud-check', fraud.slo, ticket)).toBe(
      'tenant_rule:betrace_rule_error_ratio:rate6h{tenant="default",rule="payment-fraud-check"} > (6 * (1 - 0.999)) and tenant_rule:betrace_rule_error_ratio:rate30m{tenant="default",rule="payment-fraud-check"} > (6 * (1 - 0.999))',
    );
    expect(alertExprInline('acme', 'checkout', { objective: 0.995, windowMs: 7 * DAY }, page)).toBe(
      '(sum(rate(betrace_rule_violations_total{tenant="acme",rule="checkout"}[1h])) / sum(rate(betrace_rule_triggered_total{tenant="acme",rule="checkout"}[1h])) > (3.36 * (1 - 0.995))) and ' +
        '(sum(rate(betrace_rule_violations_total{tenant="acme",rule="checkout"}[5m])) / sum(rate(betrace_rule_triggered_total{tenant="acme",rule="checkout"}[5m])) > (3.36 * (1 - 0.995)))',
    );
    expect(budgetRemainingExpr(fraud)).toBe(
      '1 - (sum(increase(betrace_rule_violations_total{tenant="default",rule="payment-fraud-check"}[720h])) / sum(increase(betrace_rule_triggered_total{tenant="default",rule="payment-fraud-check"}[720h]))) / (1 - 0.999)',
    );
    expect(burnRateExpr(fraud, '6h')).toBe(
      '(sum(rate(betrace_rule_violations_total{tenant="default",rule="payment-fraud-check"}[6h])) / sum(rate(betrace_rule_triggered_total{tenant="default",rule="payment-fraud-check"}[6h]))) / (1 - 0.999)',
    );
  });

  it('make a rules file of four recordings and two alerts per rule', () => {
    const { groups } = prometheusRules([fraud]);
    expect(groups).toHaveLength(1);
    const rules = groups[0].rules as Array<{ record?: string; alert?: string; labels: Labels }>;
    expect(rules.map((r) => r.record ?? r.alert)).toEqual([
      'tenant_rule:betrace_rule_error_ratio:rate5m',
      'tenant_rule:betrace_rule_error_ratio:rate30m',
      'tenant_rule:betrace_rule_error_ratio:rate1h',
      'tenant_rule:betrace_rule_error_ratio:rate6h',
      'BeTraceRuleErrorBudgetFastBurn',
      'BeTraceRuleErrorBudgetSlowBurn',
    ]);
    expect(rules.slice(4).map((r) => r.labels)).toEqual([
      { severity: 'page', source: 'betrace', tenant: 'default', rule: 'payment-fraud-check' },
      { severity: 'ticket', source: 'betrace', tenant: 'default', rule: 'payment-fraud-check' },
    ]);
  });

  it('keep Grafana uids within 40 characters and unique', () => {
    const long: SloRuleRef = { ...fraud, tenant: 'team-payments-eu', ruleId: 'a-rule-id-that-is-much-longer-than-grafana-allows' };
    const uids = [grafanaAlertUid(fraud, page), grafanaAlertUid(long, page), grafanaAlertUid(long, ticket), grafanaAlertUid({ ...long, ruleId: `${long.ruleId}-2` }, page)];
    expect(uids[0]).toBe('betrace-slo-payment-fraud-check-page');
    expect(uids.every((u) => u.length <= 40)).toBe(true);
    expect(new Set(uids).size).toBe(uids.length);
  });
});

describe('Prometheus’ rate, as documented', () => {
  it('extrapolates to the range boundaries and not below zero', () => {
    // Samples every 15 s, +1 each, from 10 at t=15s to 29 at t=300s, over the range (0, 300s].
    const samples = Array.from({ length: 20 }, (_v, i) => ({ t: (i + 1) * 15_000, v: 10 + i }));
    expect(extrapolatedRate(samples, 0, 300_000)).toBeCloseTo(20 / 300, 12);
    // A counter that starts near zero is extrapolated to zero, not past it: first 1 at t=150s.
    const young = Array.from({ length: 11 }, (_v, i) => ({ t: 150_000 + i * 15_000, v: 1 + i }));
    expect(extrapolatedRate(young, 0, 300_000)).toBeCloseTo((10 * ((150 + 15) / 150)) / 300, 12);
    // A counter reset adds the value before it.
    expect(extrapolatedRate([{ t: 0, v: 5 }, { t: 15_000, v: 8 }, { t: 30_000, v: 2 }], 0, 30_000)).toBeCloseTo(5 / 30, 12);
    expect(extrapolatedRate([{ t: 0, v: 5 }], 0, 30_000)).toBeUndefined();
  });
});

/** Counter samples every 15 s: per second, `triggered` triggering traces of which `share(t)` violate. */
function traffic(store: PromStore, tenant: string, rule: string, from: number, to: number, perSecond: number, share: (t: number) => number) {
  const triggered: Array<{ t: number; v: number }> = [];
  const violations: Array<{ t: number; v: number }> = [];
  let tr = 0;
  let vi = 0;
  const hours = new Map<number, { triggered: number; violations: number }>();
  for (let t = from; t <= to; t += 15_000) {
    if (t > from) {
      const n = perSecond * 15;
      const bad = n * share(t);
      tr += n;
      vi += bad;
      const h = Math.floor((t - 1) / HOUR) * HOUR; // the traces of (t-15s, t] belong to the hour they ended in
      const b = hours.get(h) ?? { triggered: 0, violations: 0 };
      b.triggered += n;
      b.violations += bad;
      hours.set(h, b);
    }
    triggered.push({ t, v: tr });
    violations.push({ t, v: vi });
  }
  store.add({ __name__: 'betrace_rule_triggered_total', tenant, rule }, triggered);
  store.add({ __name__: 'betrace_rule_violations_total', tenant, rule }, violations);
  return hours;
}

const NOW = Date.UTC(2026, 10, 26, 9, 40, 0);
const START = NOW - 8 * HOUR;

/** A rule burning fast (2 % violate: burn 20), slowly (0.8 %: burn 8), not at all (0.05 %), and one that stopped 35 minutes ago. */
const SCENARIOS = [
  { rule: 'fast', share: () => 0.02, page: true, ticket: true },
  { rule: 'slow', share: () => 0.008, page: false, ticket: true },
  { rule: 'none', share: () => 0.0005, page: false, ticket: false },
  { rule: 'stopped', share: (t: number) => (t <= NOW - 35 * 60_000 ? 0.05 : 0), page: false, ticket: false, promOnly: true },
] as const;

function evaluate(rules: readonly SloRuleRef[]) {
  const store = new PromStore();
  const hours = new Map<string, Map<number, { triggered: number; violations: number }>>();
  for (const s of SCENARIOS) {
    hours.set(s.rule, traffic(store, 'default', s.rule, START, NOW, 20, s.share));
  }
  const file = parseYaml(
    // Through the text `betrace slo rules` prints, as Prometheus would read it.
    require('yaml').stringify(prometheusRules(rules), { lineWidth: 0 }),
  ) as { groups: Array<{ rules: Array<{ record?: string; alert?: string; expr: string; labels?: Labels }> }> };
  const firing = runRules(store, file.groups, START + 7 * HOUR, NOW, 30_000);
  return { firing, hours, store };
}

describe('the generated rules, evaluated over counter series', () => {
  const refs = SCENARIOS.map((s) => ({ tenant: 'default', ruleId: s.rule, name: s.rule, slo: { objective: 0.999, windowMs: 30 * DAY } }));
  const { firing, store } = evaluate(refs);
  const fired = (rule: string, severity: string) => firing.some((f) => f.labels.rule === rule && f.labels.severity === severity);

  it.each(SCENARIOS.map((s) => [s.rule, s.page, s.ticket] as const))('%s: page %s, ticket %s', (rule, pageExpected, ticketExpected) => {
    expect([fired(rule, 'page'), fired(rule, 'ticket')]).toEqual([pageExpected, ticketExpected]);
  });

  it('fire only when both windows agree: the rule that stopped still burns over 1 h and 6 h, not over 5 m and 30 m', () => {
    const ratio = (w: string) => store.evaluate(`tenant_rule:betrace_rule_error_ratio:rate${w}{tenant="default",rule="stopped"}`, NOW);
    const value = (w: string) => (ratio(w) as { v: Array<{ v: number }> }).v[0].v;
    expect(value('1h')).toBeGreaterThan(14.4 * 0.001);
    expect(value('6h')).toBeGreaterThan(6 * 0.001);
    expect(value('5m')).toBe(0);
    expect(value('30m')).toBe(0);
  });

  it('fire the Grafana rules’ inline queries exactly when the recorded ones fire', () => {
    const grafana = grafanaAlertRules(refs, 'prometheus') as { groups: Array<{ rules: Array<{ labels: Labels; data: Array<{ refId: string; model: { expr?: string } }> }> }> };
    for (const r of grafana.groups[0].rules) {
      const result = store.evaluate(r.data.find((d) => d.refId === 'A')!.model.expr!, NOW) as { v: unknown[] };
      expect([r.labels.rule, r.labels.severity, result.v.length > 0]).toEqual([r.labels.rule, r.labels.severity, fired(r.labels.rule, r.labels.severity)]);
    }
  });
});

describe('GET /api/v1/rules/{id}/slo and /api/v1/slos', () => {
  let sidecar: Sidecar;
  let api: string;
  let contract: ApiContract;
  let dir: string;
  const clock = { now: NOW };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-slo-'));
    const config = loadConfig({ EVAL_WORKERS: '0', DATA_DIR: dir, OTLP_PORT: '0', API_PORT: '0', HOST: '127.0.0.1' });
    sidecar = createSidecar(config, { now: () => clock.now, logger: pino({ level: 'silent' }), tickMs: 3_600_000 });
    const { apiPort } = await sidecar.start();
    api = `http://127.0.0.1:${apiPort}`;
    contract = await ApiContract.of(api);
  });
  afterAll(async () => {
    await sidecar.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const call = async (method: string, url: string, body?: unknown, token = sidecar.token) => {
    const res = await fetch(`${api}${url}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    contract.check(method, url, res.status, res.headers.get('content-type'), text);
    return { status: res.status, json: JSON.parse(text) as any };
  };

  it('takes an objective on a rule, answers it parsed, and refuses a bad one naming the field', async () => {
    const created = await call('POST', '/api/v1/rules', { id: 'fast', name: 'fast', severity: 'high', condition: 'trace.count(checkout) > 0', slo: { objective: '99.9%', window: '30d' } });
    expect([created.status, created.json.slo]).toEqual([201, { objective: 0.999, windowMs: 30 * DAY }]);
    // What GET answers goes back unchanged, and PATCH keeps the objective.
    const again = await call('PUT', '/api/v1/rules/fast', { ...created.json, note: 'same' });
    expect(again.status).toBe(200);
    expect((await call('PATCH', '/api/v1/rules/fast', { name: 'fast burn' })).json.slo).toEqual({ objective: 0.999, windowMs: 30 * DAY });
    const bad = await call('POST', '/api/v1/rules', { id: 'bad', name: 'b', severity: 'low', condition: 'trace.count(checkout) > 0', slo: { objective: '99.9', window: '30d' } });
    expect([bad.status, bad.json.error, bad.json.diagnostics[0].field, bad.json.message]).toEqual([
      400,
      'invalid_rule',
      'slo',
      '`slo.objective` must be a percentage strictly between 0 and 100 followed by %, e.g. "99.9%"; got "99.9"',
    ]);
    for (const s of SCENARIOS.filter((x) => x.rule !== 'fast')) {
      expect((await call('POST', '/api/v1/rules', { id: s.rule, name: s.rule, severity: 'high', condition: 'trace.count(checkout) > 0', slo: { objective: '99.9%', window: '30d' } })).status).toBe(201);
    }
    expect((await call('POST', '/api/v1/rules', { id: 'plain', name: 'no objective', severity: 'low', condition: 'trace.count(checkout) > 0' })).status).toBe(201);
  });

  it('answers 404 for an unknown rule and a rule without an objective', async () => {
    expect((await call('GET', '/api/v1/rules/nope/slo')).json).toEqual({ error: 'not_found', message: 'no rule nope' });
    expect((await call('GET', '/api/v1/rules/plain/slo')).json).toEqual({ error: 'not_found', message: 'rule plain has no objective (slo)' });
  });

  it('computes budget, burn rates and alert state from the hourly buckets, agreeing with the evaluated rules', async () => {
    const refs = SCENARIOS.map((s) => ({ tenant: 'default', ruleId: s.rule, name: s.rule, slo: { objective: 0.999, windowMs: 30 * DAY } }));
    const { firing, hours } = evaluate(refs);
    const insert = sidecar.store.db.prepare('INSERT INTO rule_health (tenant, rule_id, bucket_start, evaluated, triggered, violations, skipped, cost_us, cost_samples) VALUES (?, ?, ?, ?, ?, ?, 0, 0, 0)');
    for (const [rule, byHour] of hours) {
      for (const [h, c] of byHour) {
        insert.run('default', rule, h, c.triggered, c.triggered, Math.round(c.violations));
      }
    }
    // Another tenant's health for the same rule id is never counted.
    insert.run('acme', 'none', Math.floor(NOW / HOUR) * HOUR, 1000, 1000, 1000);
    const fast = (await call('GET', '/api/v1/rules/fast/slo')).json;
    const triggered = 8 * 3600 * 20;
    expect(fast).toMatchObject({ ruleId: 'fast', objective: 0.999, windowMs: 30 * DAY, window: '30d', triggered, violations: triggered * 0.02, errorBudget: 1 - 0.999, state: 'page', alerts: { page: true, ticket: true } });
    expect(fast.compliance).toBeCloseTo(0.98, 12);
    expect(fast.budgetRemaining).toBeCloseTo(1 - 0.02 / 0.001, 9);
    expect(fast.burnRates.map((b: { window: string; resolution: string }) => [b.window, b.resolution])).toEqual([
      ['5m', 'current-hour'],
      ['30m', 'current-hour'],
      ['1h', 'hours'],
      ['6h', 'hours'],
    ]);
    for (const b of fast.burnRates) {
      expect(b.burnRate).toBeCloseTo(20, 6);
    }
    const { slos } = (await call('GET', '/api/v1/slos')).json as { slos: Array<{ ruleId: string; state: string; alerts: { page: boolean; ticket: boolean }; budgetRemaining: number }> };
    expect(slos.map((s) => s.ruleId)).toEqual(['fast', 'none', 'slow', 'stopped']);
    for (const s of SCENARIOS.filter((x) => !('promOnly' in x))) {
      const got = slos.find((x) => x.ruleId === s.rule)!;
      const prom = { page: firing.some((f) => f.labels.rule === s.rule && f.labels.severity === 'page'), ticket: firing.some((f) => f.labels.rule === s.rule && f.labels.severity === 'ticket') };
      expect([s.rule, got.alerts]).toEqual([s.rule, prom]);
      expect([s.rule, got.state]).toEqual([s.rule, s.page ? 'page' : s.ticket ? 'ticket' : 'ok']);
    }
    expect(slos.find((x) => x.ruleId === 'none')!.budgetRemaining).toBeCloseTo(0.5, 9);
  });

  it('answers only the token’s tenant, and nothing without a token', async () => {
    expect((await fetch(`${api}/api/v1/slos`)).status).toBe(401);
    expect((await fetch(`${api}/api/v1/rules/fast/slo`)).status).toBe(401);
  });
});

describe('betrace slo', () => {
  const run = async (...args: string[]) => {
    let out = '';
    let err = '';
    const code = await main(['slo', ...args], { stdout: (t) => (out += t), stderr: (t) => (err += t), cwd: root, env: {} });
    return { code, out, err };
  };

  it('prints the Prometheus rules of the example rules with an objective', async () => {
    const { code, out, err } = await run('rules', '--rules-dir', 'examples/rules');
    expect([code, err]).toEqual([0, '2 rule(s) with an objective\n']);
    const groups = (parseYaml(out) as { groups: Array<{ name: string }> }).groups;
    expect(groups.map((g) => g.name)).toEqual(['betrace-slo:default:payment-fraud-check', 'betrace-slo:default:checkout-reserves-inventory']);
  });

  it('is what provisioning/ holds for the examples (regenerate with the commands in docs/slo.md)', async () => {
    expect((await run('rules', '--grafana', '--rules-dir', 'examples/rules')).out).toBe(fs.readFileSync(path.join(root, 'provisioning/alerting/slo.yaml'), 'utf8'));
    expect((await run('dashboard', '--rules-dir', 'examples/rules')).out).toBe(fs.readFileSync(path.join(root, 'provisioning/dashboards/betrace/slos.json'), 'utf8'));
  });

  it('refuses bad arguments and rule files with errors', async () => {
    expect((await run('alerts')).err).toMatch(/^betrace slo: unknown subcommand "alerts"\n/);
    expect((await run('rules')).err).toMatch(/^betrace slo: give --rules-dir, --tenants-file or set RULES_DIR\n/);
    expect((await run('rules', '--rules-dir', 'x', '--tenants-file', 'y')).code).toBe(2);
    const bad = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-slo-rules-'));
    fs.writeFileSync(path.join(bad, 'r.yaml'), 'rules:\n  - { id: a, name: n, severity: low, condition: checkout, slo: { objective: 99.9%, window: 2d12x } }\n');
    const r = await run('rules', '--rules-dir', bad);
    expect(r.code).toBe(1);
    expect(r.err).toContain('error: `slo.window` must be a duration with its unit (h, d or w), e.g. 30d; got "2d12x" [a.slo]');
    fs.rmSync(bad, { recursive: true, force: true });
  });
});
