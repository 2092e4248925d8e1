import { EmbeddedScene, SceneFlexItem, SceneFlexLayout } from '@grafana/scenes';
import { RuleCheck } from './RuleCheck';

export const EXAMPLE_RULE = `when   { p: payment.charge.where(amount > 1000) }
always { payment.fraud_check.where(order_id == p.order_id).before(p, within 5s) }`;

export function rulesScene() {
  return new EmbeddedScene({
    body: new SceneFlexLayout({
      direction: 'column',
      children: [new SceneFlexItem({ body: new RuleCheck({ source: EXAMPLE_RULE }) })],
    }),
  });
}
