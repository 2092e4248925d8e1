import { locationService } from '@grafana/runtime';
import { AppPlugin, PluginExtensionPoints, type PluginExtensionAddedLinkConfig } from '@grafana/data';
import pluginJson from '../plugin.json';
import { addTraceViewLinks } from './register';
import { CREATE_RULE_TITLE, focusedSpanId, SIGNALS_TITLE } from './links';
import { topSeverity, traceSignalsSummary } from './traceSignals';


type Link = PluginExtensionAddedLinkConfig<Record<string, unknown>>;
const TRACE = '5b8efff798038103d269b633813fc700';
// module.tsx registers them so (it awaits translations at top level, which jest cannot load).
const plugin = addTraceViewLinks(new AppPlugin());
const links = (): Link[] => plugin.addedLinkConfigs as Link[];
const at = (target: string) => links().filter((l) => ([] as string[]).concat(l.targets).includes(target));
const byTitle = (target: string, title: string) => at(target).find((l) => l.title === title)!;
const header = (extra: Record<string, unknown> = {}) => ({
  traceID: TRACE,
  startTime: 1_764_028_800_000_000,
  datasource: { uid: 'tempo-eu', type: 'tempo', name: 'Tempo EU' },
  spans: [],
  ...extra,
});

describe('the Explore extensions', () => {
  it('register two header actions (the point shows two per plugin) and one span-details link', () => {
    expect(at(PluginExtensionPoints.TraceViewHeaderActions).map((l) => l.title)).toEqual([CREATE_RULE_TITLE, SIGNALS_TITLE]);
    // eslint-disable-next-line @typescript-eslint/no-deprecated -- the trace view still matches rows by it
    expect(at(PluginExtensionPoints.TraceViewResourceAttributes).map((l) => [l.title, l.category, l.group?.name])).toEqual([
      [CREATE_RULE_TITLE, 'service.name', 'service.name'],
    ]);
    expect(links()).toHaveLength(3);
  });

  it('are declared in plugin.json with the same titles, descriptions and targets (Grafana refuses them otherwise)', () => {
    const declared = pluginJson.extensions.addedLinks;
    for (const link of links()) {
      const meta = declared.find((d) => d.title === link.title);
      expect(meta?.description).toBe(link.description);
      expect(meta?.targets).toEqual(expect.arrayContaining([].concat(link.targets as never)));
    }
    expect(declared.map((d) => d.title)).toEqual([CREATE_RULE_TITLE, SIGNALS_TITLE]);
  });

  it('point inside the app even before configure() runs', () => {
    for (const link of links()) {
      expect(link.path).toMatch(/^\/a\/betrace-app\//);
    }
  });

  it('draft a rule from the trace, with the span Explore has focused and the trace view’s datasource', () => {
    const create = byTitle(PluginExtensionPoints.TraceViewHeaderActions, CREATE_RULE_TITLE);
    locationService.push('/explore');
    expect(create.configure!(header())).toEqual({
      path: `/a/betrace-app/rules/new?fromTrace=${TRACE}&datasource=tempo-eu`,
    });
    const panes = JSON.stringify({ a: { panelsState: { trace: { spanId: 'EEE19B7EC3C1B100' } } } });
    locationService.push(`/explore?panes=${encodeURIComponent(panes)}`);
    expect(create.configure!(header())).toEqual({
      path: `/a/betrace-app/rules/new?fromTrace=${TRACE}&span=eee19b7ec3c1b100&datasource=tempo-eu`,
    });
    locationService.push('/explore');
  });

  it('hide the rule action on a trace BeTrace cannot fetch (not Tempo, or no trace)', () => {
    const create = byTitle(PluginExtensionPoints.TraceViewHeaderActions, CREATE_RULE_TITLE);
    expect(create.configure!(header({ datasource: { uid: 'j', type: 'jaeger', name: 'Jaeger' } }))).toBeUndefined();
    expect(create.configure!(undefined)).toBeUndefined();
    expect(create.configure!(header({ traceID: 'not-hex' }))).toBeUndefined();
  });

  it('draft from the span whose details are open', () => {
    const span = byTitle(PluginExtensionPoints.TraceViewResourceAttributes, CREATE_RULE_TITLE);
    const context = {
      attributes: { 'service.name': ['payment'] },
      datasource: { uid: 'tempo', type: 'tempo' },
      traceID: TRACE,
      spanID: 'e705a2c9ba31352f',
      timeRange: { from: 0, to: 1 },
    };
    expect(span.configure!(context)).toEqual({
      path: `/a/betrace-app/rules/new?fromTrace=${TRACE}&span=e705a2c9ba31352f&datasource=tempo`,
    });
    // Grafana before traceID/spanID were in this context: no link rather than a wrong one.
    expect(span.configure!({ ...context, spanID: undefined })).toBeUndefined();
  });

  it('open the Signals page filtered to the trace, from an hour before it started', () => {
    const signals = byTitle(PluginExtensionPoints.TraceViewHeaderActions, SIGNALS_TITLE);
    expect(signals.configure!(header())).toEqual({
      path: `/a/betrace-app/signals?var-traceId=${TRACE}&from=${1_764_028_800_000 - 3_600_000}&to=now`,
    });
    // Any trace view with hex ids (signals are looked up by id); a trimmed id is padded back to 32 digits.
    expect(
      signals.configure!(header({ traceID: 'abc', startTime: undefined, datasource: { uid: 'j', type: 'jaeger' } }))
    ).toEqual({ path: `/a/betrace-app/signals?var-traceId=${'abc'.padStart(32, '0')}&from=now-7d&to=now` });
    expect(signals.configure!(header({ traceID: 'xyz' }))).toBeUndefined();
  });

  it('read the focused span from Explore’s panes, only when exactly one pane names one', () => {
    const panes = (p: unknown) => ({ panes: JSON.stringify(p) });
    expect(focusedSpanId(panes({ a: { panelsState: { trace: { spanId: '0123456789abcdef' } } } }))).toBe('0123456789abcdef');
    expect(focusedSpanId(panes({ a: {}, b: { panelsState: { trace: {} } } }))).toBeUndefined();
    expect(
      focusedSpanId(
        panes({
          a: { panelsState: { trace: { spanId: '0123456789abcdef' } } },
          b: { panelsState: { trace: { spanId: 'fedcba9876543210' } } },
        })
      )
    ).toBeUndefined();
    expect(focusedSpanId({ panes: '{not json' })).toBeUndefined();
    expect(focusedSpanId({})).toBeUndefined();
  });
});

describe('the Signals page line for one trace', () => {
  it('counts the signals and names the top severity', () => {
    expect(topSeverity(['low', 'critical', 'medium'])).toBe('critical');
    expect(topSeverity([])).toBeUndefined();
    expect(traceSignalsSummary(TRACE, 2, ['medium', 'high'])).toBe(`2 signals on trace ${TRACE}; top severity: high.`);
    expect(traceSignalsSummary(TRACE, 1, ['info'])).toBe(`1 signal on trace ${TRACE}; top severity: info.`);
    expect(traceSignalsSummary(TRACE, 1200, ['low'])).toBe(
      `1,200 signals on trace ${TRACE}; top severity (of the 1 on this page): low.`
    );
    expect(traceSignalsSummary(TRACE, 0, [])).toBe(`No signals on trace ${TRACE} in this time range.`);
  });
});
