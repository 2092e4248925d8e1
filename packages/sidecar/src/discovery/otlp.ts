/**
 * A trace of the normalized model back to OTLP/JSON (`{ resourceSpans }`), for
 * GET /api/v1/discover/:id/traces/:traceId: the rule editor's Test panel sends it as it is to
 * POST /api/v1/rules/test. Spans are grouped by resource and scope as the wire groups them;
 * decodeOtlpJson of the answer gives back the same trace.
 */
import { AttrMap, AttrValue, bytesToBase64, Span, Trace } from '@betrace/evaluator';

const KINDS = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];
const STATUSES = ['unset', 'ok', 'error'];

export interface OtlpKeyValue {
  key: string;
  value: Record<string, unknown>;
}

function anyValue(v: AttrValue): Record<string, unknown> {
  if (v === null) return {};
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (typeof v === 'bigint') return { intValue: v.toString() };
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v) && !Object.is(v, -0)) return { intValue: String(v) };
    return { doubleValue: Number.isFinite(v) ? v : String(v) };
  }
  if (v instanceof Uint8Array) return { bytesValue: bytesToBase64(v) };
  if (Array.isArray(v)) return { arrayValue: { values: v.map(anyValue) } };
  return { kvlistValue: { values: attributes(v) } };
}

function attributes(m: AttrMap): OtlpKeyValue[] {
  return Object.keys(m).map((key) => ({ key, value: anyValue(m[key]) }));
}

function span(s: Span): Record<string, unknown> {
  const out: Record<string, unknown> = {
    traceId: s.traceId,
    spanId: s.spanId,
    name: s.name,
    kind: Math.max(0, KINDS.indexOf(s.kind)),
    startTimeUnixNano: s.startNs.toString(),
    endTimeUnixNano: s.endNs.toString(),
    attributes: attributes(s.attrs),
    status: { code: Math.max(0, STATUSES.indexOf(s.status)), ...(s.statusMessage ? { message: s.statusMessage } : {}) },
  };
  if (s.parentSpanId !== undefined) out.parentSpanId = s.parentSpanId;
  if (s.events.length > 0) out.events = s.events.map((e) => ({ name: e.name, timeUnixNano: e.timeNs.toString(), attributes: attributes(e.attrs) }));
  if (s.links.length > 0) out.links = s.links.map((l) => ({ traceId: l.traceId, spanId: l.spanId, attributes: attributes(l.attrs) }));
  return out;
}

/** The trace as one OTLP/JSON ExportTraceServiceRequest. */
export function encodeOtlpJson(trace: Trace): { resourceSpans: Array<Record<string, unknown>> } {
  // Spans share a resource (and a scope) when they share its object or its serialization.
  const resources = new Map<string, { resource: AttrMap; scopes: Map<string, { scope: Span['scope']; spans: Span[] }> }>();
  for (const s of trace.spans) {
    const rk = JSON.stringify(attributes(s.resource), (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    let r = resources.get(rk);
    if (r === undefined) {
      r = { resource: s.resource, scopes: new Map() };
      resources.set(rk, r);
    }
    const sk = s.scope === undefined ? '' : JSON.stringify([s.scope.name, s.scope.version ?? '']);
    let sc = r.scopes.get(sk);
    if (sc === undefined) {
      sc = { scope: s.scope, spans: [] };
      r.scopes.set(sk, sc);
    }
    sc.spans.push(s);
  }
  return {
    resourceSpans: [...resources.values()].map((r) => ({
      resource: { attributes: attributes(r.resource) },
      scopeSpans: [...r.scopes.values()].map((sc) => ({
        ...(sc.scope !== undefined ? { scope: { name: sc.scope.name, ...(sc.scope.version !== undefined ? { version: sc.scope.version } : {}) } } : {}),
        spans: sc.spans.map(span),
      })),
    })),
  };
}
