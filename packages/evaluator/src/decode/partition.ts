/**
 * Skim and partition an OTLP/protobuf ExportTraceServiceRequest by trace id, for sharding traces
 * over worker threads: the skim checks the body exactly as decodeOtlpProtobuf does (a body that
 * skims decodes, and one that does not is refused with the same kind of error) but builds no span,
 * only the byte ranges of each span and of its resource and scope; the partition copies those
 * ranges into one valid request per shard, holding exactly the spans whose trace id falls in it.
 */
import { RequestScanner, ScanSink, SpanFields } from './protoScan';

export interface SkimmedSpan {
  /** Where the span's raw 16-byte trace id is in the body. */
  traceIdAt: number;
  /** The span message's bytes in the body (without its tag and length). */
  start: number;
  end: number;
}

export interface SkimmedScopeSpans {
  /** The ScopeSpans' fields other than its spans (scope, schemaUrl, unknown), as [start, end) pairs with their tags. */
  other: number[];
  spans: SkimmedSpan[];
}

export interface SkimmedResourceSpans {
  /** The ResourceSpans' fields other than its scopeSpans (resource, schemaUrl, unknown), as [start, end) pairs. */
  other: number[];
  scopeSpans: SkimmedScopeSpans[];
}

export interface TraceRequestSkim {
  body: Uint8Array;
  resourceSpans: SkimmedResourceSpans[];
  spanCount: number;
}

class Skimmer implements ScanSink {
  readonly resourceSpans: SkimmedResourceSpans[] = [];
  spanCount = 0;
  private current: SkimmedScopeSpans | undefined;

  resource(_resourceAt: number, other: readonly number[]): void {
    this.resourceSpans.push({ other: other.slice(), scopeSpans: [] });
  }

  scope(_scopeAt: number, _nameAt: number, _nameEnd: number, _versionAt: number, _versionEnd: number, other: readonly number[]): void {
    this.current = { other: other.slice(), spans: [] };
    this.resourceSpans[this.resourceSpans.length - 1].scopeSpans.push(this.current);
  }

  span(f: SpanFields): void {
    this.current!.spans.push({ traceIdAt: f.traceIdAt, start: f.start, end: f.end });
    this.spanCount++;
  }
}

/** Checks a request (throws ProtobufError or DecodeError as decodeOtlpProtobuf would) and returns where its spans are. */
export function skimTraceRequest(body: Uint8Array): TraceRequestSkim {
  const skimmer = new Skimmer();
  new RequestScanner(body).scan(skimmer);
  return { body, resourceSpans: skimmer.resourceSpans, spanCount: skimmer.spanCount };
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/**
 * The shard (0 … shards-1) of a trace id, raw 16 bytes or 32 hex characters (both give the same
 * shard): a hash of the id's bytes, so every part of the pipeline routes a trace alike.
 */
export function traceShard(traceId: Uint8Array | string, shards: number): number {
  if (typeof traceId !== 'string') {
    return shardAt(traceId, 0, traceId.length, shards);
  }
  let h = FNV_OFFSET;
  for (let i = 0; i + 1 < traceId.length; i += 2) {
    h = Math.imul(h ^ parseInt(traceId.slice(i, i + 2), 16), FNV_PRIME);
  }
  return mix(h) % shards;
}

/** FNV-1a's low bits depend only on the bytes' low bits: murmur3's finalizer spreads them before the modulo. */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function shardAt(buf: Uint8Array, at: number, length: number, shards: number): number {
  let h = FNV_OFFSET;
  for (let i = at; i < at + length; i++) {
    h = Math.imul(h ^ buf[i], FNV_PRIME);
  }
  return mix(h) % shards;
}

function varintSize(n: number): number {
  let size = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

/** Bytes of a length-delimited field of `length` bytes with a one-byte tag. */
const fieldSize = (length: number) => 1 + varintSize(length) + length;

function rangesLength(ranges: readonly number[]): number {
  let n = 0;
  for (let i = 0; i < ranges.length; i += 2) {
    n += ranges[i + 1] - ranges[i];
  }
  return n;
}

class Writer {
  pos = 0;
  constructor(readonly out: Uint8Array) {}

  field(tag: number, length: number): void {
    this.out[this.pos++] = tag;
    while (length >= 128) {
      this.out[this.pos++] = (length % 128) | 128;
      length = Math.floor(length / 128);
    }
    this.out[this.pos++] = length;
  }

  copy(body: Uint8Array, start: number, end: number): void {
    this.out.set(body.subarray(start, end), this.pos);
    this.pos += end - start;
  }

  ranges(body: Uint8Array, ranges: readonly number[]): void {
    for (let i = 0; i < ranges.length; i += 2) {
      this.copy(body, ranges[i], ranges[i + 1]);
    }
  }
}

// Tags (field number << 3 | length-delimited) of the fields re-assembled.
const RESOURCE_SPANS_TAG = (1 << 3) | 2;
const SCOPE_SPANS_TAG = (2 << 3) | 2;
const SPAN_TAG = (2 << 3) | 2;

/**
 * One ExportTraceServiceRequest per shard from a skim: each holds the spans whose trace id is in
 * that shard, in their order, under copies of their resource and scope (empty when none is).
 * `spanCounts`, when given, is filled with the number of spans of each shard.
 */
export function partitionSkim(skim: TraceRequestSkim, shards: number, spanCounts?: number[]): Uint8Array[] {
  if (!Number.isInteger(shards) || shards < 1) {
    throw new RangeError(`shards must be a positive integer, got ${shards}`);
  }
  const { body } = skim;
  const only = soleShard(skim, shards);
  if (only !== undefined) {
    // Every span in one shard (a request of one trace, say): that shard's request is the body itself.
    const parts = Array.from({ length: shards }, () => new Uint8Array(0));
    parts[only] = new Uint8Array(body);
    if (spanCounts !== undefined) {
      spanCounts[only] = (spanCounts[only] ?? 0) + skim.spanCount;
    }
    return parts;
  }
  // Sizes first (every length is written before its content), then the bytes.
  const total = new Array<number>(shards).fill(0);
  const rsLengths: number[][] = [];
  const ssLengths: number[][][] = [];
  const spanShards: number[][][] = [];
  for (const rs of skim.resourceSpans) {
    const rsLength = new Array<number>(shards).fill(-1);
    const perScope: number[][] = [];
    const shardsOfScope: number[][] = [];
    for (const ss of rs.scopeSpans) {
      const ssLength = new Array<number>(shards).fill(-1);
      const of: number[] = [];
      for (const span of ss.spans) {
        const k = shardAt(body, span.traceIdAt, 16, shards);
        of.push(k);
        if (spanCounts !== undefined) {
          spanCounts[k] = (spanCounts[k] ?? 0) + 1;
        }
        ssLength[k] = (ssLength[k] < 0 ? rangesLength(ss.other) : ssLength[k]) + fieldSize(span.end - span.start);
      }
      for (let k = 0; k < shards; k++) {
        if (ssLength[k] >= 0) {
          rsLength[k] = (rsLength[k] < 0 ? rangesLength(rs.other) : rsLength[k]) + fieldSize(ssLength[k]);
        }
      }
      perScope.push(ssLength);
      shardsOfScope.push(of);
    }
    for (let k = 0; k < shards; k++) {
      if (rsLength[k] >= 0) {
        total[k] += fieldSize(rsLength[k]);
      }
    }
    rsLengths.push(rsLength);
    ssLengths.push(perScope);
    spanShards.push(shardsOfScope);
  }
  const writers = total.map((n) => new Writer(new Uint8Array(n)));
  skim.resourceSpans.forEach((rs, r) => {
    for (let k = 0; k < shards; k++) {
      if (rsLengths[r][k] >= 0) {
        writers[k].field(RESOURCE_SPANS_TAG, rsLengths[r][k]);
        writers[k].ranges(body, rs.other);
      }
    }
    rs.scopeSpans.forEach((ss, s) => {
      for (let k = 0; k < shards; k++) {
        if (ssLengths[r][s][k] >= 0) {
          writers[k].field(SCOPE_SPANS_TAG, ssLengths[r][s][k]);
          writers[k].ranges(body, ss.other);
        }
      }
      ss.spans.forEach((span, i) => {
        const w = writers[spanShards[r][s][i]];
        w.field(SPAN_TAG, span.end - span.start);
        w.copy(body, span.start, span.end);
      });
    });
  });
  return writers.map((w) => w.out);
}

/** The shard every span of the request is in, when there is one such shard (undefined for none or several). */
function soleShard(skim: TraceRequestSkim, shards: number): number | undefined {
  let only: number | undefined;
  for (const rs of skim.resourceSpans) {
    for (const ss of rs.scopeSpans) {
      for (const span of ss.spans) {
        const k = shardAt(skim.body, span.traceIdAt, 16, shards);
        if (only === undefined) {
          only = k;
        } else if (k !== only) {
          return undefined;
        }
      }
    }
  }
  return only;
}

/** skimTraceRequest then partitionSkim. */
export function partitionByTrace(body: Uint8Array, shards: number): Uint8Array[] {
  return partitionSkim(skimTraceRequest(body), shards);
}
