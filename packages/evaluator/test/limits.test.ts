/**
 * Every resource limit (src/limits.ts) at the limit and one past it: spans per trace, evaluation
 * steps (default and given), the time budget (with a fake clock: no test here reads real time),
 * the regex charge, the rule-text bounds not pinned in diagnostics.test.ts — and the string paths
 * that must stay linear on huge attribute values.
 */
import {
  buildTrace,
  compileRule,
  CompiledRule,
  evaluateTrace,
  EvaluateOptions,
  explainRule,
  groupTraces,
  MAX_EVALUATION_STEPS,
  MAX_LOGICAL_OPERATORS,
  MAX_SELECTORS,
  MAX_SPANS_PER_TRACE,
  parseRule,
  RuleSkipReason,
  Trace,
  Violation,
} from '@betrace/evaluator';
import { CLOCK_CHECK_INTERVAL_STEPS, REGEX_CHARS_PER_STEP } from '../src/limits';
import { makeSpan, makeTrace, SpanSpec } from './support/traces';

function rule(condition: string, id = 'r'): CompiledRule {
  const compiled = compileRule({ id, name: id, severity: 'low', enabled: true, condition });
  if (!compiled.rule) {
    throw new Error(`rule did not compile: ${JSON.stringify(compiled.diagnostics)}`);
  }
  return compiled.rule;
}

function run(rules: CompiledRule[], trace: Trace, options: EvaluateOptions = {}): { violations: Violation[]; skipped: Array<[string, RuleSkipReason]> } {
  const skipped: Array<[string, RuleSkipReason]> = [];
  const violations = evaluateTrace(rules, trace, { ...options, onRuleSkipped: (id, reason) => skipped.push([id, reason]), onRuleError: (_id, e) => { throw e; } });
  return { violations, skipped };
}

const named = (name: string, count: number, attrs: SpanSpec['attrs'] = {}, prefix = name): SpanSpec[] =>
  Array.from({ length: count }, (_v, i) => ({ id: `${prefix}${i}`, name, at: i, attrs }));

describe('MAX_SPANS_PER_TRACE', () => {
  const spans = (n: number) => Array.from({ length: n }, (_v, i) => makeSpan({ id: `s${i}`, parent: i === 0 ? undefined : 's0', name: 'op', at: i }));

  it('keeps a trace of exactly the limit whole', () => {
    const t = buildTrace('a'.repeat(32), spans(MAX_SPANS_PER_TRACE));
    expect(t.spans).toHaveLength(MAX_SPANS_PER_TRACE);
    expect(t.droppedSpanCount).toBeUndefined();
  });

  it('keeps the first MAX_SPANS_PER_TRACE spans of a longer trace and counts the rest', () => {
    const all = spans(MAX_SPANS_PER_TRACE + 1);
    const t = buildTrace('a'.repeat(32), all);
    expect(t.spans).toHaveLength(MAX_SPANS_PER_TRACE);
    expect(t.spans[MAX_SPANS_PER_TRACE - 1]).toBe(all[MAX_SPANS_PER_TRACE - 1]);
    expect(t.droppedSpanCount).toBe(1);
    // Time bounds are those of the spans kept.
    expect(t.endNs).toBe(all[MAX_SPANS_PER_TRACE - 1].endNs);
    // The input list is not modified.
    expect(all).toHaveLength(MAX_SPANS_PER_TRACE + 1);
  });

  it('adds the spans a caller already dropped (an assembler that stopped at the cap)', () => {
    expect(buildTrace('a'.repeat(32), spans(3), 7).droppedSpanCount).toBe(7);
    expect(buildTrace('a'.repeat(32), spans(MAX_SPANS_PER_TRACE + 2), 7).droppedSpanCount).toBe(9);
    expect(buildTrace('a'.repeat(32), spans(3), 0).droppedSpanCount).toBeUndefined();
  });

  it('applies to groupTraces (what the decoders use)', () => {
    const [t] = groupTraces(spans(MAX_SPANS_PER_TRACE + 5));
    expect(t.spans).toHaveLength(MAX_SPANS_PER_TRACE);
    expect(t.droppedSpanCount).toBe(5);
  });

  it('rules see the spans kept: trace.span_count is the kept count', () => {
    const t = buildTrace('a'.repeat(32), spans(MAX_SPANS_PER_TRACE + 1));
    expect(run([rule(`trace.span_count == ${MAX_SPANS_PER_TRACE}`)], t).violations).toHaveLength(1);
  });
});

describe('the step budget', () => {
  // `a.where(tag == 1)` over n spans none of which match visits each once: exactly n steps.
  const trace = makeTrace(named('a', 50, { tag: 2 }));
  const scan = rule('a.where(tag == 1)', 'scan');

  it('lets a rule take exactly its steps', () => {
    expect(run([scan], trace, { maxStepsPerRule: 50 }).skipped).toEqual([]);
  });

  it('stops a rule at one step more, reports it, and runs the next rule', () => {
    const other = rule('trace.span_count == 50', 'other');
    const { violations, skipped } = run([scan, other], trace, { maxStepsPerRule: 49 });
    expect(skipped).toEqual([['scan', 'step-budget']]);
    expect(violations.map((v) => v.ruleId)).toEqual(['other']);
  });

  it('charges regular expressions by the length they read', () => {
    const k = 20;
    const long = makeTrace([{ id: 'x', name: 'a', attrs: { s: 'y'.repeat(k * REGEX_CHARS_PER_STEP) } }]);
    const re = rule('a.where(s matches "^x")');
    // One step for the span, k for the characters.
    expect(run([re], long, { maxStepsPerRule: 1 + k }).skipped).toEqual([]);
    expect(run([re], long, { maxStepsPerRule: k }).skipped).toEqual([['r', 'step-budget']]);
  });

  describe('by default, MAX_EVALUATION_STEPS', () => {
    // Each of A bindings scans B spans that do not match (all last 1 ms): A + A·B steps.
    const A = 1000;
    const B = MAX_EVALUATION_STEPS / A - 1;
    const perBinding = rule('when { p: a } always { b.where(duration > p.duration) }');

    it('is a whole number of bindings here', () => {
      expect(Number.isInteger(B)).toBe(true);
    });

    it('lets a rule take exactly MAX_EVALUATION_STEPS', () => {
      const t = makeTrace([...named('a', A, { tag: 1 }), ...named('b', B, { tag: 2 })]);
      const { violations, skipped } = run([perBinding], t);
      expect(skipped).toEqual([]);
      expect(violations).toHaveLength(A);
    });

    it('stops it past MAX_EVALUATION_STEPS, keeping the violations found for earlier bound spans', () => {
      const t = makeTrace([...named('a', A, { tag: 1 }), ...named('b', B + 1, { tag: 2 })]);
      const { violations, skipped } = run([perBinding], t);
      expect(skipped).toEqual([['r', 'step-budget']]);
      // A binding now costs B + 2 steps; the budget runs out during binding number A.
      expect(violations).toHaveLength(Math.floor(MAX_EVALUATION_STEPS / (B + 2)));
    });
  });

  it('turns a rule quadratic in a huge trace into a skip, not a hang', () => {
    const t = makeTrace(named('op', 40_000));
    // Every binding scans every span (none matches): 40 000² steps.
    const { violations, skipped } = run([rule('when { p: * } always { *.where(duration > p.duration) }')], t);
    expect(skipped).toEqual([['r', 'step-budget']]);
    expect(violations.length).toBeGreaterThan(0);
  });

  it('bounds explanations too, and says which stage ran out', () => {
    const t = makeTrace(named('a', 50, { tag: 2 }));
    expect(explainRule(scan, t, { maxStepsPerRule: 49 })).toEqual(expect.objectContaining({ fired: false, clauses: [], incomplete: { stage: 'evaluation', reason: 'step-budget' } }));
    // Evaluating takes 50 steps; explaining the clause (held? then its spans) takes 100.
    expect(explainRule(scan, t, { maxStepsPerRule: 99 }).incomplete).toEqual({ stage: 'explanation', reason: 'step-budget' });
    expect(explainRule(scan, t, { maxStepsPerRule: 100 }).incomplete).toBeUndefined();
  });

  it('rejects a budget that is not a number >= 0', () => {
    expect(() => evaluateTrace([scan], trace, { maxStepsPerRule: -1 })).toThrow(RangeError);
    expect(() => evaluateTrace([scan], trace, { timeBudgetMs: Number.NaN })).toThrow(RangeError);
  });
});

describe('the time budget', () => {
  /** A clock that moves 1 ms each time it is read. */
  const ticking = () => {
    let t = 0;
    return () => t++;
  };
  // Each rule scans CLOCK_CHECK_INTERVAL_STEPS spans: the clock is read only when a rule starts.
  const trace = makeTrace(named('a', CLOCK_CHECK_INTERVAL_STEPS, { tag: 2 }));
  const rules = ['r1', 'r2', 'r3'].map((id) => rule('a.where(tag == 1)', id));

  it('runs rules that start at the deadline and skips those that start past it', () => {
    // Reads: 0 (start, deadline 0 + budget), 1 (r1), 2 (r2), 3 (r3).
    expect(run(rules, trace, { timeBudgetMs: 2, now: ticking() }).skipped).toEqual([['r3', 'time-budget']]);
    expect(run(rules, trace, { timeBudgetMs: 3, now: ticking() }).skipped).toEqual([]);
    expect(run(rules, trace, { timeBudgetMs: 1, now: ticking() }).skipped).toEqual([
      ['r2', 'time-budget'],
      ['r3', 'time-budget'],
    ]);
  });

  it('stops a long rule in the middle', () => {
    // 200 bindings each scanning 200 spans: 40 200 steps, the clock read about every
    // CLOCK_CHECK_INTERVAL_STEPS of them (about 40 reads).
    const long = makeTrace(named('a', 200));
    const quadratic = rule('when { p: a } always { a.where(duration > p.duration) }', 'q');
    expect(run([quadratic], long, { timeBudgetMs: 5, now: ticking() }).skipped).toEqual([['q', 'time-budget']]);
    expect(run([quadratic], long, { timeBudgetMs: 1000, now: ticking() }).skipped).toEqual([]);
  });

  it('is off unless asked for: the clock is never read', () => {
    const now = jest.fn(() => 0);
    run(rules, trace, { now });
    expect(now).not.toHaveBeenCalled();
  });
});

describe('rule-text bounds at the limit', () => {
  it('accepts exactly MAX_LOGICAL_OPERATORS and/or operators', () => {
    const at = Array.from({ length: MAX_LOGICAL_OPERATORS + 1 }, (_v, i) => `a${i}`).join(' or ');
    expect(parseRule(at).diagnostics.filter((d) => d.code === 'too-complex')).toEqual([]);
    const past = Array.from({ length: MAX_LOGICAL_OPERATORS + 2 }, (_v, i) => `a${i}`).join(' or ');
    expect(parseRule(past).diagnostics.map((d) => d.code)).toEqual(['too-complex']);
  });

  it('accepts exactly MAX_SELECTORS selectors', () => {
    const at = Array.from({ length: MAX_SELECTORS }, (_v, i) => `span${i}`).join(' and ');
    expect(parseRule(at).diagnostics).toEqual([]);
  });
});

describe('string paths stay linear on huge values', () => {
  // A numeric-looking string that is not a number: the old numeric-string pattern backtracked
  // quadratically on it (about 30 s for 20 000 digits); this one would take hours that way.
  const digits = '1'.repeat(200_000) + 'x';
  const t = makeTrace([{ id: 'x', name: 'a', attrs: { amount: digits, code: '1'.repeat(200_000) } }]);

  it('compares a 200 000-character non-number with a number as different types', () => {
    expect(run([rule('a.where(amount > 5)')], t).violations).toHaveLength(0);
    expect(run([rule('a.where(amount != 5)')], t).violations).toHaveLength(0);
  });

  it('still reads a 200 000-digit numeric string as a number', () => {
    expect(run([rule('a.where(code > 5)')], t).violations).toHaveLength(1);
  });

  it('matches a regular expression over it in linear time (RE2)', () => {
    expect(run([rule('a.where(amount matches "^(1+)+y$")')], t).violations).toHaveLength(0);
  });
});
