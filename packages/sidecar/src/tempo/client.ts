/**
 * A client of Grafana Tempo's HTTP API for pull mode: TraceQL search, trace by id (v2, falling
 * back to v1 on older Tempo), tag names and values, build info and readiness. Every request has a
 * timeout, at most `concurrency` are in flight, retryable failures (network errors, 429, 5xx) are
 * retried with backoff and jitter, and each is counted in betrace_tempo_requests_total/_seconds.
 */
import { decodeTempoTrace, normalizeTraceIdHex, Trace } from '@betrace/evaluator';
import { Counter, Histogram, Registry } from 'prom-client';
import { describeFetchError, displayUrl } from '../netError';

export interface TempoClientOptions {
  url: string;
  /** X-Scope-OrgID, for multi-tenant Tempo. */
  orgId?: string;
  /** Bearer token, or basic auth as user:password. */
  bearerToken?: string;
  basicAuth?: string;
  timeoutMs?: number;
  retries?: number;
  concurrency?: number;
  baseDelayMs?: number;
  registry?: Registry;
  /** Shared metrics, when several clients (one per tenant) report into one registry. */
  metrics?: TempoMetrics;
}

export class TempoMetrics {
  readonly requests: Counter<'endpoint' | 'code'>;
  readonly seconds: Histogram<'endpoint'>;

  constructor(registry: Registry) {
    this.requests = new Counter({ name: 'betrace_tempo_requests_total', help: 'Requests to Tempo, by endpoint and status code.', labelNames: ['endpoint', 'code'], registers: [registry] });
    this.seconds = new Histogram({ name: 'betrace_tempo_requests_seconds', help: 'Duration of requests to Tempo.', labelNames: ['endpoint'], buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [registry] });
  }
}

/** Tempo answered with an error (its plain-text message is kept), or could not be reached. */
export class TempoError extends Error {
  constructor(
    readonly status: number | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'TempoError';
  }
}

export interface SearchHit {
  /** Full-width lowercase hex (Tempo trims leading zeros in search results). */
  traceId: string;
  rootServiceName?: string;
  rootTraceName?: string;
  startTimeUnixNano?: string;
  durationMs?: number;
}

export interface SearchParams {
  q: string;
  /** Unix seconds. */
  start: number;
  end: number;
  limit: number;
  spss?: number;
}

export class TempoClient {
  private readonly metrics: TempoMetrics;
  private inFlight = 0;
  private readonly waiting: Array<() => void> = [];
  private v1Only = false;

  constructor(private readonly options: TempoClientOptions) {
    this.metrics = options.metrics ?? new TempoMetrics(options.registry ?? new Registry());
  }

  private headers(): Record<string, string> {
    const h: Record<string, string> = { accept: 'application/json' };
    if (this.options.orgId) h['X-Scope-OrgID'] = this.options.orgId;
    if (this.options.bearerToken) h.authorization = `Bearer ${this.options.bearerToken}`;
    else if (this.options.basicAuth) h.authorization = `Basic ${Buffer.from(this.options.basicAuth).toString('base64')}`;
    return h;
  }

  private async slot<T>(fn: () => Promise<T>): Promise<T> {
    const limit = this.options.concurrency ?? 4;
    if (this.inFlight >= limit) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    this.inFlight++;
    try {
      return await fn();
    } finally {
      this.inFlight--;
      this.waiting.shift()?.();
    }
  }

  /** One GET with timeout, retries on retryable failures, metrics. Returns status and body text. */
  private async get(endpoint: string, pathAndQuery: string, accept404 = false): Promise<{ status: number; text: string }> {
    const retries = this.options.retries ?? 3;
    let lastError: TempoError | undefined;
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (attempt > 0) {
        const base = (this.options.baseDelayMs ?? 200) * 2 ** (attempt - 1);
        await new Promise((r) => setTimeout(r, base / 2 + Math.random() * (base / 2)));
      }
      const stop = this.metrics.seconds.startTimer({ endpoint });
      let res: Response;
      let text: string;
      try {
        res = await this.slot(() => fetch(`${this.options.url}${pathAndQuery}`, { headers: this.headers(), signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000) }));
        text = await res.text();
      } catch (e) {
        stop();
        this.metrics.requests.inc({ endpoint, code: 'error' });
        lastError = new TempoError(undefined, `Tempo ${endpoint} unreachable at ${displayUrl(`${this.options.url}${pathAndQuery}`)}: ${describeFetchError(e)}`);
        continue;
      }
      stop();
      this.metrics.requests.inc({ endpoint, code: String(res.status) });
      if (res.ok || (accept404 && res.status === 404)) {
        return { status: res.status, text };
      }
      lastError = new TempoError(res.status, `Tempo ${endpoint} answered ${res.status}: ${text.trim().slice(0, 500)}`);
      if (res.status !== 429 && res.status < 500) {
        throw lastError; // a bad query or credentials: retrying will not help
      }
    }
    throw lastError ?? new TempoError(undefined, `Tempo ${endpoint} failed`);
  }

  /** TraceQL search; Tempo has no pagination: a result of `limit` hits may be truncated. */
  async search(p: SearchParams): Promise<SearchHit[]> {
    const qs = new URLSearchParams({ q: p.q, start: String(Math.floor(p.start)), end: String(Math.ceil(p.end)), limit: String(p.limit), spss: String(p.spss ?? 1) });
    const { text } = await this.get('search', `/api/search?${qs}`);
    const body = JSON.parse(text) as { traces?: Array<{ traceID: string; rootServiceName?: string; rootTraceName?: string; startTimeUnixNano?: string; durationMs?: number }> };
    return (body.traces ?? []).map((t) => {
      const hit: SearchHit = { traceId: normalizeTraceIdHex(t.traceID) };
      if (t.rootServiceName !== undefined) hit.rootServiceName = t.rootServiceName;
      if (t.rootTraceName !== undefined) hit.rootTraceName = t.rootTraceName;
      if (t.startTimeUnixNano !== undefined) hit.startTimeUnixNano = t.startTimeUnixNano;
      if (t.durationMs !== undefined) hit.durationMs = t.durationMs;
      return hit;
    });
  }

  /** A whole trace, or undefined when Tempo does not know it. */
  async trace(traceId: string): Promise<Trace | undefined> {
    const id = normalizeTraceIdHex(traceId);
    if (!this.v1Only) {
      const v2 = await this.get('trace_v2', `/api/v2/traces/${id}`, true);
      if (v2.status !== 404) {
        return decodeTempoTrace(JSON.parse(v2.text));
      }
      // An older Tempo without the v2 route.
      this.v1Only = true;
    }
    const v1 = await this.get('trace_v1', `/api/traces/${id}`, true);
    return v1.status === 404 ? undefined : decodeTempoTrace(JSON.parse(v1.text));
  }

  async tags(): Promise<unknown> {
    return JSON.parse((await this.get('tags', '/api/v2/search/tags')).text);
  }

  async tagValues(tag: string): Promise<unknown> {
    return JSON.parse((await this.get('tag_values', `/api/v2/search/tag/${encodeURIComponent(tag)}/values`)).text);
  }

  async buildInfo(): Promise<{ version?: string }> {
    return JSON.parse((await this.get('buildinfo', '/api/status/buildinfo')).text) as { version?: string };
  }

  async ready(): Promise<boolean> {
    try {
      await this.get('ready', '/ready');
      return true;
    } catch {
      return false;
    }
  }
}
