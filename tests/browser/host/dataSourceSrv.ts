/**
 * getDataSourceSrv() for the host page, over the data sources in bootData (config.datasources), as
 * Grafana's DataSourceSrv: lists and instance settings by uid, name or `${variable}`, and an
 * instance per data source. The one instance type here is Tempo (tempoDataSource.ts): the Tempo
 * data source plugin is part of Grafana and cannot be bundled.
 */
import type { DataSourceApi, DataSourceInstanceSettings, ScopedVars } from '@grafana/data';
import { config, type DataSourceSrv, type GetDataSourceListFilters } from '@grafana/runtime';
import type { DataSourceRef } from '@grafana/schema';
import { TempoDataSource } from './tempoDataSource';

interface VariableLike {
  state: { name: string };
  getValue(): unknown;
}
interface SceneLike {
  parent?: SceneLike;
  state: { $variables?: { state: { variables: VariableLike[] } } };
}

/**
 * `${name}` / `$name` from the scene's variables, nearest first: what Grafana's TemplateSrv does
 * (through sceneGraph) when a query carries its scene object in scopedVars.
 */
export function interpolate(value: string, scopedVars?: ScopedVars): string {
  const wrapped = scopedVars?.__sceneObject?.value as { valueOf(): unknown } | undefined;
  const owner = wrapped?.valueOf() as SceneLike | undefined;
  return value.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, braced: string | undefined, bare: string | undefined) => {
    const name = braced ?? bare!;
    for (let o = owner; o; o = o.parent) {
      const v = o.state.$variables?.state.variables.find((x) => x.state.name === name);
      if (v) {
        return String(v.getValue());
      }
    }
    return whole;
  });
}

export class HostDataSourceSrv implements DataSourceSrv {
  private readonly instances = new Map<string, DataSourceApi>();

  private all(): DataSourceInstanceSettings[] {
    return Object.values(config.datasources);
  }

  getList(filters: GetDataSourceListFilters = {}): DataSourceInstanceSettings[] {
    return this.all().filter((d) => !filters.pluginId || d.type === filters.pluginId);
  }

  getInstanceSettings(
    ref?: DataSourceRef | string | null,
    scopedVars?: ScopedVars
  ): DataSourceInstanceSettings | undefined {
    if (ref === undefined || ref === null) {
      return this.all().find((d) => d.isDefault);
    }
    const key = interpolate(typeof ref === 'string' ? ref : (ref.uid ?? ''), scopedVars);
    return this.all().find((d) => d.uid === key || d.name === key);
  }

  async get(ref?: DataSourceRef | string | null, scopedVars?: ScopedVars): Promise<DataSourceApi> {
    const settings = this.getInstanceSettings(ref, scopedVars);
    if (!settings) {
      throw new Error(`Datasource ${JSON.stringify(ref)} was not found`);
    }
    if (settings.type !== 'tempo') {
      throw new Error(`the host has no ${settings.type} data source plugin`);
    }
    let ds = this.instances.get(settings.uid);
    if (!ds) {
      ds = new TempoDataSource(settings) as unknown as DataSourceApi;
      this.instances.set(settings.uid, ds);
    }
    return ds;
  }

  async reload(): Promise<void> {}

  registerRuntimeDataSource(): void {
    throw new Error('runtime data sources are registered with @grafana/scenes in the plugin');
  }
}
