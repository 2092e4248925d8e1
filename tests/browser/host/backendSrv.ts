/**
 * getBackendSrv() for the host page: what Grafana's BackendSrv does for a plugin's requests, on
 * window.fetch — query params serialized as Grafana does (urlUtil), JSON bodies, `responseType`,
 * and a FetchError ({ status, statusText, data }) for every non-2xx answer.
 */
import { Observable, lastValueFrom } from 'rxjs';
import { urlUtil } from '@grafana/data';
import type { BackendSrv, BackendSrvRequest, FetchResponse } from '@grafana/runtime';

async function send<T>(options: BackendSrvRequest): Promise<FetchResponse<T>> {
  const params = options.params ? urlUtil.toUrlParams(options.params) : '';
  const url = params ? `${options.url}${options.url.includes('?') ? '&' : '?'}${params}` : options.url;
  const headers: Record<string, string> = { accept: 'application/json, text/plain, */*', ...(options.headers ?? {}) };
  let body: BodyInit | undefined;
  if (options.data !== undefined) {
    if (typeof options.data === 'string' || options.data instanceof Blob || options.data instanceof FormData) {
      body = options.data;
    } else {
      body = JSON.stringify(options.data);
      headers['content-type'] ??= 'application/json';
    }
  }
  const res = await fetch(url, { method: options.method ?? 'GET', headers, body, credentials: 'same-origin' });
  const type = res.headers.get('content-type') ?? '';
  let data: unknown;
  if (options.responseType === 'blob') {
    data = await res.blob();
  } else if (options.responseType === 'text') {
    data = await res.text();
  } else {
    const text = await res.text();
    try {
      data = text === '' ? undefined : type.includes('json') || /^[[{]/.test(text) ? JSON.parse(text) : text;
    } catch {
      data = text;
    }
  }
  if (res.status === 401 || !res.ok) {
    if (!res.ok && options.responseType === 'blob' && data instanceof Blob) {
      const text = await data.text();
      try {
        data = JSON.parse(text);
      } catch {
        data = text;
      }
    }
    throw { status: res.status, statusText: res.statusText, data, config: options };
  }
  return {
    data: data as T,
    status: res.status,
    statusText: res.statusText,
    ok: res.ok,
    headers: res.headers,
    redirected: res.redirected,
    type: res.type,
    url: res.url,
    config: options,
  };
}

export function hostBackendSrv(): BackendSrv {
  const fetchObservable = <T>(options: BackendSrvRequest) =>
    new Observable<FetchResponse<T>>((subscriber) => {
      send<T>(options).then(
        (r) => {
          subscriber.next(r);
          subscriber.complete();
        },
        (e: unknown) => subscriber.error(e)
      );
    });
  const request = async <T>(options: BackendSrvRequest): Promise<T> =>
    (await lastValueFrom(fetchObservable<T>(options))).data;
  const withBody =
    (method: string) =>
    <T>(url: string, data?: unknown, options?: Partial<BackendSrvRequest>) =>
      request<T>({ ...options, url, method, data });
  const srv = {
    fetch: fetchObservable,
    request,
    datasourceRequest: <T>(options: BackendSrvRequest) => lastValueFrom(fetchObservable<T>(options)),
    get: <T>(
      url: string,
      params?: BackendSrvRequest['params'],
      _requestId?: string,
      options?: Partial<BackendSrvRequest>
    ) => request<T>({ ...options, url, params, method: 'GET' }),
    delete: <T>(url: string, data?: unknown, options?: Partial<BackendSrvRequest>) =>
      request<T>({ ...options, url, method: 'DELETE', data }),
    post: withBody('POST'),
    put: withBody('PUT'),
    patch: withBody('PATCH'),
    resolveCancelerIfExists: () => undefined,
  };
  return srv as unknown as BackendSrv;
}
