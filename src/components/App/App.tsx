import React from 'react';
import { SceneApp, useSceneApp } from '@grafana/scenes';
import { AppRootProps } from '@grafana/data';
import { PluginPropsContext } from '../../utils/utils.plugin';
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
  return <scene.Component model={scene} />;
}

function App(props: AppRootProps) {
  return (
    <PluginPropsContext.Provider value={props}>
      <AppWithScenes />
    </PluginPropsContext.Provider>
  );
}

export default App;
