/**
 * Applicability: whether a rule's trigger held on a trace (evaluateTrace's triggerRuleIds /
 * onTriggered). Compliance evidence counts a trace for a rule's controls only when it did.
 */
import { compileRule, CompiledRule, evaluateTrace, EvaluateOptions, Trace } from '@betrace/evaluator';
import { makeTrace, SpanSpec } from './support/traces';

function rule(condition: string, id = 'r'): CompiledRule {
  const compiled = compileRule({ id, name: id, severity: 'low', enabled: true, condition });
  if (!compiled.rule) {
    throw new Error(`rule did not compile: ${JSON.stringify(compiled.diagnostics)}`);
  }
  return compiled.rule;
}

/** Evaluates with applicability asked for every rule: the ids whose trigger held, and the ids that fired. */
function applicable(rules: CompiledRule[], trace: Trace, options: EvaluateOptions = {}): { triggered: string[]; fired: string[] } {
  const triggered: string[] = [];
  const violations = evaluateTrace(rules, trace, {
    ...options,
    triggerRuleIds: new Set(rules.map((r) => r.definition.id)),
    onTriggered: (id) => triggered.push(id),
    onRuleError: (_id, e) => {
      throw e;
    },
  });
  return { triggered, fired: [...new Set(violations.map((v) => v.ruleId))] };
}

const held = (condition: string, spans: SpanSpec[]): boolean => applicable([rule(condition)], makeTrace(spans)).triggered.length === 1;

const charge = (id: string, attrs: SpanSpec['attrs'] = {}, parent?: string): SpanSpec => ({ id, name: 'payment.charge', attrs, parent, at: 1 });
const root: SpanSpec = { id: 'R', name: 'http.request', at: 0 };

describe('applicability of a when rule', () => {
  const when = 'when { payment.charge.where(amount > 1000) } always { fraud.check }';

  it('holds when the when clause holds, whether or not the rule fires', () => {
    expect(applicable([rule(when)], makeTrace([root, charge('c', { amount: 5000 }, 'R')]))).toEqual({ triggered: ['r'], fired: ['r'] });
    expect(applicable([rule(when)], makeTrace([root, charge('c', { amount: 5000 }, 'R'), { id: 'f', name: 'fraud.check', parent: 'R', at: 2 }]))).toEqual({
      triggered: ['r'],
      fired: [],
    });
  });

  it('does not hold when the when clause does not (a span of the name without the refinement, or none)', () => {
    expect(held(when, [root, charge('c', { amount: 10 }, 'R')])).toBe(false);
    expect(held(when, [root, { id: 'a', name: 'audit.log', parent: 'R' }])).toBe(false);
  });

  it('is the when clause as written, negations included', () => {
    const rule = 'when { http.request and not health.check } always { auth.check }';
    expect(held(rule, [root])).toBe(true);
    expect(held(rule, [root, { id: 'h', name: 'health.check', parent: 'R' }])).toBe(false);
  });
});

describe('applicability of a rule with a bound variable', () => {
  it('holds when some span is bound (its selector with its refinements) and the rest of when holds for it', () => {
    const r = 'when { p: payment.charge.where(amount > 1000) and count(retry) < 2 } never { fraud.flag.child_of(p) }';
    expect(held(r, [root, charge('a', { amount: 10 }, 'R'), charge('b', { amount: 2000 }, 'R')])).toBe(true);
    expect(held(r, [root, charge('a', { amount: 10 }, 'R')])).toBe(false);
    expect(held(r, [root, charge('b', { amount: 2000 }, 'R'), { id: 'x', name: 'retry', parent: 'R' }, { id: 'y', name: 'retry', parent: 'R' }])).toBe(false);
  });

  it('reads the bound span in the rest of when', () => {
    const r = 'when { p: payment.charge and p.currency == "EUR" } always { audit.log }';
    expect(held(r, [root, charge('a', { currency: 'USD' }, 'R'), charge('b', { currency: 'EUR' }, 'R')])).toBe(true);
    expect(held(r, [root, charge('a', { currency: 'USD' }, 'R')])).toBe(false);
  });

  it('holds on every trace with a span of the binding when the binding is the whole when clause', () => {
    const r = 'when { p: payment.charge } always { audit.log.after(p) }';
    const spans = [root, charge('a', {}, 'R'), { id: 'l', name: 'audit.log', parent: 'R', at: 5 }];
    expect(applicable([rule(r)], makeTrace(spans))).toEqual({ triggered: ['r'], fired: [] });
    expect(held(r, [root])).toBe(false);
  });
});

describe('applicability of an expression rule: its positive span terms', () => {
  const phi = 'trace.has(phi.read).where(record_type == "patient") and not trace.has(audit.log)';

  it('holds when the positive has(…) term holds, with its where; the negated term does not count', () => {
    expect(applicable([rule(phi)], makeTrace([root, { id: 'p', name: 'phi.read', parent: 'R', attrs: { record_type: 'patient' } }]))).toEqual({
      triggered: ['r'],
      fired: ['r'],
    });
    expect(
      applicable([rule(phi)], makeTrace([root, { id: 'p', name: 'phi.read', parent: 'R', attrs: { record_type: 'patient' } }, { id: 'a', name: 'audit.log', parent: 'R' }])),
    ).toEqual({ triggered: ['r'], fired: [] });
    // A payment trace is not evidence for a PHI control; nor is a PHI read of another record type.
    expect(held(phi, [root, charge('c', {}, 'R')])).toBe(false);
    expect(held(phi, [root, { id: 'p', name: 'phi.read', parent: 'R', attrs: { record_type: 'invoice' } }])).toBe(false);
  });

  it('joins positive terms as the body does', () => {
    const both = 'trace.has(a) and trace.has(b) and not trace.has(c)';
    expect(held(both, [{ id: 'a', name: 'a' }, { id: 'b', name: 'b', parent: 'a' }])).toBe(true);
    expect(held(both, [{ id: 'a', name: 'a' }])).toBe(false);
    const either = '(trace.has(a) or trace.has(b)) and not trace.has(c)';
    expect(held(either, [{ id: 'b', name: 'b' }])).toBe(true);
    expect(held(either, [{ id: 'x', name: 'x' }])).toBe(false);
  });

  it('keeps the positive part of a where condition: the spans the rule is about', () => {
    const pci = 'database.query.where("db.statement" matches "(?i)insert into .*card" and not "db.encrypted")';
    const insert = (encrypted: boolean): SpanSpec => ({ id: 'q', name: 'database.query', attrs: { 'db.statement': 'INSERT INTO cards VALUES (?)', 'db.encrypted': encrypted } });
    expect(applicable([rule(pci)], makeTrace([insert(true)]))).toEqual({ triggered: ['r'], fired: [] });
    expect(applicable([rule(pci)], makeTrace([insert(false)]))).toEqual({ triggered: ['r'], fired: ['r'] });
    expect(held(pci, [{ id: 'q', name: 'database.query', attrs: { 'db.statement': 'SELECT 1' } }])).toBe(false);
    expect(held('trace.has(a).where(not x) and not trace.has(b)', [{ id: 'a', name: 'a', attrs: { x: true } }])).toBe(true);
    expect(held('trace.has(a).where(x or not y) and not trace.has(b)', [{ id: 'a', name: 'a' }])).toBe(true);
  });

  it('takes the spans a comparison counts (when the count implies one) or aggregates', () => {
    expect(held('trace.count(http.retry) > 3', [{ id: 'h', name: 'http.retry' }])).toBe(true);
    expect(held('trace.count(http.retry) > 3', [{ id: 'x', name: 'other' }])).toBe(false);
    expect(held('max(db.query, duration) > 2s', [{ id: 'q', name: 'db.query', ms: 1 }])).toBe(true);
    expect(held('max(db.query, duration) > 2s', [{ id: 'x', name: 'other' }])).toBe(false);
  });

  it('applies to every trace when it has no positive span term', () => {
    for (const r of ['not trace.has(audit.log)', 'trace.count(audit.log) < 1', 'trace.duration > 10s', 'trace.has(a) or not trace.has(b)', 'all(db.query).where(duration < 1s)']) {
      expect([r, held(r, [{ id: 'x', name: 'unrelated', ms: 1 }])]).toEqual([r, true]);
    }
  });

  it('applies to every trace when its positive terms are the whole rule (a prohibition), also where the names are absent', () => {
    for (const r of ['trace.has(error.span)', 'db.query.where(duration > 1s)', 'trace.has(a) and trace.has(b)']) {
      expect([r, held(r, [{ id: 'x', name: 'unrelated', ms: 1 }])]).toEqual([r, true]);
    }
    expect(applicable([rule('db.query.where(duration > 1s)')], makeTrace([{ id: 'q', name: 'db.query', ms: 2000 }]))).toEqual({ triggered: ['r'], fired: ['r'] });
  });
});

describe('evaluateTrace applicability reporting', () => {
  it('reports only the rules asked for, once each, and changes no violation', () => {
    const rules = [rule('trace.has(a)', 'x'), rule('trace.has(a)', 'y'), rule('when { p: a } always { b }', 'z')];
    const trace = makeTrace([{ id: 'a1', name: 'a' }, { id: 'a2', name: 'a', parent: 'a1' }]);
    const triggered: string[] = [];
    const asked = evaluateTrace(rules, trace, { triggerRuleIds: new Set(['y', 'z']), onTriggered: (id) => triggered.push(id) });
    expect(triggered).toEqual(['y', 'z']);
    expect(asked).toEqual(evaluateTrace(rules, makeTrace([{ id: 'a1', name: 'a' }, { id: 'a2', name: 'a', parent: 'a1' }])));
  });

  it('reports no applicability for a rule that ran out of budget on the trace', () => {
    const r = rule('when { p: a } always { b }');
    const spans: SpanSpec[] = Array.from({ length: 50 }, (_v, i) => ({ id: `a${i}`, name: 'a', at: i }));
    const skipped: string[] = [];
    const { triggered } = applicable([r], makeTrace(spans), { maxStepsPerRule: 10, onRuleSkipped: (id) => skipped.push(id) });
    expect(skipped).toEqual(['r']);
    expect(triggered).toEqual([]);
  });
});
