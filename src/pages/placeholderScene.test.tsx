import React from 'react';
import { render, screen } from '@testing-library/react';
import { testIds } from '../components/testIds';
import { EVIDENCE_PLACEHOLDER, evidenceScene } from './Evidence/evidenceScene';
import { SIGNALS_PLACEHOLDER, signalsScene } from './Signals/signalsScene';
import { placeholderScene } from './placeholderScene';

describe('placeholderScene', () => {
  it('renders its message and what the page will show', () => {
    const scene = placeholderScene('Coming soon', 'What will be here.', 'data-testid placeholder');
    render(<scene.Component model={scene} />);
    const container = screen.getByTestId('data-testid placeholder');
    expect(container).toHaveTextContent('Coming soon');
    expect(container).toHaveTextContent('What will be here.');
  });

  it.each([
    ['Signals', signalsScene, testIds.signals.container, SIGNALS_PLACEHOLDER],
    ['Evidence', evidenceScene, testIds.evidence.container, EVIDENCE_PLACEHOLDER],
  ])('the %s page says what it will list', (_page, build, testId, text) => {
    const scene = build();
    render(<scene.Component model={scene} />);
    expect(screen.getByTestId(testId)).toHaveTextContent(text);
  });
});
