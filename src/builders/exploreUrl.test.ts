import { textUtil } from '@grafana/data';
import { exploreLinkState } from '../pages/Signals/fakeGrafana';
import { exploreTraceUrl, newRuleUrl, rangeAround, ruleUrl, tempoDatasourceUid } from './exploreUrl';

describe('exploreTraceUrl', () => {
  it('opens the trace in Explore with the bound span focused', () => {
    const url = exploreTraceUrl({
      datasourceUid: 'tempo',
      traceId: '5B8EFFF798038103D269B633813FC700',
      spanId: 'EEE19B7EC3C1B100',
      range: { from: 1700000000000, to: 1700003600000 },
    });
    // urlUtil keeps `:` and `,` readable, as Grafana's own Explore links do.
    expect(url).toBe(
      '/explore?schemaVersion=1&panes=%7B%22betrace%22:%7B%22datasource%22:%22tempo%22,%22queries%22:%5B%7B%22refId%22:%22A%22,' +
        '%22datasource%22:%7B%22type%22:%22tempo%22,%22uid%22:%22tempo%22%7D,%22queryType%22:%22traceql%22,' +
        '%22query%22:%225b8efff798038103d269b633813fc700%22,%22limit%22:20,%22tableType%22:%22traces%22%7D%5D,' +
        '%22range%22:%7B%22from%22:%221700000000000%22,%22to%22:%221700003600000%22%7D,' +
        '%22panelsState%22:%7B%22trace%22:%7B%22spanId%22:%22eee19b7ec3c1b100%22%7D%7D%7D%7D'
    );
  });

  it('without a span or range, opens the trace over the last hour', () => {
    const url = exploreTraceUrl({ datasourceUid: 'my-tempo', traceId: 'abc123' });
    const panes = JSON.parse(new URLSearchParams(url.slice(url.indexOf('?') + 1)).get('panes')!);
    expect(panes).toEqual({
      betrace: {
        datasource: 'my-tempo',
        queries: [
          {
            refId: 'A',
            datasource: { type: 'tempo', uid: 'my-tempo' },
            queryType: 'traceql',
            query: 'abc123',
            limit: 20,
            tableType: 'traces',
          },
        ],
        range: { from: 'now-1h', to: 'now' },
      },
    });
  });

  // @grafana/ui's TextLink and LinkButton percent-decode an href (@braintree/sanitize-url ≥ 7.1): the
  // link must still open the same trace, so nothing in it may turn into `&`, `#`, `+` or `%` when decoded.
  it('opens the same Explore state after @grafana/ui sanitizes (decodes) the link', () => {
    for (const link of [
      {
        datasourceUid: 'Tempo_prod-1',
        traceId: '5b8efff798038103d269b633813fc700',
        spanId: 'eee19b7ec3c1b100',
        range: { from: 1700000000000, to: 1700003600000 },
      },
      { datasourceUid: 'tempo', traceId: 'abc123' },
    ]) {
      const url = exploreTraceUrl(link);
      const sanitized = textUtil.sanitizeUrl(url);
      expect(sanitized).toMatch(/^\/explore\?/);
      expect(exploreLinkState(sanitized)).toEqual(exploreLinkState(url));
    }
  });

  it('rejects ids that are not hex, naming them', () => {
    expect(() => exploreTraceUrl({ datasourceUid: 'tempo', traceId: 'not-a-trace' })).toThrow(
      'not a trace id (1–32 hex digits): "not-a-trace"'
    );
    expect(() => exploreTraceUrl({ datasourceUid: 'tempo', traceId: 'ab', spanId: '12' })).toThrow(
      'not a span id (16 hex digits): "12"'
    );
  });
});

describe('links and settings', () => {
  it('links a rule to its page in the app', () => {
    expect(ruleUrl('checkout/pii guard')).toBe('/a/betrace-app/rules/checkout%2Fpii%20guard');
    expect(newRuleUrl()).toBe('/a/betrace-app/rules/new');
  });

  it('puts a margin either side of an instant', () => {
    expect(rangeAround(1_000_000, 1000)).toEqual({ from: 999_000, to: 1_001_000 });
  });

  it.each([
    [undefined, 'tempo'],
    [{}, 'tempo'],
    [{ tempoDatasourceUid: '  ' }, 'tempo'],
    [{ tempoDatasourceUid: 42 }, 'tempo'],
    [{ tempoDatasourceUid: ' P214B5B846CF3925F ' }, 'P214B5B846CF3925F'],
  ])('takes the Tempo datasource from jsonData %j → %s', (jsonData, uid) => {
    expect(tempoDatasourceUid(jsonData)).toBe(uid);
  });
});
