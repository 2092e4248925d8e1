import React from 'react';
import { Navigate, Route, Routes } from 'react-router-dom';
import { SceneApp, useSceneApp } from '@grafana/scenes';
import { AppRootProps } from '@grafana/data';
import { ROUTES } from '../../constants';
import { PluginPropsContext } from '../../utils/utils.plugin';
import { prefixRoute } from '../../utils/utils.routing';
import { evidencePage } from '../../pages/Evidence/evidencePage';
import { rulesPage } from '../../pages/Rules/rulesPage';
import { signalsPage } from '../../pages/Signals/signalsPage';

function getSceneApp() {
  return new SceneApp({
    pages: [rulesPage, signalsPage, evidencePage],
    urlSyncOptions: {
      updateUrlOnInit: true,
      createBrowserHistorySteps: true,
    },
  });
}

function AppWithScenes() {
  const scene = useSceneApp(getSceneApp);
  // The app's own URL (a bookmark, a link from elsewhere in Grafana) opens the default page.
  return (
    <Routes>
      <Route index element={<Navigate to={prefixRoute(ROUTES.Rules)} replace />} />
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
