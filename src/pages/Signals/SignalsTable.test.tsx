import React from 'react';
import { MemoryRouter } from 'react-router-dom';
import { Subject } from 'rxjs';
import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import type { BackendSrvRequest } from '@grafana/runtime';
import { EmbeddedScene, sceneGraph, SceneTimeRange, VariableValueSelectors, type SceneVariable } from '@grafana/scenes';
import type { Signal } from '../../api/signals';
import { exploreTraceUrl, rangeAround } from '../../builders/exploreUrl';
import { testIds } from '../../components/testIds';
import {
  exploreLinkState,
  fakeFetch,
  installDataSourceSrv,
  installJsdomStubs,
  tempoSettings,
  type Route,
} from './fakeGrafana';
import { registerSignalsDataSource } from './signalsDataSource';
import { filterVariables } from './signalsScene';
import { SignalsTable } from './SignalsTable';

const mockFetch = jest.fn();
const mockHasPermission = jest.fn();
// Whole Grafana components render here; on a loaded CI machine that takes seconds, not milliseconds.
// A page of 20 rows (links, badges, icon buttons) under React 19's development build took 44–47 s
// on the 2-core machine at load ~20, the other tests 1–18 s; the waits inside keep their 1 s limits.
jest.setTimeout(90_000);

jest.mock('@grafana/runtime', () => ({
  ...jest.requireActual('@grafana/runtime'),
  getBackendSrv: () => ({ fetch: mockFetch, get: jest.fn(() => Promise.resolve({ jsonData: {} })) }),
  hasPermission: (action: string) => mockHasPermission(action),
  getRunRequest: () => jest.requireActual('./fakeGrafana').fakeRunRequest,
}));

const FROM = Date.UTC(2026, 10, 28, 0, 0);
const TO = Date.UTC(2026, 10, 28, 12, 0);

/** 250 signals, newest first, one a minute back from 11:59. */
const ALL: Signal[] = Array.from({ length: 250 }, (_, i) => ({
  id: `sig-${i}`,
  tenant: 'default',
  ruleId: i % 2 ? 'pii-guard' : 'auth-check',
  ruleVersion: 3,
  ruleName: i % 2 ? 'PII guard' : 'Auth check',
  traceId: (i + 1).toString(16).padStart(32, 'a'),
  boundSpanId: (i + 1).toString(16).padStart(16, 'b'),
  matchedSpanIds: [],
  message: `violation ${i}`,
  severity: i % 5 === 0 ? 'critical' : 'high',
  status: 'open',
  source: 'push',
  service: 'checkout',
  createdAt: new Date(TO - (i + 1) * 60_000).toISOString(),
  updatedAt: new Date(TO - (i + 1) * 60_000).toISOString(),
}));

function listRoute(signals: Signal[]): Route {
  return (req) => {
    const p = req.params as Record<string, string | number>;
    const matching = signals.filter(
      (s) => (!p.severity || s.severity === p.severity) && (!p.text || s.message.includes(String(p.text)))
    );
    const offset = Number(p.offset ?? 0);
    const limit = Number(p.limit ?? 100);
    return { signals: matching.slice(offset, offset + limit), total: matching.length, limit, offset };
  };
}

const rules: Route = () => ({
  rules: [
    { id: 'pii-guard', name: 'PII guard' },
    { id: 'auth-check', name: 'Auth check' },
  ],
});

function setup(routes: Record<string, Route>) {
  mockFetch.mockImplementation(
    fakeFetch({ 'GET /api/plugin-proxy/betrace-app/sidecar/api/v1/rules': rules, ...routes })
  );
  registerSignalsDataSource();
  // A small page keeps jsdom fast; the page size is the table's state like any other.
  const table = new SignalsTable({ pageSize: 20 });
  const scene = new EmbeddedScene({
    $timeRange: new SceneTimeRange({ from: new Date(FROM).toISOString(), to: new Date(TO).toISOString() }),
    $variables: filterVariables(),
    controls: [new VariableValueSelectors({})],
    body: table,
  });
  // TextLink is a router link, as it is inside Grafana.
  render(
    <MemoryRouter future={{ v7_startTransition: true, v7_relativeSplatPath: true }}>
      <scene.Component model={scene} />
    </MemoryRouter>
  );
  return { scene, table };
}

const listCalls = () =>
  mockFetch.mock.calls
    .map(([req]) => req as BackendSrvRequest)
    .filter((r) => r.url === '/api/plugin-proxy/betrace-app/sidecar/api/v1/signals');

const variable = (scene: EmbeddedScene, name: string) =>
  sceneGraph.lookupVariable(name, scene) as SceneVariable & { changeValueTo: (v: string) => void };

describe('SignalsTable', () => {
  beforeAll(() => {
    installJsdomStubs();
    // The instance's one Tempo, which the Tempo variable settles on.
    installDataSourceSrv({ getList: () => [tempoSettings], getInstanceSettings: () => tempoSettings });
  });

  beforeEach(() => {
    mockFetch.mockReset();
    mockHasPermission.mockReset().mockReturnValue(true);
  });

  it('lists the newest page of signals with links to each trace (span focused) and rule', async () => {
    setup({ 'GET /api/plugin-proxy/betrace-app/sidecar/api/v1/signals': listRoute(ALL) });
    const table = await screen.findByTestId(testIds.signals.table);
    expect(within(table).getAllByRole('row')).toHaveLength(21);
    expect(screen.getByTestId(testIds.signals.pageInfo)).toHaveTextContent('1–20 of 250 signals');
    expect(listCalls()[0].params).toEqual({ from: FROM, to: TO, limit: 20, offset: 0 });

    const first = within(table).getAllByRole('row')[1];
    expect(first).toHaveTextContent('violation 0');
    expect(exploreLinkState(within(first).getByTestId(testIds.signals.traceLink).getAttribute('href'))).toEqual(
      exploreLinkState(
        exploreTraceUrl({
          datasourceUid: 'tempo-uid',
          traceId: ALL[0].traceId,
          spanId: ALL[0].boundSpanId,
          range: rangeAround(Date.parse(ALL[0].createdAt)),
        })
      )
    );
    expect(within(first).getByTestId(testIds.signals.ruleLink)).toHaveAttribute(
      'href',
      '/a/betrace-app/rules/auth-check'
    );
  });

  it('pages through the sidecar, one page of rows at a time', async () => {
    setup({ 'GET /api/plugin-proxy/betrace-app/sidecar/api/v1/signals': listRoute(ALL) });
    await screen.findByTestId(testIds.signals.table);
    fireEvent.click(screen.getByRole('button', { name: '3' }));
    await waitFor(() => expect(screen.getByTestId(testIds.signals.pageInfo)).toHaveTextContent('41–60 of 250 signals'));
    expect(listCalls().at(-1)!.params).toMatchObject({ limit: 20, offset: 40 });
    expect(within(screen.getByTestId(testIds.signals.table)).getAllByRole('row')[1]).toHaveTextContent('violation 40');
  });

  it('filters by severity and text, back on the first page', async () => {
    const { scene, table } = setup({ 'GET /api/plugin-proxy/betrace-app/sidecar/api/v1/signals': listRoute(ALL) });
    await screen.findByTestId(testIds.signals.table);
    act(() => table.setPage(2));
    await waitFor(() => expect(screen.getByTestId(testIds.signals.pageInfo)).toHaveTextContent('21–40 of 250'));

    act(() => variable(scene, 'severity').changeValueTo('critical'));
    await waitFor(() => expect(screen.getByTestId(testIds.signals.pageInfo)).toHaveTextContent('1–20 of 50 signals'));
    expect(listCalls().at(-1)!.params).toEqual({ from: FROM, to: TO, severity: 'critical', limit: 20, offset: 0 });

    // The text filter as the user types it: the value applies on Enter.
    const search = screen.getByLabelText('Search');
    fireEvent.change(search, { target: { value: 'violation 10' } });
    fireEvent.keyDown(search, { key: 'Enter' });
    await waitFor(() =>
      expect(listCalls().at(-1)!.params).toMatchObject({ severity: 'critical', text: 'violation 10', offset: 0 })
    );
    await waitFor(() => expect(screen.getByTestId(testIds.signals.pageInfo)).toHaveTextContent('of 3 signals'));
  });

  it('opens a signal’s details from its row; a status change there refreshes the list', async () => {
    const signals = ALL.slice(0, 3).map((x) => ({ ...x }));
    const { table } = setup({
      'GET /api/plugin-proxy/betrace-app/sidecar/api/v1/signals': listRoute(signals),
      'GET /api/plugin-proxy/betrace-app/sidecar/api/v1/signals/sig-1': () => ({ ...signals[1], changes: [] }),
      'PATCH /api/plugin-proxy/betrace-app/sidecar/api/v1/signals/sig-1': (req) => {
        signals[1].status = (req.data as { status: Signal['status'] }).status;
        return signals[1];
      },
    });
    const rows = within(await screen.findByTestId(testIds.signals.table)).getAllByRole('row');
    fireEvent.click(within(rows[2]).getByTestId(testIds.signals.openDetails));
    expect(table.state.selectedId).toBe('sig-1');
    expect(await screen.findByText('No status changes yet.')).toBeInTheDocument();

    const before = listCalls().length;
    fireEvent.click(screen.getByLabelText('Acknowledged'));
    fireEvent.click(screen.getByTestId(testIds.signals.saveStatus));
    await waitFor(() => expect(listCalls().length).toBe(before + 1));
    await waitFor(() =>
      expect(within(screen.getByTestId(testIds.signals.table)).getAllByRole('row')[2]).toHaveTextContent('Acknowledged')
    );
  });

  it('opens on the page and signal a shared URL names', async () => {
    mockFetch.mockImplementation(
      fakeFetch({
        'GET /api/plugin-proxy/betrace-app/sidecar/api/v1/rules': rules,
        'GET /api/plugin-proxy/betrace-app/sidecar/api/v1/signals': listRoute(ALL),
        'GET /api/plugin-proxy/betrace-app/sidecar/api/v1/signals/sig-45': () => ({ ...ALL[45], changes: [] }),
      })
    );
    registerSignalsDataSource();
    const table = new SignalsTable({ pageSize: 20 });
    table.urlSync!.updateFromUrl({ page: '3', signal: 'sig-45' });
    expect(table.getUrlState()).toEqual({ page: '3', signal: 'sig-45' });
    const scene = new EmbeddedScene({
      $timeRange: new SceneTimeRange({ from: new Date(FROM).toISOString(), to: new Date(TO).toISOString() }),
      $variables: filterVariables(),
      body: table,
    });
    render(
      <MemoryRouter future={{ v7_startTransition: true, v7_relativeSplatPath: true }}>
        <scene.Component model={scene} />
      </MemoryRouter>
    );
    await waitFor(() => expect(screen.getByTestId(testIds.signals.pageInfo)).toHaveTextContent('41–60 of 250 signals'));
    expect(await screen.findByTestId(testIds.signals.details)).toHaveTextContent('violation 45');
    expect(listCalls().map((r) => (r.params as { offset: number }).offset)).toEqual([40]);
  });

  it('says so when no signal matches', async () => {
    setup({ 'GET /api/plugin-proxy/betrace-app/sidecar/api/v1/signals': listRoute([]) });
    expect(await screen.findByTestId(testIds.signals.empty)).toHaveTextContent('No signals match');
  });

  it('shows the sidecar’s error', async () => {
    setup({
      'GET /api/plugin-proxy/betrace-app/sidecar/api/v1/signals': () => {
        throw { status: 502, data: { message: 'sidecar unreachable: connect ECONNREFUSED' } };
      },
    });
    expect(await screen.findByTestId(testIds.signals.error)).toHaveTextContent(
      'sidecar unreachable: connect ECONNREFUSED'
    );
  });

  it('shows a loading state until the sidecar answers', async () => {
    const pending = new Subject();
    setup({ 'GET /api/plugin-proxy/betrace-app/sidecar/api/v1/signals': () => pending });
    expect(await screen.findByTestId(testIds.signals.loading)).toBeInTheDocument();
    expect(screen.queryByTestId(testIds.signals.table)).not.toBeInTheDocument();
  });
});
