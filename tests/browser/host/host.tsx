/**
 * The host page's script: the libraries Grafana shares with plugins (SHARED, taken from the npm
 * packages in node_modules), Grafana's runtime services for them, then the BUILT plugin
 * (dist/module.js) loaded as Grafana loads it and mounted at the URL the browser is on — the
 * app's root page under /a/<id>/… inside a Router on locationService's history, or its config
 * page at /plugins/<id>.
 */
import React, { useLayoutEffect, useState, type ComponentType } from 'react';
import * as ReactAll from 'react';
import * as ReactDOM from 'react-dom';
import { createRoot } from 'react-dom/client';
import * as jsxRuntime from 'react/jsx-runtime';
import * as ReactRouter from 'react-router';
import * as ReactRouterDom from 'react-router-dom';
import * as rxjs from 'rxjs';
import * as rxjsOperators from 'rxjs/operators';
import * as lodash from 'lodash';
import i18next from 'i18next';
import * as emotionCss from '@emotion/css';
import * as emotionReact from '@emotion/react';
import * as grafanaData from '@grafana/data';
import * as grafanaUi from '@grafana/ui';
import * as grafanaRuntime from '@grafana/runtime';
import * as grafanaRuntimeUnstable from '@grafana/runtime/unstable';
import type { AppPlugin, AppRootProps, KeyValue, PluginMeta } from '@grafana/data';
import {
  config,
  LocationServiceProvider,
  locationService,
  setAppEvents,
  setBackendSrv,
  setDataSourceSrv,
  setEchoSrv,
  setPluginImportUtils,
  setRunRequest,
  setTemplateSrv,
} from '@grafana/runtime';
// Not in the package's public exports: Grafana sets its page chrome through this module directly.
import { setPluginPage } from 'grafana-runtime-plugin-page';
// Grafana initialises the shared i18next instance at boot, before any plugin loads.
import { initializeI18n } from 'grafana-i18n-internal';
import { setCurrentUser } from 'grafana-runtime-user';
import { GlobalStyles } from '@grafana/ui';
import { importAmdModule } from './amdLoader';
import { hostBackendSrv } from './backendSrv';
import { HostDataSourceSrv, interpolate } from './dataSourceSrv';
import { HostPluginPage } from './pluginPage';
import { panelPlugins } from './panels';
import { runRequest } from './runRequest';
import { TraceViewStandIn } from './traceView';

/** The module ids a plugin may import at run time (.config/bundler/externals.ts), bound to one copy each. */
const SHARED: Record<string, unknown> = {
  react: ReactAll,
  'react-dom': ReactDOM,
  'react/jsx-runtime': jsxRuntime,
  'react-router': ReactRouter,
  'react-router-dom': ReactRouterDom,
  rxjs,
  'rxjs/operators': rxjsOperators,
  lodash,
  i18next,
  '@emotion/css': emotionCss,
  '@emotion/react': emotionReact,
  '@grafana/data': grafanaData,
  '@grafana/ui': grafanaUi,
  '@grafana/runtime': grafanaRuntime,
  '@grafana/runtime/unstable': grafanaRuntimeUnstable,
};

declare global {
  interface Window {
    __hostPluginMeta: PluginMeta;
    /** What the specs wait for: 'loading', then 'mounted' or the error. */
    __hostState: string;
    __hostEvents: unknown[];
  }
}

function setUpRuntime() {
  // The signed-in user with their RBAC permissions: what hasPermission() reads.
  setCurrentUser(config.bootData.user);
  setBackendSrv(hostBackendSrv());
  setDataSourceSrv(new HostDataSourceSrv());
  setPluginPage(HostPluginPage);
  setAppEvents(new grafanaData.EventBusSrv());
  setRunRequest(runRequest);
  setTemplateSrv({
    getVariables: () => [],
    replace: (target?: string, scopedVars?: grafanaData.ScopedVars) => interpolate(target ?? '', scopedVars),
    containsTemplate: (target?: string) => /\$/.test(target ?? ''),
    updateTimeRange: () => undefined,
  } as never);
  setPluginImportUtils({
    importPanelPlugin: async (id: string) => {
      const p = panelPlugins[id];
      if (!p) {
        throw new Error(`the host has no ${id} panel plugin`);
      }
      return p;
    },
    getPanelPluginFromCache: (id: string) => panelPlugins[id],
  });
  window.__hostEvents = [];
  setEchoSrv({
    logging: false,
    addBackend: () => undefined,
    addEvent: (e: unknown) => void window.__hostEvents.push(e),
    flush: () => undefined,
  } as never);
}

/** Grafana's Router: react-router v6 driven by locationService's history (a history v4 object). */
function HostRouter({ children }: { children: React.ReactNode }) {
  const history = locationService.getHistory();
  const [location, setLocation] = useState(history.location);
  useLayoutEffect(
    () =>
      history.listen((l: unknown) =>
        setLocation(((l as { location?: typeof location }).location ?? l) as typeof location)
      ),
    [history]
  );
  return (
    <ReactRouter.Router navigator={history as never} location={location}>
      {children}
    </ReactRouter.Router>
  );
}

function Shell({ children }: { children: React.ReactNode }) {
  return (
    <grafanaData.ThemeContext.Provider value={config.theme2}>
      <GlobalStyles />
      <LocationServiceProvider service={locationService}>
        <HostRouter>{children}</HostRouter>
      </LocationServiceProvider>
    </grafanaData.ThemeContext.Provider>
  );
}

function AppRoot({ plugin, meta }: { plugin: AppPlugin; meta: PluginMeta }) {
  const Root = plugin.root as ComponentType<AppRootProps>;
  const location = ReactRouter.useLocation();
  const query = Object.fromEntries(new URLSearchParams(location.search)) as KeyValue;
  return (
    <Root
      meta={meta as never}
      basename={`/a/${meta.id}`}
      path={location.pathname}
      query={query}
      onNavChanged={() => undefined}
    />
  );
}

function ConfigPage({ plugin }: { plugin: AppPlugin }) {
  const page = plugin.configPages?.[0];
  if (!page) {
    throw new Error('the app registers no config page');
  }
  const Body = page.body as ComponentType<{ plugin: AppPlugin; query: KeyValue }>;
  return (
    <HostPluginPage pageNav={{ text: `${plugin.meta.name}: ${page.title}` }}>
      <Body plugin={plugin} query={{}} />
    </HostPluginPage>
  );
}

async function main() {
  window.__hostState = 'loading';
  setUpRuntime();
  await initializeI18n({ language: 'en-US', ns: ['grafana'] });
  const meta = window.__hostPluginMeta;
  const uri = `${window.location.origin}/public/plugins/${meta.id}/module.js`;
  const exports = await importAmdModule(uri, SHARED);
  const plugin = exports.plugin as AppPlugin;
  if (!plugin) {
    throw new Error(`${uri} exports no plugin`);
  }
  plugin.init(meta as never);
  plugin.meta = meta as never;
  const onConfigPage = window.location.pathname === `/plugins/${meta.id}`;
  createRoot(document.getElementById('reactRoot')!).render(
    <Shell>
      {onConfigPage ? (
        <ConfigPage plugin={plugin} />
      ) : (
        // As Grafana routes apps: the app's relative routes resolve under /a/<id>/.
        <ReactRouter.Routes>
          <ReactRouter.Route path={`/a/${meta.id}/*`} element={<AppRoot plugin={plugin} meta={meta} />} />
          <ReactRouter.Route path="/explore" element={<TraceViewStandIn plugin={plugin} />} />
        </ReactRouter.Routes>
      )}
    </Shell>
  );
  window.__hostState = 'mounted';
}

main().catch((e: unknown) => {
  window.__hostState = `failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`;
  console.error(e);
});
