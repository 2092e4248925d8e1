import React from 'react';
import { MemoryRouter } from 'react-router-dom';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { dateTimeFormat } from '@grafana/data';
import type { BackendSrvRequest } from '@grafana/runtime';
import type { SignalWithChanges } from '../../api/signals';
import { exploreTraceUrl, rangeAround } from '../../builders/exploreUrl';
import { testIds } from '../../components/testIds';
import { exploreLinkState, fakeFetch, installJsdomStubs } from './fakeGrafana';
import { SignalDetails } from './SignalDetails';

const mockFetch = jest.fn();
const mockHasPermission = jest.fn();
// Whole Grafana components render here; on a loaded CI machine that takes seconds, not milliseconds.
jest.setTimeout(30_000);

jest.mock('@grafana/runtime', () => ({
  ...jest.requireActual('@grafana/runtime'),
  getBackendSrv: () => ({ fetch: mockFetch }),
  hasPermission: (action: string) => mockHasPermission(action),
}));

const URL = '/api/plugin-proxy/betrace-app/sidecar/api/v1/signals/sig%2F1';
const AT = Date.UTC(2026, 10, 28, 10, 0);

function stored(): SignalWithChanges {
  return {
    id: 'sig/1',
    tenant: 'default',
    ruleId: 'pii-guard',
    ruleVersion: 4,
    ruleName: 'PII guard',
    traceId: '5b8efff798038103d269b633813fc700',
    boundSpanId: 'eee19b7ec3c1b100',
    matchedSpanIds: ['eee19b7ec3c1b100'],
    message: 'email address in span attributes',
    severity: 'high',
    status: 'acknowledged',
    source: 'pull',
    service: 'checkout',
    createdAt: new Date(AT).toISOString(),
    updatedAt: new Date(AT + 60_000).toISOString(),
    changes: [{ at: new Date(AT + 60_000).toISOString(), who: 'alice', from: 'open', to: 'acknowledged', note: 'looking into it' }],
  };
}

function renderDetails(onChanged = jest.fn()) {
  render(
    <MemoryRouter future={{ v7_startTransition: true, v7_relativeSplatPath: true }}>
      <SignalDetails signalId="sig/1" tempoUid="tempo-uid" onClose={jest.fn()} onChanged={onChanged} />
    </MemoryRouter>
  );
  return onChanged;
}

describe('SignalDetails', () => {
  let signal: SignalWithChanges;

  beforeAll(installJsdomStubs);

  beforeEach(() => {
    signal = stored();
    mockHasPermission.mockReset().mockImplementation((a: string) => a === 'betrace-app.signals:write');
    mockFetch.mockReset().mockImplementation(
      fakeFetch({
        [`GET ${URL}`]: () => signal,
        [`PATCH ${URL}`]: (req: BackendSrvRequest) => {
          const { status, note } = req.data as { status: SignalWithChanges['status']; note: string };
          signal.changes.push({ at: new Date(AT + 120_000).toISOString(), who: 'bob', from: signal.status, to: status, note });
          signal.status = status;
          return signal;
        },
      })
    );
  });

  it('shows the signal, its trace with the bound span, its rule and who changed it when', async () => {
    renderDetails();
    const details = await screen.findByTestId(testIds.signals.details);
    await waitFor(() => expect(details).toHaveTextContent('email address in span attributes'));
    expect(exploreLinkState(within(details).getByTestId(testIds.signals.traceLink).getAttribute('href'))).toEqual(
      exploreLinkState(
        exploreTraceUrl({
          datasourceUid: 'tempo-uid',
          traceId: '5b8efff798038103d269b633813fc700',
          spanId: 'eee19b7ec3c1b100',
          range: rangeAround(AT),
        })
      )
    );
    expect(within(details).getByTestId(testIds.signals.ruleLink)).toHaveAttribute(
      'href',
      '/a/betrace-app/rules/pii-guard'
    );
    expect(within(details).getByTestId(testIds.signals.ruleLink)).toHaveTextContent('Rule PII guard (v4)');
    const history = screen.getByTestId(testIds.signals.history);
    expect(history).toHaveTextContent(`Open → Acknowledged by alice, ${dateTimeFormat(AT + 60_000)}`);
    expect(history).toHaveTextContent('looking into it');
  });

  it('offers only the moves the lifecycle allows, and records the change with its note', async () => {
    const onChanged = renderDetails();
    await screen.findByText('email address in span attributes');
    // acknowledged → resolved | false positive | open
    expect(screen.getAllByRole('radio').map((r) => r.closest('div')?.textContent)).toEqual([
      'Resolved',
      'False positive',
      'Open',
    ]);
    expect(screen.getByTestId(testIds.signals.saveStatus)).toBeDisabled();

    fireEvent.click(screen.getByLabelText('False positive'));
    fireEvent.change(screen.getByTestId(testIds.signals.note), { target: { value: '  synthetic test traffic  ' } });
    fireEvent.click(screen.getByTestId(testIds.signals.saveStatus));

    await waitFor(() => expect(onChanged).toHaveBeenCalledTimes(1));
    const patch = mockFetch.mock.calls.map(([r]) => r as BackendSrvRequest).find((r) => r.method === 'PATCH');
    expect(patch).toMatchObject({ url: URL, data: { status: 'false_positive', note: 'synthetic test traffic' } });
    await waitFor(() =>
      expect(screen.getByTestId(testIds.signals.history)).toHaveTextContent('Acknowledged → False positive by bob')
    );
    expect(screen.getByTestId(testIds.signals.history)).toHaveTextContent('synthetic test traffic');
  });

  it('shows why the sidecar refused a change', async () => {
    mockFetch.mockImplementation(
      fakeFetch({
        [`GET ${URL}`]: () => signal,
        [`PATCH ${URL}`]: () => {
          throw {
            status: 409,
            data: { error: 'conflict', message: 'a resolved signal cannot become acknowledged (allowed: open)' },
          };
        },
      })
    );
    const onChanged = renderDetails();
    await screen.findByText('email address in span attributes');
    fireEvent.click(screen.getByLabelText('Resolved'));
    fireEvent.click(screen.getByTestId(testIds.signals.saveStatus));
    expect(await screen.findByText('a resolved signal cannot become acknowledged (allowed: open)')).toBeInTheDocument();
    expect(onChanged).not.toHaveBeenCalled();
  });

  it('without signals:write, shows the history but no status form', async () => {
    mockHasPermission.mockReturnValue(false);
    renderDetails();
    expect(await screen.findByTestId(testIds.signals.readOnly)).toHaveTextContent('signals:write');
    expect(screen.queryByTestId(testIds.signals.saveStatus)).not.toBeInTheDocument();
    expect(screen.queryByRole('radio')).not.toBeInTheDocument();
    expect(screen.getByTestId(testIds.signals.history)).toHaveTextContent('by alice');
    expect(mockHasPermission).toHaveBeenCalledWith('betrace-app.signals:write');
  });

  it('says when the signal cannot be loaded', async () => {
    mockFetch.mockImplementation(fakeFetch({}));
    renderDetails();
    expect(await screen.findByText('Could not load the signal')).toBeInTheDocument();
    expect(screen.getByTestId(testIds.signals.details)).toHaveTextContent(`no route GET ${URL}`);
  });
});
