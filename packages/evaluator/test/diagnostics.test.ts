/**
 * Every diagnostic, its exact text and position: these are what a rule author reads in the
 * editor (Monaco markers) and in `betrace check`.
 */
import { MAX_LOGICAL_OPERATORS, MAX_NESTING_DEPTH, MAX_SELECTORS, MAX_SOURCE_LENGTH, parseRule } from '@betrace/evaluator';

type Row = [string, string, string, string, number, number, number, number];

/**
 * The one-letter span names of these tables (`a`, `b` …) would each draw an `unknown-span-name`
 * warning (one- and two-letter selectors look like mistyped variables); the tables about other
 * diagnostics declare them known span names, as a tenant's other rules or Tempo would.
 */
const FIXTURE_NAMES = { vocabulary: { spanNames: ['a', 'b', 'c', 'd', 'p', 'q', 'x'] } };

describe('diagnostics', () => {
  it.each<Row>([
    ["a.where(amount 5)", "error", "syntax", "expected a comparison operator after `amount`, found `5`", 1, 16, 1, 17],
    ["a.where(amount > )", "error", "syntax", "unexpected `)`; expected a value, a name or `*`", 1, 18, 1, 19],
    ["when { a } alway { b }", "error", "unknown-keyword", "unknown keyword `alway`; did you mean `always`?", 1, 12, 1, 17],
    ["when { a } always { b", "error", "syntax", "expected `}` before the end of the rule", 1, 22, 1, 23],
    ["a.wher(x > 1)", "error", "unknown-method", "unknown selector method `wher`; did you mean `where`?", 1, 3, 1, 7],
    ["cout(a) > 1", "error", "unknown-function", "unknown function `cout`; did you mean `count`?", 1, 1, 1, 5],
    ["trace.durration > 1s", "error", "unknown-field", "unknown trace field `durration`; did you mean `duration`?", 1, 7, 1, 16],
    ["trace.hass(a)", "error", "unknown-function", "unknown function `trace.hass`; did you mean `trace.has`?", 1, 7, 1, 11],
    ["a.where(durration > 5ms)", "warning", "unknown-field", "`durration` is read as the span attribute `durration`; did you mean the span field `duration`?", 1, 9, 1, 18],
    ["a.where(duration > \"abc\")", "error", "type-mismatch", "`duration` is a duration and cannot be compared with a string `\"abc\"`", 1, 9, 1, 25],
    ["a.where(status == foo)", "error", "unknown-enum", "`status` is one of `ok`, `error`, `unset`; `foo` never matches", 1, 19, 1, 22],
    ["a.where(kind == servr)", "error", "unknown-enum", "`kind` is one of `server`, `client`, `producer`, `consumer`, `internal`, `unspecified`; `servr` never matches; did you mean `server`?", 1, 17, 1, 22],
    ["a.where(name > 5)", "error", "type-mismatch", "`name` is a string and cannot be compared with a number `5`", 1, 9, 1, 17],
    ["trace.has_error > 3", "error", "type-mismatch", "`trace.has_error` is a boolean and cannot be compared with a number `3`", 1, 1, 1, 20],
    ["a.where(name matches 5)", "error", "type-mismatch", "`matches` takes a regular expression as a string, e.g. `name matches \"^GET \"`", 1, 22, 1, 23],
    ["a.where(name matches \"(\")", "error", "invalid-regex", "invalid regular expression: error parsing regexp: missing closing ): `(`", 1, 22, 1, 25],
    ["a.where(x in 5)", "error", "type-mismatch", "`in` takes a list on its right, e.g. `x in [\"a\", \"b\"]`", 1, 14, 1, 15],
    ["payment.amount > 1000", "error", "selector-compared", "a span selector cannot be compared directly; did you mean `payment.where(amount > 1000)`?", 1, 1, 1, 15],
    ["when { a }", "error", "missing-clause", "`when` needs an `always { \u2026 }` or a `never { \u2026 }` clause after it", 1, 1, 1, 5],
    ["when { a } never { b } always { c }", "error", "clause-order", "`always` must come before `never`", 1, 24, 1, 30],
    ["when { a } always { b } always { c }", "error", "duplicate-clause", "a rule has at most one `always` clause", 1, 25, 1, 31],
    ["a.where(p.amount > 1)", "error", "unbound-variable", "unknown variable `p`: bind it first (`when { p: \u2026 }`) or write a dotted attribute name quoted (`\"p.amount\"`) or scoped (`span.p.amount`)", 1, 9, 1, 10],
    ["when { p: a } always { b.where(q.x == 1) }", "error", "unbound-variable", "unknown variable `q`: `p` is the only bound span; write a dotted attribute name quoted (`\"q.x\"`) or scoped (`span.q.x`)", 1, 32, 1, 33],
    ["not (p: a)", "error", "misplaced-binding", "a binding `p:` may only stand first in `when { \u2026 }`, outside `not` and `or`", 1, 6, 1, 7],
    ["when { a or p: b } always { c }", "error", "misplaced-binding", "a binding `p:` may only stand first in `when { \u2026 }`, outside `not` and `or`", 1, 13, 1, 14],
    ["when { p: a } always { q: b }", "error", "misplaced-binding", "a binding `q:` may only stand first in `when { \u2026 }`, outside `not` and `or`", 1, 24, 1, 25],
    ["p: a", "error", "misplaced-binding", "a binding `p:` may only stand first in `when { \u2026 }`, outside `not` and `or`", 1, 1, 1, 2],
    ["count(a)", "error", "not-a-condition", "`count(\u2026)` must be compared, e.g. `count(\u2026) > 0`", 1, 1, 1, 9],
    ["max(a) > 1", "error", "arity", "`max(\u2026)` takes a span selector and a span field, e.g. `max(db.query, duration)`", 1, 1, 1, 7],
    ["a.before(b, within 5)", "error", "type-mismatch", "`within` takes a duration, e.g. `within 5s`", 1, 20, 1, 21],
    ["a.before(b, 5s)", "error", "arity", "`before(\u2026)` takes a span selector and optionally `within <duration>`", 1, 1, 1, 16],
    ["span(a)", "error", "arity", "`span(\u2026)` takes the span name as a string, e.g. `span(\"GET /api/users/{id}\")`", 1, 1, 1, 8],
    ["all(a)", "error", "all-without-where", "`all(\u2026)` needs a condition: `all(S).where(\u2026)`", 1, 1, 1, 7],
    ["trace.duration", "error", "not-a-condition", "`trace.duration` is not a condition; compare it, e.g. `trace.duration > \u2026`", 1, 1, 1, 15],
    ["5 > 3", "error", "constant-comparison", "this compares two fixed values; a condition needs a span selector, a count or a trace field", 1, 1, 1, 6],
    ["a.where(count(b) > 1)", "error", "not-an-operand", "expected an attribute or a value, found `count(b)`", 1, 9, 1, 17],
    ["a.child_of(1)", "error", "not-a-selector", "expected a span selector, found `1`", 1, 12, 1, 13],
    ["count(a) > \"x\"", "error", "type-mismatch", "`count(a)` is a number and cannot be compared with a string `\"x\"`", 1, 1, 1, 15],
    ["exists(a)", "error", "misplaced-exists", "`exists(\u2026)` tests an attribute inside `where(\u2026)`", 1, 1, 1, 10],
    ["a.where(x in [b.c])", "error", "not-a-value", "a list holds plain values, found `b.c`", 1, 15, 1, 18],
    ["trace.root.name.where(x > 1)", "error", "not-a-selector", "`trace.root.name` is a trace field, not a span selector", 1, 1, 1, 16],
    ["when { a } always { b } never { c } never { d }", "error", "duplicate-clause", "a rule has at most one `never` clause", 1, 37, 1, 42],
    ["all(a).child_of(b)", "error", "all-without-where", "`all(\u2026)` takes `.where(\u2026)`, not `.child_of(\u2026)`", 1, 8, 1, 16],
    ["a.where(5)", "error", "not-a-condition", "expected a condition, found `5`", 1, 9, 1, 10],
    ["\"x\"", "error", "not-a-condition", "`\"x\"` is a value, not a condition", 1, 1, 1, 4],
    ["max(a, 5) > 1", "error", "not-a-field", "expected a span field or attribute, found `5`", 1, 8, 1, 9],
    ["a.where(p: b)", "error", "misplaced-binding", "a binding `p:` may only stand first in `when { \u2026 }`", 1, 9, 1, 10],
  ])('%s', (rule, severity, code, message, startLine, startColumn, endLine, endColumn) => {
    const r = parseRule(rule, FIXTURE_NAMES);
    expect(r.diagnostics).toEqual([{ severity, code, message, startLine, startColumn, endLine, endColumn }]);
    expect(r.ast === undefined).toBe(severity === 'error');
  });

  // Plausible mistakes with realistic names and no vocabulary: each pinned to its exact words and place.
  it.each<Row>([
    ["when { p: payment.charge } always { fraud.before(q) }", "warning", "unknown-span-name", "`q` is read as a span name, and no known span has that name; did you mean the bound span `p`?", 1, 50, 1, 51],
    ["when { p: payment.charge } never { x }", "warning", "unknown-span-name", "`x` is read as a span name, and no known span has that name; did you mean the bound span `p`?", 1, 36, 1, 37],
    ["when { payment.charge } always { fraud.check.before(p) }", "warning", "unknown-span-name", "`p` is read as a span name, and no known span has that name; bind it first (`when { p: … }`) if it is meant as a variable, or write `span(\"p\")` for a span of that name", 1, 53, 1, 54],
    ["when { charge: payment.charge } always { fraud.check.before(chrage) }", "warning", "unknown-span-name", "`chrage` is read as a span name, and no known span has that name; did you mean the bound span `charge`?", 1, 61, 1, 67],
    ["when { p: payment.charge } always { l.usr }", "warning", "unknown-span-name", "`l.usr` is read as a span name; `l` is not a bound span; did you mean `p.usr`?", 1, 37, 1, 42],
    ["when { p: payment.charge } always { fraud.check.before(p.id) }", "warning", "unknown-span-name", "`p.id` is read as a span name, not as the field `id` of the bound span `p`: a selector picks spans by name", 1, 56, 1, 60],
    ["when { p: payment.charge } always { p.durration > 1s }", "warning", "unknown-field", "`p.durration` is read as the span attribute `durration`; did you mean the span field `p.duration`?", 1, 37, 1, 48],
    ["trace.cnt(http.retry) > 3", "error", "unknown-function", "unknown function `trace.cnt`; did you mean `trace.count`?", 1, 7, 1, 10],
    ["trace.has(http.retry) > 3", "error", "not-a-value", "`trace.has(…)` is a condition and cannot be compared; to count spans write `trace.count(…)`", 1, 1, 1, 22],
    ["trace.size(http.retry) > 3", "error", "unknown-function", "unknown function `trace.size`; the trace functions are `trace.has(…)` and `trace.count(…)`", 1, 7, 1, 11],
    ["http.retry.wher(x > 1) > 3", "error", "unknown-method", "unknown selector method `wher`; did you mean `where`?", 1, 12, 1, 16],
    ["http.retry.count() > 3", "error", "unknown-method", "unknown selector method `count`; write `count(http.retry)`", 1, 12, 1, 17],
    ["payment.charge.before(fraud.check, within 5 s)", "error", "duration-unit", "a duration is written without a space before its unit: `5s`", 1, 43, 1, 46],
    ["payment.charge.before(fraud.check, within 5sec)", "error", "duration-unit", "unknown duration unit `sec`; write `5s` (units: `ns`, `us`, `µs`, `ms`, `s`, `m`, `h`)", 1, 43, 1, 47],
    ["payment.charge.before(fraud.check, within 5 seconds)", "error", "duration-unit", "a duration is written without a space before its unit: `5s`", 1, 43, 1, 52],
    ["payment.charge.where(duration > 2d)", "error", "duration-unit", "`2d`: durations go up to hours (`h`); write `48h`", 1, 33, 1, 35],
    ["payment.charge.where(duration > 100)", "warning", "duration-unit", "`100` has no unit and is read as nanoseconds; write the unit, e.g. `100ms` or `100s`", 1, 33, 1, 36],
    ["trace.duration > 5", "warning", "duration-unit", "`5` has no unit and is read as nanoseconds; write the unit, e.g. `5ms` or `5s`", 1, 18, 1, 19],
    ["payment.charge.where(amount = 1)", "error", "syntax", "`=` is not an operator; compare with `==`", 1, 29, 1, 30],
    ["payment.charge.where(amount === 1)", "error", "syntax", "`=` is not an operator; compare with `==`", 1, 31, 1, 32],
    ["payment.charge.where(currency == \"USD)", "error", "syntax", "this string has no closing `\"` on its line", 1, 34, 1, 39],
    ["payment.charge.where(currency == 'USD)", "error", "syntax", "this string has no closing `'` on its line", 1, 34, 1, 39],
    ["payment.charge.where(amount > 1) fraud.check", "error", "syntax", "expected `and`, `or` or a comparison operator after `)`, found `fraud`", 1, 34, 1, 39],
    ["payment.charge.before(fraud.check within 5s)", "error", "syntax", "`within` follows a comma: `S.before(T, within 5s)`", 1, 35, 1, 41],
    ["if { payment.charge } then { fraud.check }", "error", "unknown-keyword", "unknown keyword `if`; a rule is `when { … }` followed by `always { … }` and/or `never { … }`", 1, 1, 1, 3],
    ["when { payment.charge } then { fraud.check }", "error", "unknown-keyword", "unknown keyword `then`; a rule is `when { … }` followed by `always { … }` and/or `never { … }`", 1, 25, 1, 29],
    ["when { payment.charge } always", "error", "syntax", "unexpected end of the rule; expected `{`", 1, 31, 1, 32],
    ["payment.charge.where(amount > 1) and", "error", "syntax", "unexpected end of the rule; expected a value, a name, `*` or `not`", 1, 37, 1, 38],
    ["payment.charge.where(x in [1, 2)", "error", "syntax", "unexpected `)`; expected `]`", 1, 32, 1, 33],
    ["payment.charge.before(fraud.check,)", "error", "syntax", "unexpected `)`; expected a value, a name, `*`, `not` or `within`", 1, 35, 1, 36],
    ["payment.charge.where(status == ERROR)", "error", "unknown-enum", "`status` is one of `ok`, `error`, `unset`; `ERROR` never matches; did you mean `error`?", 1, 32, 1, 37],
    ["payment.charge.where(kind in [server, clinet])", "error", "unknown-enum", "`kind` is one of `server`, `client`, `producer`, `consumer`, `internal`, `unspecified`; `clinet` never matches; did you mean `client`?", 1, 39, 1, 45],
  ])('mistake: %s', (rule, severity, code, message, startLine, startColumn, endLine, endColumn) => {
    const r = parseRule(rule);
    expect(r.diagnostics).toEqual([{ severity, code, message, startLine, startColumn, endLine, endColumn }]);
    expect(r.ast === undefined).toBe(severity === 'error');
  });

  it('valid rules with realistic names draw no warning', () => {
    for (const rule of [
      'when { checkout.where(status != error) } always { inventory.reserve.descendant_of(checkout) }',
      'when { p: payment.charge } always { fraud.check.before(p, within 5s) and p.verified }',
      'when { req: GET } always { auth.check.before(req) }',
      'span("x").where(duration > 0)',
      'when { p: payment.charge } always { audit.log.where(order_id == p.order_id) }',
    ]) {
      expect(parseRule(rule).diagnostics).toEqual([]);
    }
  });

  it('a vocabulary turns a name into a known span and offers its names and attributes', () => {
    const vocabulary = {
      spanNames: ['checkout', 'payment.charge', 'x'],
      spanAttributes: ['amount', 'http.status_code', 'user'],
      resourceAttributes: ['deployment.environment'],
    };
    expect(parseRule('when { p: payment.charge } never { x }', { vocabulary }).diagnostics).toEqual([]);
    const messages = (rule: string, v: object = vocabulary) => parseRule(rule, { vocabulary: v }).diagnostics.map((d) => `${d.startColumn}-${d.endColumn} ${d.severity} ${d.message}`);
    expect(messages('chekout')).toEqual(['1-8 warning `chekout` is read as a span name, and no known span has that name; did you mean `checkout`?']);
    expect(messages('when { p: payment.charge } always { p.usr == "a" }')).toEqual([
      '37-42 warning no span is known to carry the attribute `usr`; did you mean `p.user`?',
    ]);
    expect(messages('payment.charge.where(amout > 1 and "http.status_cod" >= 500 and resource.deployment.enviroment == prod)')).toEqual([
      '22-27 warning no span is known to carry the attribute `amout`; did you mean `amount`?',
      '36-53 warning no span is known to carry the attribute `http.status_cod`; did you mean `"http.status_code"`?',
      '65-95 warning no resource is known to carry the attribute `deployment.enviroment`; did you mean `resource.deployment.environment`?',
    ]);
    // Attributes are open-ended: one nothing resembles, or any without a vocabulary, draws nothing.
    expect(messages('payment.charge.where(order_id == "a")')).toEqual([]);
    expect(messages('payment.charge.where(amout > 1)', {})).toEqual([]);
    // With every span name of the traces known, a one-word name outside them is suspect too.
    expect(messages('refund', { spanNames: ['checkout'], spanNamesComplete: true })).toEqual([
      '1-7 warning `refund` is read as a span name, and no known span has that name; bind it first (`when { refund: … }`) if it is meant as a variable, or write `span("refund")` for a span of that name',
    ]);
    expect(messages('refund', { spanNames: ['checkout'] })).toEqual([]);
  });

  it('positions span lines', () => {
    expect(parseRule('when {\n  payment.charge\n}\nalways {\n  fraud.wher(x)\n}').diagnostics).toEqual([
      { severity: 'error', code: 'unknown-method', message: 'unknown selector method `wher`; did you mean `where`?', startLine: 5, startColumn: 9, endLine: 5, endColumn: 13 },
    ]);
  });

  it('bounds: source size', () => {
    const source = 'x'.repeat(MAX_SOURCE_LENGTH + 6);
    expect(parseRule(source).diagnostics).toEqual([
      {
        severity: 'error',
        code: 'too-large',
        message: `the rule is ${MAX_SOURCE_LENGTH + 6} characters long; at most ${MAX_SOURCE_LENGTH} are allowed`,
        startLine: 1,
        startColumn: MAX_SOURCE_LENGTH + 1,
        endLine: 1,
        endColumn: MAX_SOURCE_LENGTH + 7,
      },
    ]);
    expect(parseRule('x'.repeat(MAX_SOURCE_LENGTH)).diagnostics).toEqual([]);
  });

  it('bounds: nesting depth, checked before parsing', () => {
    const r = parseRule('('.repeat(MAX_NESTING_DEPTH + 1) + 'a' + ')'.repeat(MAX_NESTING_DEPTH + 1), FIXTURE_NAMES);
    expect(r.diagnostics).toEqual([
      { severity: 'error', code: 'too-deep', message: `the rule nests deeper than ${MAX_NESTING_DEPTH} levels`, startLine: 1, startColumn: MAX_NESTING_DEPTH + 1, endLine: 1, endColumn: MAX_NESTING_DEPTH + 2 },
    ]);
    expect(parseRule('('.repeat(MAX_NESTING_DEPTH) + 'a' + ')'.repeat(MAX_NESTING_DEPTH), FIXTURE_NAMES).diagnostics).toEqual([]);
  });

  it('bounds: and/or chains', () => {
    const r = parseRule(Array.from({ length: MAX_LOGICAL_OPERATORS + 2 }, (_v, i) => `a${i}`).join(' or '));
    expect(r.diagnostics).toEqual([expect.objectContaining({ code: 'too-complex', message: `the rule combines more than ${MAX_LOGICAL_OPERATORS} conditions with and/or` })]);
  });

  it('bounds: selector count', () => {
    const rule = Array.from({ length: MAX_SELECTORS + 1 }, (_v, i) => `s${i}`).join(' and ');
    const r = parseRule(rule, { vocabulary: { spanNames: Array.from({ length: MAX_SELECTORS + 1 }, (_v, i) => `s${i}`) } });
    expect(r.diagnostics).toEqual([expect.objectContaining({ code: 'too-many-selectors', message: `a rule may use at most ${MAX_SELECTORS} span selectors` })]);
    expect(r.diagnostics[0].startColumn).toBe(rule.indexOf(`s${MAX_SELECTORS}`) + 1);
  });
});
