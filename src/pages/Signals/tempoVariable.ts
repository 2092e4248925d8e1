import { getBackendSrv, locationService } from '@grafana/runtime';
import { DataSourceVariable, sceneGraph, type SceneObject } from '@grafana/scenes';
import { DEFAULT_TEMPO_UID, tempoDatasourceUid } from '../../builders/exploreUrl';
import { PLUGIN_ID } from '../../constants';

export const TEMPO_VARIABLE = 'tempo';

/** The Tempo datasource the page reads and links to (a variable, so the URL can carry it). */
export function tempoVariable(): DataSourceVariable {
  return new DataSourceVariable({ name: TEMPO_VARIABLE, label: 'Tempo', pluginId: 'tempo', value: DEFAULT_TEMPO_UID });
}

let settings: Promise<string> | undefined;

/** The app's configured Tempo datasource (jsonData.tempoDatasourceUid), read once per page load. */
export function configuredTempoUid(): Promise<string> {
  settings ??= getBackendSrv()
    .get<{ jsonData?: { tempoDatasourceUid?: unknown } }>(`/api/plugins/${PLUGIN_ID}/settings`, undefined, undefined, {
      showErrorAlert: false,
    })
    .then((s) => tempoDatasourceUid(s?.jsonData))
    .catch(() => DEFAULT_TEMPO_UID);
  return settings;
}

/** For tests: forget the cached settings. */
export function resetTempoSettings(): void {
  settings = undefined;
}

/**
 * Scene behaviour: select the app's configured Tempo datasource, unless the URL already chose
 * one (a shared link keeps its datasource).
 */
export async function applyConfiguredTempo(scene: SceneObject): Promise<void> {
  if (locationService.getSearchObject()[`var-${TEMPO_VARIABLE}`]) {
    return;
  }
  const uid = await configuredTempoUid();
  const variable = sceneGraph.lookupVariable(TEMPO_VARIABLE, scene);
  if (variable instanceof DataSourceVariable && variable.getValue() !== uid) {
    variable.changeValueTo(uid);
  }
}
