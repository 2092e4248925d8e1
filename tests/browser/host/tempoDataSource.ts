/**
 * The host's Tempo data source instance: what Grafana's Tempo data source does for the queries the
 * plugin runs through a Tempo DataSourceRef — a TraceQL metrics range query becomes Tempo's
 * `/api/metrics/query_range` through the datasource proxy, its series become data frames. (Trace
 * by id, search and tags the plugin calls through the datasource proxy itself.)
 */
import { Observable, from } from 'rxjs';
import {
  DataSourceApi,
  FieldType,
  createDataFrame,
  type DataFrame,
  type DataQueryRequest,
  type DataQueryResponse,
  type DataSourceInstanceSettings,
} from '@grafana/data';
import type { DataQuery } from '@grafana/schema';
import { getBackendSrv } from '@grafana/runtime';
import { interpolate } from './dataSourceSrv';

interface TempoQuery extends DataQuery {
  query?: string;
  queryType?: string;
  metricsQueryType?: string;
}

interface QueryRange {
  series?: Array<{
    labels?: Array<{ key: string; value: Record<string, unknown> }>;
    samples?: Array<{ timestampMs: string; value?: number }>;
  }>;
}

export class TempoDataSource extends DataSourceApi<TempoQuery> {
  constructor(private readonly settings: DataSourceInstanceSettings) {
    super(settings);
  }

  query(request: DataQueryRequest<TempoQuery>): Observable<DataQueryResponse> {
    return from(this.run(request));
  }

  private async run(request: DataQueryRequest<TempoQuery>): Promise<DataQueryResponse> {
    const frames: DataFrame[] = [];
    const start = Math.floor(request.range.from.valueOf() / 1000);
    const end = Math.ceil(request.range.to.valueOf() / 1000);
    const step = `${Math.max(1, Math.round((request.intervalMs ?? 60_000) / 1000))}s`;
    try {
      for (const q of request.targets.filter((t) => !t.hide)) {
        if (q.queryType !== 'traceql' || q.metricsQueryType !== 'range') {
          throw new Error(
            `the host's Tempo runs TraceQL metrics range queries only, not ${q.queryType}/${q.metricsQueryType}`
          );
        }
        const body = await getBackendSrv().get<QueryRange>(
          `/api/datasources/proxy/uid/${this.settings.uid}/api/metrics/query_range`,
          {
            q: interpolate(q.query ?? '', request.scopedVars),
            start,
            end,
            step,
          },
          undefined,
          { showErrorAlert: false }
        );
        for (const s of body.series ?? []) {
          const labels = Object.fromEntries(
            (s.labels ?? []).map((l) => [l.key, String(Object.values(l.value)[0] ?? '')])
          );
          frames.push(
            createDataFrame({
              refId: q.refId,
              fields: [
                { name: 'time', type: FieldType.time, values: (s.samples ?? []).map((x) => Number(x.timestampMs)) },
                { name: 'value', type: FieldType.number, values: (s.samples ?? []).map((x) => x.value ?? 0), labels },
              ],
            })
          );
        }
      }
    } catch (e) {
      const err = e as { status?: number; data?: unknown; message?: string };
      const detail = typeof err.data === 'string' ? err.data : (err.message ?? JSON.stringify(err.data));
      return { data: frames, errors: [{ message: `Tempo answered ${err.status ?? 'nothing'}: ${detail}` }] };
    }
    return { data: frames };
  }

  async testDatasource() {
    return { status: 'success', message: 'ok' };
  }
}
