import React from 'react';
import { MemoryRouter } from 'react-router-dom';
import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { createDataFrame, FieldType, type DataQueryRequest, type ScopedVars } from '@grafana/data';
import type { DataSourceRef } from '@grafana/schema';
import type { BackendSrvRequest } from '@grafana/runtime';
import { sceneGraph, type SceneObject, type SceneVariable } from '@grafana/scenes';
import type { EvidenceWirePage } from '../../api/evidence';
import { exploreTraceUrl, rangeAround } from '../../builders/exploreUrl';
import { evidenceOutcomesQuery, evidenceSpansQuery } from '../../builders/traceql';
import { testIds } from '../../components/testIds';
import { fakeFetch, installJsdomStubs, tempoSettings } from '../Signals/fakeGrafana';
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
  getDataSourceSrv: () => ({
    getList: () => [
      { ...jest.requireActual('../Signals/fakeGrafana').tempoSettings, uid: 'other-tempo', name: 'Other Tempo' },
      jest.requireActual('../Signals/fakeGrafana').tempoSettings,
    ],
    getInstanceSettings: () => jest.requireActual('../Signals/fakeGrafana').tempoSettings,
    get: (ref: DataSourceRef, scopedVars: ScopedVars) => mockGetDataSource(ref, scopedVars),
  }),
  // The time series panel's plugin never loads here: the panel stays a loading shell, its query still runs.
  getPluginImportUtils: () => ({
    importPanelPlugin: () => new Promise(() => {}),
    getPanelPluginFromCache: () => undefined,
  }),
}));

const AT = Date.UTC(2026, 10, 28, 10, 0);

const spans = createDataFrame({
  refId: 'evidence',
  fields: [
    { name: 'traceIdHidden', type: FieldType.string, values: ['e1', 'e2'] },
    { name: 'time', type: FieldType.time, values: [AT, AT + 60_000] },
    { name: 'compliance.framework', type: FieldType.string, values: ['soc2', 'soc2'] },
    { name: 'compliance.control', type: FieldType.string, values: ['CC6.1', 'CC6.1'] },
    { name: 'compliance.outcome', type: FieldType.string, values: ['pass', 'fail'] },
    { name: 'compliance.rule_id', type: FieldType.string, values: ['pii-guard', 'pii-guard'] },
    { name: 'compliance.checked_traces', type: FieldType.string, values: ['40', '60'] },
    { name: 'compliance.failed_traces', type: FieldType.string, values: ['0', '2'] },
    { name: 'compliance.sample_trace_ids', type: FieldType.string, values: ['', 'abcdef0123456789'] },
  ],
});

const ok = { signature: 'valid', link: 'valid', reordered: false, ok: true } as const;
const evidencePage = (altered: number): EvidenceWirePage => ({
  records: [
    {
      seq: 1,
      traceId: 'e1',
      spanId: 's1',
      framework: 'soc2',
      control: 'CC6.1',
      outcome: 'pass',
      ruleId: 'pii-guard',
      checkedTraces: 40,
      failedTraces: 0,
      windowStart: '',
      windowEnd: '',
      sampleTraceIds: [],
      keyId: 'k1',
      signature: 'aa',
      verification: { seq: 1, ...ok },
    },
    {
      seq: 2,
      traceId: 'e2',
      spanId: 's2',
      framework: 'soc2',
      control: 'CC6.1',
      outcome: 'fail',
      ruleId: 'pii-guard',
      checkedTraces: 60,
      failedTraces: 2,
      windowStart: '',
      windowEnd: '',
      sampleTraceIds: [],
      keyId: 'k1',
      signature: 'bb',
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
    missing: [],
    reordered: [],
    unknownKey: [],
    duplicates: [],
    ok: altered === 0,
  },
});

const EVIDENCE = '/api/plugin-proxy/betrace-app/sidecar/api/v1/evidence';
const CSV = new Blob(['seq,control\n1,CC6.1\n'], { type: 'text/csv' });

type TempoAnswer = (refId: string) => unknown;
let queriedUids: string[] = [];

function setup({
  tempo = (refId: string) => (refId === 'evidence' ? [spans] : []),
  altered = 0,
}: { tempo?: TempoAnswer; altered?: number } = {}) {
  mockFetch.mockImplementation(
    fakeFetch({ [`GET ${EVIDENCE}`]: () => evidencePage(altered), [`GET ${EVIDENCE}/export`]: () => CSV })
  );
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
    <MemoryRouter>
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
  beforeAll(installJsdomStubs);

  beforeEach(() => {
    resetTempoSettings();
    queriedUids = [];
    mockFetch.mockReset();
    mockTempoQuery.mockReset();
    mockHasPermission.mockReset().mockReturnValue(true);
  });

  it('queries the configured Tempo with TraceQL and sums the evidence per control', async () => {
    setup();
    const table = await screen.findByTestId(testIds.evidence.controls);
    // never the stand-in the variable picks before the app's settings arrive
    expect(new Set(queriedUids)).toEqual(new Set(['tempo-uid']));
    expect(lastTarget('evidence')).toMatchObject({
      queryType: 'traceql',
      query: evidenceSpansQuery({}),
      tableType: 'spans',
      limit: 500,
      spss: 100,
    });
    expect(lastTarget('outcomes')).toMatchObject({
      queryType: 'traceql',
      query: evidenceOutcomesQuery({}),
      metricsQueryType: 'range',
    });

    const row = within(table).getAllByRole('row')[1];
    expect(row).toHaveTextContent('CC6.1');
    expect(row).toHaveTextContent('soc2');
    expect(row).toHaveTextContent('100'); // traces checked
    expect(within(row).getByRole('link', { name: 'pii-guard' })).toHaveAttribute(
      'href',
      '/a/betrace-app/rules/pii-guard'
    );
    // the failing record's sample first, then the passing record's own trace (it lists none)
    expect(
      within(row)
        .getAllByTestId(testIds.evidence.sampleLink)
        .map((a) => a.getAttribute('href'))
    ).toEqual(
      ['abcdef0123456789', 'e1'].map((traceId) =>
        exploreTraceUrl({ datasourceUid: 'tempo-uid', traceId, range: rangeAround(AT + 60_000, 24 * 3600 * 1000) })
      )
    );
    await waitFor(() => expect(within(row).getByText('2 verified')).toBeInTheDocument());
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
      expect(lastTarget('evidence')!.query).toBe(evidenceSpansQuery({ framework: 'hipaa', control: '164.312(b) "x"' }))
    );
    expect(lastTarget('evidence')!.query).toContain('span.compliance.control = "164.312(b) \\"x\\""');
    expect(lastTarget('outcomes')!.query).toBe(
      evidenceOutcomesQuery({ framework: 'hipaa', control: '164.312(b) "x"' })
    );
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

  it('says when Tempo’s limit may have cut the records counted', async () => {
    const n = 500;
    const many = createDataFrame({
      fields: [
        { name: 'traceIdHidden', type: FieldType.string, values: Array.from({ length: n }, (_, i) => i.toString(16)) },
        { name: 'compliance.framework', type: FieldType.string, values: new Array(n).fill('soc2') },
        { name: 'compliance.control', type: FieldType.string, values: new Array(n).fill('CC6.1') },
        { name: 'compliance.outcome', type: FieldType.string, values: new Array(n).fill('pass') },
      ],
    });
    setup({ tempo: (refId) => (refId === 'evidence' ? [many] : []) });
    expect(await screen.findByTestId(testIds.evidence.controls)).toHaveTextContent(
      'Counted from the 500 newest evidence records Tempo returned (it returns at most 500)'
    );
  });

  it('says so when the range holds no evidence', async () => {
    setup({ tempo: () => [] });
    expect(await screen.findByTestId(testIds.evidence.empty)).toHaveTextContent('No evidence in this range');
  });

  it('shows Tempo’s error', async () => {
    setup({
      tempo: () => {
        throw new Error('invalid TraceQL query: parse error at line 1');
      },
    });
    expect(await screen.findByTestId(testIds.evidence.error)).toHaveTextContent(
      'invalid TraceQL query: parse error at line 1'
    );
  });
});
