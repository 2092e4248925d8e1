import React from 'react';
import { MemoryRouter } from 'react-router-dom';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { of, throwError } from 'rxjs';
import type { RuleHealthSummary } from '../../api/health';
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

const totals = (evaluated: number, triggered: number, violations: number) => ({ evaluated, triggered, violations, skipped: 0, costUs: 0, costSamples: 0 });
const health = (ruleId: string, h: Partial<RuleHealthSummary>): RuleHealthSummary => ({
  ruleId,
  from: '2026-11-27T10:00:00.000Z',
  to: '2026-11-28T10:00:00.000Z',
  totals: totals(0, 0, 0),
  complianceRatio: null,
  fireRatePerHour: 0,
  falsePositiveRate: null,
  costUsPerTrace: null,
  costShare: null,
  lastFiredAt: null,
  signals: { open: 0, acknowledged: 0, resolved: 0, false_positive: 0, total: 0 },
  noisy: null,
  ...h,
});
const healths: RuleHealthSummary[] = [
  health('payment-fraud-check', {
    totals: totals(640, 32, 20),
    complianceRatio: 0.375,
    fireRatePerHour: 20 / 24,
    falsePositiveRate: 4 / 6,
    costUsPerTrace: 12.34,
    costShare: 0.5,
    noisy: { reason: '67% of its closed signals were marked false positive (4 of 6; flagged from 30%)' },
  }),
  health('bounded-retries', {}),
];

const sidecar = (req: Req) => {
  if (req.url.endsWith('/api/v1/rules/health')) {
    return { from: '2026-11-27T10:00:00.000Z', to: '2026-11-28T10:00:00.000Z', rules: healths };
  }
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

  it('shows each rule’s fire rate, compliance ratio, false positives and cost, and flags a noisy rule with the reason', async () => {
    serve(sidecar);
    renderList();
    await screen.findByTestId(ids.list.row('payment-fraud-check'));
    const cell = (rule: string, column: string) => screen.getByTestId(ids.list.health(rule, column));
    await waitFor(() => expect(cell('payment-fraud-check', 'fireRate')).toHaveTextContent('0.83/h'));
    expect(cell('payment-fraud-check', 'complianceRatio')).toHaveTextContent('37.5 %');
    expect(cell('payment-fraud-check', 'falsePositives')).toHaveTextContent('66.7 %');
    expect(cell('payment-fraud-check', 'cost')).toHaveTextContent('12.3 µs (50 %)');
    // Nothing triggered, nothing closed, nothing timed: unknown, not zero.
    expect(cell('bounded-retries', 'fireRate')).toHaveTextContent('0/h');
    expect(cell('bounded-retries', 'complianceRatio')).toHaveTextContent('—');
    expect(cell('bounded-retries', 'falsePositives')).toHaveTextContent('—');
    expect(cell('bounded-retries', 'cost')).toHaveTextContent('—');
    // A rule the sidecar has no health for (absent from its answer) says so too.
    expect(cell('phi-audit', 'fireRate')).toHaveTextContent('—');
    expect(screen.queryByTestId(ids.list.noisy('bounded-retries'))).not.toBeInTheDocument();
    const noisy = screen.getByTestId(ids.list.noisy('payment-fraud-check'));
    expect(noisy).toHaveTextContent('noisy');
    fireEvent.mouseEnter(noisy);
    expect(await screen.findByRole('tooltip')).toHaveTextContent('67% of its closed signals were marked false positive (4 of 6; flagged from 30%)');
    // One health request for all the rules, over the scene's time range.
    const healthCalls = mockFetch.mock.calls.map(([r]) => r as Req).filter((r) => r.url.includes('/health'));
    expect(healthCalls).toHaveLength(1);
    expect(healthCalls[0].url).toBe('/api/plugin-proxy/betrace-app/sidecar/api/v1/rules/health');
    expect((healthCalls[0].params!.to as number) - (healthCalls[0].params!.from as number)).toBe(24 * 3600_000);
  });

  it('shows dashes in the health columns when the sidecar has no health route', async () => {
    serve((req) => {
      if (req.url.endsWith('/api/v1/rules/health')) {
        throw { status: 404, data: { message: 'Route GET:/api/v1/rules/health not found' } };
      }
      return sidecar(req);
    });
    renderList();
    await screen.findByTestId(ids.list.row('payment-fraud-check'));
    await waitFor(() => expect(within(row('payment-fraud-check')).getByText('42')).toBeInTheDocument());
    for (const column of ['fireRate', 'complianceRatio', 'falsePositives', 'cost']) {
      expect(screen.getByTestId(ids.list.health('payment-fraud-check', column))).toHaveTextContent('—');
    }
    expect(screen.queryByTestId(ids.list.noisy('payment-fraud-check'))).not.toBeInTheDocument();
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
