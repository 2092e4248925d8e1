/**
 * The normalized trace model: the one in-memory shape every decoder produces
 * and every downstream part (evaluator, sidecar, plugin) works on.
 *
 * - ids are lowercase hex, whatever the wire used (hex in OTLP/JSON, base64 in Tempo trace-by-id);
 * - timestamps are bigint nanoseconds: unix nanos exceed 2^53, so they never pass through a JS number;
 * - durations are plain numbers of nanoseconds (exact up to ~104 days, far beyond any span).
 */
import { MAX_SPANS_PER_TRACE } from './limits';

/** An attribute value as OpenTelemetry's AnyValue allows it. int64 values outside the safe range stay bigint. */
export type AttrValue = string | number | bigint | boolean | null | Uint8Array | AttrValue[] | AttrMap;

/** A key/value list (attributes, kvlistValue); a plain object with no prototype surprises. */
export interface AttrMap {
  [key: string]: AttrValue;
}

export type SpanKind = 'unspecified' | 'internal' | 'server' | 'client' | 'producer' | 'consumer';

export type StatusCode = 'unset' | 'ok' | 'error';

export interface SpanEvent {
  name: string;
  timeNs: bigint;
  attrs: AttrMap;
}

export interface SpanLink {
  traceId: string;
  spanId: string;
  attrs: AttrMap;
}

export interface Span {
  /** 32 lowercase hex characters. */
  traceId: string;
  /** 16 lowercase hex characters. */
  spanId: string;
  /** Absent for a root span (an empty or all-zero parent id on the wire). */
  parentSpanId?: string;
  name: string;
  kind: SpanKind;
  status: StatusCode;
  statusMessage: string;
  startNs: bigint;
  endNs: bigint;
  /** endNs - startNs as a number of nanoseconds (0 when the span ends before it starts). */
  durationNs: number;
  /** resource attribute `service.name`, or "" when absent. */
  service: string;
  /** Span attributes. */
  attrs: AttrMap;
  /**
   * One span attribute, what `attrs` holds for `key` as an own property (undefined when absent),
   * for spans that can find it without building `attrs` (the wire decoder's); rules read
   * attributes through it when it is there.
   */
  attr?(key: string): AttrValue | undefined;
  /** Resource attributes. */
  resource: AttrMap;
  /** Instrumentation scope, when the wire had one. */
  scope?: { name: string; version?: string };
  events: SpanEvent[];
  links: SpanLink[];
}

export interface Trace {
  /** 32 lowercase hex characters. */
  traceId: string;
  /** The spans of the trace, in the order they were received (at most MAX_SPANS_PER_TRACE). */
  spans: Span[];
  /**
   * Spans of the trace that were received but not kept, because the trace exceeded
   * MAX_SPANS_PER_TRACE (or a smaller cap of the caller); absent when none were dropped.
   * Rules ran on the spans kept, so a result on a truncated trace may differ from the full trace's.
   */
  droppedSpanCount?: number;
  /** The span without a parent (the earliest one, if several); absent when the root is missing. */
  rootSpan?: Span;
  /** Earliest span start and latest span end (0n for an empty trace). */
  startNs: bigint;
  endNs: bigint;
}

/** The `service.name` BeTrace's own spans carry; such spans are never evaluated. */
export const BETRACE_SERVICE_NAME = 'betrace';

/**
 * Builds a Trace from the spans of one trace id: finds the root and the time bounds.
 * The spans are kept as given (not copied, not sorted) — except that a trace of more than
 * MAX_SPANS_PER_TRACE spans keeps its first MAX_SPANS_PER_TRACE; the rest count in
 * `droppedSpanCount`, together with `droppedBefore`: spans the caller already dropped
 * (an assembler that stopped collecting at the cap).
 */
export function buildTrace(traceId: string, spans: Span[], droppedBefore = 0): Trace {
  let dropped = droppedBefore;
  if (spans.length > MAX_SPANS_PER_TRACE) {
    dropped += spans.length - MAX_SPANS_PER_TRACE;
    spans = spans.slice(0, MAX_SPANS_PER_TRACE);
  }
  let startNs = 0n;
  let endNs = 0n;
  let rootSpan: Span | undefined;
  for (let i = 0; i < spans.length; i++) {
    const span = spans[i];
    if (i === 0 || span.startNs < startNs) {
      startNs = span.startNs;
    }
    if (i === 0 || span.endNs > endNs) {
      endNs = span.endNs;
    }
    const isRoot = span.parentSpanId === undefined;
    if (isRoot && (rootSpan === undefined || span.startNs < rootSpan.startNs)) {
      rootSpan = span;
    }
  }
  const trace: Trace = { traceId, spans, rootSpan, startNs, endNs };
  if (dropped > 0) {
    trace.droppedSpanCount = dropped;
  }
  return trace;
}

/** Groups spans by trace id and builds one Trace per id, in order of first appearance. */
export function groupTraces(spans: Iterable<Span>): Trace[] {
  const byTrace = new Map<string, Span[]>();
  for (const span of spans) {
    let list = byTrace.get(span.traceId);
    if (list === undefined) {
      list = [];
      byTrace.set(span.traceId, list);
    }
    list.push(span);
  }
  const traces: Trace[] = [];
  for (const [traceId, list] of byTrace) {
    traces.push(buildTrace(traceId, list));
  }
  return traces;
}
