import { parseRule } from '@betrace/evaluator';
import { diagnosticsToMarkers } from './markers';

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
});
