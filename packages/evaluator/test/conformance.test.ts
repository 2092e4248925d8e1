/**
 * The conformance table: every construct of the rule language pinned on small traces.
 * Each row: rule text, trace, and which bound spans fire (`true`/`false` for rules without a binding).
 */
import { compileRule, evaluateTrace, RuleDefinition, Trace } from '@betrace/evaluator';
import { makeTrace, SpanSpec, spanId } from './support/traces';

const shop: SpanSpec[] = [
  { id: 'r', name: 'GET /checkout', kind: 'server', service: 'frontend', at: 0, ms: 500, attrs: { 'http.status_code': 200, 'http.method': 'GET' } },
  { id: 'c', parent: 'r', name: 'checkout', at: 10, ms: 400, service: 'checkout', kind: 'internal' },
  { id: 'a', parent: 'c', name: 'auth.check', at: 15, ms: 5, service: 'auth', attrs: { user: 'u1', verified: true } },
  { id: 'f', parent: 'c', name: 'payment.fraud_check', at: 50, ms: 20, service: 'fraud', attrs: { order_id: 'o1' } },
  {
    id: 'p',
    parent: 'c',
    name: 'payment.charge',
    at: 100,
    ms: 100,
    service: 'payment',
    kind: 'client',
    attrs: { amount: 1500, currency: 'USD', order_id: 'o1', retries: '2', big: 9007199254740993n, tags: ['card', 'eu'], verified: false },
    resource: { 'deployment.environment': 'prod' },
  },
  { id: 'q', parent: 'p', name: 'database.query', at: 120, ms: 30, service: 'db', kind: 'client', attrs: { 'data.contains_pii': true, 'db.statement': 'SELECT * FROM cards' } },
  { id: 'e', parent: 'c', name: 'inventory.reserve', at: 300, ms: 50, service: 'inventory', status: 'error', statusMessage: 'out of stock' },
];

function fire(condition: string, specs: SpanSpec[] = shop, message?: string): { fired: boolean; bound: string[]; matched: string[][]; messages: string[] } {
  const def: RuleDefinition = { id: 'r1', name: 'Rule one', severity: 'high', enabled: true, condition, message };
  const compiled = compileRule(def);
  if (!compiled.rule) {
    throw new Error(`rule did not compile: ${JSON.stringify(compiled.diagnostics)}`);
  }
  const trace: Trace = makeTrace(specs);
  const violations = evaluateTrace([compiled.rule], trace);
  return {
    fired: violations.length > 0,
    bound: violations.map((v) => v.boundSpanId ?? '').filter((x) => x !== ''),
    matched: violations.map((v) => v.matchedSpanIds),
    messages: violations.map((v) => v.message),
  };
}

const ids = (...labels: string[]) => labels.map(spanId);

describe('selectors', () => {
  it.each<[string, boolean]>([
    ['payment.charge', true],
    ['payment.refund', false],
    ['span("GET /checkout")', true],
    ['span("GET /other")', false],
    ['*', true],
    ['payment.charge.where(amount > 1000)', true],
    ['payment.charge.where(amount > 2000)', false],
    ['payment.charge.where(amount > 1000).where(currency == "USD")', true],
    ['payment.charge.where(amount > 1000).where(currency == "EUR")', false],
    ['database.query.child_of(payment.charge)', true],
    ['database.query.child_of(checkout)', false],
    ['checkout.parent_of(auth.check)', true],
    ['checkout.parent_of(database.query)', false],
    ['database.query.descendant_of(checkout)', true],
    ['database.query.descendant_of(span("GET /checkout"))', true],
    ['checkout.descendant_of(payment.charge)', false],
    ['checkout.ancestor_of(database.query)', true],
    ['auth.check.ancestor_of(database.query)', false],
    ['auth.check.sibling_of(payment.charge)', true],
    ['auth.check.sibling_of(auth.check)', false],
    ['database.query.sibling_of(auth.check)', false],
    ['payment.fraud_check.before(payment.charge)', true],
    ['payment.charge.before(payment.fraud_check)', false],
    ['payment.charge.after(payment.fraud_check)', true],
    ['payment.fraud_check.before(payment.charge, within 50ms)', true],
    ['payment.fraud_check.before(payment.charge, within 49ms)', false],
    ['payment.charge.after(payment.fraud_check, within 1s)', true],
    ['auth.check.before(auth.check)', false],
  ])('%s → %s', (rule, expected) => {
    expect(fire(rule).fired).toBe(expected);
  });
});

describe('conditions and values', () => {
  it.each<[string, boolean]>([
    // intrinsics
    ['payment.charge.where(name == "payment.charge")', true],
    ['*.where(duration > 450ms)', true],
    ['*.where(duration > 500ms)', false],
    ['*.where(duration >= 500ms)', true],
    ['*.where(status == error)', true],
    ['auth.check.where(status == error)', false],
    ['*.where(status_message == "out of stock")', true],
    ['*.where(kind == server)', true],
    ['checkout.where(kind == server)', false],
    ['*.where(service == payment)', true],
    ['*.where(service == "payment")', true],
    // attribute scopes and quoting
    ['*.where("http.status_code" == 200)', true],
    ['*.where(span.http.status_code == 200)', true],
    ['*.where(resource.deployment.environment == prod)', true],
    ['*.where(span.deployment.environment == prod)', false],
    ['*.where(resource.service.name == "db")', true],
    // literals
    ['payment.charge.where(amount == 1500)', true],
    ['payment.charge.where(amount == 1500.0)', true],
    ['payment.charge.where(amount > -1)', true],
    ['payment.charge.where(amount < 1e4)', true],
    ['payment.charge.where(currency == USD)', true],
    ["payment.charge.where(currency == 'USD')", true],
    ['payment.charge.where(verified == false)', true],
    ['auth.check.where(verified == true)', true],
    ['payment.charge.where(missing == null)', true],
    ['payment.charge.where(amount == null)', false],
    ['payment.charge.where(amount != null)', true],
    ['payment.charge.where(currency in [USD, "EUR"])', true],
    ['payment.charge.where(currency in ["EUR", "GBP"])', false],
    ['payment.charge.where(currency not in ["EUR", "GBP"])', true],
    ['payment.charge.where(missing not in ["EUR"])', false],
    ['payment.charge.where(amount in [1000, 1500])', true],
    // type mismatches are false, both ways
    ['payment.charge.where(currency > 5)', false],
    ['payment.charge.where(currency != 5)', false],
    ['payment.charge.where(missing != 5)', false],
    ['payment.charge.where(amount == "USD")', false],
    // numeric strings compare as numbers against numbers
    ['payment.charge.where(retries > 1)', true],
    ['payment.charge.where(retries == 2)', true],
    ['payment.charge.where(retries == "2")', true],
    ['payment.charge.where(amount == "1500")', true],
    // int64 beyond 2^53 stays exact
    ['payment.charge.where(big > 9007199254740992)', true],
    ['payment.charge.where(big == 9007199254740993)', false],
    // strings, regex, contains
    ['payment.charge.where(currency < "ZZZ")', true],
    ['database.query.where("db.statement" matches "^SELECT")', true],
    ['database.query.where("db.statement" =~ "cards$")', true],
    ['database.query.where("db.statement" matches "^INSERT")', false],
    ['database.query.where("db.statement" !~ "^INSERT")', true],
    ['database.query.where("db.statement" contains "FROM")', true],
    ['payment.charge.where(tags contains "eu")', true],
    ['payment.charge.where(tags contains "us")', false],
    ['payment.charge.where(amount matches "1500")', false],
    // exists and booleans
    ['payment.charge.where(exists(order_id))', true],
    ['auth.check.where(exists(order_id))', false],
    ['payment.charge.where(not verified)', true],
    ['auth.check.where(not verified)', false],
    ['auth.check.where(verified)', true],
    ['database.query.where("data.contains_pii")', true],
    // logic
    ['payment.charge.where(amount > 1000 and currency == "USD")', true],
    ['payment.charge.where(amount > 1000 && currency == "EUR")', false],
    ['payment.charge.where(amount > 9000 or currency == "USD")', true],
    ['payment.charge.where(amount > 9000 || currency == "EUR")', false],
    ['payment.charge.where(!(amount > 9000))', true],
    ['payment.charge.where(not (amount > 1000 and currency == "USD"))', false],
  ])('%s → %s', (rule, expected) => {
    expect(fire(rule).fired).toBe(expected);
  });
});

describe('trace-level terms', () => {
  it.each<[string, boolean]>([
    ['trace.has(payment.charge)', true],
    ['trace.has(payment.charge).where(amount > 1000)', true],
    ['trace.has(payment.charge).where(amount > 1000).where(currency == "EUR")', false],
    ['trace.count(payment.charge) > 0', true],
    ['trace.count(payment.charge) > 1', false],
    ['count(*) == 7', true],
    ['count(*) != 7', false],
    ['count(payment.charge) == count(payment.fraud_check)', true],
    ['count(payment.charge) < count(*)', true],
    ['count(missing) == 0', true],
    ['max(*, duration) > 450ms', true],
    ['max(*, duration) > 500ms', false],
    ['min(*, duration) == 5ms', true],
    ['sum(payment.charge, amount) == 1500', true],
    ['avg(*, duration) > 100ms', true],
    ['max(missing, duration) > 0', false],
    ['max(missing, duration) < 1s', false],
    ['all(payment.charge).where(currency == "USD")', true],
    ['all(*).where(status != error)', false],
    ['all(missing).where(amount > 5)', true],
    ['trace.duration == 500ms', true],
    ['trace.duration > 1s', false],
    ['trace.span_count == 7', true],
    ['trace.root.name == "GET /checkout"', true],
    ['trace.root.service == frontend', true],
    ['trace.has_error', true],
    ['not trace.has_error', false],
    ['trace.has(payment.charge) and not trace.has(payment.refund)', true],
    ['trace.has(payment.refund) or trace.has(auth.check)', true],
    ['(trace.has(payment.refund) or trace.has(auth.check)) and trace.span_count > 100', false],
  ])('%s → %s', (rule, expected) => {
    expect(fire(rule).fired).toBe(expected);
  });
});

describe('when / always / never', () => {
  it.each<[string, boolean]>([
    ['when { payment.charge } always { payment.fraud_check }', false],
    ['when { payment.charge } always { payment.refund }', true],
    ['when { payment.refund } always { payment.fraud_check }', false],
    ['when { payment.charge } never { payment.fraud_check }', true],
    ['when { payment.charge } never { payment.refund }', false],
    ['when { payment.charge } always { payment.fraud_check } never { payment.refund }', false],
    ['when { payment.charge } always { payment.fraud_check } never { auth.check }', true],
    ['when { payment.charge } always { payment.refund } never { auth.check }', true],
    ['when { payment.charge } never { payment.refund or auth.check }', true],
    ['when { database.query.where("data.contains_pii" == true) } always { auth.check }', false],
    ['when { database.query.where("data.contains_pii" == true) } always { auth.check.ancestor_of(database.query) }', true],
  ])('%s → %s', (rule, expected) => {
    expect(fire(rule).fired).toBe(expected);
  });
});

describe('binding a span', () => {
  const twoCharges: SpanSpec[] = [
    { id: 'r', name: 'checkout', at: 0, ms: 100 },
    { id: 'f', parent: 'r', name: 'payment.fraud_check', at: 10, ms: 5, attrs: { order_id: 'o1' } },
    { id: 'p', parent: 'r', name: 'payment.charge', at: 12, ms: 5, attrs: { amount: 2000, order_id: 'o1', currency: 'USD' } },
    { id: 'q', parent: 'r', name: 'payment.charge', at: 40, ms: 5, attrs: { amount: 5000, order_id: 'o2', currency: 'EUR' } },
    { id: 's', parent: 'r', name: 'payment.charge', at: 50, ms: 5, attrs: { amount: 10, order_id: 'o3' } },
  ];
  const rule =
    'when { p: payment.charge.where(amount > 1000) } always { payment.fraud_check.where(order_id == p.order_id).before(p, within 5s) }';

  it('checks each bound span on its own and points each signal at it', () => {
    const r = fire(rule, twoCharges);
    expect(r.bound).toEqual(ids('q'));
  });

  it('reads the bound span in the message template', () => {
    const r = fire(rule, twoCharges, 'charge of {p.amount} {p.currency} on {p.name} without a fraud check ({p.missing})');
    expect(r.messages).toEqual(['charge of 5000 EUR on payment.charge without a fraud check (?)']);
  });

  it('honours within: a fraud check too long before the charge does not count', () => {
    const late: SpanSpec[] = [
      { id: 'r', name: 'checkout', at: 0, ms: 20000 },
      { id: 'f', parent: 'r', name: 'payment.fraud_check', at: 0, ms: 5, attrs: { order_id: 'o1' } },
      { id: 'p', parent: 'r', name: 'payment.charge', at: 6000, ms: 5, attrs: { amount: 2000, order_id: 'o1' } },
    ];
    expect(fire(rule, late).bound).toEqual(ids('p'));
  });

  it('lets the rest of when read the bound span', () => {
    const r = fire('when { p: payment.charge and p.amount > 1000 } always { payment.fraud_check.where(order_id == p.order_id) }', twoCharges);
    expect(r.bound).toEqual(ids('q'));
  });

  it('uses the bound span in never', () => {
    const r = fire('when { p: payment.charge } never { p.currency == "EUR" }', twoCharges);
    expect(r.bound).toEqual(ids('q'));
  });
});

describe('firing at most once and matched spans', () => {
  it('fires once per trace however many spans match', () => {
    const r = fire('*.where(duration > 1ms)');
    expect(r.matched).toHaveLength(1);
    expect(r.matched[0]).toEqual(ids('a', 'c', 'e', 'f', 'p', 'q', 'r').sort());
  });

  it('reports the spans of the when clause and of a never that held', () => {
    const r = fire('when { payment.charge } never { auth.check }');
    expect(r.matched).toEqual([ids('a', 'p').sort()]);
  });

  it('reports nothing for terms that held by absence', () => {
    const r = fire('trace.has(payment.charge).where(amount > 1000) and not trace.has(payment.refund)');
    expect(r.matched).toEqual([ids('p')]);
  });

  it('never evaluates BeTrace’s own spans', () => {
    const withSignal: SpanSpec[] = [...shop, { id: 'z', parent: 'p', name: 'betrace.signal', service: 'betrace', at: 400 }];
    expect(fire('betrace.signal').fired).toBe(false);
    expect(fire('betrace.signal', withSignal).fired).toBe(false);
    expect(fire('count(*) == 7', withSignal).fired).toBe(true);
  });
});

describe('rules from BeTrace’s docs', () => {
  const charge = (amount: number, extra: SpanSpec[] = []): SpanSpec[] => [
    { id: 'r', name: 'checkout', at: 0, ms: 100 },
    { id: 'p', parent: 'r', name: 'payment.charge_card', at: 10, ms: 5, attrs: { amount, currency: 'USD' } },
    ...extra,
  ];
  const fraud: SpanSpec = { id: 'f', parent: 'r', name: 'payment.fraud_check', at: 5, ms: 2 };

  it('large charges need a fraud check', () => {
    const rule = 'when { payment.charge_card.where(amount > 1000) } always { payment.fraud_check }';
    expect(fire(rule, charge(5000)).fired).toBe(true);
    expect(fire(rule, charge(5000, [fraud])).fired).toBe(false);
    expect(fire(rule, charge(500)).fired).toBe(false);
  });

  it('requests and responses pair up', () => {
    const rule = 'when { count(http.request) != count(http.response) } always { alert }';
    const req = (id: string): SpanSpec => ({ id, name: 'http.request', at: 1 });
    const res = (id: string): SpanSpec => ({ id, name: 'http.response', at: 2 });
    expect(fire(rule, [req('a'), req('b'), res('c')]).fired).toBe(true);
    expect(fire(rule, [req('a'), res('c')]).fired).toBe(false);
    expect(fire(rule, [req('a'), req('b'), res('c'), { id: 'x', name: 'alert' }]).fired).toBe(false);
  });

  it('PII queries need an auth check', () => {
    const rule = 'when { database.query.where("data.contains_pii" == true) } always { auth.check }';
    const q = (pii: boolean): SpanSpec => ({ id: 'q', name: 'database.query', attrs: { 'data.contains_pii': pii } });
    expect(fire(rule, [q(true)]).fired).toBe(true);
    expect(fire(rule, [q(false)]).fired).toBe(false);
    expect(fire(rule, [q(true), { id: 'a', name: 'auth.check' }]).fired).toBe(false);
  });

  it('v1 expressions', () => {
    expect(fire('payment.where(amount > 1000).where(currency == "USD")', [{ id: 'p', name: 'payment', attrs: { amount: 1001, currency: 'USD' } }]).fired).toBe(true);
    expect(fire('payment.where(amount > 1000).where(currency == "USD")', [{ id: 'p', name: 'payment', attrs: { amount: 1001, currency: 'EUR' } }]).fired).toBe(false);
    expect(fire('payment.where(not verified)', [{ id: 'p', name: 'payment', attrs: { verified: false } }]).fired).toBe(true);
    expect(fire('payment.where(not verified)', [{ id: 'p', name: 'payment', attrs: { verified: true } }]).fired).toBe(false);
    const v1 = 'trace.has(payment.charge).where(amount > 1000) and not trace.has(payment.fraud_check)';
    expect(fire(v1, [{ id: 'p', name: 'payment.charge', attrs: { amount: 1001 } }]).fired).toBe(true);
    expect(fire(v1, [{ id: 'p', name: 'payment.charge', attrs: { amount: 1001 } }, { id: 'f', name: 'payment.fraud_check' }]).fired).toBe(false);
  });

  it('lists of quoted strings match (a BeTrace v2 bug, fixed here)', () => {
    expect(fire('payment.where(currency in ["USD", "EUR"])', [{ id: 'p', name: 'payment', attrs: { currency: 'EUR' } }]).fired).toBe(true);
  });
});
