import { EmbeddedScene, PanelBuilders, SceneFlexItem, SceneFlexLayout } from '@grafana/scenes';

export const SIGNALS_PLACEHOLDER = 'Signals will be listed here: each violation of a rule, with its severity, its lifecycle (open, acknowledged, resolved, false positive) and a link to its trace in Explore.';

export function signalsScene() {
  return new EmbeddedScene({
    body: new SceneFlexLayout({
      children: [
        new SceneFlexItem({
          width: '100%',
          height: 200,
          body: PanelBuilders.text().setTitle('Signals').setOption('content', SIGNALS_PLACEHOLDER).build(),
        }),
      ],
    }),
  });
}
