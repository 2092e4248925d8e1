import { EmbeddedScene, PanelBuilders, SceneFlexItem, SceneFlexLayout } from '@grafana/scenes';

/** A page whose real scene is still to come: one text panel saying what it will show. */
export function placeholderScene(title: string, content: string) {
  return new EmbeddedScene({
    body: new SceneFlexLayout({
      children: [
        new SceneFlexItem({
          width: '100%',
          height: 200,
          body: PanelBuilders.text().setTitle(title).setOption('content', content).build(),
        }),
      ],
    }),
  });
}
