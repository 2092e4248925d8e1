import * as fs from 'fs';
import * as path from 'path';
import { compileRule, decodeOtlpJson, decodeTempoTrace, explainRule, parseRule, type Trace } from '@betrace/evaluator';
import { toInput } from '../pages/Rules/draft';
import { draftFromTrace } from './draftFromTrace';

const root = path.join(__dirname, '../..');
const example = (rule: string, verdict: 'violates' | 'satisfies'): Trace =>
  decodeOtlpJson(JSON.parse(fs.readFileSync(path.join(root, 'examples/traces', rule, `${verdict}-1.json`), 'utf8')))[0];
const tempoFixture = (): Trace =>
  decodeTempoTrace(JSON.parse(fs.readFileSync(path.join(root, 'tests/fixtures/tempo/trace-v2-response.json'), 'utf8')))!;

const checkout = example('payment-fraud-check', 'violates');

describe('draftFromTrace', () => {
  it.each([
    ['payment.charge', 'e705a2c9ba31352f'],
    ['inventory.reserve', 'd52372ec0cd19bd4'],
    ['auth.check', '29c1d06e8a566edb'],
    ['the root', undefined],
  ])('drafts %s', (_what, spanId) => {
    expect(draftFromTrace(checkout, spanId).draft.condition).toBe(EXPECTED[spanId ?? 'root']);
  });

  it('fills the fields: id and name from the span, where it came from, disabled until reviewed', () => {
    const d = draftFromTrace(checkout, 'E705A2C9BA31352F');
    expect(d).toEqual({
      traceId: 'cb81f926213516df1f0a6598a1aef89b',
      spanId: 'e705a2c9ba31352f',
      spanMissing: false,
      draft: {
        id: 'payment-charge-in-payment',
        name: 'payment.charge in payment, as in trace cb81f926',
        severity: 'medium',
        description:
          'Drafted in Explore from trace cb81f926213516df1f0a6598a1aef89b, span e705a2c9ba31352f (payment.charge in payment). ' +
          'Parent: checkout. No children. Set apart from its 3 siblings by amount, currency.',
        message: '',
        compliance: [],
        enabled: false,
        slo: { objective: '', window: '' }, // no objective: the form's empty fields
        condition: EXPECTED.e705a2c9ba31352f,
      },
    });
  });

  it('drafts a lone span from a Tempo trace-by-id answer, quoting a name that is no identifier', () => {
    const d = draftFromTrace(tempoFixture());
    expect(d.draft.condition).toBe(
      [
        '# Drafted in Explore from trace 5b8efff798038103d269b633813fc700, span eee19b7ec3c1b100.',
        '# The span has no parent or children here: the draft asks that it never fails.',
        '# Change the clauses below into the invariant you mean.',
        'when   { p: span("I am a span!").where(service == "my.service") }',
        'never  { p.where(status == error) }',
        '',
      ].join('\n')
    );
    expect(d.draft.id).toBe('i-am-a-span-in-my-service');
    expect(d.draft.description).toBe(
      'Drafted in Explore from trace 5b8efff798038103d269b633813fc700, span eee19b7ec3c1b100 (I am a span! in my.service). No parent. No children. No siblings.'
    );
  });

  it('falls back to the root, and says so, when the span is not in the trace', () => {
    const d = draftFromTrace(checkout, 'ffffffffffffffff');
    expect([d.spanId, d.spanMissing]).toEqual(['d7b5c36cedbe1b75', true]);
    expect(d.draft.condition).toBe(EXPECTED.root);
    expect(d.draft.description).toBe(
      'Drafted in Explore from trace cb81f926213516df1f0a6598a1aef89b, span d7b5c36cedbe1b75 (POST /checkout in frontend) — ' +
        'span ffffffffffffffff is not in the trace, so the draft is about its root. No parent. Children: checkout. No siblings.'
    );
  });

  it('refuses a trace without spans', () => {
    expect(() => draftFromTrace({ traceId: 'ab'.repeat(16), spans: [], startNs: 0n, endNs: 0n })).toThrow(
      `trace ${'ab'.repeat(16)} has no spans to draft a rule from`
    );
  });

  // What the draft promises: a valid rule, without warnings, that holds on the trace it came from
  // (a lone span that failed would be the exception: its draft asks that it never fails).
  it.each(
    fs
      .readdirSync(path.join(root, 'examples/traces'), { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .flatMap((e) => [`${e.name}/violates`, `${e.name}/satisfies`])
  )('drafts, from every span of %s, a valid rule that holds on that trace', (name) => {
    const [rule, verdict] = name.split('/') as [string, 'violates' | 'satisfies'];
    const trace = example(rule, verdict);
    for (const span of trace.spans) {
      const { draft } = draftFromTrace(trace, span.spanId);
      expect([span.name, parseRule(draft.condition).diagnostics]).toEqual([span.name, []]);
      const { note: _note, slo: _slo, ...definition } = toInput(draft, ''); // a draft from a trace has no objective
      const compiled = compileRule(definition);
      const fired = explainRule(compiled.rule!, trace).fired;
      expect([span.name, fired]).toEqual([span.name, false]);
    }
  });
});

const HEADER = (spanId: string) => [
  `# Drafted in Explore from trace cb81f926213516df1f0a6598a1aef89b, span ${spanId}.`,
  '# As drafted it holds on that trace: the span keeps its parent and its children.',
  '# Change the clauses below into the invariant you mean.',
];

const EXPECTED: Record<string, string> = {
  e705a2c9ba31352f: [
    ...HEADER('e705a2c9ba31352f'),
    'when   { p: payment.charge.where(service == "payment" and amount == 1250 and currency == "USD") }',
    'always { checkout.parent_of(p) }',
    '',
  ].join('\n'),
  d52372ec0cd19bd4: [
    ...HEADER('d52372ec0cd19bd4'),
    'when   { p: inventory.reserve.where(service == "inventory" and sku == "SKU-778") }',
    'always {',
    '  checkout.parent_of(p)',
    '  and database.query.child_of(p)',
    '}',
    '',
  ].join('\n'),
  '29c1d06e8a566edb': [
    ...HEADER('29c1d06e8a566edb'),
    'when   { p: auth.check.where(service == "auth" and decision == "allow" and exists("user.id")) }',
    'always { checkout.parent_of(p) }',
    '',
  ].join('\n'),
  root: [
    ...HEADER('d7b5c36cedbe1b75'),
    'when   { p: span("POST /checkout").where(service == "frontend") }',
    'always { checkout.child_of(p) }',
    '',
  ].join('\n'),
};
