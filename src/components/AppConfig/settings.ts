import { lastValueFrom } from 'rxjs';
import type { PluginMeta } from '@grafana/data';
import { getBackendSrv } from '@grafana/runtime';

/** The app's settings (plugin.json routes read `sidecarUrl`; the pages read `tempoDatasourceUid`). */
export interface BetraceJsonData {
  sidecarUrl?: string;
  tempoDatasourceUid?: string;
}

/** Secrets: written once, never sent back to the browser (only `secureJsonFields.sidecarToken`). */
export interface BetraceSecureJsonData {
  sidecarToken?: string;
}

export interface SettingsUpdate {
  enabled: boolean;
  pinned: boolean;
  jsonData: BetraceJsonData;
  /** Omitted when the token is left as it is, so the stored one is kept. */
  secureJsonData?: BetraceSecureJsonData;
}

/** Saves through Grafana's plugin settings API, as Grafana's own app config pages do. */
export async function saveSettings(pluginId: string, update: SettingsUpdate): Promise<Partial<PluginMeta<BetraceJsonData>>> {
  const res = await lastValueFrom(
    getBackendSrv().fetch<Partial<PluginMeta<BetraceJsonData>>>({
      url: `/api/plugins/${pluginId}/settings`,
      method: 'POST',
      data: update,
      showSuccessAlert: false,
    }),
  );
  return res.data;
}
