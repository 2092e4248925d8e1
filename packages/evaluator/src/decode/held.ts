/**
 * Spans held as their wire bytes. Trace assembly keeps every span for the decision wait and then
 * for late spans (MAX_TRACE_AGE): built as objects on arrival, those spans outlive the young
 * generation and the garbage collector copies, promotes and marks them again and again — under
 * load it cost more CPU than the decode itself, and about 1 kB of heap per span beside its bytes.
 * Held as bytes, a span is the request's bytes (off the heap) and five numbers; its span object is
 * built only when its trace is evaluated, and dropped after.
 *
 * holdCheckedOtlpProtobuf scans a request that was checked before (as decodeCheckedOtlpProtobuf
 * takes): the traces it holds, each with where its spans are. WireBatch.build then makes the same
 * spans decodeCheckedOtlpProtobuf makes of them (pinned by the property tests).
 */
import type { AttrMap, Span } from '../model';
import { hexAt, sameBytes, wordAt } from './protoValues';
import { readResource, readScope, serviceOf, WireSpan } from './protobuf';
import { RequestScanner, ScanSink, SpanFields } from './protoScan';

/** Numbers per held span in WireTrace.spans: context, start, end, span id low word, high word. */
export const HELD_SPAN_WORDS = 5;
/** Numbers per context (a ScopeSpans) in WireBatch.contexts: resource index, scopeAt, name, version. */
const CONTEXT_WORDS = 6;

/** One checked request's bytes and where its resources and scopes are; spans of its traces point here. */
export class WireBatch {
  /** Decoded resources and scopes, made on first use and shared by every span built from them. */
  private readonly resources: Array<{ attrs: AttrMap; service: string } | undefined> = [];
  private readonly scopes: Array<WireSpan['scope'] | null> = [];

  constructor(
    readonly body: Uint8Array,
    /** Resource message position of each ResourceSpans (-1: none). */
    private readonly resourcesAt: readonly number[],
    /** CONTEXT_WORDS per ScopeSpans. */
    private readonly contexts: readonly number[],
  ) {}

  /**
   * Builds the spans described by `spans` (HELD_SPAN_WORDS each, as in WireTrace.spans) into
   * `out`, in their order, as decodeCheckedOtlpProtobuf would build them, until `out` holds `max`.
   */
  build(traceId: string, spans: readonly number[], out: Span[], max = Infinity): void {
    const scanner = new RequestScanner(this.body, true);
    const r = scanner.r;
    for (let i = 0; i < spans.length && out.length < max; i += HELD_SPAN_WORDS) {
      const c = spans[i] * CONTEXT_WORDS;
      const ri = this.contexts[c];
      let resource = this.resources[ri];
      if (resource === undefined) {
        const attrs = readResource(r, this.resourcesAt[ri]);
        resource = this.resources[ri] = { attrs, service: serviceOf(attrs) };
      }
      let scope = this.scopes[spans[i]];
      if (scope === undefined) {
        scope = this.scopes[spans[i]] = readScope(r, this.contexts[c + 1], this.contexts[c + 2], this.contexts[c + 3], this.contexts[c + 4], this.contexts[c + 5]) ?? null;
      }
      const f: SpanFields = scanner.spanAt(spans[i + 1], spans[i + 2]);
      out.push(new WireSpan(r, f, traceId, resource.service, resource.attrs, scope ?? undefined));
    }
  }
}

/** The spans of one trace in one request, held as bytes. */
export class WireTrace {
  constructor(
    readonly traceId: string,
    readonly batch: WireBatch,
    /** HELD_SPAN_WORDS per span: its context in the batch, its message's [start, end), its span id's two words. */
    readonly spans: number[],
  ) {}

  get spanCount(): number {
    return this.spans.length / HELD_SPAN_WORDS;
  }

  /** Builds this trace's spans into `out`, until it holds `max` spans. */
  build(out: Span[], max?: number): void {
    this.batch.build(this.traceId, this.spans, out, max);
  }
}

class Holder implements ScanSink {
  readonly resourcesAt: number[] = [];
  readonly contexts: number[] = [];
  readonly traces = new Map<string, number[]>();
  private lastTraceAt = -1;
  private last: number[] = [];

  constructor(private readonly body: Uint8Array) {}

  resource(resourceAt: number): void {
    this.resourcesAt.push(resourceAt);
  }

  scope(scopeAt: number, nameAt: number, nameEnd: number, versionAt: number, versionEnd: number): void {
    this.contexts.push(this.resourcesAt.length - 1, scopeAt, nameAt, nameEnd, versionAt, versionEnd);
  }

  span(f: SpanFields): void {
    const b = this.body;
    let list = this.last;
    if (this.lastTraceAt < 0 || !sameBytes(b, this.lastTraceAt, f.traceIdAt, 16)) {
      // Spans of one trace usually come together: the map is looked up when the trace changes.
      const traceId = hexAt(b, f.traceIdAt, 16);
      let found = this.traces.get(traceId);
      if (found === undefined) {
        found = [];
        this.traces.set(traceId, found);
      }
      list = this.last = found;
      this.lastTraceAt = f.traceIdAt;
    }
    list.push(this.contexts.length / CONTEXT_WORDS - 1, f.start, f.end, wordAt(b, f.spanIdAt), wordAt(b, f.spanIdAt + 4));
  }
}

/**
 * The traces of a request already checked (see decodeCheckedOtlpProtobuf), in order of first
 * appearance, their spans held as bytes: the body must not be written to afterwards.
 */
export function holdCheckedOtlpProtobuf(body: Uint8Array): WireTrace[] {
  const holder = new Holder(body);
  new RequestScanner(body, true).scan(holder);
  const batch = new WireBatch(body, holder.resourcesAt, holder.contexts);
  const out: WireTrace[] = [];
  for (const [traceId, spans] of holder.traces) {
    out.push(new WireTrace(traceId, batch, spans));
  }
  return out;
}

/**
 * A span id (16 hex characters) as the two words held spans are compared by, or undefined for
 * an id of another form (spans made by hand: compared by their string instead).
 */
export function spanIdWords(spanId: string): [lo: number, hi: number] | undefined {
  if (!/^[0-9a-fA-F]{16}$/.test(spanId)) {
    return undefined;
  }
  for (let i = 0; i < 8; i++) {
    ID_BYTES[i] = parseInt(spanId.slice(2 * i, 2 * i + 2), 16);
  }
  // The same words as a wire span id's bytes give (Holder.span).
  return [wordAt(ID_BYTES, 0), wordAt(ID_BYTES, 4)];
}

/** spanIdWords' scratch bytes. */
const ID_BYTES = new Uint8Array(8);
