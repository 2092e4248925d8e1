/**
 * OTLP/protobuf ExportTraceServiceRequest → normalized spans, straight from the bytes: the same
 * spans, and the same accepted and refused bodies, as protobufjs' decoder followed by
 * decodeResourceSpans, without building protobufjs' messages first.
 *
 * Rules read a handful of attributes of a few spans, so a span's attributes, events and links
 * are built on first access, from the body's bytes, which the span keeps (the body must not be
 * written to afterwards). They are checked when the span is decoded — a body that decodes has no
 * error left in it — so building them later cannot fail. The three are accessors of the span's
 * class, not own properties: read them by name (as every consumer does); to hand spans to another
 * thread, send the request's bytes (partitionByTrace) rather than structured clones of spans.
 */
import { AttrMap, AttrValue, groupTraces, Span, SpanEvent, SpanKind, SpanLink, StatusCode, Trace } from '../model';
import { hexAt, jump, KeyInterest, readKeyValueInto, readKeyValueMatching, sameBytes, wordAt } from './protoValues';
import { ProtoReader } from './protoReader';
import { RequestScanner, ScanSink, Shape, SpanFields, spanFieldShape } from './protoScan';
import { hasOwn } from './wire';

/** Nesting counts of the messages under a Span (see protoScan.ts). */
const SPAN = 3;
const IN_SPAN = 4;

const HAS_ATTRIBUTES = 1;
const HAS_EVENTS = 2;
const HAS_LINKS = 4;

/**
 * The span attribute keys rules read (through Span.attr), shared by every wire span: rules name a
 * few keys, spans carry many, so a span looks those up without building the rest. Bounded: past
 * this many keys, attr() of a new key builds the span's map.
 */
const INTEREST = new KeyInterest(128);

/** A span whose attributes, events and links are read from the wire on first access. */
export class WireSpan implements Span {
  traceId: string;
  spanId: string;
  declare parentSpanId?: string;
  name: string;
  kind: SpanKind;
  status: StatusCode;
  statusMessage: string;
  startNs: bigint;
  endNs: bigint;
  durationNs: number;
  service: string;
  resource: AttrMap;
  declare scope?: { name: string; version?: string };
  /** The request's reader (and string table), shared by its spans: building one span's attributes never interleaves with another's. */
  #r: ProtoReader;
  #start: number;
  #end: number;
  #has: number;
  #attrs: AttrMap | undefined = undefined;
  #events: SpanEvent[] | undefined = undefined;
  #links: SpanLink[] | undefined = undefined;
  /** Values found by attr(), by INTEREST index (undefined: absent), for the keys numbered below #covered. */
  #vals: Array<AttrValue | undefined> | undefined = undefined;
  #covered = 0;

  constructor(r: ProtoReader, f: SpanFields, traceId: string, service: string, resource: AttrMap, scope: WireSpan['scope']) {
    const body = r.buf;
    this.traceId = traceId;
    this.spanId = hexAt(body, f.spanIdAt, 8);
    if (f.parentAt >= 0) {
      this.parentSpanId = hexAt(body, f.parentAt, 8);
    }
    this.name = r.text(f.nameAt, f.nameEnd);
    this.kind = f.kind;
    this.status = f.status;
    this.statusMessage = r.text(f.statusMessageAt, f.statusMessageEnd);
    this.startNs = f.startTimeAt < 0 ? 0n : r.bigUint64(f.startTimeAt);
    this.endNs = f.endTimeAt < 0 ? 0n : r.bigUint64(f.endTimeAt);
    this.durationNs = duration(body, f.startTimeAt, f.endTimeAt, this.startNs, this.endNs);
    this.service = service;
    this.resource = resource;
    if (scope !== undefined) {
      this.scope = scope;
    }
    this.#r = r;
    this.#start = f.start;
    this.#end = f.end;
    this.#has = (f.attributes > 0 ? HAS_ATTRIBUTES : 0) | (f.events > 0 ? HAS_EVENTS : 0) | (f.links > 0 ? HAS_LINKS : 0);
  }

  get attrs(): AttrMap {
    if (this.#attrs === undefined) {
      this.#attrs = {};
      if (this.#has & HAS_ATTRIBUTES) {
        const out = this.#attrs;
        this.#walk(9, (r) => readKeyValueInto(r, IN_SPAN, out));
      }
    }
    return this.#attrs;
  }

  set attrs(value: AttrMap) {
    this.#attrs = value;
  }

  /** One attribute, as `attrs` holds it as an own property; the map is not built for it. */
  attr(key: string): AttrValue | undefined {
    const all = this.#attrs;
    if (all !== undefined) {
      return hasOwn(all, key) ? all[key] : undefined;
    }
    if ((this.#has & HAS_ATTRIBUTES) === 0) {
      return undefined;
    }
    const i = INTEREST.indexOf(key);
    if (i < 0) {
      const built = this.attrs;
      return hasOwn(built, key) ? built[key] : undefined;
    }
    if (i >= this.#covered) {
      // One pass over the KeyValues finds every key asked for so far that this span has not looked up.
      const out = (this.#vals ??= []);
      const from = this.#covered;
      this.#walk(9, (r) => readKeyValueMatching(r, IN_SPAN, INTEREST, from, out));
      this.#covered = INTEREST.size;
    }
    return this.#vals![i];
  }

  get events(): SpanEvent[] {
    if (this.#events === undefined) {
      const out: SpanEvent[] = (this.#events = []);
      if (this.#has & HAS_EVENTS) {
        this.#walk(11, (r) => out.push(readEvent(r)));
      }
    }
    return this.#events;
  }

  set events(value: SpanEvent[]) {
    this.#events = value;
  }

  get links(): SpanLink[] {
    if (this.#links === undefined) {
      const out: SpanLink[] = (this.#links = []);
      if (this.#has & HAS_LINKS) {
        this.#walk(13, (r) => out.push(readLink(r)));
      }
    }
    return this.#links;
  }

  set links(value: SpanLink[]) {
    this.#links = value;
  }

  /** Calls `visit` at each occurrence of `field` in this span (already checked: cannot fail). */
  #walk(field: number, visit: (r: ProtoReader) => void): void {
    const r = this.#r;
    r.pos = this.#start;
    r.len = this.#end;
    while (r.pos < r.len) {
      const t = r.uint32();
      const number = t >>> 3;
      if (number === field) {
        visit(r);
        continue;
      }
      switch (spanFieldShape(number)) {
        case Shape.Bytes:
        case Shape.Message:
          jump(r);
          break;
        case Shape.Varint:
          r.uint32();
          break;
        case Shape.Fixed64:
          r.fixed64();
          break;
        case Shape.Fixed32:
          r.fixed32();
          break;
        default:
          r.skip(t & 7, SPAN);
      }
    }
  }
}

/** endNs - startNs as a number, from the 32-bit halves when that is exact (the common case), else from the bigints. */
function duration(body: Uint8Array, startAt: number, endAt: number, startNs: bigint, endNs: bigint): number {
  if (startAt >= 0 && endAt >= 0) {
    const hi = wordAt(body, endAt + 4) - wordAt(body, startAt + 4);
    if (hi > -0x100000 && hi < 0x100000) {
      const d = hi * 4294967296 + (wordAt(body, endAt) - wordAt(body, startAt));
      return d > 0 ? d : 0;
    }
  }
  return endNs > startNs ? Number(endNs - startNs) : 0;
}

function readEvent(r: ProtoReader): SpanEvent {
  const outer = r.enter(IN_SPAN);
  let name = '';
  let timeNs = 0n;
  const attrs: AttrMap = {};
  while (r.pos < r.len) {
    const t = r.uint32();
    switch (t >>> 3) {
      case 1:
        timeNs = r.bigUint64(r.fixed64());
        break;
      case 2: {
        name = r.text(r.string(), r.pos);
        break;
      }
      case 3:
        readKeyValueInto(r, IN_SPAN + 1, attrs);
        break;
      case 4:
        r.uint32();
        break;
      default:
        r.skip(t & 7, IN_SPAN);
    }
  }
  r.leave(outer);
  return { name, timeNs, attrs };
}

function readLink(r: ProtoReader): SpanLink {
  const outer = r.enter(IN_SPAN);
  let traceId = '';
  let spanId = '';
  const attrs: AttrMap = {};
  while (r.pos < r.len) {
    const t = r.uint32();
    switch (t >>> 3) {
      case 1:
        traceId = hexAt(r.buf, r.bytes(), 16);
        break;
      case 2:
        spanId = hexAt(r.buf, r.bytes(), 8);
        break;
      case 3:
        r.string();
        break;
      case 4:
        readKeyValueInto(r, IN_SPAN + 1, attrs);
        break;
      case 5:
        r.uint32();
        break;
      case 6:
        r.fixed32();
        break;
      default:
        r.skip(t & 7, IN_SPAN);
    }
  }
  r.leave(outer);
  return { traceId, spanId, attrs };
}

/** The attributes of the (checked) Resource message at `resourceAt` (-1: none); the reader's position is kept. */
export function readResource(r: ProtoReader, resourceAt: number): AttrMap {
  const attrs: AttrMap = {};
  if (resourceAt >= 0) {
    const { pos, len } = r;
    r.pos = resourceAt;
    r.len = r.buf.length; // the body was checked: the resource's own length bounds it
    const outer = r.enter(2);
    while (r.pos < r.len) {
      const t = r.uint32();
      switch (t >>> 3) {
        case 1:
          readKeyValueInto(r, 3, attrs);
          break;
        case 2:
          r.uint32();
          break;
        default:
          r.skip(t & 7, 2);
      }
    }
    r.leave(outer);
    r.pos = pos;
    r.len = len;
  }
  return attrs;
}

/** A span's `service`: its resource's `service.name` when that is a string. */
export function serviceOf(resource: AttrMap): string {
  const service = resource['service.name'];
  return typeof service === 'string' ? service : '';
}

/** A span's `scope` from the InstrumentationScope the scanner found (scopeAt -1: none). */
export function readScope(r: ProtoReader, scopeAt: number, nameAt: number, nameEnd: number, versionAt: number, versionEnd: number): WireSpan['scope'] {
  if (scopeAt < 0) {
    return undefined;
  }
  const name = r.text(nameAt, nameEnd);
  const version = r.text(versionAt, versionEnd);
  return version === '' ? { name } : { name, version };
}

/** Builds the spans as the scanner finds them. */
class SpanBuilder implements ScanSink {
  readonly spans: Span[] = [];
  private resourceAttrs: AttrMap = {};
  private service = '';
  private scopeValue: WireSpan['scope'];
  private lastTraceAt = -1;
  private lastTraceId = '';

  constructor(private readonly r: ProtoReader) {}

  resource(resourceAt: number): void {
    const attrs = readResource(this.r, resourceAt);
    this.resourceAttrs = attrs;
    this.service = serviceOf(attrs);
  }

  scope(scopeAt: number, nameAt: number, nameEnd: number, versionAt: number, versionEnd: number): void {
    this.scopeValue = readScope(this.r, scopeAt, nameAt, nameEnd, versionAt, versionEnd);
  }

  span(f: SpanFields): void {
    const buf = this.r.buf;
    // Spans of one trace often come together: their id is made once.
    let traceId = this.lastTraceId;
    if (this.lastTraceAt < 0 || !sameBytes(buf, this.lastTraceAt, f.traceIdAt, 16)) {
      traceId = this.lastTraceId = hexAt(buf, f.traceIdAt, 16);
      this.lastTraceAt = f.traceIdAt;
    }
    this.spans.push(new WireSpan(this.r, f, traceId, this.service, this.resourceAttrs, this.scopeValue));
  }
}

/**
 * The spans of an OTLP/protobuf ExportTraceServiceRequest, in wire order. Throws ProtobufError
 * (malformed bytes) or DecodeError (invalid OTLP), with the path of the offending field.
 */
export function decodeOtlpProtobufSpans(body: Uint8Array): Span[] {
  return scanSpans(body, false);
}

/** The spans of a request, its values checked or (`checked`: they were before) stepped over. */
function scanSpans(body: Uint8Array, checked: boolean): Span[] {
  const scanner = new RequestScanner(body, checked);
  const builder = new SpanBuilder(scanner.r);
  scanner.scan(builder);
  return builder.spans;
}

/**
 * The traces of a request already checked — by skimTraceRequest or a decode, on this thread or
 * another — skipping the checks of attribute values, events and links (a shard worker decodes
 * what the receiver skimmed). A body that was never checked must go through decodeOtlpProtobuf:
 * unchecked bytes here may throw anything or build wrong spans.
 */
export function decodeCheckedOtlpProtobuf(body: Uint8Array): Trace[] {
  return groupTraces(scanSpans(body, true));
}

/** An OTLP/protobuf ExportTraceServiceRequest → its traces (spans grouped by trace id). */
export function decodeOtlpProtobuf(body: Uint8Array): Trace[] {
  return groupTraces(decodeOtlpProtobufSpans(body));
}
