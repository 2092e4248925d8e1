import {
  EmbeddedScene,
  SceneFlexItem,
  SceneFlexLayout,
  SceneRefreshPicker,
  SceneTimePicker,
  SceneTimeRange,
} from '@grafana/scenes';
import { RulesList } from './RulesList';

/** What a new rule starts with: the language's canonical example. */
export const EXAMPLE_RULE = `when   { p: payment.charge.where(amount > 1000) }
always { payment.fraud_check.where(order_id == p.order_id).before(p, within 5s) }`;

/** The rules list; the time range is the range of the "last signal" and "signals in range" columns. */
export function rulesScene() {
  return new EmbeddedScene({
    $timeRange: new SceneTimeRange({ from: 'now-24h', to: 'now' }),
    controls: [new SceneTimePicker({}), new SceneRefreshPicker({})],
    body: new SceneFlexLayout({
      direction: 'column',
      children: [new SceneFlexItem({ body: new RulesList() })],
    }),
  });
}
