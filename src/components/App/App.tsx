import React from 'react';
import { Navigate, Route, Routes } from 'react-router-dom';
import { SceneApp, type SceneAppPage, useSceneApp } from '@grafana/scenes';
import { AppRootProps } from '@grafana/data';
import { EmptyState } from '@grafana/ui';
import { ROUTES } from '../../constants';
import { ACTIONS, can, type Action } from '../../utils/permissions';
import { PluginPropsContext } from '../../utils/utils.plugin';
import { prefixRoute } from '../../utils/utils.routing';
import { evidencePage } from '../../pages/Evidence/evidencePage';
import { rulesPage } from '../../pages/Rules/rulesPage';
import { signalsPage } from '../../pages/Signals/signalsPage';
import { suggestionsPage } from '../../pages/Suggestions/suggestionsPage';

/** Each page with the action that shows it (plugin.json `includes[].action` hides its nav entry). */
const PAGES: Array<{ route: ROUTES; page: SceneAppPage; action: Action }> = [
  { route: ROUTES.Rules, page: rulesPage, action: ACTIONS.rulesRead },
  { route: ROUTES.Suggestions, page: suggestionsPage, action: ACTIONS.rulesRead },
  { route: ROUTES.Signals, page: signalsPage, action: ACTIONS.signalsRead },
  { route: ROUTES.Evidence, page: evidencePage, action: ACTIONS.evidenceRead },
];

/** The pages the signed-in user may read: a page they cannot read is not routed at all. */
export function allowedPages() {
  return PAGES.filter((p) => can(p.action));
}

// useSceneApp caches the app by factory: one stable factory per set of readable pages.
const factories = new Map<string, () => SceneApp>();
function sceneAppFactory(pages: typeof PAGES) {
  const key = pages.map((p) => p.route).join(',');
  let factory = factories.get(key);
  if (factory === undefined) {
    // A scene object has one parent: each app gets its own copies of the pages.
    factory = () => new SceneApp({ pages: pages.map((p) => p.page.clone()), urlSyncOptions: { updateUrlOnInit: true, createBrowserHistorySteps: true } });
    factories.set(key, factory);
  }
  return factory;
}

function AppWithScenes() {
  const allowed = allowedPages();
  const scene = useSceneApp(sceneAppFactory(allowed));
  if (allowed.length === 0) {
    return (
      <EmptyState variant="not-found" message="No access to BeTrace">
        Your Grafana role holds none of BeTrace&apos;s read permissions (rules, signals, evidence). Ask an administrator for the BeTrace Reader roles.
      </EmptyState>
    );
  }
  // The app's own URL (a bookmark, a link from elsewhere in Grafana) opens the first page the user may read.
  return (
    <Routes>
      <Route index element={<Navigate to={prefixRoute(allowed[0].route)} replace />} />
      <Route path="*" element={<scene.Component model={scene} />} />
    </Routes>
  );
}

function App(props: AppRootProps) {
  return (
    <PluginPropsContext.Provider value={props}>
      <AppWithScenes />
    </PluginPropsContext.Provider>
  );
}

export default App;
