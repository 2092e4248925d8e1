import { usePluginMeta } from '../../utils/utils.plugin';

/** The uid of the provisioned Tempo datasource (provisioning/), used when the config page has not chosen one. */
export const DEFAULT_TEMPO_UID = 'tempo';

/** The Tempo datasource the app is configured with (jsonData.tempoDatasourceUid), or the provisioned one. */
export function useTempoUid(): string {
  const jsonData = usePluginMeta()?.jsonData as { tempoDatasourceUid?: string } | undefined;
  return jsonData?.tempoDatasourceUid || DEFAULT_TEMPO_UID;
}
