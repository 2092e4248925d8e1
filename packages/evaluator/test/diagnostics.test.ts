/**
 * Every diagnostic, its exact text and position: these are what a rule author reads in the
 * editor (Monaco markers) and in `betrace check`.
 */
import { MAX_LOGICAL_OPERATORS, MAX_NESTING_DEPTH, MAX_SELECTORS, MAX_SOURCE_LENGTH, parseRule } from '@betrace/evaluator';

type Row = [string, string, string, string, number, number, number, number];

describe('diagnostics', () => {
  it.each<Row>([
    ["a.where(amount 5)", "error", "syntax", "expected a comparison operator after `amount`, found `5`", 1, 16, 1, 17],
    ["a.where(amount > )", "error", "syntax", "unexpected `)`; expected `[`, `null`, `false`, `true`, a string, a number, a duration, a name or `*`", 1, 18, 1, 19],
    ["when { a } alway { b }", "error", "unknown-keyword", "unknown keyword `alway`; did you mean `always`?", 1, 12, 1, 17],
    ["when { a } always { b", "error", "syntax", "expected `}` before the end of the rule", 1, 22, 1, 23],
    ["a.wher(x > 1)", "error", "unknown-method", "unknown selector method `wher`; did you mean `where`?", 1, 3, 1, 7],
    ["cout(a) > 1", "error", "unknown-function", "unknown function `cout`; did you mean `count`?", 1, 1, 1, 5],
    ["trace.durration > 1s", "error", "unknown-field", "unknown trace field `durration`; did you mean `duration`?", 1, 7, 1, 16],
    ["trace.hass(a)", "error", "unknown-function", "unknown trace function `trace.hass`; did you mean `has`?", 1, 7, 1, 11],
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
    const r = parseRule(rule);
    expect(r.diagnostics).toEqual([{ severity, code, message, startLine, startColumn, endLine, endColumn }]);
    expect(r.ast === undefined).toBe(severity === 'error');
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
    const r = parseRule('('.repeat(MAX_NESTING_DEPTH + 1) + 'a' + ')'.repeat(MAX_NESTING_DEPTH + 1));
    expect(r.diagnostics).toEqual([
      { severity: 'error', code: 'too-deep', message: `the rule nests deeper than ${MAX_NESTING_DEPTH} levels`, startLine: 1, startColumn: MAX_NESTING_DEPTH + 1, endLine: 1, endColumn: MAX_NESTING_DEPTH + 2 },
    ]);
    expect(parseRule('('.repeat(MAX_NESTING_DEPTH) + 'a' + ')'.repeat(MAX_NESTING_DEPTH)).diagnostics).toEqual([]);
  });

  it('bounds: and/or chains', () => {
    const r = parseRule(Array.from({ length: MAX_LOGICAL_OPERATORS + 2 }, (_v, i) => `a${i}`).join(' or '));
    expect(r.diagnostics).toEqual([expect.objectContaining({ code: 'too-complex', message: `the rule combines more than ${MAX_LOGICAL_OPERATORS} conditions with and/or` })]);
  });

  it('bounds: selector count', () => {
    const rule = Array.from({ length: MAX_SELECTORS + 1 }, (_v, i) => `s${i}`).join(' and ');
    const r = parseRule(rule);
    expect(r.diagnostics).toEqual([expect.objectContaining({ code: 'too-many-selectors', message: `a rule may use at most ${MAX_SELECTORS} span selectors` })]);
    expect(r.diagnostics[0].startColumn).toBe(rule.indexOf(`s${MAX_SELECTORS}`) + 1);
  });
});
