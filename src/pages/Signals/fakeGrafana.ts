import { from, Observable, of, catchError, map } from 'rxjs';
import {
  LoadingState,
  type DataQueryRequest,
  type DataQueryResponse,
  type DataSourceApi,
  type PanelData,
  type ScopedVars,
} from '@grafana/data';
import type { DataSourceRef } from '@grafana/schema';
import {
  setDataSourceSrv,
  setTemplateSrv,
  type BackendSrvRequest,
  type DataSourceSrv,
  type FetchResponse,
  type TemplateSrv,
} from '@grafana/runtime';
import { sceneGraph, type SceneObject } from '@grafana/scenes';

/**
 * What the page tests put in place of Grafana's runtime: the backend service answers from a
 * route table (as the plugin proxy would), and runRequest calls the datasource as Grafana does.
 */

export type Route = (req: BackendSrvRequest) => unknown;

/** A fetch answering `{ status, data }`; a route throwing `{ status, data }` answers an error. */
export function fakeFetch(routes: Record<string, Route>) {
  return jest.fn((req: BackendSrvRequest): Observable<FetchResponse<unknown>> => {
    const key = `${req.method ?? 'GET'} ${req.url}`;
    const route =
      routes[key] ?? Object.entries(routes).find(([k]) => k.endsWith('*') && key.startsWith(k.slice(0, -1)))?.[1];
    if (!route) {
      return new Observable((sub) => sub.error({ status: 404, data: { message: `no route ${key}` } }));
    }
    try {
      const data = route(req);
      if (data instanceof Observable) {
        return data as Observable<FetchResponse<unknown>>;
      }
      return of({
        data,
        status: 200,
        ok: true,
        headers: new Headers(),
        redirected: false,
        statusText: 'OK',
        type: 'basic',
        url: req.url,
        config: req,
      } as FetchResponse<unknown>);
    } catch (e) {
      return new Observable((sub) => sub.error(e));
    }
  });
}

/** Grafana's runRequest, reduced to what a panel sees: the frames, or the error. */
export function fakeRunRequest(ds: DataSourceApi, request: DataQueryRequest): Observable<PanelData> {
  return from(ds.query(request) as Promise<DataQueryResponse> | Observable<DataQueryResponse>).pipe(
    map((res): PanelData => ({ state: LoadingState.Done, series: res.data, timeRange: request.range })),
    catchError((e: Error) =>
      of({
        state: LoadingState.Error,
        series: [],
        errors: [{ message: e.message }],
        timeRange: request.range,
      } as PanelData)
    )
  );
}

/**
 * Grafana's DataSourceSrv as far as a page test needs it, installed the way Grafana installs its own
 * (with the scene-aware TemplateSrv beside it). Scenes 9 resolves datasources and lists a datasource
 * variable's options through @grafana/runtime's data source API, which falls back to these
 * singletons: a `jest.mock` of the package's `getDataSourceSrv` export never reaches it.
 */
export function installDataSourceSrv(srv: FakeDataSourceSrv): void {
  setDataSourceSrv(srv as unknown as DataSourceSrv);
  setTemplateSrv(sceneTemplateSrv);
}

/** The part of DataSourceSrv the pages reach, answering with the instance settings a test names. */
export interface FakeDataSourceSrv {
  getList?: () => unknown[];
  getInstanceSettings?: () => unknown;
  get?: (ref: DataSourceRef, scopedVars: ScopedVars) => Promise<unknown>;
}

/** Grafana's TemplateSrv hands a scene's interpolation to the scene (`__sceneObject`), as here. */
const sceneTemplateSrv: TemplateSrv = {
  getVariables: () => [],
  replace: (target = '', scopedVars) => {
    const owner = scopedVars?.__sceneObject?.value?.valueOf() as SceneObject | undefined;
    return owner ? sceneGraph.interpolate(owner, target, scopedVars) : target;
  },
  containsTemplate: (target = '') => target.includes('$'),
  updateTimeRange: () => {},
};

/**
 * What Grafana's Explore reads from a link: its path and query parameters in order, `panes` parsed.
 * @grafana/ui's links percent-decode their href (their URL sanitizer decodes before it checks the
 * scheme) and the browser encodes it again on navigation, so two hrefs open the same Explore state
 * exactly when these agree.
 */
export function exploreLinkState(href: string | null) {
  if (href === null) {
    throw new Error('the link has no href');
  }
  const url = new URL(href, 'http://localhost');
  return {
    path: url.pathname,
    params: [...url.searchParams].map(([key, value]) => [key, key === 'panes' ? JSON.parse(value) : value]),
    hash: url.hash,
  };
}

/** The instance settings of a Tempo datasource, as getDataSourceSrv().getList() lists it. */
export const tempoSettings = {
  uid: 'tempo-uid',
  name: 'Tempo',
  type: 'tempo',
  id: 7,
  meta: { id: 'tempo', name: 'Tempo', type: 'datasource', info: { logos: { small: '', large: '' } } },
  jsonData: {},
  access: 'proxy',
  readOnly: false,
  isDefault: true,
};

/**
 * What jsdom lacks and Grafana's components use: a ResizeObserver (Drawer, panels) and a canvas
 * to measure text (the variables' auto-sized inputs).
 */
export function installJsdomStubs(): void {
  class ResizeObserverStub {
    observe() {}
    unobserve() {}
    disconnect() {}
  }
  Object.assign(global, { ResizeObserver: ResizeObserverStub });
  jest
    .spyOn(HTMLCanvasElement.prototype, 'getContext')
    .mockReturnValue({ measureText: (t: string) => ({ width: t.length * 7 }) } as unknown as CanvasRenderingContext2D);
}
