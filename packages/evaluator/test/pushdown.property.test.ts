/**
 * Pushdown soundness, by property: for generated rules and generated traces, whenever a rule
 * fires on a trace, the rule's TraceQL pushdown matches that trace (reference matcher in
 * tests/support/traceql.ts). A pushdown that ever narrowed would make the poller miss violations.
 */
import fc from 'fast-check';
import { compileRule, evaluateTrace, pushdownRule } from '@betrace/evaluator';
import { matchesTrace, parseTraceQL } from '../../../tests/support/traceql';
import { makeTrace, SpanSpec } from './support/traces';

const NAMES = ['svc.a', 'svc.b', 'svc.c'];

const nameSel = fc.constantFrom(...NAMES);
const number = fc.constantFrom('0', '5', '10', '-3', '2.5');
const str = fc.constantFrom('"USD"', '"EUR"', 'USD', '"5"', '"10"', '""');

const cond: fc.Arbitrary<string> = fc.letrec((tie) => ({
  atom: fc.oneof(
    fc.tuple(fc.constantFrom('amount', 'span.amount', 'code'), fc.constantFrom('==', '!=', '<', '<=', '>', '>='), number).map(([f, o, n]) => `${f} ${o} ${n}`),
    fc.tuple(fc.constantFrom('currency', 'code', 'resource.region'), fc.constantFrom('==', '!='), str).map(([f, o, s]) => `${f} ${o} ${s}`),
    fc.tuple(fc.constantFrom('currency', 'amount'), fc.constantFrom('in', 'not in'), fc.constantFrom('[USD, "EUR"]', '[5, "10"]', '["5"]')).map(([f, o, l]) => `${f} ${o} ${l}`),
    fc.constantFrom('flag', 'exists(amount)', 'exists(currency)', 'currency matches "^U"', 'currency !~ "S"', 'currency contains "U"', 'name matches "a$"'),
    fc.constantFrom('status == error', 'status != ok', 'kind == server', 'kind != client', 'duration > 5ms', 'duration <= 2ms', 'service == "s1"', 'status_message == "boom"', 'amount == null', 'currency != null'),
  ),
  cond: fc.oneof(
    { depthSize: 'small', maxDepth: 2 },
    { arbitrary: tie('atom') as fc.Arbitrary<string>, weight: 4 },
    fc.tuple(tie('cond') as fc.Arbitrary<string>, fc.constantFrom('and', 'or'), tie('cond') as fc.Arbitrary<string>).map(([a, o, b]) => `(${a} ${o} ${b})`),
    (tie('cond') as fc.Arbitrary<string>).map((c) => `not (${c})`),
  ),
})).cond;

const selector: fc.Arbitrary<string> = fc.letrec((tie) => ({
  sel: fc.oneof(
    { depthSize: 'small', maxDepth: 2 },
    { arbitrary: nameSel, weight: 3 },
    fc.constant('*'),
    fc.tuple(tie('sel') as fc.Arbitrary<string>, cond).map(([s, c]) => `${s}.where(${c})`),
    fc.tuple(tie('sel') as fc.Arbitrary<string>, fc.constantFrom('child_of', 'parent_of', 'descendant_of', 'ancestor_of', 'sibling_of'), nameSel).map(
      ([s, r, t]) => `${s}.${r}(${t})`,
    ),
    fc.tuple(tie('sel') as fc.Arbitrary<string>, fc.constantFrom('before', 'after'), nameSel, fc.constantFrom('', ', within 5ms')).map(
      ([s, o, t, w]) => `${s}.${o}(${t}${w})`,
    ),
  ),
})).sel;

const term: fc.Arbitrary<string> = fc.letrec((tie) => ({
  atom: fc.oneof(
    selector,
    selector.map((s) => `trace.has(${s})`),
    fc.tuple(selector, fc.constantFrom('>', '>=', '==', '!=', '<'), fc.constantFrom('0', '1', '2')).map(([s, o, n]) => `count(${s}) ${o} ${n}`),
    fc.tuple(fc.constantFrom('max', 'min', 'sum', 'avg'), selector, fc.constantFrom('duration', 'amount'), fc.constantFrom('>', '<')).map(
      ([f, s, x, o]) => `${f}(${s}, ${x}) ${o} ${x === 'duration' ? '3ms' : '5'}`,
    ),
    fc.tuple(selector, cond).map(([s, c]) => `all(${s}).where(${c})`),
    fc.constantFrom('trace.has_error', 'trace.root.name == "svc.a"', 'trace.root.service == s1', 'trace.duration > 10ms', 'trace.span_count > 2'),
  ),
  term: fc.oneof(
    { depthSize: 'small', maxDepth: 2 },
    { arbitrary: tie('atom') as fc.Arbitrary<string>, weight: 4 },
    fc.tuple(tie('term') as fc.Arbitrary<string>, fc.constantFrom('and', 'or'), tie('term') as fc.Arbitrary<string>).map(([a, o, b]) => `(${a} ${o} ${b})`),
    (tie('term') as fc.Arbitrary<string>).map((t) => `not ${t}`),
  ),
})).term;

const rule = fc.oneof(
  { arbitrary: selector, weight: 2 },
  { arbitrary: term, weight: 2 },
  fc
    .tuple(fc.option(selector), term, fc.option(term), fc.option(term))
    .filter(([, , a, n]) => a !== null || n !== null)
    .map(([bind, when, always, never]) => {
      const whenText = bind === null ? when : `p: ${bind} and (${when})`;
      return `when { ${whenText} }${always !== null ? ` always { ${always} }` : ''}${never !== null ? ` never { ${never} }` : ''}`;
    }),
);

const attrValue = fc.oneof(
  fc.constantFrom<unknown>(5, 10, 0, -3, 2.5, '5', '10', 'USD', 'EUR', 'xU', '', true, false, 12n),
);

const spanSpec = (i: number): fc.Arbitrary<SpanSpec> =>
  fc.record({
    id: fc.constant(String.fromCharCode(97 + i)),
    parent: i === 0 ? fc.constant(undefined) : fc.option(fc.constantFrom(...Array.from({ length: i }, (_v, k) => String.fromCharCode(97 + k))), { nil: undefined }),
    name: nameSel,
    at: fc.integer({ min: 0, max: 20 }),
    ms: fc.integer({ min: 0, max: 10 }),
    status: fc.constantFrom('unset' as const, 'ok' as const, 'error' as const),
    statusMessage: fc.constantFrom('', 'boom'),
    kind: fc.constantFrom('server' as const, 'client' as const, 'internal' as const),
    service: fc.constantFrom('s1', 's2'),
    attrs: fc.dictionary(fc.constantFrom('amount', 'currency', 'code', 'flag'), attrValue, { minKeys: 1, maxKeys: 4 }) as fc.Arbitrary<Record<string, never>>,
    resource: fc.dictionary(fc.constantFrom('region'), fc.constantFrom<unknown>('eu', 'us', '"USD"', 'USD', 5), { maxKeys: 1 }) as fc.Arbitrary<Record<string, never>>,
  });

const trace = fc.integer({ min: 1, max: 6 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_v, i) => spanSpec(i))));

describe('pushdown soundness', () => {
  it('whenever a rule fires on a trace, its pushdown query matches the trace', () => {
    let fired = 0;
    fc.assert(
      fc.property(rule, fc.array(trace, { minLength: 1, maxLength: 4 }), (text, traces) => {
        const compiled = compileRule({ id: 'r', name: 'r', severity: 'low', enabled: true, condition: text });
        if (!compiled.rule) {
          return; // generated text with a static error (e.g. a type mismatch): nothing to push down
        }
        const query = pushdownRule(compiled.rule.ast).query;
        const parsed = parseTraceQL(query);
        for (const specs of traces) {
          const t = makeTrace(specs);
          if (evaluateTrace([compiled.rule], t).length > 0) {
            fired++;
            if (!matchesTrace(parsed, t)) {
              throw new Error(`pushdown ${query} misses a trace the rule fires on`);
            }
          }
        }
      }),
      { numRuns: 3000, seed: 20261125 },
    );
    // The property must have been exercised, not vacuously true.
    expect(fired).toBeGreaterThan(1000);
  });
});
