/**
 * Invariant discovery (src/discover): per kind, small hand-built traces → the exact suggestion;
 * then properties on synthetic corpora with planted invariants (every suggestion compiles, the
 * real evaluator fires it on exactly the training traces it reports as violations, mining is
 * deterministic, distractors stay out), redundancy folding, existing rules and dismissals, abort.
 */
import {
  compileRule,
  DiscoverAborted,
  discoverInvariants,
  DiscoverOptions,
  evaluateTrace,
  parseRule,
  Suggestion,
  suggestionId,
  Trace,
  wilson,
} from '@betrace/evaluator';
import { fnv1a64Hex, isHeldOut, isTruncated } from '../src/discover';
import { matchesPlanted, syntheticCorpus } from '../src/discover/synthetic';
import { makeTrace, SpanSpec } from './support/traces';

const tid = (i: number): string => (i + 1).toString(16).padStart(32, '0');

/** n traces from a builder of span specs (trace i). */
function corpus(n: number, build: (i: number) => SpanSpec[]): Trace[] {
  return Array.from({ length: n }, (_, i) => makeTrace(build(i), tid(i)));
}

async function mine(traces: Trace[], options: DiscoverOptions = {}): Promise<Suggestion[]> {
  return (await discoverInvariants(() => traces, { holdout: 0, minSupport: 10, ...options })).suggestions;
}

const conditions = (s: Suggestion[]): string[] => s.map((x) => x.condition);

/** Background that holds nothing: one of several names under the root, at random-ish times. */
function noise(i: number): SpanSpec[] {
  return [{ id: 'n1', parent: 'r', name: `bg.op${i % 7}`, at: (i * 7) % 13 }];
}

describe('discovery, one kind at a time', () => {
  test('implication', async () => {
    const traces = corpus(60, (i) => [
      { id: 'r', name: 'root', ms: 100 },
      ...noise(i),
      ...(i % 2 === 0 ? [{ id: 'a', parent: 'r', name: 'payment.charge', at: 20 + (i % 5) }] : []),
      ...(i % 2 === 0 || i % 3 === 0 ? [{ id: 'b', parent: 'n1', name: 'audit.write', at: (i * 3) % 40 }] : []),
    ]);
    const s = await mine(traces, { kinds: ['implication'] });
    expect(conditions(s)).toContain('when { payment.charge } always { audit.write }');
    const sg = s.find((x) => x.condition === 'when { payment.charge } always { audit.write }')!;
    expect(sg).toMatchObject({ kind: 'implication', support: 30, violations: 0, confidence: 1, id: suggestionId('implication', sg.condition) });
    expect(sg.title).toBe('Every trace with `payment.charge` also has `audit.write`.');
    expect(sg.lift).toBeCloseTo(1 / (40 / 60), 6);
    expect(sg.confidenceLower).toBeCloseTo(wilson(1, 30).lower, 9);
    expect(sg.exampleTraceIds).toHaveLength(5);
    expect(sg.violatingTraceIds).toEqual([]);
    // B does not imply A back (it occurs alone in a third of the traces without A).
    expect(conditions(s)).not.toContain('when { audit.write } always { payment.charge }');
  });

  test('ordering, with Δ from a high quantile of the gaps and a margin', async () => {
    const traces = corpus(100, (i) => [
      { id: 'r', name: 'root', ms: 100 },
      ...noise(i),
      { id: 'b', parent: 'r', name: 'fraud.check', at: 10 },
      { id: 'a', parent: 'r', name: 'payment.charge', at: 10 + 1 + (i % 10) },
    ]);
    const s = await mine(traces, { kinds: ['ordering'] });
    // Gaps 1..10 ms: the 99th percentile bin ends below 10.1 ms; ×1.25, rounded up to 1/1.5/2/3/5/7 → 15 ms.
    expect(conditions(s)).toContain('when { a: payment.charge } always { fraud.check.before(a, within 15ms) }');
  });

  test('structure: child, parent, below', async () => {
    const traces = corpus(50, (i) => [
      { id: 'r', name: 'root', ms: 100 },
      ...noise(i),
      { id: 'h', parent: 'r', name: 'http.handler', at: 1 },
      { id: 'q', parent: 'h', name: 'db.query', at: 2 + (i % 3) },
      ...(i % 4 === 0 ? [{ id: 'q2', parent: 'n1', name: 'db.query', at: 5 }] : []),
    ]);
    const s = conditions(await mine(traces, { kinds: ['structure'] }));
    expect(s).toContain('when { a: http.handler } always { db.query.child_of(a) }');
    // A db.query outside a handler (every fourth trace) keeps the reverse from holding.
    expect(s).not.toContain('when { a: db.query } always { http.handler.parent_of(a) }');
    // child_of implies descendant_of: folded.
    expect(s).not.toContain('when { a: http.handler } always { db.query.descendant_of(a) }');
  });

  test('correlation on a shared attribute', async () => {
    const traces = corpus(60, (i) => [
      { id: 'r', name: 'root', ms: 100 },
      ...noise(i),
      { id: 'a', parent: 'r', name: 'order.create', at: 1, attrs: { order_id: `o-${i * 7919}` } },
      { id: 'b', parent: 'r', name: 'order.ship', at: 9, attrs: { order_id: `o-${i * 7919}` } },
      { id: 'c', parent: 'r', name: 'order.ship', at: 12, attrs: { order_id: `x-${i}` } },
    ]);
    const s = conditions(await mine(traces, { kinds: ['correlation'] }));
    expect(s).toContain('when { a: order.create } always { order.ship.where(order_id == a.order_id) }');
    expect(s).not.toContain('when { a: order.ship } always { order.create.where(order_id == a.order_id) }');
  });

  test('attributes: enum, required, range, shape; a dotted name quoted, a route as span("…")', async () => {
    const traces = corpus(80, (i) => [
      { id: 'r', name: 'root', ms: 100 },
      ...noise(i),
      {
        id: 'a',
        parent: 'r',
        name: 'GET /api/users/{id}',
        attrs: { 'http.method': ['GET', 'HEAD'][i % 2], amount: 1 + ((i * 37) % 500), ref: `INV-${100000 + i * 13}`, 'user.id': `u${i}` },
      },
    ]);
    const s = conditions(await mine(traces, { kinds: ['attribute'] }));
    const A = 'span("GET /api/users/{id}")';
    expect(s).toContain(`when { ${A} } never { ${A}.where(not ("http.method" in ["GET", "HEAD"])) }`);
    expect(s).toContain(`when { ${A} } never { ${A}.where(not exists("user.id")) }`);
    expect(s).toContain(`when { ${A}.where(exists(amount)) } never { ${A}.where(amount < 0 or amount > 500) }`);
    expect(s).toContain(`when { ${A}.where(exists(ref)) } never { ${A}.where(ref !~ "^[A-Z]+-[0-9]+$") }`);
    // The enum implies the attribute is required: not suggested twice.
    expect(s).not.toContain(`when { ${A} } never { ${A}.where(not exists("http.method")) }`);
  });

  test('count bounds, per trace and per bound span', async () => {
    const traces = corpus(90, (i) => {
      const specs: SpanSpec[] = [{ id: 'r', name: 'root', ms: 100 }, ...noise(i), { id: 'h', parent: 'r', name: 'api.request', at: 1 }];
      for (let k = 0; k <= i % 4; k++) {
        specs.push({ id: `q${k}`, parent: 'h', name: 'db.query', at: 2 + k });
      }
      for (let k = 0; k <= i % 3; k++) {
        specs.push({ id: `q${k + 10}`, parent: 'r', name: 'db.query', at: 20 + k });
        specs.push({ id: `x${k}`, parent: 'r', name: 'http.retry', at: 30 + k });
      }
      return specs;
    });
    const s = conditions(await mine(traces, { kinds: ['count'] }));
    expect(s).toContain('when { http.retry } never { count(http.retry) > 3 }');
    expect(s).toContain('when { a: api.request } never { count(db.query.descendant_of(a)) > 4 }');
  });

  test('absence', async () => {
    const traces = corpus(80, (i) => [
      { id: 'r', name: 'root', ms: 100 },
      ...noise(i),
      { id: 'x', parent: 'r', name: i % 2 === 0 ? 'cache.hit' : 'cache.miss', at: 1 },
      ...(i % 3 === 0 ? [{ id: 'y', parent: 'r', name: 'db.query', at: 3 }] : []),
    ]);
    const s = conditions(await mine(traces, { kinds: ['absence'] }));
    // One rule for the pair (A never with B fires where B never with A does).
    expect(s.filter((c) => c.includes('cache.hit') && c.includes('cache.miss'))).toEqual(['when { cache.hit } never { cache.miss }']);
  });
});

describe('discovery on synthetic corpora', () => {
  const model = { seed: 5, vocabulary: 300, planted: 21, traces: 2000, noise: 0.005 };
  let result: Awaited<ReturnType<typeof discoverInvariants>>;
  const synth = syntheticCorpus(model);

  beforeAll(async () => {
    result = await discoverInvariants(synth.traces, { top: 60 });
  });

  test('finds planted invariants of every kind and no distractor', () => {
    const found = synth.planted.filter((p) => result.suggestions.some((s) => matchesPlanted(p, s.condition)));
    expect(new Set(found.map((p) => p.kind)).size).toBe(7);
    expect(found.length / synth.planted.length).toBeGreaterThanOrEqual(0.8);
    for (const d of synth.distractors) {
      expect(conditions(result.suggestions)).not.toContain(d.condition);
    }
    expect(result.truncatedTraces).toBeGreaterThan(0);
  });

  test('every suggestion compiles, and fires on exactly the training traces it reports as violations', () => {
    const compiled = result.suggestions.map((s) => {
      const r = compileRule({ id: s.id, name: s.title, severity: 'low', enabled: true, condition: s.condition });
      expect(r.diagnostics).toEqual([]);
      return r.rule!;
    });
    const fired = new Map<string, Set<string>>();
    for (const t of synth.traces()) {
      if (isHeldOut(t.traceId) || isTruncated(t)) {
        continue;
      }
      for (const v of evaluateTrace(compiled, t)) {
        (fired.get(v.ruleId) ?? fired.set(v.ruleId, new Set()).get(v.ruleId)!).add(t.traceId);
      }
    }
    for (const s of result.suggestions) {
      const on = fired.get(s.id) ?? new Set();
      expect([s.condition, on.size]).toEqual([s.condition, s.violations]);
      for (const id of s.violatingTraceIds) {
        expect(on.has(id)).toBe(true);
      }
      for (const id of s.exampleTraceIds) {
        expect(on.has(id)).toBe(false);
      }
      expect(s.confidence).toBeGreaterThanOrEqual(0.97);
      expect(s.id).toMatch(/^sg-[0-9a-f]{16}$/);
    }
  });

  test('deterministic for a seed; another seed splits differently', async () => {
    const again = await discoverInvariants(synth.traces, { top: 60 });
    expect(again).toEqual(result);
    const ids = [...synth.traces()].map((t) => t.traceId);
    expect(ids.filter((id) => isHeldOut(id, 2)).length).toBeGreaterThan(0.2 * ids.length);
    expect(ids.filter((id) => isHeldOut(id, 2))).not.toEqual(ids.filter((id) => isHeldOut(id, 1)));
  });

  test('existing rules (in any equivalent form) and dismissed suggestions are not proposed again', async () => {
    const [first, second] = result.suggestions;
    // The same rule written another way: other variable name, extra spaces, a comment.
    const rewritten = first.condition.replace(/\ba\b(?=[:.),])/g, 'p').replace('{ ', '{  ') + ' # adopted';
    expect(parseRule(rewritten).ast).toBeDefined();
    const r = await discoverInvariants(synth.traces, { top: 60, existingRules: [{ id: 'mine', condition: rewritten }], dismissed: new Set([second.id]) });
    expect(r.dropped.existing).toBe(1);
    expect(r.dropped.dismissed).toBe(1);
    expect(r.suggestions.map((s) => s.id)).not.toContain(first.id);
    expect(r.suggestions.map((s) => s.id)).not.toContain(second.id);
  });
});

describe('discovery mechanics', () => {
  test('the v1 form of an implication and the mirrored absence count as existing rules', async () => {
    const traces = corpus(40, (i) => [{ id: 'r', name: 'root' }, ...noise(i), { id: 'x', parent: 'r', name: i % 2 ? 'left.op' : 'right.op' }, ...(i % 2 ? [{ id: 'y', parent: 'r', name: 'follow.op' }] : [])]);
    const before = conditions(await mine(traces));
    expect(before).toContain('when { left.op } always { follow.op }');
    expect(before).toContain('when { left.op } never { right.op }');
    const r = await discoverInvariants(() => traces, {
      holdout: 0,
      minSupport: 10,
      existingRules: [
        { id: 'a', condition: 'trace.has(left.op) and not trace.has(follow.op)' },
        { id: 'b', condition: 'when { right.op } never { left.op }' },
      ],
    });
    expect(conditions(r.suggestions)).not.toContain('when { left.op } always { follow.op }');
    expect(conditions(r.suggestions)).not.toContain('when { left.op } never { right.op }');
    expect(r.dropped.existing).toBeGreaterThanOrEqual(2);
  });

  test('an ordering folds the co-occurrence it implies', async () => {
    const traces = corpus(40, (i) => [{ id: 'r', name: 'root' }, ...noise(i), { id: 'b', parent: 'r', name: 'auth', at: 1 }, { id: 'a', parent: 'r', name: 'work', at: 3 }]);
    const r = await discoverInvariants(() => traces, { holdout: 0, minSupport: 10, kinds: ['implication', 'ordering'] });
    expect(conditions(r.suggestions)).toContain('when { a: work } always { auth.before(a, within 3ms) }');
    expect(conditions(r.suggestions)).not.toContain('when { work } always { auth }');
    expect(r.dropped.redundant).toBeGreaterThan(0);
  });

  test('truncated traces are not mined: no root, dropped spans, or a missing parent', async () => {
    const good = corpus(30, (i) => [{ id: 'r', name: 'root' }, ...noise(i), { id: 'a', parent: 'r', name: 'x.a' }, { id: 'b', parent: 'a', name: 'x.b' }]);
    const noRoot = makeTrace([{ id: 'a', parent: 'r', name: 'x.a' }], tid(100));
    const orphan = makeTrace([{ id: 'r', name: 'root' }, { id: 'a', parent: 'zz', name: 'x.a' }], tid(101));
    const dropped = { ...makeTrace([{ id: 'r', name: 'root' }, { id: 'a', parent: 'r', name: 'x.a' }], tid(102)), droppedSpanCount: 3 };
    expect([noRoot, orphan, dropped].map(isTruncated)).toEqual([true, true, true]);
    const r = await discoverInvariants(() => [...good, noRoot, orphan, dropped], { holdout: 0, minSupport: 10 });
    expect(r.truncatedTraces).toBe(3);
    expect(r.trainingTraces).toBe(30);
    const sg = r.suggestions.find((s) => s.condition === 'when { a: x.a } always { x.b.child_of(a) }')!;
    expect(sg).toMatchObject({ support: 30, violations: 0 });
  });

  test('held-out traces are measured and reported', async () => {
    const traces = corpus(400, (i) => [{ id: 'r', name: 'root' }, ...noise(i), { id: 'a', parent: 'r', name: 'x.a' }, ...(i % 50 === 0 ? [] : [{ id: 'b', parent: 'a', name: 'x.b' }])]);
    const r = await discoverInvariants(() => traces, { minSupport: 10, kinds: ['structure'] });
    const sg = r.suggestions.find((s) => s.condition === 'when { a: x.a } always { x.b.child_of(a) }')!;
    const held = traces.filter((t) => isHeldOut(t.traceId));
    expect(r.heldOutTraces).toBe(held.length);
    expect(sg.heldOut.support).toBe(held.length);
    expect(sg.heldOut.violations).toBe(held.filter((t) => !t.spans.some((s) => s.name === 'x.b')).length);
    expect(sg.support + sg.heldOut.support).toBe(400);
    expect(sg.violatingTraceIds.length).toBe(Math.min(5, sg.violations));
  });

  test('cancellation, progress and bad options', async () => {
    const traces = corpus(3000, (i) => [{ id: 'r', name: 'root' }, ...noise(i)]);
    const signal = { aborted: false };
    let seen = 0;
    const run = discoverInvariants(
      function* () {
        for (const t of traces) {
          if (++seen === 1500) {
            signal.aborted = true;
          }
          yield t;
        }
      },
      { signal },
    );
    await expect(run).rejects.toBeInstanceOf(DiscoverAborted);
    expect(seen).toBe(1500);
    const phases: string[] = [];
    await discoverInvariants(() => traces.slice(0, 2000), { onProgress: (p) => phases.push(p.phase) });
    expect(phases).toEqual(['mining', 'mining', 'mining', 'validating', 'validating', 'validating', 'ranking']);
    await expect(discoverInvariants(() => [], { minConfidence: 1.5 })).rejects.toThrow('minConfidence must be a number in (0, 1], got 1.5');
    await expect(discoverInvariants(() => [], { kinds: ['nope' as never] })).rejects.toThrow('unknown kind "nope"');
    const empty = await discoverInvariants(() => []);
    expect(empty).toMatchObject({ suggestions: [], traces: 0, candidates: 0 });
  });

  test('ids: FNV-1a 64 of the kind and the condition', () => {
    expect(fnv1a64Hex('')).toBe('cbf29ce484222325');
    expect(fnv1a64Hex('a')).toBe('af63dc4c8601ec8c');
    expect(fnv1a64Hex('foobar')).toBe('85944171f73967e8');
    expect(suggestionId('implication', 'when { a } always { b }')).toBe(`sg-${fnv1a64Hex('implication\nwhen { a } always { b }')}`);
  });

  test('decimal durations parse (a learned Δ can be 1.5ms)', () => {
    const ast = parseRule('when { a: x } always { y.before(a, within 1.5ms) }').ast;
    expect(ast?.type === 'when' && ast.always?.type === 'exists' && ast.always.selector.type === 'order' && ast.always.selector.withinNs).toBe(1_500_000);
    expect(compileRule({ id: 'd', name: 'd', severity: 'low', enabled: true, condition: 'x.where(duration > 2.5s)' }).rule).toBeDefined();
  });
});
