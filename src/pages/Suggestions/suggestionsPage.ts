import { SceneAppPage } from '@grafana/scenes';
import { ROUTES } from '../../constants';
import { prefixRoute } from '../../utils/utils.routing';
import { suggestionsScene } from './suggestionsScene';

/** Suggestions: invariants discovered in the traces, to adopt as rules or dismiss. */
export const suggestionsPage = new SceneAppPage({
  title: 'Suggestions',
  subTitle: 'Invariants BeTrace found in your traces, ranked: adopt them as rules in one click',
  url: prefixRoute(ROUTES.Suggestions),
  routePath: `${ROUTES.Suggestions}/*`,
  getScene: () => suggestionsScene(),
});
