import type { RuleView } from '../../api/rules';
import { analyse, draftOf, draftProblems, emptyDraft, sameDraft, toInput, versionText } from './draft';

const rule: RuleView = {
  id: 'payment-fraud-check',
  name: 'Large payments need a fraud check',
  severity: 'critical',
  message: 'charge of {p.amount}',
  compliance: [{ framework: 'soc2', control: 'CC7.2' }],
  enabled: true,
  condition: 'when { p: payment.charge }\nalways { payment.fraud_check }',
  version: 3,
  provisioned: false,
  updatedAt: '2026-11-28T10:00:00.000Z',
  updatedBy: 'admin',
};

describe('draft', () => {
  it('round-trips a rule to what the API takes, leaving out empty fields and blank mappings', () => {
    const d = draftOf(rule);
    expect(toInput({ ...d, compliance: [...d.compliance!, { framework: ' ', control: '' }] }, ' tighten ')).toEqual({
      id: 'payment-fraud-check',
      name: 'Large payments need a fraud check',
      severity: 'critical',
      enabled: true,
      condition: rule.condition,
      message: 'charge of {p.amount}',
      compliance: [{ framework: 'soc2', control: 'CC7.2' }],
      note: 'tighten',
    });
    expect(toInput({ ...emptyDraft(), id: 'x', name: 'X' }, '')).toEqual({
      id: 'x',
      name: 'X',
      severity: 'medium',
      enabled: true,
      condition: emptyDraft().condition,
    });
  });

  it('compares drafts by what would be saved', () => {
    expect(sameDraft(draftOf(rule), { ...draftOf(rule), message: 'charge of {p.amount} ' })).toBe(true);
    expect(sameDraft(draftOf(rule), { ...draftOf(rule), enabled: false })).toBe(false);
  });

  it('names the fields the sidecar would refuse', () => {
    expect(draftProblems(draftOf(rule))).toEqual({});
    expect(draftProblems({ ...emptyDraft(), id: 'Bad Id', compliance: [{ framework: 'soc2', control: '' }] })).toEqual({
      id: 'An id is lowercase letters, digits, "-", "_" and ".", starting with a letter or digit',
      name: 'A rule needs a name',
      compliance: 'Each compliance mapping needs both a framework and a control',
    });
  });

  it('analyses a condition with the evaluator', () => {
    expect(analyse(rule.condition)).toEqual({
      diagnostics: [],
      pushdown: { query: '{ name = "payment.charge" }', fullScan: false },
    });
    expect(analyse('count(x) >').pushdown).toBeUndefined();
  });

  it('checks the condition against the vocabulary when it has one', () => {
    const vocabulary = { spanNames: ['checkout'], spanAttributes: ['amount'], resourceAttributes: [] };
    expect(analyse('chekout.where(amout > 1)').diagnostics).toEqual([]);
    expect(analyse('chekout.where(amout > 1)', vocabulary).diagnostics.map((d) => [d.severity, d.message])).toEqual([
      ['warning', '`chekout` is read as a span name, and no known span has that name; did you mean `checkout`?'],
      ['warning', 'no span is known to carry the attribute `amout`; did you mean `amount`?'],
    ]);
  });

  it('renders a version as text for the history diff', () => {
    expect(versionText(rule)).toBe(
      [
        'name: Large payments need a fraud check',
        'severity: critical',
        'enabled: true',
        'message: charge of {p.amount}',
        'compliance: soc2 CC7.2',
        'condition:',
        '  when { p: payment.charge }',
        '  always { payment.fraud_check }',
      ].join('\n')
    );
  });
});
