/**
 * Cost sampling (evaluateTrace's `cost`): the rules it says are sampled are timed with the
 * caller's clock, whether or not they could fire; rules the budget stopped report no cost.
 */
import { compileRule, CompiledRule, evaluateTrace } from '@betrace/evaluator';
import { makeTrace } from './support/traces';

function rule(id: string, condition: string): CompiledRule {
  const compiled = compileRule({ id, name: id, severity: 'low', enabled: true, condition });
  if (!compiled.rule) {
    throw new Error(`rule did not compile: ${JSON.stringify(compiled.diagnostics)}`);
  }
  return compiled.rule;
}

describe('cost sampling', () => {
  const rules = [rule('a', 'when { x: checkout } always { payment }'), rule('b', 'when { r: refund } always { audit }'), rule('c', 'checkout.where(duration > 1s)')];
  const trace = () => makeTrace([{ id: '1', name: 'checkout' }]);

  it('times exactly the sampled rules with the caller’s clock, in its units', () => {
    let ticks = 0;
    const costs: Array<[string, number]> = [];
    evaluateTrace(rules, trace(), { cost: { sampled: (i) => i !== 1, clock: () => (ticks += 5), onCost: (id, elapsed) => costs.push([id, elapsed]) } });
    // One clock read before and one after each sampled rule: 5 ticks apart.
    expect(costs).toEqual([
      ['a', 5],
      ['c', 5],
    ]);
    expect(ticks).toBe(20);
  });

  it('times a rule that cannot fire on the trace (its cost is the check), and none the budget stopped', () => {
    const costs: string[] = [];
    evaluateTrace(rules, trace(), { cost: { sampled: (i) => i === 1, clock: () => 0, onCost: (id) => costs.push(id) } });
    expect(costs).toEqual(['b']);
    const stopped: string[] = [];
    const skipped: string[] = [];
    evaluateTrace(rules, trace(), { maxStepsPerRule: 0, onRuleSkipped: (id) => skipped.push(id), cost: { sampled: () => true, clock: () => 0, onCost: (id) => stopped.push(id) } });
    expect(skipped).toContain('a');
    expect(stopped).not.toContain('a');
  });
});
