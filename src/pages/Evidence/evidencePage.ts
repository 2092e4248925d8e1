import { SceneAppPage } from '@grafana/scenes';
import { ROUTES } from '../../constants';
import { prefixRoute } from '../../utils/utils.routing';
import { evidenceScene } from './evidenceScene';

export const evidencePage = new SceneAppPage({
  title: 'Evidence',
  subTitle: 'Signed records that compliance controls work',
  url: prefixRoute(ROUTES.Evidence),
  routePath: `${ROUTES.Evidence}/*`,
  getScene: evidenceScene,
});
