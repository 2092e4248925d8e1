import { EmbeddedScene, SceneFlexItem, SceneFlexLayout } from '@grafana/scenes';
import { Placeholder } from './Placeholder';

/** A page whose real scene is still to come: one message saying what it will show. */
export function placeholderScene(message: string, description: string, testId: string) {
  return new EmbeddedScene({
    body: new SceneFlexLayout({
      children: [new SceneFlexItem({ body: new Placeholder({ message, description, testId }) })],
    }),
  });
}
