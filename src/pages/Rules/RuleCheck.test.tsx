import React from 'react';
import { fireEvent, render, screen } from '@testing-library/react';
import { testIds } from '../../components/testIds';
import { RuleCheck } from './RuleCheck';
import { EXAMPLE_RULE } from './rulesScene';

function renderCheck(source: string) {
  const model = new RuleCheck({ source });
  render(<model.Component model={model} />);
  return model;
}

describe('RuleCheck', () => {
  it('shows a valid rule and its TraceQL pushdown, computed by the evaluator in the browser', () => {
    renderCheck(EXAMPLE_RULE);
    expect(screen.getByTestId(testIds.rules.valid)).toBeInTheDocument();
    expect(screen.getByTestId(testIds.rules.pushdown)).toHaveTextContent(
      '{ name = "payment.charge" && (span.amount > 1000 || span.amount =~',
    );
    expect(screen.queryByTestId(testIds.rules.diagnostics)).not.toBeInTheDocument();
  });

  it('shows diagnostics with line and column as the user types', () => {
    const model = renderCheck(EXAMPLE_RULE);
    fireEvent.change(screen.getByTestId(testIds.rules.ruleInput), { target: { value: 'payment.amount > 1000' } });
    expect(model.state.source).toBe('payment.amount > 1000');
    expect(screen.getByTestId(testIds.rules.diagnostics)).toHaveTextContent(
      '1:1 error: a span selector cannot be compared directly; did you mean `payment.where(amount > 1000)`?',
    );
    expect(screen.queryByTestId(testIds.rules.valid)).not.toBeInTheDocument();
  });
});
