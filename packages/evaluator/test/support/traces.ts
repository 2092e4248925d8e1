import { AttrMap, buildTrace, Span, SpanKind, StatusCode, Trace } from '@betrace/evaluator';

/** A span written compactly for tests: ids are short labels, times are milliseconds from the trace start. */
export interface SpanSpec {
  id: string;
  parent?: string;
  name: string;
  /** Start, ms after the trace's base time. */
  at?: number;
  /** Duration in ms. */
  ms?: number;
  status?: StatusCode;
  statusMessage?: string;
  kind?: SpanKind;
  service?: string;
  attrs?: AttrMap;
  resource?: AttrMap;
}

export const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
export const BASE_NS = 1_700_000_000_000_000_000n;

/** Label → 16 hex characters (stable, sortable in label order for single characters). */
export function spanId(label: string): string {
  let hex = '';
  for (const ch of label) {
    hex += ch.charCodeAt(0).toString(16).padStart(2, '0');
  }
  return hex.padStart(16, '0').slice(-16);
}

export function makeSpan(spec: SpanSpec, traceId = TRACE_ID): Span {
  const startNs = BASE_NS + BigInt(Math.round((spec.at ?? 0) * 1e6));
  const durationNs = Math.round((spec.ms ?? 1) * 1e6);
  const service = spec.service ?? 'shop';
  return {
    traceId,
    spanId: spanId(spec.id),
    parentSpanId: spec.parent === undefined ? undefined : spanId(spec.parent),
    name: spec.name,
    kind: spec.kind ?? 'internal',
    status: spec.status ?? 'unset',
    statusMessage: spec.statusMessage ?? '',
    startNs,
    endNs: startNs + BigInt(durationNs),
    durationNs,
    service,
    attrs: spec.attrs ?? {},
    resource: { 'service.name': service, ...(spec.resource ?? {}) },
    events: [],
    links: [],
  };
}

export function makeTrace(specs: SpanSpec[], traceId = TRACE_ID): Trace {
  return buildTrace(
    traceId,
    specs.map((s) => makeSpan(s, traceId)),
  );
}
