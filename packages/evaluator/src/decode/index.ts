/**
 * Decoders from the wire formats to the normalized trace model (model.ts):
 * OTLP/JSON (hex ids), Tempo trace-by-id v2 `{trace:{resourceSpans}}` and v1 `{batches}`
 * (base64 ids), and protobuf-decoded objects (byte ids, Long int64) through decodeResourceSpans;
 * OTLP/protobuf bytes straight to the model in protobuf.ts.
 */
import { groupTraces, Span, SpanEvent, SpanLink, Trace } from '../model';
import {
  ALL_ZEROS,
  DecodeError,
  IdEncoding,
  isZeroId,
  PathRef,
  pathOf,
  readArray,
  readAttributes,
  readId,
  readKind,
  readObject,
  readStatusCode,
  readString,
  readTime,
  typeName,
} from './wire';

export { DecodeError, MAX_ATTRIBUTE_DEPTH, bytesToBase64, bytesToHex, base64ToBytes, normalizeTraceIdHex } from './wire';
export { MAX_PROTOBUF_NESTING, ProtobufError } from './protoReader';
export { decodeCheckedOtlpProtobuf, decodeOtlpProtobuf, decodeOtlpProtobufSpans } from './protobuf';
export { HELD_SPAN_WORDS, holdCheckedOtlpProtobuf, spanIdWords, WireBatch, WireTrace } from './held';
export { partitionByTrace, partitionSkim, skimTraceRequest, traceShard } from './partition';
export type { SkimmedResourceSpans, SkimmedScopeSpans, SkimmedSpan, TraceRequestSkim } from './partition';

const EMPTY_ATTRS = Object.freeze({}) as Record<string, never>;


/**
 * Spans of a `resourceSpans` list. `encoding` is how string ids are written (hex in OTLP/JSON,
 * base64 in Tempo's trace-by-id); Uint8Array ids (protobuf) are always accepted.
 */
export function decodeResourceSpans(resourceSpans: unknown, path = 'resourceSpans', encoding: IdEncoding = 'hex'): Span[] {
  const out: Span[] = [];
  const list = readArray(resourceSpans, path);
  for (let r = 0; r < list.length; r++) {
    const rsPath = `${path}[${r}]`;
    const rs = readObject(list[r], rsPath);
    const resourceObj = rs.resource === undefined || rs.resource === null ? undefined : readObject(rs.resource, `${rsPath}.resource`);
    const resource = resourceObj ? readAttributes(resourceObj.attributes, `${rsPath}.resource.attributes`) : {};
    const serviceName = resource['service.name'];
    const service = typeof serviceName === 'string' ? serviceName : '';
    // instrumentationLibrarySpans: the pre-1.0 OTLP name, still sent by old SDKs and Tempo v1.
    const scopeKey = rs.scopeSpans !== undefined ? 'scopeSpans' : 'instrumentationLibrarySpans';
    const scopes = readArray(rs[scopeKey], `${rsPath}.${scopeKey}`);
    for (let s = 0; s < scopes.length; s++) {
      const ssPath = `${rsPath}.${scopeKey}[${s}]`;
      const ss = readObject(scopes[s], ssPath);
      const scopeObj = ss.scope ?? ss.instrumentationLibrary;
      let scope: Span['scope'];
      if (scopeObj !== undefined && scopeObj !== null) {
        const so = readObject(scopeObj, `${ssPath}.scope`);
        const name = readString(so.name, `${ssPath}.scope.name`);
        const version = readString(so.version, `${ssPath}.scope.version`);
        scope = version === '' ? { name } : { name, version };
      }
      const spans = readArray(ss.spans, `${ssPath}.spans`);
      for (let i = 0; i < spans.length; i++) {
        out.push(decodeSpan(spans[i], () => `${ssPath}.spans[${i}]`, encoding, service, resource, scope));
      }
    }
  }
  return out;
}

function decodeSpan(
  value: unknown,
  spanPath: () => string,
  encoding: IdEncoding,
  service: string,
  resource: Span['resource'],
  scope: Span['scope'],
): Span {
  const at = (field: string) => sub(spanPath, field);
  const o = readObject(value, spanPath);
  const traceId = readId(o.traceId, 16, encoding, at('traceId'));
  if (traceId === undefined) {
    throw new DecodeError(at('traceId'), 'is missing');
  }
  if (isZeroId(traceId)) {
    throw new DecodeError(at('traceId'), ALL_ZEROS);
  }
  const spanId = readId(o.spanId, 8, encoding, at('spanId'));
  if (spanId === undefined) {
    throw new DecodeError(at('spanId'), 'is missing');
  }
  if (isZeroId(spanId)) {
    throw new DecodeError(at('spanId'), ALL_ZEROS);
  }
  const parent = readId(o.parentSpanId, 8, encoding, at('parentSpanId'));
  const startNs = readTime(o.startTimeUnixNano, at('startTimeUnixNano'));
  const endNs = readTime(o.endTimeUnixNano, at('endTimeUnixNano'));
  const statusObj = o.status === undefined || o.status === null ? undefined : readObject(o.status, at('status'));
  const attrs = o.attributes === undefined ? EMPTY_ATTRS : readAttributes(o.attributes, at('attributes'));
  const span: Span = {
    traceId,
    spanId,
    name: readString(o.name, at('name')),
    kind: readKind(o.kind, at('kind')),
    status: statusObj ? readStatusCode(statusObj.code, at('status.code')) : 'unset',
    statusMessage: statusObj ? readString(statusObj.message, at('status.message')) : '',
    startNs,
    endNs,
    durationNs: endNs > startNs ? Number(endNs - startNs) : 0,
    service,
    attrs: attrs === EMPTY_ATTRS ? {} : attrs,
    resource,
    events: o.events === undefined ? [] : readArray(o.events, at('events')).map((e, i) => decodeEvent(e, () => `${spanPath()}.events[${i}]`)),
    links: o.links === undefined ? [] : readArray(o.links, at('links')).map((l, i) => decodeLink(l, () => `${spanPath()}.links[${i}]`, encoding)),
  };
  // An all-zero parent id is how some encoders write "no parent".
  if (parent !== undefined && parent !== '0000000000000000') {
    span.parentSpanId = parent;
  }
  if (scope !== undefined) {
    span.scope = scope;
  }
  return span;
}

/** The path of a field below `path`, built only if an error needs it. */
function sub(path: PathRef, field: string): () => string {
  return () => `${pathOf(path)}.${field}`;
}

function decodeEvent(value: unknown, path: PathRef): SpanEvent {
  const o = readObject(value, path);
  return {
    name: readString(o.name, sub(path, 'name')),
    timeNs: readTime(o.timeUnixNano, sub(path, 'timeUnixNano')),
    attrs: readAttributes(o.attributes, sub(path, 'attributes')),
  };
}

function decodeLink(value: unknown, path: PathRef, encoding: IdEncoding): SpanLink {
  const o = readObject(value, path);
  const traceId = readId(o.traceId, 16, encoding, sub(path, 'traceId'));
  const spanId = readId(o.spanId, 8, encoding, sub(path, 'spanId'));
  if (traceId === undefined || spanId === undefined) {
    throw new DecodeError(path, 'a link needs a traceId and a spanId');
  }
  if (isZeroId(traceId)) {
    throw new DecodeError(sub(path, 'traceId'), ALL_ZEROS);
  }
  if (isZeroId(spanId)) {
    throw new DecodeError(sub(path, 'spanId'), ALL_ZEROS);
  }
  return { traceId, spanId, attrs: readAttributes(o.attributes, sub(path, 'attributes')) };
}

/** An OTLP/JSON ExportTraceServiceRequest → its traces (spans grouped by trace id). Throws DecodeError. */
export function decodeOtlpJson(body: unknown): Trace[] {
  const o = readObject(body, 'request');
  return groupTraces(decodeResourceSpans(o.resourceSpans, 'resourceSpans', 'hex'));
}

/**
 * Text holding one OTLP/JSON request, or NDJSON (one request per line, blank lines ignored).
 * Spans of one trace id across lines merge into one Trace.
 */
export function decodeOtlpJsonText(text: string): Trace[] {
  const trimmed = text.trim();
  if (trimmed === '') {
    return [];
  }
  let whole: unknown;
  try {
    whole = JSON.parse(trimmed);
  } catch {
    whole = undefined;
  }
  if (whole !== undefined) {
    return decodeOtlpJson(whole);
  }
  const spans: Span[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') {
      continue;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (e) {
      throw new DecodeError(`line ${i + 1}`, `not JSON (${e instanceof Error ? e.message : String(e)})`);
    }
    const o = readObject(parsed, `line ${i + 1}`);
    for (const span of decodeResourceSpans(o.resourceSpans, `line ${i + 1}: resourceSpans`, 'hex')) {
      spans.push(span); // not a spread: a line of 100 000+ spans would overflow the stack
    }
  }
  return groupTraces(spans);
}

/**
 * A Tempo trace-by-id response → the trace, or undefined when Tempo does not know it
 * (`/api/v2/traces/<id>` answers 200 with an empty trace). Accepts v2 `{trace:{resourceSpans}}`,
 * v1 `{batches}` and a bare `{resourceSpans}`; ids are base64 as Tempo writes them (hex accepted).
 */
export function decodeTempoTrace(body: unknown): Trace | undefined {
  const o = readObject(body, 'response');
  let spans: Span[];
  if ('trace' in o) {
    if (o.trace === null || o.trace === undefined) {
      return undefined;
    }
    const t = readObject(o.trace, 'trace');
    spans = decodeResourceSpans(t.resourceSpans ?? t.batches, 'trace.resourceSpans', 'base64');
  } else if ('batches' in o) {
    spans = decodeResourceSpans(o.batches, 'batches', 'base64');
  } else if ('resourceSpans' in o) {
    spans = decodeResourceSpans(o.resourceSpans, 'resourceSpans', 'base64');
  } else if (Object.keys(o).length === 0) {
    return undefined;
  } else {
    throw new DecodeError('response', `expected a Tempo trace (trace, batches or resourceSpans), got keys ${Object.keys(o).join(', ')}`);
  }
  if (spans.length === 0) {
    return undefined;
  }
  const traces = groupTraces(spans);
  if (traces.length !== 1) {
    throw new DecodeError('response', `expected the spans of one trace, got ${traces.length} trace ids`);
  }
  return traces[0];
}

export { typeName };
