/**
 * The relations on traces of the shapes that used to stall the evaluator — a 40 000-span parent
 * chain, a 40 000-span parent cycle, one parent with 20 000 children — with exact answers. No
 * timing here (bench/pathological.bench.js measures speed); these pin that the answers are right
 * at that size and that nothing recurses per level (a recursive walk overflows the stack).
 */
import { compileRule, evaluateTrace, RuleSkipReason, Trace } from '@betrace/evaluator';
import { makeTrace, SpanSpec } from './support/traces';

function fires(condition: string, trace: Trace): boolean {
  const compiled = compileRule({ id: 'r', name: 'r', severity: 'low', enabled: true, condition });
  if (!compiled.rule) {
    throw new Error(`rule did not compile: ${JSON.stringify(compiled.diagnostics)}`);
  }
  const skipped: RuleSkipReason[] = [];
  const errors: unknown[] = [];
  const out = evaluateTrace([compiled.rule], trace, { onRuleSkipped: (_id, reason) => skipped.push(reason), onRuleError: (_id, e) => errors.push(e) });
  expect(skipped).toEqual([]);
  expect(errors).toEqual([]);
  return out.length > 0;
}

const N = 40_000;

/** root ← s1 ← … ← s(N-2) ← leaf, one span per millisecond. */
const chain = makeTrace(
  Array.from({ length: N }, (_v, i): SpanSpec => ({
    id: `s${i}`,
    parent: i === 0 ? undefined : `s${i - 1}`,
    name: i === 0 ? 'root' : i === N - 1 ? 'leaf' : 'step',
    at: i,
    attrs: { tag: i % 2 },
  })),
);

/** s0 ← s1 ← … ← s(N-1) ← s0: every span's parent walk goes round the whole ring. */
const ring = makeTrace(Array.from({ length: N }, (_v, i): SpanSpec => ({ id: `s${i}`, parent: `s${(i + N - 1) % N}`, name: i === 0 ? 'first' : 'step', at: i })));

/** One parent, 20 000 children (half tagged 1: at every start time, some of each tag). */
const W = 20_000;
const wide = makeTrace([
  { id: 'root', name: 'root' },
  ...Array.from({ length: W }, (_v, i): SpanSpec => ({ id: `c${i}`, parent: 'root', name: 'child', at: i % 100, attrs: { tag: Math.floor(i / 100) % 2 } })),
]);

describe('relations on a 40 000-span parent chain', () => {
  it.each([
    [`count(*.descendant_of(root)) == ${N - 1}`],
    [`count(*.ancestor_of(leaf)) == ${N - 1}`],
    [`count(step.descendant_of(step.where(tag == 0))) == ${N - 4}`],
    [`count(step.child_of(step)) == ${N - 3}`],
    [`count(*.parent_of(*)) == ${N - 1}`],
    ['count(*.sibling_of(*)) == 0'],
    [`count(*.before(*)) == ${N - 1}`],
    [`count(*.after(*, within 1ms)) == ${N - 1}`],
    [`count(*.before(leaf, within 1ms)) == 1`],
    [`count(root.ancestor_of(*.where(tag == 1))) == 1`],
  ])('%s', (rule) => {
    expect(fires(rule, chain)).toBe(true);
  });

  it('with a binding: the prepared other side is reused across bound spans', () => {
    // Every span below the root is a descendant of it: the rule never fires, for 40 000 bindings.
    expect(fires('when { p: * } always { root.ancestor_of(p) or p.where(name == root) }', chain)).toBe(false);
    expect(fires('when { p: step } never { leaf.descendant_of(p) }', chain)).toBe(true);
  });
});

describe('relations on a 40 000-span parent cycle', () => {
  it.each([
    // The parent walk from any span reaches every span, itself included.
    [`count(*.descendant_of(first)) == ${N}`],
    [`count(*.ancestor_of(first)) == ${N}`],
    [`count(first.descendant_of(first)) == 1`],
    [`count(*.child_of(first)) == 1`],
    [`count(*.sibling_of(*)) == 0`],
  ])('%s', (rule) => {
    expect(fires(rule, ring)).toBe(true);
  });
});

describe('relations on one parent with 20 000 children', () => {
  it.each([
    [`count(child.sibling_of(*)) == ${W}`],
    [`count(child.sibling_of(child.where(tag == 1))) == ${W}`],
    [`count(child.child_of(root)) == ${W}`],
    [`count(root.parent_of(child.where(tag == 1))) == 1`],
    [`count(child.descendant_of(root)) == ${W}`],
    [`count(root.ancestor_of(child)) == 1`],
    // Starts repeat every 100 children: only those at the latest start (99 ms) have none after them.
    [`count(child.before(child)) == ${W - W / 100}`],
    [`count(child.after(child.where(tag == 1), within 1ms)) == ${W - W / 100}`],
  ])('%s', (rule) => {
    expect(fires(rule, wide)).toBe(true);
  });
});
