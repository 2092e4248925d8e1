/**
 * The benchmark's ratios mean something only if its corpus is stable and the hand-written rules
 * are the same rules: checked here on a small corpus (no timing).
 */
import { compileRule, evaluateTrace, Trace } from '@betrace/evaluator';
const { makeCorpus } = require('../../bench/corpus') as { makeCorpus: (n: number, seed?: number) => { traces: Trace[]; totalSpans: number } };
const { ruleTexts, handWritten } = require('../../bench/rules') as { ruleTexts: (v?: number) => string[]; handWritten: (v?: number) => Array<(t: Trace) => boolean> };

describe('benchmark corpus and rules', () => {
  const { traces, totalSpans } = makeCorpus(1500);

  it('is deterministic and realistic in size', () => {
    const again = makeCorpus(1500);
    expect(again.totalSpans).toBe(totalSpans);
    expect(again.traces.map((t) => t.traceId)).toEqual(traces.map((t) => t.traceId));
    const sizes = traces.map((t) => t.spans.length);
    expect(Math.min(...sizes)).toBeGreaterThanOrEqual(5);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(200);
    expect(totalSpans / traces.length).toBeGreaterThan(20);
    expect(totalSpans / traces.length).toBeLessThan(40);
  });

  it.each([0, 3, 9])('compiled rules and hand-written rules fire on the same traces (variant %d)', (v) => {
    const texts = ruleTexts(v);
    const rules = texts.map((condition, i) => compileRule({ id: `rule-${i}`, name: 'r', severity: 'high', enabled: true, condition }).rule!);
    const hand = handWritten(v);
    const firedCounts = new Array<number>(texts.length).fill(0);
    for (const t of traces) {
      const fired = new Set(evaluateTrace(rules, t).map((x) => x.ruleId));
      hand.forEach((f, i) => {
        expect([i, f(t)]).toEqual([i, fired.has(`rule-${i}`)]);
        if (f(t)) {
          firedCounts[i]++;
        }
      });
    }
    // Every rule both fires and holds somewhere in the corpus: no rule is vacuous.
    firedCounts.forEach((n) => {
      expect(n).toBeGreaterThan(0);
      expect(n).toBeLessThan(traces.length);
    });
  });
});
