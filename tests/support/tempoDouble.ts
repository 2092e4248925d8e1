/**
 * A test double of Grafana Tempo's HTTP API, faithful for what BeTrace uses (pinned against
 * ../shared/fixtures/tempo by tests/unit/tempoDouble.test.ts):
 * - OTLP/HTTP ingest `POST /v1/traces` (JSON or protobuf);
 * - `GET /api/search` with the TraceQL subset pushdown emits (tests/support/traceql.ts),
 *   `start`/`end` in unix seconds, `limit` (default 20), `spss` (default 3), the newest ~30 s of
 *   a range cut off, no pagination, no `traces` key when nothing matches;
 * - `GET /api/v2/traces/<id>` (base64 ids, int64 as strings, enum names, empty fields left out;
 *   200 with an empty body object for an unknown trace) and `GET /api/traces/<id>` (v1 `batches`,
 *   404 for an unknown trace);
 * - `GET /api/v2/search/tags`, `GET /api/v2/search/tag/<name>/values`, `/api/status/buildinfo`,
 *   `/ready`;
 * - tenants by `X-Scope-OrgID` (401 `no org id` without it, when multi-tenancy is on);
 * - injectable faults: errors, latency, outages.
 * Errors are plain text with their status, as Tempo answers them.
 */
import * as http from 'http';
import { AddressInfo } from 'net';
import { bytesToBase64, decodeResourceSpans, groupTraces, Span, Trace } from '@betrace/evaluator';
import { decodeTraceRequest } from '../../packages/sidecar/src/ingest/otlpProto';
import { matchingSpans, parseTraceQL, TqCond, TqQuery, TraceQLSyntaxError } from './traceql';

export interface Fault {
  /** Answer every request with this status (and a plain-text message). */
  status?: number;
  /** Delay every answer by this many ms. */
  latencyMs?: number;
  /** Only requests whose path starts with this. */
  path?: string;
}

export interface TempoDoubleOptions {
  multiTenant?: boolean;
  /** Tempo cuts the newest part of a search range (query_end_cutoff); seconds. */
  queryEndCutoffSeconds?: number;
  /** "now" for the cutoff, in ms (tests inject it). */
  now?: () => number;
}

const KIND_NAMES = ['SPAN_KIND_UNSPECIFIED', 'SPAN_KIND_INTERNAL', 'SPAN_KIND_SERVER', 'SPAN_KIND_CLIENT', 'SPAN_KIND_PRODUCER', 'SPAN_KIND_CONSUMER'];
const KIND_INDEX: Record<string, number> = { unspecified: 0, internal: 1, server: 2, client: 3, producer: 4, consumer: 5 };
const STATUS_NAMES: Record<string, string | undefined> = { unset: undefined, ok: 'STATUS_CODE_OK', error: 'STATUS_CODE_ERROR' };

function hexToBase64(hex: string): string {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) {
    bytes[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  }
  return bytesToBase64(bytes);
}

type Json = Record<string, unknown>;

function anyValue(v: unknown): Json {
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (typeof v === 'bigint') return { intValue: v.toString() };
  if (typeof v === 'number') return Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v };
  if (Array.isArray(v)) return { arrayValue: { values: v.map(anyValue) } };
  if (v instanceof Uint8Array) return { bytesValue: bytesToBase64(v) };
  if (v !== null && typeof v === 'object') return { kvlistValue: { values: attributes(v as Record<string, unknown>) } };
  return {};
}

function attributes(o: Record<string, unknown>): Json[] {
  return Object.entries(o).map(([key, value]) => ({ key, value: anyValue(value) }));
}

/** A span as Tempo marshals it in trace-by-id answers: base64 ids, strings for int64, enum names, empty fields left out. */
function tempoSpan(s: Span): Json {
  const out: Json = { traceId: hexToBase64(s.traceId), spanId: hexToBase64(s.spanId) };
  if (s.parentSpanId) out.parentSpanId = hexToBase64(s.parentSpanId);
  out.name = s.name;
  if (KIND_INDEX[s.kind] > 0) out.kind = KIND_NAMES[KIND_INDEX[s.kind]];
  out.startTimeUnixNano = s.startNs.toString();
  out.endTimeUnixNano = s.endNs.toString();
  const attrs = attributes(s.attrs);
  if (attrs.length > 0) out.attributes = attrs;
  const status: Json = {};
  if (STATUS_NAMES[s.status]) status.code = STATUS_NAMES[s.status];
  if (s.statusMessage) status.message = s.statusMessage;
  out.status = status;
  return out;
}

function resourceSpans(trace: Trace): Json[] {
  const byResource = new Map<string, { resource: Record<string, unknown>; scopes: Map<string, { scope: Span['scope']; spans: Span[] }> }>();
  for (const s of trace.spans) {
    const key = JSON.stringify(s.resource, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    if (!byResource.has(key)) byResource.set(key, { resource: s.resource, scopes: new Map() });
    const scopes = byResource.get(key)!.scopes;
    const scopeKey = JSON.stringify(s.scope ?? null);
    if (!scopes.has(scopeKey)) scopes.set(scopeKey, { scope: s.scope, spans: [] });
    scopes.get(scopeKey)!.spans.push(s);
  }
  return [...byResource.values()].map((g) => ({
    resource: { attributes: attributes(g.resource) },
    scopeSpans: [...g.scopes.values()].map((x) => ({ ...(x.scope ? { scope: x.scope } : {}), spans: x.spans.map(tempoSpan) })),
  }));
}

/** The attribute names a query's conditions read: Tempo returns those with each matched span. */
function queriedAttributes(q: TqQuery): Array<{ scope: 'span' | 'resource' | 'any'; name: string }> {
  const out: Array<{ scope: 'span' | 'resource' | 'any'; name: string }> = [];
  const cond = (c: TqCond): void => {
    if (c.k === 'cmp') {
      if (c.field.k === 'attr') out.push({ scope: c.field.scope, name: c.field.name });
      return;
    }
    cond(c.left);
    cond(c.right);
  };
  const walk = (x: TqQuery): void => {
    if (x.k === 'spanset') {
      if (x.cond) cond(x.cond);
      return;
    }
    walk(x.left);
    walk(x.right);
  };
  walk(q);
  return out;
}

export class TempoDouble {
  /** Traces per tenant ("single-tenant" when multi-tenancy is off). */
  private readonly tenants = new Map<string, Map<string, Span[]>>();
  private server: http.Server | undefined;
  fault: Fault | undefined;
  /** Every request, for assertions (method, path with query, tenant). */
  readonly requests: Array<{ method: string; url: string; tenant: string | undefined }> = [];

  constructor(private readonly options: TempoDoubleOptions = {}) {}

  /** Stores spans directly (what ingest does), for tests that build traffic in memory. */
  ingest(tenant: string, spans: Span[]): void {
    let traces = this.tenants.get(tenant);
    if (!traces) {
      traces = new Map();
      this.tenants.set(tenant, traces);
    }
    for (const s of spans) {
      const list = traces.get(s.traceId) ?? [];
      list.push(s);
      traces.set(s.traceId, list);
    }
  }

  traceCount(tenant = 'single-tenant'): number {
    return this.tenants.get(tenant)?.size ?? 0;
  }

  /** Starts listening on a loopback port (random unless given); starting again returns the same address. */
  async start(port = 0): Promise<string> {
    if (this.server) {
      return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    }
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        void this.handle(req, Buffer.concat(chunks)).then(({ status, body, type }) => {
          res.writeHead(status, { 'content-type': type ?? 'application/json' }).end(body);
        });
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }

  private async handle(req: http.IncomingMessage, body: Buffer): Promise<{ status: number; body: string; type?: string }> {
    const url = new URL(req.url ?? '/', 'http://tempo');
    const org = req.headers['x-scope-orgid'] as string | undefined;
    this.requests.push({ method: req.method ?? 'GET', url: url.pathname + url.search, tenant: org });
    const fault = this.fault;
    if (fault && (fault.path === undefined || url.pathname.startsWith(fault.path))) {
      if (fault.latencyMs) await new Promise((r) => setTimeout(r, fault.latencyMs));
      if (fault.status) return { status: fault.status, body: `injected fault: ${fault.status}`, type: 'text/plain' };
    }
    const text = (status: number, message: string) => ({ status, body: message, type: 'text/plain' });
    if (url.pathname === '/ready') return text(200, 'ready');
    if (url.pathname === '/api/status/buildinfo') return { status: 200, body: JSON.stringify({ version: '2.9.0', revision: 'double', branch: 'HEAD', buildUser: '', buildDate: '', goVersion: 'go1.24' }) };
    let tenant = 'single-tenant';
    if (this.options.multiTenant) {
      if (!org) return text(401, 'no org id');
      tenant = org;
    }
    const traces = this.tenants.get(tenant) ?? new Map<string, Span[]>();
    if (req.method === 'POST' && url.pathname === '/v1/traces') {
      try {
        const proto = String(req.headers['content-type']).startsWith('application/x-protobuf');
        const request = proto ? decodeTraceRequest(body) : (JSON.parse(body.toString()) as { resourceSpans?: unknown });
        this.ingest(tenant, decodeResourceSpans(request.resourceSpans, 'resourceSpans', 'hex'));
        return { status: 200, body: '{}' };
      } catch (e) {
        return text(400, String((e as Error).message));
      }
    }
    if (url.pathname === '/api/search') return this.search(url, traces);
    const v2 = /^\/api\/v2\/traces\/([0-9a-fA-F]+)$/.exec(url.pathname);
    const v1 = /^\/api\/traces\/([0-9a-fA-F]+)$/.exec(url.pathname);
    if (v2 || v1) {
      const id = (v2 ?? v1)![1].toLowerCase().padStart(32, '0');
      const spans = traces.get(id);
      if (!spans) return v2 ? { status: 200, body: '{}' } : text(404, `trace not found: ${id}`);
      const trace = groupTraces(spans)[0];
      return { status: 200, body: JSON.stringify(v2 ? { trace: { resourceSpans: resourceSpans(trace) } } : { batches: resourceSpans(trace) }) };
    }
    if (url.pathname === '/api/v2/search/tags') {
      const span = new Set<string>();
      const resource = new Set<string>();
      for (const list of traces.values()) {
        for (const s of list) {
          Object.keys(s.attrs).forEach((k) => span.add(k));
          Object.keys(s.resource).forEach((k) => resource.add(k));
        }
      }
      return {
        status: 200,
        body: JSON.stringify({ scopes: [{ name: 'span', tags: [...span].sort() }, { name: 'resource', tags: [...resource].sort() }, { name: 'intrinsic', tags: ['duration', 'kind', 'name', 'status', 'statusMessage'] }] }),
      };
    }
    const tagValues = /^\/api\/v2\/search\/tag\/([^/]+)\/values$/.exec(url.pathname);
    if (tagValues) {
      const tag = decodeURIComponent(tagValues[1]);
      const [scope, name] = tag.startsWith('span.') ? ['span', tag.slice(5)] : tag.startsWith('resource.') ? ['resource', tag.slice(9)] : ['any', tag.replace(/^\./, '')];
      const values = new Map<string, string>();
      for (const list of traces.values()) {
        for (const s of list) {
          for (const v of [scope !== 'resource' ? s.attrs[name] : undefined, scope !== 'span' ? s.resource[name] : undefined]) {
            if (typeof v === 'string') values.set(`string:${v}`, JSON.stringify({ type: 'string', value: v }));
            else if (typeof v === 'number' || typeof v === 'bigint') values.set(`int:${v}`, JSON.stringify({ type: 'int', value: String(v) }));
          }
        }
      }
      return { status: 200, body: `{"tagValues":[${[...values.values()].join(',')}]}` };
    }
    return text(404, '404 page not found');
  }

  private search(url: URL, traces: Map<string, Span[]>): { status: number; body: string; type?: string } {
    const q = url.searchParams.get('q') ?? '{}';
    let query;
    try {
      query = parseTraceQL(q);
    } catch (e) {
      const message = e instanceof TraceQLSyntaxError ? e.message : String(e);
      return { status: 400, body: `invalid TraceQL query: ${message}`, type: 'text/plain' };
    }
    const limit = Number(url.searchParams.get('limit') ?? 20);
    const spss = Math.min(100, Number(url.searchParams.get('spss') ?? 3));
    const startS = url.searchParams.get('start');
    const endS = url.searchParams.get('end');
    const cutoffNs = this.options.now ? BigInt(this.options.now() - (this.options.queryEndCutoffSeconds ?? 30) * 1000) * 1_000_000n : undefined;
    const startNs = startS ? BigInt(startS) * 1_000_000_000n : undefined;
    let endNs = endS ? BigInt(endS) * 1_000_000_000n : undefined;
    if (cutoffNs !== undefined && (endNs === undefined || endNs > cutoffNs)) {
      endNs = cutoffNs;
    }
    const queried = queriedAttributes(query);
    const hits: Json[] = [];
    for (const [traceId, spans] of traces) {
      if (hits.length >= limit) break;
      const trace = groupTraces(spans)[0];
      // A trace is in a range when its spans overlap it (Tempo searches by trace start/end).
      if (startNs !== undefined && trace.endNs < startNs) continue;
      if (endNs !== undefined && trace.startNs > endNs) continue;
      const matched = matchingSpans(query, trace);
      if (matched.length === 0) continue;
      const root = trace.rootSpan;
      const spanSet = {
        spans: matched.slice(0, spss).map((s) => {
          const span: Json = { spanID: s.spanId, startTimeUnixNano: s.startNs.toString(), durationNanos: String(s.durationNs) };
          const attrs: Json[] = [];
          for (const a of queried) {
            const v = a.scope !== 'resource' && a.name in s.attrs ? s.attrs[a.name] : a.scope !== 'span' ? s.resource[a.name] : undefined;
            if (v !== undefined && !attrs.some((x) => x.key === a.name)) attrs.push({ key: a.name, value: anyValue(v) });
          }
          if (attrs.length > 0) span.attributes = attrs;
          return span;
        }),
        matched: matched.length,
      };
      const hit: Json = { traceID: traceId.replace(/^0+/, '') };
      if (root) {
        hit.rootServiceName = root.service;
        hit.rootTraceName = root.name;
      }
      hit.startTimeUnixNano = trace.startNs.toString();
      hit.durationMs = Math.round(Number(trace.endNs - trace.startNs) / 1e6);
      hit.spanSet = spanSet;
      hit.spanSets = [spanSet];
      hits.push(hit);
    }
    const response: Json = {};
    if (hits.length > 0) response.traces = hits;
    response.metrics = { inspectedBytes: String(traces.size * 1000), completedJobs: 1, totalJobs: 1 };
    return { status: 200, body: JSON.stringify(response) };
  }
}
