import { lastValueFrom } from 'rxjs';
import { getBackendSrv, type FetchError } from '@grafana/runtime';
import { PLUGIN_ID } from '../constants';

/**
 * The browser reaches the sidecar only through Grafana's plugin proxy: the `sidecar` route in
 * plugin.json forwards to jsonData.sidecarUrl and adds the bearer token from secureJsonData.
 */
export const SIDECAR_PROXY = `/api/plugin-proxy/${PLUGIN_ID}/sidecar`;

/** An answer from the sidecar that was not 2xx, with the sidecar's own message and error code. */
export class SidecarError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** The sidecar's `error` code (`no_source`, `conflict` …), when it sent one. */
    readonly code?: string,
  ) {
    super(message);
    this.name = 'SidecarError';
  }
}

export type Query = Record<string, string | number | boolean | undefined | string[]>;

/** Calls the sidecar's API (`path` starts with `/api/v1/` or is `/readyz`) through the proxy. */
export async function sidecarFetch<T>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, options: { params?: Query; data?: unknown } = {}): Promise<T> {
  const params: Record<string, string | number | boolean | string[]> = {};
  for (const [k, v] of Object.entries(options.params ?? {})) {
    if (v !== undefined && v !== '') {
      params[k] = v;
    }
  }
  try {
    const res = await lastValueFrom(
      getBackendSrv().fetch<T>({ method, url: `${SIDECAR_PROXY}${path}`, params, data: options.data, showErrorAlert: false, showSuccessAlert: false }),
    );
    return res.data;
  } catch (e) {
    const err = e as FetchError<{ message?: string; error?: string }>;
    const message = err.data?.message ?? err.data?.error ?? err.statusText ?? String(e);
    throw new SidecarError(err.status ?? 0, message, typeof err.data?.error === 'string' ? err.data.error : undefined);
  }
}
