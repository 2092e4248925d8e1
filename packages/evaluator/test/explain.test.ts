import fc from 'fast-check';
import { compileRule, evaluateTrace, explainRule, RuleDefinition } from '@betrace/evaluator';
import { makeTrace, SpanSpec, spanId } from './support/traces';

const rule = (condition: string, extra: Partial<RuleDefinition> = {}) => {
  const r = compileRule({ id: 'r', name: 'R', severity: 'high', enabled: true, condition, ...extra });
  if (!r.rule) {
    throw new Error(JSON.stringify(r.diagnostics));
  }
  return r.rule;
};

const trace = makeTrace([
  { id: 'r', name: 'checkout', at: 0, ms: 100 },
  { id: 'p', parent: 'r', name: 'payment.charge', at: 10, ms: 5, attrs: { amount: 2000, order_id: 'o1' } },
  { id: 'q', parent: 'r', name: 'payment.charge', at: 20, ms: 5, attrs: { amount: 3000, order_id: 'o2' } },
  { id: 'f', parent: 'r', name: 'payment.fraud_check', at: 5, ms: 2, attrs: { order_id: 'o1' } },
]);

describe('explainRule', () => {
  it('shows each clause, its outcome, its spans and its values', () => {
    const e = explainRule(rule('when { count(payment.charge) > 1 }\nalways { payment.refund }'), trace);
    expect(e.fired).toBe(true);
    expect(e.clauses).toEqual([
      {
        kind: 'when',
        text: 'count(payment.charge) > 1',
        held: true,
        startLine: 1,
        startColumn: 8,
        endLine: 1,
        endColumn: 33,
        value: '2 > 1',
        matchedSpanIds: [spanId('p'), spanId('q')].sort(),
        children: [expect.objectContaining({ kind: 'compare', held: true })],
      },
      {
        kind: 'always',
        text: 'payment.refund',
        held: false,
        startLine: 2,
        startColumn: 10,
        endLine: 2,
        endColumn: 24,
        matchedSpanIds: [],
        children: [expect.objectContaining({ kind: 'exists', held: false })],
      },
    ]);
  });

  it('explains each bound span of a rule with a binding', () => {
    const e = explainRule(
      rule('when { p: payment.charge.where(amount > 1000) } always { payment.fraud_check.where(order_id == p.order_id).before(p) }', {
        message: 'order {p.order_id}',
      }),
      trace,
    );
    expect(e.fired).toBe(true);
    expect(e.violations.map((v) => [v.boundSpanId, v.message])).toEqual([[spanId('q'), 'order o2']]);
    expect(e.clauses[0]).toMatchObject({ kind: 'binding', held: true, value: '2 span(s) bound to p' });
    expect(e.bindings?.map((b) => [b.spanId, b.fired, b.clauses.map((c) => [c.kind, c.held, c.matchedSpanIds])])).toEqual([
      [spanId('p'), false, [['always', true, [spanId('f')]]]],
      [spanId('q'), true, [['always', false, []]]],
    ]);
  });

  it('shows and/or/not trees for expression rules', () => {
    const e = explainRule(rule('trace.has(payment.charge) and not trace.has(payment.fraud_check)'), trace);
    expect(e.fired).toBe(false);
    expect(e.clauses[0]).toMatchObject({
      kind: 'expression',
      held: false,
      children: [
        { kind: 'exists', held: true, text: 'trace.has(payment.charge)' },
        { kind: 'not', held: false, children: [{ kind: 'exists', held: true }] },
      ],
    });
  });

  it('agrees with evaluateTrace on generated traces', () => {
    const rules = [
      'when { p: payment.charge.where(amount > 1000) } always { payment.fraud_check.where(order_id == p.order_id).before(p, within 5ms) }',
      'when { payment.charge } never { payment.refund or count(payment.charge) > 2 }',
      'trace.has(payment.charge).where(amount > 1500) and not trace.has(payment.fraud_check)',
      'all(payment.charge).where(amount < 2500) or max(*, duration) > 4ms',
    ].map((c) => rule(c));
    const span = (i: number): fc.Arbitrary<SpanSpec> =>
      fc.record({
        id: fc.constant(`s${i}`),
        name: fc.constantFrom('payment.charge', 'payment.fraud_check', 'payment.refund'),
        at: fc.integer({ min: 0, max: 20 }),
        ms: fc.integer({ min: 1, max: 6 }),
        attrs: fc.record({ amount: fc.integer({ min: 0, max: 3000 }), order_id: fc.constantFrom('o1', 'o2') }),
      });
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_v, i) => span(i)))),
        (specs) => {
          const t = makeTrace(specs);
          for (const r of rules) {
            const direct = evaluateTrace([r], t);
            const explained = explainRule(r, t);
            expect(explained.violations).toEqual(direct);
            expect(explained.fired).toBe(direct.length > 0);
            if (explained.bindings) {
              expect(explained.bindings.filter((b) => b.fired).map((b) => b.spanId)).toEqual(direct.map((v) => v.boundSpanId));
            }
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('safety', () => {
  it('a regular expression cannot stall evaluation (a backtracking engine would hang here)', () => {
    const evil = makeTrace([{ id: 'a', name: `${'a'.repeat(50000)}!` }]);
    for (const pattern of ['^(a+)+$', '(a|aa)+$', '^(a|a?)+$', '(.*a){20}$']) {
      const r = rule(`*.where(name matches "${pattern}")`);
      expect(evaluateTrace([r], evil)).toEqual([]);
    }
  });

  it('a rule that throws at run time does not stop the others', () => {
    const good = rule('checkout');
    const broken = rule('payment.charge');
    // Simulate a defect inside one compiled rule.
    (broken as unknown as { program: { fires: () => boolean } }).program.fires = () => {
      throw new Error('boom');
    };
    const errors: string[] = [];
    const v = evaluateTrace([broken, good], trace, { onRuleError: (id) => errors.push(id) });
    expect(v.map((x) => x.ruleId)).toEqual(['r']);
    expect(errors).toEqual(['r']);
  });
});
