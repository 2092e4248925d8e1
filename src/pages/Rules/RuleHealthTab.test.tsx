import React from 'react';
import { render, screen, waitFor } from '@testing-library/react';
import { of, throwError } from 'rxjs';
import { SceneDataNode, sceneGraph, VizPanel } from '@grafana/scenes';
import type { RuleHealth } from '../../api/health';
import { installJsdomStubs } from '../Signals/fakeGrafana';
import { RuleHealthTab } from './RuleHealthTab';
import { RuleHealthView } from './RuleHealthView';
import { rulesTestIds as ids } from './testIds';

const mockFetch = jest.fn();
jest.mock('@grafana/runtime', () => ({
  ...jest.requireActual('@grafana/runtime'),
  getBackendSrv: () => ({ fetch: mockFetch }),
  // The time series panel's plugin never loads here: the panel stays a loading shell, its data is the scene's.
  getPluginImportUtils: () => ({
    importPanelPlugin: () => new Promise(() => {}),
    getPanelPluginFromCache: () => undefined,
  }),
}));
const mockSlo = jest.fn((_props: { ruleId: string }) => null);
jest.mock('./SloPanel', () => ({ SloPanel: (props: { ruleId: string }) => mockSlo(props) }));

const bucket = (at: string, triggered: number, violations: number) => ({
  bucketStart: at,
  evaluated: triggered,
  triggered,
  violations,
  skipped: 0,
  costUs: 0,
  costSamples: 0,
  complianceRatio: triggered === 0 ? null : 1 - violations / triggered,
});

const health: RuleHealth = {
  ruleId: 'payment-fraud-check',
  from: '2026-11-27T10:00:00.000Z',
  to: '2026-11-28T10:30:00.000Z',
  totals: { evaluated: 640, triggered: 32, violations: 20, skipped: 3, costUs: 25, costSamples: 2 },
  complianceRatio: 0.375,
  fireRatePerHour: 20 / 24,
  falsePositiveRate: 4 / 6,
  costUsPerTrace: 12.5,
  costShare: 0.25,
  lastFiredAt: null,
  signals: { open: 14, acknowledged: 1, resolved: 1, false_positive: 4, total: 20 },
  noisy: { reason: '67% of its closed signals were marked false positive (4 of 6; flagged from 30%)' },
  series: [bucket('2026-11-28T09:00:00.000Z', 0, 0), bucket('2026-11-28T10:00:00.000Z', 32, 20)],
};

type Req = { method: string; url: string; params?: Record<string, number> };

describe('RuleHealthTab', () => {
  beforeAll(() => installJsdomStubs());
  beforeEach(() => {
    mockFetch.mockReset();
    mockSlo.mockClear();
  });

  it('shows the rule’s totals, ratios, noisy hint, and Scenes time series of its hourly buckets', async () => {
    mockFetch.mockImplementation((req: Req) => (req.url.endsWith('/api/v1/rules/payment-fraud-check/health') ? of({ data: health }) : throwError(() => ({ status: 404, data: {} }))));
    render(<RuleHealthTab ruleId="payment-fraud-check" hasSlo={false} />);
    expect(await screen.findByTestId(ids.health.totals)).toBeInTheDocument();
    const stat = (name: string) => screen.getByTestId(ids.health.stat(name));
    expect(stat('evaluated')).toHaveTextContent('640');
    expect(stat('triggered')).toHaveTextContent('32');
    expect(stat('violations')).toHaveTextContent('20');
    expect(stat('compliance')).toHaveTextContent('37.5 %');
    expect(stat('fireRate')).toHaveTextContent('0.83/h');
    expect(stat('falsePositives')).toHaveTextContent('66.7 %');
    expect(stat('cost')).toHaveTextContent('12.5 µs (25 %)');
    expect(stat('skipped')).toHaveTextContent('3');
    expect(stat('lastFired')).toHaveTextContent('not in range');
    expect(stat('signals')).toHaveTextContent('14 / 1 / 1 / 4');
    expect(screen.getByTestId(ids.health.noisy)).toHaveTextContent('67% of its closed signals were marked false positive');
    expect(screen.getByTestId(ids.health.panels)).toBeInTheDocument();
    // Over the tab's range (the last 24 hours), in one request.
    const [[req]] = mockFetch.mock.calls as Array<[Req]>;
    expect(req.params!.to - req.params!.from).toBe(24 * 3600_000);
    expect(mockFetch).toHaveBeenCalledTimes(1);
    expect(mockSlo).not.toHaveBeenCalled();
  });

  it('feeds the panels the sidecar’s series', async () => {
    mockFetch.mockImplementation(() => of({ data: health }));
    const view = new RuleHealthView({ ruleId: 'payment-fraud-check' });
    const { EmbeddedScene, SceneTimeRange } = jest.requireActual('@grafana/scenes');
    const scene = new EmbeddedScene({ $timeRange: new SceneTimeRange({ from: 'now-24h', to: 'now' }), body: view });
    render(<scene.Component model={scene} />);
    await waitFor(() => expect(view.state.panels).toBeDefined());
    const panels = sceneGraph.findAllObjects(view.state.panels!, (o) => o instanceof VizPanel) as VizPanel[];
    expect(panels.map((p) => p.state.title)).toEqual(['Triggered traces and violations per hour', 'Compliance ratio per hour']);
    const frames = panels.map((p) => (p.state.$data as SceneDataNode).state.data.series[0]);
    expect(frames[0].fields.map((f) => [f.name, [...f.values]])).toEqual([
      ['Time', [Date.parse('2026-11-28T09:00:00.000Z'), Date.parse('2026-11-28T10:00:00.000Z')]],
      ['Triggered', [0, 32]],
      ['Violations', [0, 20]],
    ]);
    expect([...frames[1].fields[1].values]).toEqual([null, 0.375]);
  });

  it('renders the SLO panel of a rule with an objective, and the sidecar’s error', async () => {
    mockFetch.mockImplementation(() => throwError(() => ({ status: 502, data: { message: 'sidecar unreachable' } })));
    render(<RuleHealthTab ruleId="payment-fraud-check" hasSlo={true} />);
    expect(await screen.findByTestId(ids.health.error)).toHaveTextContent('sidecar unreachable');
    expect(mockSlo).toHaveBeenCalledWith({ ruleId: 'payment-fraud-check' });
  });
});
