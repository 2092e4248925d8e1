import React from 'react';
import { EmbeddedScene, SceneAppPage, SceneFlexItem, SceneFlexLayout, SceneReactObject } from '@grafana/scenes';
import { prefixRoute } from '../../utils/utils.routing';

/**
 * Stand-ins for the real pages in App.test: the app's routing and permission guard are tested
 * on their own, whatever the pages render.
 */
export function testPage(title: string, route: string) {
  return new SceneAppPage({
    title,
    url: prefixRoute(route),
    routePath: `${route}/*`,
    getScene: () =>
      new EmbeddedScene({
        body: new SceneFlexLayout({
          children: [new SceneFlexItem({ body: new SceneReactObject({ component: () => <div data-testid={`page-${route}`}>{title}</div> }) })],
        }),
      }),
  });
}
