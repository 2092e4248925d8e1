import { SceneAppPage } from '@grafana/scenes';
import { ROUTES } from '../../constants';
import { prefixRoute } from '../../utils/utils.routing';
import { signalsScene } from './signalsScene';

export const signalsPage = new SceneAppPage({
  title: 'Signals',
  subTitle: 'Every violation of a rule, one click from its trace',
  url: prefixRoute(ROUTES.Signals),
  routePath: `${ROUTES.Signals}/*`,
  getScene: signalsScene,
});
