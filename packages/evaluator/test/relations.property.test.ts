/**
 * The indexed relations (ancestry numbering, prepared other sides, binary searches) against the
 * plain definitions (support/naiveRelations.ts), by property: on random selectors — nested, reading
 * the bound span — and random traces that the decoder lets through even when malformed (repeated
 * span ids, parents that are missing, parent cycles and self-parents, equal start times, BeTrace's
 * own spans), every relation and order selector picks exactly the spans the definition picks,
 * for every bound span in turn on one shared trace index (so stale prepared values would show).
 */
import fc from 'fast-check';
import { compileRule, Selector, Span } from '@betrace/evaluator';
import { Budget } from '../src/budget';
import type { CompiledRuleImpl, Ctx } from '../src/compile';
import { WALK_AT_MOST_SPANS } from '../src/relations';
import { TraceIndex } from '../src/traceIndex';
import { NaiveTrace } from './support/naiveRelations';
import { makeTrace, SpanSpec } from './support/traces';

const NAMES = ['op.a', 'op.b', 'op.c'];
const IDS = 'abcdefghijkl'.split('');

const cond = fc.constantFrom('tag == 1', 'tag == p.tag', 'status == error', 'not flag', 'duration > 1ms');

const { structural: structuralSelector } = fc.letrec((tie) => ({
  structural: fc.oneof(
    fc
      .tuple(tie('sel') as fc.Arbitrary<string>, fc.constantFrom('child_of', 'parent_of', 'descendant_of', 'ancestor_of', 'sibling_of'), tie('sel') as fc.Arbitrary<string>)
      .map(([s, r, t]) => `${s}.${r}(${t})`),
    fc
      .tuple(tie('sel') as fc.Arbitrary<string>, fc.constantFrom('before', 'after'), tie('sel') as fc.Arbitrary<string>, fc.constantFrom('', ', within 1ms', ', within 3ms'))
      .map(([s, o, t, w]) => `${s}.${o}(${t}${w})`),
  ),
  sel: fc.oneof(
    { depthSize: 'small', maxDepth: 3 },
    { arbitrary: fc.constantFrom(...NAMES), weight: 4 },
    fc.constant('*'),
    fc.constant('p'),
    fc.tuple(tie('sel') as fc.Arbitrary<string>, cond).map(([s, c]) => `${s}.where(${c})`),
    tie('structural') as fc.Arbitrary<string>,
  ),
}));

const spanSpec: fc.Arbitrary<SpanSpec> = fc.record({
  id: fc.constantFrom(...IDS),
  parent: fc.option(fc.constantFrom(...IDS, 'z'), { nil: undefined }),
  name: fc.constantFrom(...NAMES),
  at: fc.integer({ min: 0, max: 8 }),
  ms: fc.integer({ min: 0, max: 3 }),
  status: fc.constantFrom('unset' as const, 'error' as const),
  service: fc.constantFrom('shop', 'shop', 'shop', 'betrace'),
  attrs: fc.record({ tag: fc.constantFrom(1, 2), flag: fc.boolean() }),
});

/** Up to 40 spans, uniformly: other sides of more than a few spans take the indexed path. */
const traceSpecs = fc.integer({ min: 0, max: 40 }).chain((n) => fc.array(spanSpec, { minLength: n, maxLength: n }));

/**
 * The same, padded with parentless spans past WALK_AT_MOST_SPANS, so that ancestry takes the
 * numbered path (ancestry.ts) rather than the parent walk of small traces.
 */
const PADDING: SpanSpec[] = Array.from({ length: WALK_AT_MOST_SPANS + 1 }, (_v, i) => ({ id: `pad${i}`, name: 'op.pad', at: i % 9 }));
const paddedTraceSpecs = traceSpecs.map((specs) => [...specs, ...PADDING]);

/** Every relation/order node of a selector, innermost first. */
function structural(sel: Selector, out: Selector[] = []): Selector[] {
  if (sel.type === 'where') {
    structural(sel.base, out);
  } else if (sel.type === 'relation' || sel.type === 'order') {
    structural(sel.base, out);
    structural(sel.other, out);
    out.push(sel);
  }
  return out;
}

/** Checks every relation/order node of `text` against the plain definitions, bound to each of `bounds(spans)` in turn. */
function check(text: string, specs: SpanSpec[], bounds: (spans: readonly Span[]) => Array<Span | undefined>, counts: { compared: number; indexed: number; nonEmpty: number }): void {
  const compiled = compileRule({ id: 'r', name: 'r', severity: 'low', enabled: true, condition: `when { p: * } always { ${text} }` });
  if (!compiled.rule) {
    return; // e.g. too many selectors
  }
  const impl = compiled.rule as CompiledRuleImpl;
  const ast = impl.ast;
  if (ast.type !== 'when' || ast.always?.type !== 'exists') {
    throw new Error(`unexpected AST for ${text}`);
  }
  const nodes = structural(ast.always.selector);
  const ix = new TraceIndex(makeTrace(specs));
  const naive = new NaiveTrace(ix.spans);
  const ctx: Ctx = { ix, bound: undefined, budget: new Budget({ maxStepsPerRule: Infinity }) };
  const list = (sel: Selector) => impl.parts.selectors.get(sel)!.list(ctx);
  for (const bound of bounds(ix.spans)) {
    ctx.bound = bound;
    for (const node of nodes) {
      if (node.type !== 'relation' && node.type !== 'order') {
        continue;
      }
      const base = list(node.base);
      const other = list(node.other);
      const expected =
        node.type === 'relation'
          ? base.filter((s) => naive.relation(node.relation, s, other))
          : base.filter((s) => naive.order(node.order === 'before', node.withinNs, s, other));
      const got = list(node);
      if (got.length !== expected.length || got.some((s, i) => s !== expected[i])) {
        const show = (xs: ReadonlyArray<{ spanId: string; name: string }>) => xs.map((s) => `${s.name}#${s.spanId.slice(-2)}`).join(' ');
        throw new Error(`${text}: at ${JSON.stringify(impl.definition.condition.slice(node.loc.start, node.loc.end))} bound ${bound?.spanId ?? '-'}\n got      ${show(got)}\n expected ${show(expected)}`);
      }
      counts.compared++;
      if (other.length > 8) {
        counts.indexed++;
      }
      if (expected.length > 0) {
        counts.nonEmpty++;
      }
    }
  }
}

describe('indexed relations', () => {
  it('pick exactly the spans the plain definitions pick', () => {
    const counts = { compared: 0, indexed: 0, nonEmpty: 0 };
    fc.assert(
      fc.property(structuralSelector as fc.Arbitrary<string>, traceSpecs, (text, specs) => {
        // Unbound, each span bound in order, then again in reverse: one index serves them all.
        check(text, specs, (spans) => [undefined, ...spans, ...[...spans].reverse()], counts);
      }),
      { numRuns: 600, seed: 20261201 },
    );
    // Exercised, not vacuous: many comparisons, on the indexed path, with spans picked.
    expect(counts.compared).toBeGreaterThan(15_000);
    expect(counts.indexed).toBeGreaterThan(4_000);
    expect(counts.nonEmpty).toBeGreaterThan(8_000);
  });

  it('pick exactly the spans the plain definitions pick in traces numbered for ancestry', () => {
    const counts = { compared: 0, indexed: 0, nonEmpty: 0 };
    fc.assert(
      fc.property(structuralSelector as fc.Arbitrary<string>, paddedTraceSpecs, (text, specs) => {
        // A few bound spans (the plain definitions are slow on 300 spans), revisited.
        check(text, specs, (spans) => [undefined, ...spans.slice(0, 4), spans[0], undefined], counts);
      }),
      { numRuns: 150, seed: 20261202 },
    );
    expect(counts.compared).toBeGreaterThan(700);
    expect(counts.nonEmpty).toBeGreaterThan(300);
  });

  it('generates the malformed shapes it claims to (cycles, repeated ids, missing parents)', () => {
    let cycles = 0;
    let repeated = 0;
    let missing = 0;
    fc.assert(
      fc.property(traceSpecs, (specs) => {
        const ix = new TraceIndex(makeTrace(specs));
        if (ix.ancestry.cycleCount > 0) {
          cycles++;
        }
        if (new Set(ix.spans.map((s) => s.spanId)).size < ix.spans.length) {
          repeated++;
        }
        if (ix.spans.some((s) => s.parentSpanId !== undefined && ix.span(s.parentSpanId) === undefined)) {
          missing++;
        }
      }),
      { numRuns: 300, seed: 7 },
    );
    expect(cycles).toBeGreaterThan(50);
    expect(repeated).toBeGreaterThan(50);
    expect(missing).toBeGreaterThan(50);
  });
});
