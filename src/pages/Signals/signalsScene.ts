import {
  CustomVariable,
  EmbeddedScene,
  PanelBuilders,
  QueryVariable,
  SceneControlsSpacer,
  SceneFlexItem,
  SceneFlexLayout,
  SceneQueryRunner,
  SceneRefreshPicker,
  SceneTimePicker,
  SceneTimeRange,
  SceneVariableSet,
  TextBoxVariable,
  VariableValueSelectors,
} from '@grafana/scenes';
import { SEVERITIES, SIGNAL_STATUSES, STATUS_LABELS } from '../../api/signals';
import { ANY, registerSignalsDataSource, SIGNALS_DATASOURCE } from './signalsDataSource';
import { bySeverityQuery } from './queries';
import { SignalsTable } from './SignalsTable';
import { applyConfiguredTempo, tempoVariable } from './tempoVariable';

/** Colours of the severities, from Grafana's palette (theme-aware names). */
export const SEVERITY_COLORS: Record<string, string> = {
  info: 'blue',
  low: 'green',
  medium: 'yellow',
  high: 'orange',
  critical: 'red',
};

/** The filters (the sidecar's list filters) and the Tempo datasource the links open. */
export function filterVariables() {
  const any = { includeAll: true, defaultToAll: true, allValue: ANY };
  return new SceneVariableSet({
    variables: [
      new CustomVariable({ name: 'severity', label: 'Severity', query: SEVERITIES.join(','), ...any }),
      new CustomVariable({
        name: 'status',
        label: 'Status',
        query: SIGNAL_STATUSES.map((s) => `${STATUS_LABELS[s]} : ${s}`).join(','),
        ...any,
      }),
      new QueryVariable({ name: 'rule', label: 'Rule', datasource: SIGNALS_DATASOURCE, query: 'rules', ...any }),
      new TextBoxVariable({ name: 'service', label: 'Service', value: '' }),
      new TextBoxVariable({ name: 'text', label: 'Search', value: '' }),
      // Set by Explore's "BeTrace signals for this trace" (var-traceId in the URL).
      new TextBoxVariable({ name: 'traceId', label: 'Trace id', value: '' }),
      tempoVariable(),
    ],
  });
}

function bySeverityPanel() {
  const panel = PanelBuilders.timeseries()
    .setTitle('Signals by severity')
    .setData(new SceneQueryRunner({ datasource: SIGNALS_DATASOURCE, queries: [bySeverityQuery()], maxDataPoints: 200 }))
    .setCustomFieldConfig('drawStyle', 'bars' as never)
    .setCustomFieldConfig('fillOpacity', 80)
    .setCustomFieldConfig('stacking', { mode: 'normal' as never, group: 'A' })
    .setDecimals(0)
    .setOption('legend', { showLegend: true, displayMode: 'list' as never, placement: 'bottom', calcs: [] });
  panel.setOverrides((b) => {
    for (const [severity, color] of Object.entries(SEVERITY_COLORS)) {
      b.matchFieldsWithName(severity).overrideColor({ mode: 'fixed', fixedColor: color });
    }
  });
  return panel.build();
}

export function signalsScene() {
  registerSignalsDataSource();
  return new EmbeddedScene({
    $timeRange: new SceneTimeRange({ from: 'now-6h', to: 'now' }),
    $variables: filterVariables(),
    // Only the trace links use Tempo here, so they may follow the setting when it arrives.
    $behaviors: [(scene) => void applyConfiguredTempo(scene)],
    controls: [
      new VariableValueSelectors({}),
      new SceneControlsSpacer(),
      new SceneTimePicker({}),
      new SceneRefreshPicker({ intervals: ['30s', '1m', '5m', '15m'] }),
    ],
    body: new SceneFlexLayout({
      direction: 'column',
      children: [
        new SceneFlexItem({ height: 260, body: bySeverityPanel() }),
        new SceneFlexItem({ body: new SignalsTable({}) }),
      ],
    }),
  });
}
