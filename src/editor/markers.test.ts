import { parseRule } from '@betrace/evaluator';
import { diagnosticsToMarkers } from './markers';
import { vocabularyFromTempo } from './tempoVocabulary';

describe('diagnosticsToMarkers', () => {
  it('turns the evaluator’s diagnostics into markers at the same line and column', () => {
    const { diagnostics } = parseRule('when { payment.charge }\nalways { payment.amount > 1000 }');
    expect(diagnosticsToMarkers(diagnostics)).toEqual([
      {
        severity: 8,
        message: 'a span selector cannot be compared directly; did you mean `payment.where(amount > 1000)`?',
        startLineNumber: 2,
        startColumn: 10,
        endLineNumber: 2,
        endColumn: 24,
        source: 'betrace',
        code: diagnostics[0].code,
      },
    ]);
  });

  it('maps severities and widens an empty range to one column', () => {
    expect(
      diagnosticsToMarkers([
        { severity: 'warning', message: 'w', startLine: 1, startColumn: 5, endLine: 1, endColumn: 5 },
        { severity: 'info', message: 'i', startLine: 1, startColumn: 1, endLine: 3, endColumn: 1, code: 'x' },
      ])
    ).toEqual([
      {
        severity: 4,
        message: 'w',
        startLineNumber: 1,
        startColumn: 5,
        endLineNumber: 1,
        endColumn: 6,
        source: 'betrace',
      },
      {
        severity: 2,
        message: 'i',
        startLineNumber: 1,
        startColumn: 1,
        endLineNumber: 3,
        endColumn: 1,
        source: 'betrace',
        code: 'x',
      },
    ]);
  });

  it('draws the warnings about mistyped names as warnings, with the did-you-mean from Tempo’s vocabulary', () => {
    const vocabulary = vocabularyFromTempo(
      { scopes: [{ name: 'span', tags: ['amount', 'user'] }, { name: 'resource', tags: ['service.name'] }] },
      { tagValues: [{ type: 'string', value: 'fraud.check' }, { type: 'string', value: 'payment.charge' }] }
    );
    const rule = 'when { p: payment.charge.where(amout > 1000) }\nalways { fraud.chek.before(q) and p.usr == "x" }';
    const { diagnostics } = parseRule(rule, { vocabulary });
    expect(diagnosticsToMarkers(diagnostics).map((m) => [m.severity, m.message, m.startLineNumber, m.startColumn, m.endColumn])).toEqual([
      [4, 'no span is known to carry the attribute `amout`; did you mean `amount`?', 1, 32, 37],
      [4, '`q` is read as a span name, and no known span has that name; did you mean the bound span `p`?', 2, 28, 29],
      [4, 'no span is known to carry the attribute `usr`; did you mean `p.user`?', 2, 35, 40],
    ]);
  });
});
