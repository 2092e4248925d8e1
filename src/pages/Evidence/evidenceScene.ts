import { EmbeddedScene, PanelBuilders, SceneFlexItem, SceneFlexLayout } from '@grafana/scenes';

export const EVIDENCE_PLACEHOLDER = 'Evidence will be listed here: per compliance control, the traces checked, passed and failed, with the signature and chain of every record verified.';

export function evidenceScene() {
  return new EmbeddedScene({
    body: new SceneFlexLayout({
      children: [
        new SceneFlexItem({
          width: '100%',
          height: 200,
          body: PanelBuilders.text().setTitle('Evidence').setOption('content', EVIDENCE_PLACEHOLDER).build(),
        }),
      ],
    }),
  });
}
