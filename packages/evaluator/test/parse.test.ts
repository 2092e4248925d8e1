import * as fs from 'fs';
import * as path from 'path';
import fc from 'fast-check';
import { parseRule } from '@betrace/evaluator';
import { grammarSource } from '../src/grammar/grammarSource';

const strip = (o: unknown): unknown => JSON.parse(JSON.stringify(o, (k, v: unknown) => (k === 'loc' ? undefined : v)));
/** The one-letter span names of these fixtures, declared known (alone each would draw an `unknown-span-name` warning). */
const FIXTURE_NAMES = { vocabulary: { spanNames: ['a', 'b', 'c', 'd', 'e', 'f', 'g'] } };
const ast = (rule: string) => {
  const r = parseRule(rule, FIXTURE_NAMES);
  expect(r.diagnostics).toEqual([]);
  return strip(r.ast);
};
const name = (n: string) => ({ type: 'name', name: n });
const attr = (n: string) => ({ type: 'field', scope: 'span', name: n });
const num = (v: number) => ({ type: 'literal', kind: 'number', value: v });

describe('the grammar file', () => {
  it('is what the package embeds (run `npm run grammar -w @betrace/evaluator` after editing betrace.ohm)', () => {
    expect(grammarSource).toBe(fs.readFileSync(path.join(__dirname, '../src/grammar/betrace.ohm'), 'utf8'));
  });
});

describe('parseRule: the two forms, one AST', () => {
  it('v1 expression with trace.has().where() and not', () => {
    expect(ast('trace.has(payment.charge).where(amount > 1000) and not trace.has(payment.fraud_check)')).toEqual({
      type: 'expression',
      body: {
        type: 'and',
        left: { type: 'exists', selector: { type: 'where', base: name('payment.charge'), cond: { type: 'compare', op: '>', left: attr('amount'), right: num(1000) } } },
        right: { type: 'not', operand: { type: 'exists', selector: name('payment.fraud_check') } },
      },
    });
  });

  it('v2 when/always with a quoted attribute', () => {
    expect(ast('when { database.query.where("data.contains_pii" == true) } always { auth.check }')).toEqual({
      type: 'when',
      when: {
        type: 'exists',
        selector: { type: 'where', base: name('database.query'), cond: { type: 'compare', op: '==', left: attr('data.contains_pii'), right: { type: 'literal', kind: 'bool', value: true } } },
      },
      always: { type: 'exists', selector: name('auth.check') },
    });
  });

  it('counts on both sides', () => {
    expect(ast('when { count(http.request) != count(http.response) } always { alert }')).toEqual({
      type: 'when',
      when: { type: 'compare', op: '!=', left: { type: 'count', selector: name('http.request') }, right: { type: 'count', selector: name('http.response') } },
      always: { type: 'exists', selector: name('alert') },
    });
  });

  it('chained where, enums and bare booleans', () => {
    expect(ast('payment.where(amount > 1000).where(currency == USD)')).toEqual({
      type: 'expression',
      body: {
        type: 'exists',
        selector: {
          type: 'where',
          base: { type: 'where', base: name('payment'), cond: { type: 'compare', op: '>', left: attr('amount'), right: num(1000) } },
          cond: { type: 'compare', op: '==', left: attr('currency'), right: { type: 'literal', kind: 'enum', value: 'USD' } },
        },
      },
    });
    expect(ast('payment.where(not verified)')).toEqual({
      type: 'expression',
      body: { type: 'exists', selector: { type: 'where', base: name('payment'), cond: { type: 'not', operand: { type: 'truthy', field: attr('verified') } } } },
    });
  });

  it('a binding read by always, with before(p, within)', () => {
    expect(ast('when { p: payment.charge.where(amount > 1000) } always { payment.fraud_check.where(order_id == p.order_id).before(p, within 5s) }')).toEqual({
      type: 'when',
      binding: { name: 'p', selector: { type: 'where', base: name('payment.charge'), cond: { type: 'compare', op: '>', left: attr('amount'), right: num(1000) } } },
      always: {
        type: 'exists',
        selector: {
          type: 'order',
          order: 'before',
          base: { type: 'where', base: name('payment.fraud_check'), cond: { type: 'compare', op: '==', left: attr('order_id'), right: { type: 'boundField', variable: 'p', field: attr('order_id') } } },
          other: { type: 'bound', name: 'p' },
          withinNs: 5e9,
        },
      },
    });
  });

  it('intrinsics, scopes, literals, operators', () => {
    expect(ast('span("GET /api/users/{id}").where(duration >= 250ms and status == error and kind in [server, client] and service != "db" and status_message =~ "time.?out" and resource.k8s.pod.name !~ "^canary" and span.status == "x" and tags contains "eu" and exists("user.id") or x == null or y == -2.5e1 or z < 10us)')).toMatchSnapshot();
  });

  it('trace fields, aggregates and all()', () => {
    expect(ast('max(db.query, duration) > 2s or avg(*, span.size) < 3 or all(http.request).where(status != error) or trace.duration > 1m or trace.span_count >= 10 or trace.root.name == "GET /" or trace.root.service == web or trace.has_error')).toMatchSnapshot();
  });

  it('every structural relation', () => {
    expect(ast('a.child_of(b).parent_of(c).descendant_of(d).ancestor_of(e).sibling_of(f).after(g)')).toMatchSnapshot();
  });

  it('comments, && || !, and never', () => {
    expect(ast('# why\nwhen { a && !b } // trailing\nnever { c || d }')).toEqual({
      type: 'when',
      when: { type: 'and', left: { type: 'exists', selector: name('a') }, right: { type: 'not', operand: { type: 'exists', selector: name('b') } } },
      never: { type: 'or', left: { type: 'exists', selector: name('c') }, right: { type: 'exists', selector: name('d') } },
    });
  });

  it('binding as first conjunct of when', () => {
    const r = ast('when { p: payment and p.amount > 5 } always { fraud }') as { binding: unknown; when: unknown };
    expect(r.binding).toEqual({ name: 'p', selector: name('payment') });
    expect(r.when).toEqual({ type: 'compare', op: '>', left: { type: 'boundField', variable: 'p', field: attr('amount') }, right: num(5) });
  });

  it('parses every example of rule-language.md', () => {
    for (const rule of [
      'trace.has(payment.charge).where(amount > 1000) and not trace.has(payment.fraud_check)',
      'trace.count(http.retry) > 3',
      'when { payment.charge.where(amount > 1000) }\nalways { payment.fraud_check }\nnever { payment.auto_approve or payment.skip_verification }',
      'when   { p: payment.charge.where(amount > 1000) }\nalways { payment.fraud_check.where(order_id == p.order_id).before(p, within 5s) }',
      'when   { p: payment.charge.where(amount > 1000) }\nalways { payment.fraud_check.before(p) }',
      'payment.where(currency in ["USD", "EUR"])',
      'a.before(b, within 5s)',
      'a.where("http.status_code" >= 500 and span.http.status_code < 600 and resource.deployment.environment == prod)',
      'max(a, duration) > 2s',
    ]) {
      expect(parseRule(rule, FIXTURE_NAMES).diagnostics).toEqual([]);
    }
  });
});

describe('parseRule never throws', () => {
  it('on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        checkShape(parseRule(s));
      }),
      { numRuns: 2000 },
    );
  });

  it('on arbitrary unicode', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 100 }), (s) => {
        checkShape(parseRule(s));
      }),
      { numRuns: 1000 },
    );
  });

  const valid = [
    'when { p: payment.charge.where(amount > 1000) } always { payment.fraud_check.where(order_id == p.order_id).before(p, within 5s) }',
    'trace.has(payment.charge).where(amount > 1000) and not trace.has(payment.fraud_check)',
    'count(a.child_of(b)) >= count(c) or max(*, duration) > 2s or all(x).where(status != error)',
  ];
  it('on random mutations of valid rules', () => {
    const mutation = fc.tuple(fc.constantFrom(...valid), fc.array(fc.tuple(fc.nat(), fc.constantFrom('insert', 'delete', 'replace'), fc.string({ maxLength: 3 })), { maxLength: 6 }));
    fc.assert(
      fc.property(mutation, ([rule, edits]) => {
        let s = rule;
        for (const [at, op, text] of edits) {
          const i = s.length === 0 ? 0 : at % s.length;
          s = op === 'insert' ? s.slice(0, i) + text + s.slice(i) : op === 'delete' ? s.slice(0, i) + s.slice(i + 1) : s.slice(0, i) + text + s.slice(i + 1);
        }
        checkShape(parseRule(s));
      }),
      { numRuns: 3000 },
    );
  });

  it('on pathological inputs', () => {
    for (const s of ['('.repeat(100000), 'a and '.repeat(20000) + 'a', '"'.repeat(70000), '[' .repeat(40) + ']'.repeat(40), 'a.where(' + 'not '.repeat(5000) + 'x)']) {
      const r = parseRule(s);
      checkShape(r);
      expect(r.diagnostics.length).toBeGreaterThan(0);
    }
  });
});

function checkShape(r: ReturnType<typeof parseRule>): void {
  for (const d of r.diagnostics) {
    expect(d.startLine).toBeGreaterThanOrEqual(1);
    expect(d.endLine).toBeGreaterThanOrEqual(d.startLine);
    expect(d.startColumn).toBeGreaterThanOrEqual(1);
    expect(d.endColumn).toBeGreaterThanOrEqual(1);
    expect(typeof d.message).toBe('string');
  }
  if (r.ast === undefined) {
    expect(r.diagnostics.some((d) => d.severity === 'error')).toBe(true);
  }
}
