import { dateTime, FieldType, type DataQueryRequest } from '@grafana/data';
import type { BackendSrvRequest } from '@grafana/runtime';
import type { Signal } from '../../api/signals';
import { fakeFetch } from './fakeGrafana';
import { ANY, collectSignals, resolveFilters, SignalsDataSource, type SignalsQuery } from './signalsDataSource';

const mockFetch = jest.fn();
jest.mock('@grafana/runtime', () => ({
  ...jest.requireActual('@grafana/runtime'),
  getBackendSrv: () => ({ fetch: mockFetch }),
  getTemplateSrv: () => ({
    replace: (v: string) =>
      ({ $severity: 'critical', $status: ANY, $rule: '$__all', $service: ' checkout ', $text: '' })[v] ?? v,
  }),
}));

const LIST = '/api/plugin-proxy/betrace-app/sidecar/api/v1/signals';
const FROM = Date.UTC(2026, 10, 28, 10, 0);

const signals = (n: number): Signal[] =>
  Array.from({ length: n }, (_, i) => ({
    id: `s${i}`,
    tenant: 'default',
    ruleId: 'r',
    ruleVersion: 1,
    ruleName: 'R',
    traceId: 'ab',
    matchedSpanIds: [],
    message: 'm',
    severity: i % 2 ? 'critical' : 'low',
    status: 'open',
    source: 'push',
    createdAt: new Date(FROM + i * 1000).toISOString(),
    updatedAt: new Date(FROM + i * 1000).toISOString(),
  }));

const pages = (all: Signal[]) => (req: BackendSrvRequest) => {
  const { limit, offset } = req.params as { limit: number; offset: number };
  return { signals: all.slice(offset, offset + limit), total: all.length, limit, offset };
};

const listCalls = () => mockFetch.mock.calls.map(([r]) => r as BackendSrvRequest).filter((r) => r.url === LIST);

describe('resolveFilters', () => {
  const range = { from: 1, to: 2 };
  const same = (v: string) => v;

  it('drops "any" values and keeps the rest, trimmed', () => {
    expect(
      resolveFilters({ severity: ANY, status: '$__all', rule: '', service: ' checkout ', text: 'card' }, same, range)
    ).toEqual({ from: 1, to: 2, service: 'checkout', text: 'card' });
  });

  it('names a severity or status the sidecar would refuse', () => {
    expect(() => resolveFilters({ severity: 'urgent' }, same, range)).toThrow(
      'unknown severity "urgent" (expected one of info, low, medium, high, critical)'
    );
    expect(() => resolveFilters({ status: 'closed' }, same, range)).toThrow(
      'unknown status "closed" (expected one of open, acknowledged, resolved, false_positive)'
    );
  });

  it('takes a trace id in any case, padded back to 32 digits, and names one that is not', () => {
    expect(resolveFilters({ traceId: ' ABC ' }, same, range)).toEqual({ from: 1, to: 2, traceId: 'abc'.padStart(32, '0') });
    expect(resolveFilters({ traceId: '' }, same, range)).toEqual({ from: 1, to: 2 });
    expect(() => resolveFilters({ traceId: 'not-a-trace' }, same, range)).toThrow(
      '"not-a-trace" is not a trace id (1 to 32 hexadecimal digits)'
    );
  });
});

describe('collectSignals', () => {
  beforeEach(() => mockFetch.mockReset());

  it('reads pages of the sidecar maximum until it has `max` signals', async () => {
    mockFetch.mockImplementation(fakeFetch({ [`GET ${LIST}`]: pages(signals(3500)) }));
    const { signals: got, total } = await collectSignals({ from: 0, to: 1 }, 2500);
    expect(total).toBe(3500);
    expect(got).toHaveLength(2500);
    expect(got[2499].id).toBe('s2499');
    expect(listCalls().map((r) => (r.params as { offset: number }).offset)).toEqual([0, 1000, 2000]);
  });
});

describe('SignalsDataSource', () => {
  beforeEach(() => mockFetch.mockReset());

  const request = (targets: SignalsQuery[]): DataQueryRequest<SignalsQuery> =>
    ({
      targets,
      range: { from: dateTime(FROM), to: dateTime(FROM + 5 * 60_000), raw: { from: '', to: '' } },
      scopedVars: {},
      maxDataPoints: 5,
    }) as unknown as DataQueryRequest<SignalsQuery>;

  it('answers a table page with the interpolated filters', async () => {
    mockFetch.mockImplementation(fakeFetch({ [`GET ${LIST}`]: pages(signals(3)) }));
    const filters = { severity: '$severity', status: '$status', rule: '$rule', service: '$service', text: '$text' };
    const res = await new SignalsDataSource().query(
      request([{ refId: 'signals', kind: 'page', filters, limit: 2, offset: 1 }])
    );
    expect(listCalls()[0].params).toEqual({
      from: FROM,
      to: FROM + 5 * 60_000,
      severity: 'critical',
      service: 'checkout',
      limit: 2,
      offset: 1,
    });
    expect(res.data[0].fields.find((f: { name: string }) => f.name === 'id').values).toEqual(['s1', 's2']);
    expect(res.data[0].meta.custom).toEqual({ total: 3, limit: 2, offset: 1 });
  });

  it('counts signals by severity per bucket of the range', async () => {
    mockFetch.mockImplementation(fakeFetch({ [`GET ${LIST}`]: pages(signals(4)) }));
    const res = await new SignalsDataSource().query(
      request([{ refId: 'bySeverity', kind: 'bySeverity', filters: {} }])
    );
    const frame = res.data[0];
    expect(frame.fields.map((f: { name: string; type: FieldType; values: number[] }) => [f.name, f.values])).toEqual([
      ['time', [FROM, FROM + 60_000, FROM + 120_000, FROM + 180_000, FROM + 240_000]],
      ['info', [0, 0, 0, 0, 0]],
      ['low', [2, 0, 0, 0, 0]],
      ['medium', [0, 0, 0, 0, 0]],
      ['high', [0, 0, 0, 0, 0]],
      ['critical', [2, 0, 0, 0, 0]],
    ]);
    expect(frame.meta).toBeUndefined();
  });

  it('offers the rules as the rule filter’s options', async () => {
    mockFetch.mockImplementation(
      fakeFetch({
        'GET /api/plugin-proxy/betrace-app/sidecar/api/v1/rules': () => ({
          rules: [{ id: 'pii', name: 'PII guard' }, { id: 'bare' }],
        }),
      })
    );
    expect(await new SignalsDataSource().metricFindQuery()).toEqual([
      { text: 'PII guard', value: 'pii' },
      { text: 'bare', value: 'bare' },
    ]);
  });
});
