import { SidecarError, sidecarFetch } from '../../api/client';

/** What "Test connection" found, in words an admin can act on. */
export interface ConnectionResult {
  ok: boolean;
  /** Connected, but something the pages need is missing (Tempo, in pull mode). */
  warning?: boolean;
  title: string;
  detail: string;
}

/** The sidecar's /readyz body; `tempo` is there in pull mode. */
interface Readiness {
  ready: boolean;
  tempo?: { ready: boolean; version?: string };
}

/** Checks `url` before it is saved: Grafana's proxy needs an absolute http(s) URL it can reach. */
export function sidecarUrlProblem(url: string): string | undefined {
  if (url === '') {
    return 'Enter the sidecar URL, e.g. http://betrace-sidecar:3001';
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `"${url}" is not a URL: give the scheme and host, e.g. http://betrace-sidecar:3001`;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return `The sidecar URL must start with http:// or https://, not ${parsed.protocol}//`;
  }
  if (parsed.search !== '' || parsed.hash !== '') {
    return 'The sidecar URL must not carry a query or fragment';
  }
  return undefined;
}

/** Trailing slashes would double up when Grafana joins the route's URL and the request path. */
export function normalizeSidecarUrl(url: string): string {
  return url.trim().replace(/\/+$/, '');
}

/**
 * Turns a failed proxied call into what is wrong. The statuses come from two places: Grafana's
 * plugin proxy (404 no route, 403 missing permission, 502 upstream unreachable) and the sidecar
 * (401 token refused, 503 not ready).
 */
export function explainConnectionError(status: number, message: string, sidecarUrl: string): ConnectionResult {
  const where = sidecarUrl === '' ? 'the sidecar' : `the sidecar at ${sidecarUrl}`;
  switch (status) {
    case 502:
    case 504:
      return {
        ok: false,
        title: 'Sidecar unreachable',
        detail: `Grafana could not reach ${where} (${status}). Check the URL and that the sidecar is running; the URL must resolve from the Grafana server, not from your browser.`,
      };
    case 401:
      return {
        ok: false,
        title: 'Token refused',
        detail: 'The sidecar answered 401: the token saved here is not the sidecar’s BETRACE_API_TOKEN. Reset the token and enter the right one.',
      };
    case 403:
      return {
        ok: false,
        title: 'Permission denied',
        detail: `Grafana refused the call (403: ${message}). Your role needs the BeTrace "Rules Reader" role (betrace-app.rules:read).`,
      };
    case 404:
      return {
        ok: false,
        title: 'Proxy route missing',
        detail: `Grafana has no "sidecar" route for this app (404: ${message}). Enable the app, and restart Grafana after installing or updating the plugin so it reads the new plugin.json.`,
      };
    case 503:
      return {
        ok: false,
        title: 'Sidecar not ready',
        detail: `${where[0].toUpperCase()}${where.slice(1)} is running but not ready (503${message ? `: ${message}` : ''}): its store is not open or its rules are not loaded yet. It may be starting or shutting down; see its log.`,
      };
    default:
      return {
        ok: false,
        title: status === 0 ? 'Request failed' : `Unexpected answer (${status})`,
        detail: message || `The call to ${where} failed without a message.`,
      };
  }
}

/**
 * Calls the sidecar THROUGH Grafana's proxy with the saved settings: /readyz (reachable, ready),
 * then /api/v1/rules (the injected token is accepted: /readyz does not check it).
 */
export async function testConnection(sidecarUrl: string): Promise<ConnectionResult> {
  try {
    const readiness = await sidecarFetch<Readiness>('GET', '/readyz');
    const { rules } = await sidecarFetch<{ rules: Array<{ enabled?: boolean }> }>('GET', '/api/v1/rules');
    const enabled = rules.filter((r) => r.enabled !== false).length;
    const detail = `The sidecar is ready and accepted the token: ${rules.length} rule${rules.length === 1 ? '' : 's'} (${enabled} enabled).`;
    if (readiness?.tempo && !readiness.tempo.ready) {
      // The sidecar stays ready without Tempo (push mode works), but pull mode and replay wait for it.
      return {
        ok: true,
        warning: true,
        title: 'Connected, but the sidecar cannot reach Tempo',
        detail: `${detail} Its Tempo does not answer: pulling traces and replays wait until it does. Check the sidecar's TEMPO_URL.`,
      };
    }
    const tempo = readiness?.tempo?.version ? ` It reads traces from Tempo ${readiness.tempo.version}.` : '';
    return { ok: true, title: 'Connected', detail: `${detail}${tempo}` };
  } catch (e) {
    if (e instanceof SidecarError) {
      return explainConnectionError(e.status, e.message, sidecarUrl);
    }
    return explainConnectionError(0, e instanceof Error ? e.message : String(e), sidecarUrl);
  }
}
