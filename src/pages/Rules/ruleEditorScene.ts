import { EmbeddedScene, SceneFlexItem, SceneFlexLayout } from '@grafana/scenes';
import { RuleEditor } from './RuleEditor';

/** The editor of one rule (`ruleId`), or of a new one. */
export function ruleEditorScene(ruleId?: string) {
  return new EmbeddedScene({
    body: new SceneFlexLayout({
      direction: 'column',
      children: [new SceneFlexItem({ body: new RuleEditor({ ruleId }) })],
    }),
  });
}
