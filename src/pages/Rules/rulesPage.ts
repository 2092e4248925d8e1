import { SceneAppPage } from '@grafana/scenes';
import { ROUTES } from '../../constants';
import { prefixRoute } from '../../utils/utils.routing';
import { rulesScene } from './rulesScene';

export const rulesPage = new SceneAppPage({
  title: 'Rules',
  subTitle: 'Invariants over whole traces, checked on every trace',
  url: prefixRoute(ROUTES.Rules),
  routePath: `${ROUTES.Rules}/*`,
  getScene: rulesScene,
});
