import { SceneAppPage, type SceneAppPageLike, type SceneRouteMatch } from '@grafana/scenes';
import { ROUTES } from '../../constants';
import { prefixRoute } from '../../utils/utils.routing';
import { newRuleUrl, ruleUrl } from '../../builders/exploreUrl';
import { ruleEditorScene } from './ruleEditorScene';
import { rulesScene } from './rulesScene';

function editorPage(parent: SceneAppPageLike, url: string, title: string, ruleId?: string) {
  return new SceneAppPage({
    title,
    url,
    routePath: ruleId === undefined ? 'new' : ':id',
    getParentPage: () => parent,
    getScene: () => ruleEditorScene(ruleId),
  });
}

/** Rules: the list at /rules, the editor at /rules/new and /rules/:id (drilldowns). */
export const rulesPage = new SceneAppPage({
  title: 'Rules',
  subTitle: 'Invariants over whole traces, checked on every trace',
  url: prefixRoute(ROUTES.Rules),
  routePath: `${ROUTES.Rules}/*`,
  getScene: rulesScene,
  drilldowns: [
    { routePath: 'new', getPage: (_match: SceneRouteMatch, parent) => editorPage(parent, newRuleUrl(), 'New rule') },
    {
      routePath: ':id',
      getPage: (match: SceneRouteMatch<{ id: string }>, parent) => {
        const id = decodeURIComponent(match.params.id);
        // Titled by the id from the URL until the editor has loaded the rule and renames the page.
        return editorPage(parent, ruleUrl(id), id, id);
      },
    },
  ],
});
