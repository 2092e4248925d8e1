import { Counter, Registry } from 'prom-client';
import { Metrics, Tallies } from '../src/metrics';

describe('Tallies', () => {
  it('hands what was counted to the counter at every read, once', async () => {
    const registry = new Registry();
    const counter = new Counter({ name: 't_total', help: 'h', labelNames: ['tenant', 'rule'], registers: [registry] });
    const tallies = new Tallies(counter);
    const a = tallies.of('x\u0000r1', { tenant: 'x', rule: 'r1' });
    const b = tallies.of('x\u0000r2', { tenant: 'x', rule: 'r2' });
    expect(tallies.of('x\u0000r1', { tenant: 'x', rule: 'r1' })).toBe(a);
    a.n += 3;
    b.n += 0.5;
    counter.inc({ tenant: 'x', rule: 'r1' }, 1); // direct incs still add up with the tallied ones
    const first = await registry.metrics();
    expect(first).toContain('t_total{tenant="x",rule="r1"} 4');
    expect(first).toContain('t_total{tenant="x",rule="r2"} 0.5');
    a.n++;
    const second = (await counter.get()).values.map((v) => [v.labels.rule, v.value]);
    expect(second).toEqual([
      ['r1', 5],
      ['r2', 0.5],
    ]);
    expect(a.n).toBe(0);
  });

  it('keeps a collect function the counter already had', async () => {
    const registry = new Registry();
    let collected = 0;
    const counter = new Counter({
      name: 'c_total',
      help: 'h',
      labelNames: ['tenant'],
      registers: [registry],
      collect() {
        collected++;
      },
    });
    new Tallies(counter).of('t', { tenant: 't' }).n = 2;
    expect(await registry.metrics()).toContain('c_total{tenant="t"} 2');
    expect(collected).toBe(1);
  });

  it('backs the per-rule counters of the sidecar metrics', async () => {
    const m = new Metrics();
    m.ruleEvaluationsTallies.of('a\u0000r', { tenant: 'a', rule: 'r' }).n = 7;
    expect(await m.registry.metrics()).toContain('betrace_rule_evaluations_total{tenant="a",rule="r"} 7');
  });
});
