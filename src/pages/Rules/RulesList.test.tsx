import React from 'react';
import { MemoryRouter } from 'react-router-dom';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { of, throwError } from 'rxjs';
import type { RuleView } from '../../api/rules';
import { rulesScene } from './rulesScene';
import { rulesTestIds as ids } from './testIds';

const mockFetch = jest.fn();
const mockGranted = new Set<string>();
jest.mock('@grafana/runtime', () => ({
  ...jest.requireActual('@grafana/runtime'),
  getBackendSrv: () => ({ fetch: mockFetch }),
  hasPermission: (action: string) => mockGranted.has(action),
}));

const base = { condition: 'payment.charge', version: 1, updatedAt: '2026-11-28T10:00:00.000Z', updatedBy: 'admin' };
const rules: RuleView[] = [
  {
    ...base,
    id: 'payment-fraud-check',
    name: 'Large payments need a fraud check',
    severity: 'critical',
    enabled: true,
    provisioned: false,
    compliance: [{ framework: 'soc2', control: 'CC7.2' }],
  },
  {
    ...base,
    id: 'bounded-retries',
    name: 'Bounded retries',
    severity: 'low',
    enabled: false,
    provisioned: false,
    skipped: {
      count: 2,
      byReason: { 'time-budget': 2 },
      lastSkippedAt: '2026-11-28T10:00:05.000Z',
      lastReason: 'time-budget',
      lastTraceId: 'cb81f926213516df1f0a6598a1aef89b',
    },
  },
  {
    ...base,
    id: 'phi-audit',
    name: 'PHI access is audited',
    severity: 'high',
    enabled: true,
    provisioned: true,
    compliance: [{ framework: 'hipaa', control: '164.312(b)' }],
  },
];

type Req = { method: string; url: string; params?: Record<string, unknown>; data?: unknown };

function serve(routes: (req: Req) => unknown) {
  mockFetch.mockImplementation((req: Req) => {
    try {
      return of({ data: routes(req) });
    } catch (e) {
      return throwError(() => e);
    }
  });
}

const sidecar = (req: Req) => {
  if (req.url.endsWith('/api/v1/rules')) {
    return { rules };
  }
  if (req.url.endsWith('/api/v1/signals/summary')) {
    // Only rules with a signal in the range are listed.
    return { rules: [{ ruleId: 'payment-fraud-check', total: 42, lastAt: new Date(Date.now() - 5 * 60_000).toISOString() }] };
  }
  throw { status: 404, data: { message: `no route ${req.url}` } };
};

function renderList() {
  const scene = rulesScene();
  render(
    <MemoryRouter future={{ v7_startTransition: true, v7_relativeSplatPath: true }}>
      <scene.Component model={scene} />
    </MemoryRouter>
  );
}

const row = (id: string) => screen.getByTestId(ids.list.row(id)).closest('tr')!;
const shownIds = () => rules.map((r) => r.id).filter((id) => screen.queryByTestId(ids.list.row(id)));

describe('RulesList', () => {
  beforeEach(() => {
    mockFetch.mockReset();
    mockGranted.clear();
  });

  it('lists the rules with severity, state, compliance and their signals in the range', async () => {
    mockGranted.add('betrace-app.rules:write');
    serve(sidecar);
    renderList();
    expect(screen.getByTestId(ids.list.loading)).toBeInTheDocument();
    expect(await screen.findByTestId(ids.list.row('payment-fraud-check'))).toBeInTheDocument();
    const fraud = within(row('payment-fraud-check'));
    expect(fraud.getByRole('link', { name: 'Large payments need a fraud check' })).toHaveAttribute(
      'href',
      '/a/betrace-app/rules/payment-fraud-check'
    );
    expect(fraud.getByText('critical')).toBeInTheDocument();
    expect(fraud.getByText('enabled')).toBeInTheDocument();
    expect(fraud.getByText('soc2 CC7.2')).toBeInTheDocument();
    await waitFor(() => expect(fraud.getByText('42')).toBeInTheDocument());
    expect(fraud.getByText('5 minutes ago')).toBeInTheDocument();
    expect(within(row('bounded-retries')).getByText('disabled')).toBeInTheDocument();
    expect(within(row('bounded-retries')).getByText('none in range')).toBeInTheDocument();
    expect(within(row('phi-audit')).getByText('provisioned')).toBeInTheDocument();
    // Only the rule that was not evaluated on some traces is marked; the tooltip tells the latest.
    expect(screen.queryByTestId(ids.list.skipped('payment-fraud-check'))).not.toBeInTheDocument();
    expect(screen.queryByTestId(ids.list.skipped('phi-audit'))).not.toBeInTheDocument();
    const marker = screen.getByTestId(ids.list.skipped('bounded-retries'));
    expect(marker).toHaveTextContent('not evaluated');
    fireEvent.mouseEnter(marker);
    const tooltip = await screen.findByRole('tooltip');
    expect(tooltip).toHaveTextContent('Not evaluated on 2 traces (time budget)');
    expect(tooltip).toHaveTextContent(
      'Latest: 2026-11-28 10:00:05 (time budget), trace cb81f926213516df1f0a6598a1aef89b'
    );
    // One signals request for all the rules, over the scene's time range — never one per rule.
    const signalCalls = mockFetch.mock.calls.map(([r]) => r as Req).filter((r) => r.url.includes('/api/v1/signals'));
    expect(signalCalls).toHaveLength(1);
    expect(signalCalls[0].url).toBe('/api/plugin-proxy/betrace-app/sidecar/api/v1/signals/summary');
    expect(signalCalls[0].params).toEqual({ from: expect.any(Number), to: expect.any(Number) });
    expect((signalCalls[0].params!.to as number) - (signalCalls[0].params!.from as number)).toBe(24 * 3600_000);
    expect(screen.getByTestId(ids.list.newRule)).toHaveAttribute('href', '/a/betrace-app/rules/new');
  });

  it('searches and filters by severity and state', async () => {
    serve(sidecar);
    renderList();
    await screen.findByTestId(ids.list.row('payment-fraud-check'));
    fireEvent.change(screen.getByTestId(ids.list.search), { target: { value: 'hipaa' } });
    expect(shownIds()).toEqual(['phi-audit']);
    fireEvent.change(screen.getByTestId(ids.list.search), { target: { value: '' } });
    fireEvent.click(within(screen.getByTestId(ids.list.severityFilter)).getByLabelText('critical'));
    expect(shownIds()).toEqual(['payment-fraud-check']);
    fireEvent.click(within(screen.getByTestId(ids.list.severityFilter)).getByLabelText('Any severity'));
    fireEvent.click(within(screen.getByTestId(ids.list.stateFilter)).getByLabelText('Disabled'));
    expect(shownIds()).toEqual(['bounded-retries']);
    fireEvent.click(within(screen.getByTestId(ids.list.severityFilter)).getByLabelText('high'));
    expect(shownIds()).toEqual([]);
    expect(screen.getByTestId(ids.list.empty)).toHaveTextContent('No rules match the filters');
  });

  it('hides New rule without rules:write, and says when the signals are unknown', async () => {
    serve((req) => {
      if (req.url.endsWith('/api/v1/signals/summary')) {
        throw { status: 403, data: { message: 'forbidden' } };
      }
      return sidecar(req);
    });
    renderList();
    await screen.findByTestId(ids.list.row('payment-fraud-check'));
    expect(screen.queryByTestId(ids.list.newRule)).not.toBeInTheDocument();
    await waitFor(() => expect(within(row('payment-fraud-check')).getAllByText('—')).toHaveLength(2));
  });

  it('shows the empty state when there are no rules', async () => {
    serve((req) => (req.url.endsWith('/api/v1/rules') ? { rules: [] } : sidecar(req)));
    renderList();
    expect(await screen.findByTestId(ids.list.empty)).toHaveTextContent('No rules yet');
  });

  it('shows the sidecar’s error when the rules cannot be loaded', async () => {
    serve(() => {
      throw { status: 502, data: { message: 'sidecar unreachable' } };
    });
    renderList();
    expect(await screen.findByTestId(ids.list.error)).toHaveTextContent(
      'Could not load the rules from the sidecarsidecar unreachable'
    );
  });
});
