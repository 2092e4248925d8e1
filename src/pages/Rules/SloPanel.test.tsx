import React from 'react';
import { render, screen, within } from '@testing-library/react';
import { of, throwError } from 'rxjs';
import type { SloStatus } from '../../api/slo';
import { SloPanel } from './SloPanel';
import { rulesTestIds as ids } from './testIds';

const mockFetch = jest.fn();
jest.mock('@grafana/runtime', () => ({
  ...jest.requireActual('@grafana/runtime'),
  getBackendSrv: () => ({ fetch: mockFetch }),
}));

const status: SloStatus = {
  ruleId: 'payment-fraud-check',
  objective: 0.999,
  windowMs: 2_592_000_000,
  window: '30d',
  triggered: 576000,
  violations: 11520,
  compliance: 0.98,
  errorBudget: 0.001,
  budgetRemaining: -19,
  burnRates: [
    { window: '5m', errorRatio: 0.02, burnRate: 20, resolution: 'current-hour' },
    { window: '30m', errorRatio: 0.02, burnRate: 20, resolution: 'current-hour' },
    { window: '1h', errorRatio: 0.02, burnRate: 20, resolution: 'hours' },
    { window: '6h', errorRatio: null, burnRate: null, resolution: 'hours' },
  ],
  alerts: { page: true, ticket: false },
  state: 'page',
};

const answer = (fn: () => unknown) =>
  mockFetch.mockImplementation((req: { url: string }) => {
    expect(req.url).toBe('/api/plugin-proxy/betrace-app/sidecar/api/v1/rules/payment-fraud-check/slo');
    try {
      return of({ data: fn() });
    } catch (e) {
      return throwError(() => e);
    }
  });

beforeEach(() => mockFetch.mockReset());

describe('SloPanel', () => {
  it('shows the budget remaining, the burn rate per window with its resolution, and the alert state', async () => {
    answer(() => status);
    render(<SloPanel ruleId="payment-fraud-check" />);
    expect(screen.getByTestId(ids.slo.loading)).toBeInTheDocument();
    expect(await screen.findByText('Objective 99.9% over 30d')).toBeInTheDocument();
    expect(screen.getByTestId(ids.slo.state)).toHaveTextContent('Page: fast burn');
    expect(screen.getByTestId(ids.slo.budget)).toHaveTextContent('Error budget remaining: -1900% (compliance 98%: 11520 of 576000 triggering traces violated)');
    const rows = within(screen.getByTestId(ids.slo.burnRates)).getAllByRole('row').map((r) => r.textContent);
    expect(rows).toEqual(['WindowBurn rateFrom', '5m20×the current hour so far', '30m20×the current hour so far', '1h20×whole hours, the oldest prorated', '6hno triggerswhole hours, the oldest prorated']);
  });

  it('says so when nothing triggered in the window', async () => {
    answer(() => ({ ...status, triggered: 0, violations: 0, compliance: null, budgetRemaining: 1, alerts: { page: false, ticket: false }, state: 'ok' }));
    render(<SloPanel ruleId="payment-fraud-check" />);
    expect(await screen.findByTestId(ids.slo.budget)).toHaveTextContent('Error budget remaining: 100% (no triggering traces in the window yet)');
    expect(screen.getByTestId(ids.slo.state)).toHaveTextContent('Within budget');
  });

  it('renders nothing for a rule without an objective (the sidecar answers 404)', async () => {
    answer(() => {
      throw { status: 404, data: { error: 'not_found', message: 'rule payment-fraud-check has no objective (slo)' } };
    });
    const { container } = render(<SloPanel ruleId="payment-fraud-check" />);
    await screen.findByTestId(ids.slo.loading);
    await new Promise((r) => setTimeout(r, 0));
    expect(container).toBeEmptyDOMElement();
  });

  it('shows the sidecar’s error', async () => {
    answer(() => {
      throw { status: 500, data: { error: 'internal', message: 'internal error' } };
    });
    render(<SloPanel ruleId="payment-fraud-check" />);
    expect(await screen.findByTestId(ids.slo.error)).toHaveTextContent('internal error');
  });
});
