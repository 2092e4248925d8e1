/**
 * setRunRequest() for the host page: what Grafana's runRequest does for a scene's query — the
 * data source's query() (a promise or an observable) turned into PanelData, Loading first, then
 * Done with the frames (or Error with the data source's errors), over the request's time range.
 */
import { Observable, catchError, from, map, of, startWith } from 'rxjs';
import {
  LoadingState,
  type DataQueryRequest,
  type DataQueryResponse,
  type DataSourceApi,
  type PanelData,
} from '@grafana/data';

export function runRequest(ds: DataSourceApi, request: DataQueryRequest): Observable<PanelData> {
  const base = { series: [], timeRange: request.range, request };
  return from(ds.query(request) as Observable<DataQueryResponse> | Promise<DataQueryResponse>).pipe(
    map((res): PanelData => {
      const errors = res.errors ?? (res.error ? [res.error] : undefined);
      return {
        ...base,
        state: errors?.length ? LoadingState.Error : (res.state ?? LoadingState.Done),
        series: res.data,
        errors,
        error: errors?.[0],
      };
    }),
    catchError((e: unknown) =>
      of<PanelData>({
        ...base,
        state: LoadingState.Error,
        errors: [{ message: e instanceof Error ? e.message : String((e as { message?: string })?.message ?? e) }],
      })
    ),
    startWith<PanelData>({ ...base, state: LoadingState.Loading })
  );
}
