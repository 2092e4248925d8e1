import React from 'react';
import { css } from '@emotion/css';
import { dateTimeFormatTimeAgo, LoadingState as DataLoadingState, type GrafanaTheme2 } from '@grafana/data';
import {
  PanelBuilders,
  sceneGraph,
  SceneDataNode,
  SceneFlexItem,
  SceneFlexLayout,
  SceneObjectBase,
  type SceneComponentProps,
  type SceneObjectState,
} from '@grafana/scenes';
import { Alert, Stack, Text, useStyles2 } from '@grafana/ui';
import { getRuleHealth, type RuleHealth } from '../../api/health';
import { healthFrames } from '../../builders/healthFrames';
import { formatCost, formatFireRate, formatRatio } from './healthFormat';
import { ErrorState, LoadingState } from './States';
import { rulesTestIds } from './testIds';

export interface RuleHealthViewState extends SceneObjectState {
  ruleId: string;
  loading: boolean;
  error?: string;
  health?: RuleHealth;
  panels?: SceneFlexLayout;
}

/**
 * One rule's health over the scene's time range (docs/rule-health.md): its counts and ratios from
 * the sidecar, and Scenes time series of its hourly buckets, reloaded when the range changes.
 */
export class RuleHealthView extends SceneObjectBase<RuleHealthViewState> {
  constructor(state: Pick<RuleHealthViewState, 'ruleId'> & Partial<RuleHealthViewState>) {
    super({ loading: true, ...state });
    this.addActivationHandler(() => {
      void this.load();
      const sub = sceneGraph.getTimeRange(this).subscribeToState(() => void this.load());
      return () => sub.unsubscribe();
    });
  }

  async load() {
    const range = sceneGraph.getTimeRange(this).state.value;
    this.setState({ loading: true, error: undefined });
    try {
      const health = await getRuleHealth(this.state.ruleId, range.from.valueOf(), range.to.valueOf());
      const { counts, compliance } = healthFrames(health.series);
      const data = (frame: typeof counts) => new SceneDataNode({ data: { state: DataLoadingState.Done, series: [frame], timeRange: range } });
      const panels = new SceneFlexLayout({
        direction: 'row',
        wrap: 'wrap',
        children: [
          new SceneFlexItem({
            minWidth: 320,
            height: 240,
            body: PanelBuilders.timeseries()
              .setTitle('Triggered traces and violations per hour')
              .setDescription('Traces the rule’s trigger held on, and those that violated it (the sidecar’s hourly rule health)')
              .setData(data(counts))
              .setCustomFieldConfig('drawStyle', 'bars' as never)
              .setCustomFieldConfig('fillOpacity', 60)
              .setDecimals(0)
              .setOverrides((b) => {
                b.matchFieldsWithName('Violations').overrideColor({ mode: 'fixed', fixedColor: 'red' });
                b.matchFieldsWithName('Triggered').overrideColor({ mode: 'fixed', fixedColor: 'blue' });
              })
              .build(),
          }),
          new SceneFlexItem({
            minWidth: 320,
            height: 240,
            body: PanelBuilders.timeseries()
              .setTitle('Compliance ratio per hour')
              .setDescription('1 − violations ÷ triggered traces; no point for an hour in which nothing triggered')
              .setData(data(compliance))
              .setUnit('percentunit')
              .setMin(0)
              .setMax(1)
              .build(),
          }),
        ],
      });
      this.setState({ health, panels, loading: false });
    } catch (e) {
      this.setState({ loading: false, error: e instanceof Error ? e.message : String(e) });
    }
  }

  static Component = RuleHealthRenderer;
}

function Stat({ name, label, value }: { name: string; label: string; value: string }) {
  const styles = useStyles2(getStyles);
  return (
    <div className={styles.stat} data-testid={rulesTestIds.health.stat(name)}>
      <Text color="secondary" variant="bodySmall">
        {label}
      </Text>
      <Text variant="h4">{value}</Text>
    </div>
  );
}

function RuleHealthRenderer({ model }: SceneComponentProps<RuleHealthView>) {
  const { loading, error, health, panels } = model.useState();
  if (error) {
    return <ErrorState title="Could not load the rule’s health from the sidecar" error={error} testId={rulesTestIds.health.error} />;
  }
  if (!health) {
    return loading ? <LoadingState text="Loading rule health…" testId={rulesTestIds.health.loading} /> : null;
  }
  const t = health.totals;
  const s = health.signals;
  return (
    <Stack direction="column" gap={2}>
      {health.noisy && (
        <div data-testid={rulesTestIds.health.noisy}>
          <Alert severity="warning" title="This rule looks noisy">
            {health.noisy.reason}
          </Alert>
        </div>
      )}
      <div data-testid={rulesTestIds.health.totals}>
        <Stack gap={2} wrap="wrap">
          <Stat name="evaluated" label="Evaluated" value={String(t.evaluated)} />
          <Stat name="triggered" label="Triggered" value={String(t.triggered)} />
          <Stat name="violations" label="Violations" value={String(t.violations)} />
          <Stat name="compliance" label="Compliance ratio" value={formatRatio(health.complianceRatio)} />
          <Stat name="fireRate" label="Fire rate" value={formatFireRate(health.fireRatePerHour)} />
          <Stat name="falsePositives" label="False positives" value={formatRatio(health.falsePositiveRate)} />
          <Stat name="cost" label="Cost / trace (share)" value={formatCost(health.costUsPerTrace, health.costShare)} />
          <Stat name="skipped" label="Skipped (budget)" value={String(t.skipped)} />
          <Stat name="lastFired" label="Last fired" value={health.lastFiredAt ? dateTimeFormatTimeAgo(health.lastFiredAt) : 'not in range'} />
          <Stat
            name="signals"
            label="Signals: open / acknowledged / resolved / false positive"
            value={`${s.open} / ${s.acknowledged} / ${s.resolved} / ${s.false_positive}`}
          />
        </Stack>
      </div>
      {panels && (
        <div data-testid={rulesTestIds.health.panels}>
          <panels.Component model={panels} />
        </div>
      )}
    </Stack>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  stat: css({
    display: 'flex',
    flexDirection: 'column',
    padding: theme.spacing(1, 2),
    border: `1px solid ${theme.colors.border.weak}`,
    borderRadius: theme.shape.radius.default,
    minWidth: 120,
  }),
});
