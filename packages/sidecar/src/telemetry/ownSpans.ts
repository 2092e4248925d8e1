/**
 * BeTrace's own spans are never evaluated by its own rules: spans whose resource says
 * `service.name=betrace-sidecar` (SELF_SERVICE_NAME) are taken out of a batch before it is
 * buffered, whoever sent them (this sidecar pointed at its own receiver, or another BeTrace's
 * spans through a Collector). A body that does not contain the name at all is passed through
 * untouched, so the common case costs one byte search.
 */
import { buildTrace, decodeOtlpProtobuf, Span, Trace } from '@betrace/evaluator';
import { decodeJsonRequest } from '../ingest/jsonBody';
import type { CheckedBatch } from '../ingest/shards/shards';
import { spanCount } from '../ingest/assembler';
import { SELF_SERVICE_NAME } from './selfTrace';

const MARK = Buffer.from(SELF_SERVICE_NAME, 'utf8');

/** Whether a (decompressed) body may hold spans of BeTrace's own service: it names it somewhere. */
export function mayHoldOwnSpans(body: Uint8Array): boolean {
  return Buffer.from(body.buffer, body.byteOffset, body.byteLength).includes(MARK);
}

/**
 * The same for a skimmed OTLP/protobuf body, searching only its resources (where `service.name`
 * is), not its spans: a few hundred bytes instead of the whole body.
 */
function resourcesMayHoldOwnSpans(body: Uint8Array, batch: CheckedBatch & { kind: 'protobuf' }): boolean {
  const all = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  for (const rs of batch.skim.resourceSpans) {
    for (let i = 0; i < rs.other.length; i += 2) {
      if (rs.other[i + 1] - rs.other[i] >= MARK.length && all.subarray(rs.other[i], rs.other[i + 1]).includes(MARK)) {
        return true;
      }
    }
  }
  return false;
}

/**
 * A span copied to plain data, every field (the protobuf decoder's spans read attributes lazily
 * from the body, and a class instance does not survive the structured clone to a shard worker).
 */
export function copySpan(s: Span): Span {
  const out: Span = {
    traceId: s.traceId,
    spanId: s.spanId,
    name: s.name,
    kind: s.kind,
    status: s.status,
    statusMessage: s.statusMessage,
    startNs: s.startNs,
    endNs: s.endNs,
    durationNs: s.durationNs,
    service: s.service,
    attrs: { ...s.attrs },
    resource: { ...s.resource },
    events: s.events.map((e) => ({ name: e.name, timeNs: e.timeNs, attrs: { ...e.attrs } })),
    links: s.links.map((l) => ({ traceId: l.traceId, spanId: l.spanId, attrs: { ...l.attrs } })),
  };
  if (s.parentSpanId !== undefined) {
    out.parentSpanId = s.parentSpanId;
  }
  if (s.scope !== undefined) {
    out.scope = { ...s.scope };
  }
  return out;
}

/** The traces without BeTrace's own spans (the kept ones copied to plain data when `copy`); a trace left with none is gone. */
export function withoutOwnSpans(traces: readonly Trace[], copy = false): { traces: Trace[]; dropped: number } {
  let dropped = 0;
  const out: Trace[] = [];
  for (const t of traces) {
    const kept = t.spans.filter((s) => s.service !== SELF_SERVICE_NAME);
    dropped += t.spans.length - kept.length;
    if (kept.length === t.spans.length && !copy) {
      out.push(t);
    } else if (kept.length > 0) {
      out.push(buildTrace(t.traceId, copy ? kept.map(copySpan) : kept, t.droppedSpanCount ?? 0));
    }
  }
  return { traces: out, dropped };
}

/**
 * A checked batch without BeTrace's own spans. `body`: the decompressed body the batch came from
 * (a protobuf skim or OTLP/JSON decoded on a worker is decoded again here, only when the body
 * names the service). Returns the batch unchanged (`dropped` 0) in the common case.
 */
export function dropOwnSpans(
  body: Uint8Array,
  batch: CheckedBatch,
  protobuf: boolean
): { batch: CheckedBatch; spanCount: number | undefined; dropped: number } {
  if (batch.kind === 'protobuf' && batch.body === body ? !resourcesMayHoldOwnSpans(body, batch) : !mayHoldOwnSpans(body)) {
    return { batch, spanCount: undefined, dropped: 0 };
  }
  const decodedHere = batch.kind !== 'traces';
  const traces = batch.kind === 'traces' ? batch.traces : protobuf ? decodeOtlpProtobuf(body) : decodeJsonRequest(body);
  const { traces: kept, dropped } = withoutOwnSpans(traces, decodedHere && protobuf);
  if (dropped === 0) {
    return { batch, spanCount: undefined, dropped: 0 };
  }
  return { batch: { kind: 'traces', traces: kept }, spanCount: spanCount(kept), dropped };
}
