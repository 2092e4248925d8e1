import React from 'react';
import { MemoryRouter } from 'react-router-dom';
import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import type { DataQueryRequest, ScopedVars } from '@grafana/data';
import type { DataSourceRef } from '@grafana/schema';
import type { BackendSrvRequest } from '@grafana/runtime';
import { sceneGraph, type SceneObject, type SceneVariable } from '@grafana/scenes';
import type { EvidenceWirePage } from '../../api/evidence';
import { exploreTraceUrl, rangeAround } from '../../builders/exploreUrl';
import { evidenceOutcomesQuery } from '../../builders/traceql';
import { testIds } from '../../components/testIds';
import {
  exploreLinkState,
  fakeFetch,
  installDataSourceSrv,
  installJsdomStubs,
  tempoSettings,
} from '../Signals/fakeGrafana';
import { resetTempoSettings } from '../Signals/tempoVariable';
import { evidenceScene } from './evidenceScene';

// Whole Grafana components render here; on a loaded CI machine that takes seconds, not milliseconds.
jest.setTimeout(30_000);

const mockFetch = jest.fn();
const mockHasPermission = jest.fn();
const mockTempoQuery = jest.fn();
const mockGetDataSource = jest.fn();
jest.mock('@grafana/runtime', () => ({
  ...jest.requireActual('@grafana/runtime'),
  getBackendSrv: () => ({
    fetch: mockFetch,
    get: () => Promise.resolve({ jsonData: { tempoDatasourceUid: 'tempo-uid' } }),
  }),
  hasPermission: (action: string) => mockHasPermission(action),
  getRunRequest: () => jest.requireActual('../Signals/fakeGrafana').fakeRunRequest,
  // The time series panel's plugin never loads here: the panel stays a loading shell, its query still runs.
  getPluginImportUtils: () => ({
    importPanelPlugin: () => new Promise(() => {}),
    getPanelPluginFromCache: () => undefined,
  }),
}));

const AT = Date.UTC(2026, 10, 28, 10, 0);

const ok = { signature: 'valid', link: 'valid', reordered: false, ok: true } as const;
const evidencePage = (altered: number): EvidenceWirePage => ({
  records: [
    {
      seq: 1,
      traceId: 'e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1',
      spanId: 'a1a1a1a1a1a1a1a1',
      framework: 'soc2',
      control: 'CC6.1',
      outcome: 'pass',
      ruleId: 'pii-guard',
      evidenceType: 'summary',
      checkedTraces: 40,
      passedTraces: 40,
      failedTraces: 0,
      windowStart: new Date(AT - 60_000).toISOString(),
      windowEnd: new Date(AT).toISOString(),
      sampleTraceIds: ['aaaa0000'],
      keyId: 'k1',
      prev: '',
      signature: 'aa',
      attributes: {},
      verification: { seq: 1, ...ok },
    },
    {
      seq: 2,
      traceId: 'e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2',
      spanId: 'a2a2a2a2a2a2a2a2',
      framework: 'soc2',
      control: 'CC6.1',
      outcome: 'fail',
      ruleId: 'pii-guard',
      evidenceType: 'summary',
      checkedTraces: 60,
      passedTraces: 58,
      failedTraces: 2,
      windowStart: new Date(AT).toISOString(),
      windowEnd: new Date(AT + 60_000).toISOString(),
      sampleTraceIds: ['abcdef0123456789', 'bbbb0000', 'cccc0000'],
      keyId: 'k1',
      prev: 'aa',
      signature: 'bb',
      attributes: {},
      verification: altered ? { seq: 2, ...ok, signature: 'invalid', ok: false } : { seq: 2, ...ok },
    },
  ],
  total: 2,
  limit: 1000,
  offset: 0,
  verification: {
    records: 2,
    verified: 2 - altered,
    altered: altered ? [2] : [],
    brokenLinks: [],
    headMismatch: false,
    anchors: { anchors: 0, latest: null, altered: [], unknownKey: [], truncated: [], mismatched: [], outOfOrder: [], unreadable: 0 },
    missing: [],
    reordered: [],
    unknownKey: [],
    duplicates: [],
    ok: altered === 0,
    scope: 'cached',
    checkedAt: new Date(AT).toISOString(),
    head: 2,
  },
  // The sidecar counts every record in scope; here more than the page holds.
  summary: {
    scope: { framework: null, control: null },
    period: { from: null, to: null },
    controls: [
      { framework: 'soc2', control: 'CC6.1', records: 120, pass: 80, fail: 40, checkedTraces: 5000, failedTraces: 90 },
    ],
  },
});

const EVIDENCE = '/api/plugin-proxy/betrace-app/sidecar/api/v1/evidence';
const CSV = new Blob(['seq,control\n1,CC6.1\n'], { type: 'text/csv' });

type TempoAnswer = (refId: string) => unknown;
let queriedUids: string[] = [];

function setup({
  tempo = () => [],
  altered = 0,
  evidence = () => evidencePage(altered),
}: { tempo?: TempoAnswer; altered?: number; evidence?: () => unknown } = {}) {
  mockFetch.mockImplementation(fakeFetch({ [`GET ${EVIDENCE}`]: evidence, [`GET ${EVIDENCE}/export`]: () => CSV }));
  mockTempoQuery.mockImplementation(async (request: DataQueryRequest) => ({
    data: request.targets.flatMap((t) => tempo(t.refId) as unknown[]),
  }));
  mockGetDataSource.mockImplementation(async (ref: DataSourceRef, scopedVars: ScopedVars) => {
    // Grafana's DataSourceSrv interpolates the ref with the scene's variables, as here.
    const uid = sceneGraph.interpolate(scopedVars.__sceneObject!.value.valueOf() as SceneObject, ref.uid);
    queriedUids.push(uid);
    if (uid !== 'tempo-uid') {
      throw new Error(`queried datasource ${uid}, not the configured one`);
    }
    return { ...tempoSettings, query: mockTempoQuery, getRef: () => ({ type: 'tempo', uid: 'tempo-uid' }) };
  });
  const scene = evidenceScene();
  render(
    <MemoryRouter future={{ v7_startTransition: true, v7_relativeSplatPath: true }}>
      <scene.Component model={scene} />
    </MemoryRouter>
  );
  return scene;
}

const tempoTargets = () =>
  mockTempoQuery.mock.calls.flatMap(([r]) => (r as DataQueryRequest).targets) as Array<
    { refId: string; query: string } & Record<string, unknown>
  >;
const lastTarget = (refId: string) =>
  tempoTargets()
    .filter((t) => t.refId === refId)
    .at(-1);

describe('Evidence page', () => {
  beforeAll(() => {
    installJsdomStubs();
    installDataSourceSrv({
      getList: () => [{ ...tempoSettings, uid: 'other-tempo', name: 'Other Tempo' }, tempoSettings],
      getInstanceSettings: () => tempoSettings,
      get: (ref, scopedVars) => mockGetDataSource(ref, scopedVars),
    });
  });

  beforeEach(() => {
    resetTempoSettings();
    queriedUids = [];
    mockFetch.mockReset();
    mockTempoQuery.mockReset();
    mockHasPermission.mockReset().mockReturnValue(true);
  });

  it('counts per control from the sidecar, and charts the outcomes from the configured Tempo', async () => {
    setup();
    const table = await screen.findByTestId(testIds.evidence.controls);
    await waitFor(() => expect(lastTarget('outcomes')).toBeDefined());
    // never the stand-in the variable picks before the app's settings arrive
    expect(new Set(queriedUids)).toEqual(new Set(['tempo-uid']));
    expect(lastTarget('outcomes')).toMatchObject({
      queryType: 'traceql',
      query: evidenceOutcomesQuery({}),
      metricsQueryType: 'range',
    });
    expect(tempoTargets().map((t) => t.refId)).toEqual(expect.not.arrayContaining(['evidence']));

    // every column says its unit: traces (where a rule applied) apart from signed records
    expect(
      within(table)
        .getAllByRole('columnheader')
        .slice(0, 6)
        .map((c) => c.textContent)
    ).toEqual(['Control', 'Framework', 'Traces checked (trigger held)', 'Failed traces', 'Pass rate', 'Records: pass / fail']);
    expect(screen.getByTestId(testIds.evidence.units)).toHaveTextContent(
      'Traces are counted once per window, and only where a rule applies'
    );
    const row = within(table).getAllByRole('row')[1];
    // the sidecar's exact counts, not the two records of the page
    expect(
      within(row)
        .getAllByRole('cell')
        .slice(0, 6)
        .map((c) => c.textContent)
    ).toEqual(['CC6.1', 'soc2', '5000', '90', '98.2 %', '80 pass40 fail']);
    expect(within(row).getByRole('link', { name: 'pii-guard' })).toHaveAttribute(
      'href',
      '/a/betrace-app/rules/pii-guard'
    );
    // the failing record's two violating traces, then a passing one
    const window = (from: number, to: number) => ({ from: from - 1_800_000, to: to + 1_800_000 });
    expect(
      within(row)
        .getAllByTestId(testIds.evidence.sampleLink)
        .map((a) => exploreLinkState(a.getAttribute('href')))
    ).toEqual(
      [
        exploreTraceUrl({ datasourceUid: 'tempo-uid', traceId: 'abcdef0123456789', range: window(AT, AT + 60_000) }),
        exploreTraceUrl({ datasourceUid: 'tempo-uid', traceId: 'bbbb0000', range: window(AT, AT + 60_000) }),
        exploreTraceUrl({ datasourceUid: 'tempo-uid', traceId: 'cccc0000', range: window(AT, AT + 60_000) }),
        exploreTraceUrl({ datasourceUid: 'tempo-uid', traceId: 'aaaa0000', range: window(AT - 60_000, AT) }),
      ].map(exploreLinkState)
    );
    // the newest record's own evidence span in Tempo
    expect(exploreLinkState(within(row).getByTestId(testIds.evidence.recordLink).getAttribute('href'))).toEqual(
      exploreLinkState(
        exploreTraceUrl({
          datasourceUid: 'tempo-uid',
          traceId: 'e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2',
          spanId: 'a2a2a2a2a2a2a2a2',
          range: rangeAround(AT + 60_000),
        })
      )
    );
    expect(within(row).getByText('2 verified')).toBeInTheDocument();
    expect(screen.getByTestId(testIds.evidence.verification)).toHaveTextContent('All 2 signed records verified');
  });

  it('reports records that failed verification, per control and in total', async () => {
    setup({ altered: 1 });
    expect(await screen.findByTestId(testIds.evidence.verification)).toHaveTextContent(
      '1 of 2 signed records failed verification'
    );
    expect(screen.getByTestId(testIds.evidence.verification)).toHaveTextContent(
      '1 verified, 1 altered, 0 missing, 0 reordered'
    );
    await waitFor(() =>
      expect(within(screen.getByTestId(testIds.evidence.controls)).getByText('1 altered')).toBeInTheDocument()
    );
  });

  it('narrows to a framework and a typed control, quoted into the TraceQL', async () => {
    const scene = setup();
    await screen.findByTestId(testIds.evidence.controls);
    act(() =>
      (
        sceneGraph.lookupVariable('framework', scene) as SceneVariable & { changeValueTo: (v: string) => void }
      ).changeValueTo('hipaa')
    );
    const control = screen.getByLabelText('Control');
    fireEvent.change(control, { target: { value: '164.312(b) "x"' } });
    fireEvent.keyDown(control, { key: 'Enter' });
    await waitFor(() =>
      expect(lastTarget('outcomes')!.query).toBe(
        evidenceOutcomesQuery({ framework: 'hipaa', control: '164.312(b) "x"' })
      )
    );
    expect(lastTarget('outcomes')!.query).toContain('span.compliance.control = "164.312(b) \\"x\\""');
    const verifyParams = mockFetch.mock.calls
      .map(([r]) => r as BackendSrvRequest)
      .filter((r) => r.url === EVIDENCE)
      .at(-1)!.params;
    expect(verifyParams).toMatchObject({ framework: 'hipaa', control: '164.312(b) "x"', limit: 1000, offset: 0 });
  });

  it('exports the selection as a file through the sidecar', async () => {
    const created: Blob[] = [];
    const downloads: string[] = [];
    Object.assign(URL, { createObjectURL: (b: Blob) => (created.push(b), 'blob:evidence'), revokeObjectURL: () => {} });
    const click = jest.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (
      this: HTMLAnchorElement
    ) {
      downloads.push(this.download);
    });
    setup();
    const buttons = await screen.findByTestId(testIds.evidence.exportButtons);
    expect(
      within(buttons)
        .getAllByRole('button')
        .map((b) => b.textContent)
    ).toEqual(['Export CSV', 'Export JSON', 'Export PDF']);
    fireEvent.click(within(buttons).getByRole('button', { name: 'Export CSV' }));
    await waitFor(() => expect(downloads).toHaveLength(1));
    const req = mockFetch.mock.calls.map(([r]) => r as BackendSrvRequest).find((r) => r.url === `${EVIDENCE}/export`)!;
    expect(req.responseType).toBe('blob');
    expect(req.params).toEqual({ format: 'csv', from: expect.any(Number), to: expect.any(Number) });
    expect(created).toHaveLength(1);
    expect(created[0]).toBe(CSV);
    expect(downloads[0]).toMatch(/^betrace-evidence-all-all-controls-\d{4}-\d{2}-\d{2}-\d{4}-\d{2}-\d{2}\.csv$/);
    click.mockRestore();
  });

  it('shows why an export failed, from the sidecar’s JSON in the blob body', async () => {
    setup();
    mockFetch.mockImplementation(
      fakeFetch({
        [`GET ${EVIDENCE}`]: () => evidencePage(0),
        [`GET ${EVIDENCE}/export`]: () => {
          throw {
            status: 400,
            data: new Blob([JSON.stringify({ error: 'invalid_request', message: 'pdf export needs a framework' })]),
          };
        },
      })
    );
    fireEvent.click(
      within(await screen.findByTestId(testIds.evidence.exportButtons)).getByRole('button', { name: 'Export PDF' })
    );
    expect(await screen.findByTestId(testIds.evidence.exportError)).toHaveTextContent(
      'PDF export failed: pdf export needs a framework'
    );
  });

  it('shows no export without evidence:export', async () => {
    mockHasPermission.mockImplementation((a: string) => a !== 'betrace-app.evidence:export');
    setup();
    await screen.findByTestId(testIds.evidence.controls);
    expect(screen.queryByTestId(testIds.evidence.exportButtons)).not.toBeInTheDocument();
    expect(mockHasPermission).toHaveBeenCalledWith('betrace-app.evidence:export');
  });

  it('says when the rules and samples come from part of the records counted', async () => {
    setup({ evidence: () => ({ ...evidencePage(0), total: 1500 }) });
    expect(await screen.findByTestId(testIds.evidence.controls)).toHaveTextContent(
      'The counts cover all 1500 records; the rules, sample traces and signature checks come from the first 2.'
    );
  });

  it('says so when the range holds no evidence', async () => {
    setup({ evidence: () => ({ ...evidencePage(0), records: [], total: 0, summary: { controls: [] } }) });
    expect(await screen.findByTestId(testIds.evidence.empty)).toHaveTextContent('No evidence in this range');
  });

  it('shows the sidecar’s error', async () => {
    setup({
      evidence: () => {
        throw { status: 502, data: { message: 'sidecar is down' } };
      },
    });
    expect(await screen.findByTestId(testIds.evidence.error)).toHaveTextContent('sidecar is down');
  });
});
