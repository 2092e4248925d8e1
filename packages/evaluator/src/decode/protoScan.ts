/**
 * One checked walk over an OTLP/protobuf ExportTraceServiceRequest, shared by the decoder
 * (protobuf.ts) and the partitioner (partition.ts) so both accept and refuse exactly the same
 * bodies: every byte is checked as protobufjs' decoder would read it, and every field that
 * decodeResourceSpans normalizes is checked as it would (ids, kind, status code, attribute depth),
 * but nothing is built: the sink is told where things are.
 *
 * A resource (or scope) may come after its scopeSpans (spans) on the wire, so each ResourceSpans
 * and ScopeSpans is walked twice: once to find its resource (scope) and its children, then the
 * children. Nesting counts (`n`) are protobufjs': the request is 0, a Span 3, its attributes 4.
 */
import type { SpanKind, StatusCode } from '../model';
import { checkKeyValue, isZeroAt, jump } from './protoValues';
import { ProtobufError, ProtoReader, WireError } from './protoReader';
import { ALL_ZEROS, DecodeError, KINDS, MAX_ATTRIBUTE_DEPTH, readKind, readStatusCode, STATUSES, tooDeep } from './wire';

/** Where the fields of the span being scanned are (the last occurrence of each, as protobufjs keeps). */
export class SpanFields {
  /** The span message's bytes (without its tag and length). */
  start = 0;
  end = 0;
  traceIdAt = 0;
  spanIdAt = 0;
  parentAt = -1;
  nameAt = 0;
  nameEnd = 0;
  kind: SpanKind = 'unspecified';
  status: StatusCode = 'unset';
  statusMessageAt = 0;
  statusMessageEnd = 0;
  /** -1: absent (0 ns). */
  startTimeAt = -1;
  endTimeAt = -1;
  attributes = 0;
  events = 0;
  links = 0;
}

export interface ScanSink {
  /** A ResourceSpans, before its spans: `resourceAt` is its (last) Resource message (-1: none); `other` its fields but scopeSpans, as [start, end) pairs with tags. */
  resource(resourceAt: number, other: readonly number[]): void;
  /** A ScopeSpans, before its spans; `scopeAt` -1 without a scope. Name and version are [start, end) ranges. */
  scope(scopeAt: number, nameAt: number, nameEnd: number, versionAt: number, versionEnd: number, other: readonly number[]): void;
  span(f: SpanFields): void;
}

/** The OTLP Span fields by wire shape, so a walk looking for some fields reads the others as protobufjs would. */
export enum Shape {
  Bytes,
  Varint,
  Fixed64,
  Fixed32,
  Message,
  Unknown,
}

export function spanFieldShape(field: number): Shape {
  switch (field) {
    case 1:
    case 2:
    case 3:
    case 4:
    case 5:
      return Shape.Bytes; // ids, trace state, name: bytes and strings read alike (strings clipped)
    case 6:
    case 10:
    case 12:
    case 14:
      return Shape.Varint;
    case 7:
    case 8:
      return Shape.Fixed64;
    case 9:
    case 11:
    case 13:
    case 15:
      return Shape.Message;
    case 16:
      return Shape.Fixed32;
    default:
      return Shape.Unknown;
  }
}

export class RequestScanner {
  readonly r: ProtoReader;
  private readonly f = new SpanFields();
  private rs = -1;
  private ss = -1;
  private sp = -1;
  /** 0: in the request, 1: a ResourceSpans, 2: a ScopeSpans, 3: a span. */
  private level = 0;
  private readonly rsOther: number[] = [];
  private readonly ssOther: number[] = [];
  private readonly scopeSpansAt: number[] = [];
  private readonly spansAt: number[] = [];
  private sink!: ScanSink;

  /**
   * `checked`: the body was scanned before (the receiver's skim, on another thread) and is known
   * to decode; attribute values, events and links are stepped over rather than checked again.
   * Ids, kinds and statuses, which the spans are built from, are read as always.
   */
  constructor(
    body: Uint8Array,
    private readonly checked = false,
  ) {
    this.r = new ProtoReader(body);
  }

  /** Throws ProtobufError for malformed bytes, DecodeError for invalid OTLP, both with the path. */
  scan(sink: ScanSink): void {
    this.sink = sink;
    try {
      const r = this.r;
      while (r.pos < r.len) {
        const t = r.uint32();
        if (t >>> 3 === 1) {
          this.rs++;
          this.resourceSpans();
        } else {
          r.skip(t & 7, 0);
        }
      }
    } catch (e) {
      if (e instanceof WireError) {
        throw new ProtobufError(this.where(), e.message);
      }
      throw e;
    }
  }

  rsPath(): string {
    return `resourceSpans[${this.rs}]`;
  }

  spanPath(): string {
    return `${this.rsPath()}.scopeSpans[${this.ss}].spans[${this.sp}]`;
  }

  private where(): string {
    switch (this.level) {
      case 0:
        return 'request';
      case 1:
        return this.rsPath();
      case 2:
        return `${this.rsPath()}.scopeSpans[${this.ss}]`;
      default:
        return this.spanPath();
    }
  }

  /** Checks and jumps over a message at nesting n; returns where its length starts. */
  private skipMessage(n: number): number {
    const r = this.r;
    const at = r.pos;
    const outer = r.enter(n);
    r.pos = r.len;
    r.len = outer;
    return at;
  }

  private resourceSpans(): void {
    const r = this.r;
    this.level = 1;
    const outer = r.enter(1);
    const other = this.rsOther;
    const children = this.scopeSpansAt;
    other.length = 0;
    children.length = 0;
    let resourceAt = -1;
    let tooDeepAt = -1;
    while (r.pos < r.len) {
      const tagAt = r.pos;
      const t = r.uint32();
      switch (t >>> 3) {
        case 1:
          resourceAt = r.pos;
          tooDeepAt = this.resource();
          break;
        case 2:
          children.push(this.skipMessage(2));
          continue;
        case 3:
          r.string();
          break;
        default:
          r.skip(t & 7, 1);
      }
      other.push(tagAt, r.pos);
    }
    r.leave(outer);
    const after = r.pos;
    if (tooDeepAt >= 0) {
      throw tooDeep(`${this.rsPath()}.resource.attributes[${tooDeepAt}]`);
    }
    this.sink.resource(resourceAt, other);
    this.ss = -1;
    for (let i = 0; i < children.length; i++) {
      r.pos = children[i];
      this.ss = i;
      this.scopeSpans();
    }
    r.pos = after;
    this.level = 0;
  }

  /** A Resource; returns the index of an attribute nested too deep, or -1. */
  private resource(): number {
    const r = this.r;
    const outer = r.enter(2);
    let tooDeepAt = -1;
    let i = 0;
    while (r.pos < r.len) {
      const t = r.uint32();
      switch (t >>> 3) {
        case 1:
          if (this.checked) {
            jump(r);
          } else if (checkKeyValue(r, 3) > MAX_ATTRIBUTE_DEPTH && tooDeepAt < 0) {
            tooDeepAt = i;
          }
          i++;
          break;
        case 2:
          r.uint32();
          break;
        default:
          r.skip(t & 7, 2);
      }
    }
    r.leave(outer);
    return tooDeepAt;
  }

  private scopeSpans(): void {
    const r = this.r;
    this.level = 2;
    const outer = r.enter(2);
    const other = this.ssOther;
    const children = this.spansAt;
    other.length = 0;
    children.length = 0;
    let scopeAt = -1;
    let nameAt = 0;
    let nameEnd = 0;
    let versionAt = 0;
    let versionEnd = 0;
    while (r.pos < r.len) {
      const tagAt = r.pos;
      const t = r.uint32();
      switch (t >>> 3) {
        case 1: {
          // InstrumentationScope: a later one replaces an earlier one whole.
          scopeAt = r.pos;
          nameAt = nameEnd = versionAt = versionEnd = 0;
          const inner = r.enter(3);
          while (r.pos < r.len) {
            const t2 = r.uint32();
            switch (t2 >>> 3) {
              case 1:
                nameAt = r.string();
                nameEnd = r.pos;
                break;
              case 2:
                versionAt = r.string();
                versionEnd = r.pos;
                break;
              case 3:
                // Scope attributes are not part of the model: only well-formed is required.
                checkKeyValue(r, 4);
                break;
              case 4:
                r.uint32();
                break;
              default:
                r.skip(t2 & 7, 3);
            }
          }
          r.leave(inner);
          break;
        }
        case 2:
          children.push(this.skipMessage(3));
          continue;
        case 3:
          r.string();
          break;
        default:
          r.skip(t & 7, 2);
      }
      other.push(tagAt, r.pos);
    }
    r.leave(outer);
    this.sink.scope(scopeAt, nameAt, nameEnd, versionAt, versionEnd, other);
    for (let i = 0; i < children.length; i++) {
      r.pos = children[i];
      this.sp = i;
      this.level = 3;
      this.span();
    }
    this.sp = -1;
    this.level = 2;
  }

  private span(): void {
    const outer = this.r.enter(3);
    this.spanFields();
    this.r.leave(outer);
    this.sink.span(this.f);
  }

  /**
   * The fields of a span this scanner's body holds at [start, end) (its message, without tag and
   * length), scanned again after the body was checked: where a span held as bytes is built from.
   * The fields are reused by the next call.
   */
  spanAt(start: number, end: number): SpanFields {
    const r = this.r;
    r.pos = start;
    r.len = end;
    this.level = 3;
    this.spanFields();
    return this.f;
  }

  /** Reads the span message between the reader's position and its end into `f`, checking it. */
  private spanFields(): void {
    const r = this.r;
    const f = this.f;
    f.start = r.pos;
    f.end = r.len;
    let traceIdAt = -1;
    let traceIdLength = -1;
    let spanIdAt = -1;
    let spanIdLength = -1;
    let parentAt = -1;
    let parentLength = -1;
    let kind = 0;
    let hasStatus = false;
    let statusCode = 0;
    f.nameAt = f.nameEnd = 0;
    f.startTimeAt = f.endTimeAt = -1;
    f.statusMessageAt = f.statusMessageEnd = 0;
    f.attributes = f.events = f.links = 0;
    while (r.pos < r.len) {
      const t = r.uint32();
      switch (t >>> 3) {
        case 1:
          traceIdAt = r.bytes();
          traceIdLength = r.pos - traceIdAt;
          break;
        case 2:
          spanIdAt = r.bytes();
          spanIdLength = r.pos - spanIdAt;
          break;
        case 3:
          r.string();
          break;
        case 4:
          parentAt = r.bytes();
          parentLength = r.pos - parentAt;
          break;
        case 5:
          f.nameAt = r.string();
          f.nameEnd = r.pos;
          break;
        case 6:
          kind = r.uint32() | 0;
          break;
        case 7:
          f.startTimeAt = r.fixed64();
          break;
        case 8:
          f.endTimeAt = r.fixed64();
          break;
        case 9:
          if (this.checked) {
            jump(r);
          } else if (checkKeyValue(r, 4) > MAX_ATTRIBUTE_DEPTH) {
            throw tooDeep(`${this.spanPath()}.attributes[${f.attributes}]`);
          }
          f.attributes++;
          break;
        case 11:
          if (this.checked) {
            jump(r);
          } else {
            this.event(f.events);
          }
          f.events++;
          break;
        case 13:
          if (this.checked) {
            jump(r);
          } else {
            this.link(f.links);
          }
          f.links++;
          break;
        case 15: {
          // Status: a later one replaces an earlier one whole (its absent code is 0 again).
          hasStatus = true;
          statusCode = 0;
          f.statusMessageAt = f.statusMessageEnd = 0;
          const inner = r.enter(4);
          while (r.pos < r.len) {
            const t2 = r.uint32();
            switch (t2 >>> 3) {
              case 2:
                f.statusMessageAt = r.string();
                f.statusMessageEnd = r.pos;
                break;
              case 3:
                statusCode = r.uint32() | 0;
                break;
              default:
                r.skip(t2 & 7, 4);
            }
          }
          r.leave(inner);
          break;
        }
        case 10:
        case 12:
        case 14:
          r.uint32();
          break;
        case 16:
          r.fixed32();
          break;
        default:
          r.skip(t & 7, 3);
      }
    }
    // What decodeSpan checks, in its order.
    f.traceIdAt = this.id(traceIdAt, traceIdLength, 16, 'traceId', true);
    f.spanIdAt = this.id(spanIdAt, spanIdLength, 8, 'spanId', true);
    f.parentAt = this.id(parentAt, parentLength, 8, 'parentSpanId', false);
    f.kind = kind >= 0 && kind < KINDS.length ? KINDS[kind] : readKind(kind, () => `${this.spanPath()}.kind`);
    f.status = !hasStatus ? 'unset' : statusCode >= 0 && statusCode < STATUSES.length ? STATUSES[statusCode] : readStatusCode(statusCode, () => `${this.spanPath()}.status.code`);
  }

  /** A checked id's position; -1 for an absent optional one (and for an all-zero parent: "no parent"). */
  private id(at: number, length: number, bytes: number, field: string, required: boolean): number {
    if (length <= 0) {
      if (required) {
        throw new DecodeError(`${this.spanPath()}.${field}`, 'is missing');
      }
      return -1;
    }
    if (length !== bytes) {
      throw new DecodeError(`${this.spanPath()}.${field}`, `expected ${bytes} bytes, got ${length}`);
    }
    if (isZeroAt(this.r.buf, at, bytes)) {
      if (required) {
        throw new DecodeError(`${this.spanPath()}.${field}`, ALL_ZEROS);
      }
      return -1;
    }
    return at;
  }

  private event(index: number): void {
    const r = this.r;
    const outer = r.enter(4);
    let attribute = 0;
    while (r.pos < r.len) {
      const t = r.uint32();
      switch (t >>> 3) {
        case 1:
          r.fixed64();
          break;
        case 2:
          r.string();
          break;
        case 3:
          if (checkKeyValue(r, 5) > MAX_ATTRIBUTE_DEPTH) {
            throw tooDeep(`${this.spanPath()}.events[${index}].attributes[${attribute}]`);
          }
          attribute++;
          break;
        case 4:
          r.uint32();
          break;
        default:
          r.skip(t & 7, 4);
      }
    }
    r.leave(outer);
  }

  private link(index: number): void {
    const r = this.r;
    const outer = r.enter(4);
    const path = () => `${this.spanPath()}.links[${index}]`;
    let traceIdAt = -1;
    let traceIdLength = 0;
    let spanIdAt = -1;
    let spanIdLength = 0;
    let attribute = 0;
    while (r.pos < r.len) {
      const t = r.uint32();
      switch (t >>> 3) {
        case 1:
          traceIdAt = r.bytes();
          traceIdLength = r.pos - traceIdAt;
          break;
        case 2:
          spanIdAt = r.bytes();
          spanIdLength = r.pos - spanIdAt;
          break;
        case 3:
          r.string();
          break;
        case 4:
          if (checkKeyValue(r, 5) > MAX_ATTRIBUTE_DEPTH) {
            throw tooDeep(() => `${path()}.attributes[${attribute}]`);
          }
          attribute++;
          break;
        case 5:
          r.uint32();
          break;
        case 6:
          r.fixed32();
          break;
        default:
          r.skip(t & 7, 4);
      }
    }
    r.leave(outer);
    // What decodeLink checks, in its order.
    if (traceIdLength > 0 && traceIdLength !== 16) {
      throw new DecodeError(() => `${path()}.traceId`, `expected 16 bytes, got ${traceIdLength}`);
    }
    if (spanIdLength > 0 && spanIdLength !== 8) {
      throw new DecodeError(() => `${path()}.spanId`, `expected 8 bytes, got ${spanIdLength}`);
    }
    if (traceIdLength === 0 || spanIdLength === 0) {
      throw new DecodeError(path, 'a link needs a traceId and a spanId');
    }
    if (isZeroAt(r.buf, traceIdAt, 16)) {
      throw new DecodeError(() => `${path()}.traceId`, ALL_ZEROS);
    }
    if (isZeroAt(r.buf, spanIdAt, 8)) {
      throw new DecodeError(() => `${path()}.spanId`, ALL_ZEROS);
    }
  }
}
