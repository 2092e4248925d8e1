import React from 'react';
import { render, screen } from '@testing-library/react';
import { placeholderScene } from './placeholderScene';

describe('placeholderScene', () => {
  it('renders its message and what the page will show', () => {
    const scene = placeholderScene('Coming soon', 'What will be here.', 'data-testid placeholder');
    render(<scene.Component model={scene} />);
    const container = screen.getByTestId('data-testid placeholder');
    expect(container).toHaveTextContent('Coming soon');
    expect(container).toHaveTextContent('What will be here.');
  });
});
