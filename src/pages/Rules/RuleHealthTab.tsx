import React, { useMemo } from 'react';
import { EmbeddedScene, SceneControlsSpacer, SceneRefreshPicker, SceneTimePicker, SceneTimeRange } from '@grafana/scenes';
import { RuleHealthView } from './RuleHealthView';
import { SloPanel } from './SloPanel';
import { rulesTestIds } from './testIds';

/** The rule page's Health tab: its own time range (last 24 h by default), the health view, and the rule's SLO. */
export function RuleHealthTab({ ruleId, hasSlo }: { ruleId: string; hasSlo: boolean }) {
  const scene = useMemo(
    () =>
      new EmbeddedScene({
        $timeRange: new SceneTimeRange({ from: 'now-24h', to: 'now' }),
        controls: [new SceneControlsSpacer(), new SceneTimePicker({}), new SceneRefreshPicker({ intervals: ['1m', '5m', '15m', '1h'] })],
        body: new RuleHealthView({ ruleId }),
      }),
    [ruleId]
  );
  return (
    <div data-testid={rulesTestIds.health.container}>
      <scene.Component model={scene} />
      {/* SLO slot (issue 15): the error budget and burn rates of a rule with an objective. */}
      {hasSlo && <SloPanel ruleId={ruleId} />}
    </div>
  );
}
