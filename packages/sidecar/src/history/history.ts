/**
 * The history: a bounded, compressed on-disk retention of recent traces, for discovery and for
 * replay when there is no Tempo (docs/history.md). It is the ingest log's segments, kept: a
 * segment the log no longer needs is moved here (a rename: the bytes were already written and
 * forced to disk when the batches were accepted) and compressed off the HTTP thread. Segments go
 * oldest first once older than HISTORY_MAX_AGE or beyond HISTORY_MAX_BYTES, and are counted.
 *
 * Reading (`source`): the segments whose index overlaps the range and names the tenant are
 * decompressed one at a time, only the tenant's records are decoded (OTLP/JSON and protobuf, with
 * the receiver's decoders), and spans are grouped into traces in a sliding window of receive
 * time: a trace is complete once no span of it arrived for `traceWindowMs` (MAX_TRACE_AGE) of
 * receive time, the rule trace assembly follows, so memory holds only the traces of one window.
 */
import { promises as fsp } from 'fs';
import { setImmediate as nextTurn } from 'timers/promises';
import { buildTrace, decodeOtlpProtobufSpans, MAX_SPANS_PER_TRACE, Span, Trace } from '@betrace/evaluator';
import type { Logger } from 'pino';
import { Counter, Gauge, Registry } from 'prom-client';
import { decodeJsonRequest } from '../ingest/jsonBody';
import type { Redactor } from '../redact/engine';
import { spanRedactor } from '../redact/span';
import { HistoryFiles, HistorySegment, records } from './files';

/** The ingest log closes a segment holding records at its next write once it is this old, so traces reach the history within minutes. */
export const HISTORY_ROLL_MS = 60_000;
/** How often segments past HISTORY_MAX_AGE are looked for (and failed compressions tried again). */
export const EVICT_EVERY_MS = 5_000;
/** Spans a reader holds at most in its window; past it, the traces quiet the longest are handed out early. */
export const DEFAULT_MAX_WINDOW_SPANS = 500_000;
/** A reader gives the event loop a turn after this much decoding. */
const SLICE_MS = 20;

export interface HistoryOptions {
  /** DATA_DIR/history. */
  dir: string;
  /** Bound of the history's files (HISTORY_MAX_BYTES). */
  maxBytes: number;
  /** Segments whose newest record is older than this are deleted (HISTORY_MAX_AGE). */
  maxAgeMs: number;
  /** A trace is complete once no span of it arrived for this long (MAX_TRACE_AGE). */
  traceWindowMs: number;
  maxWindowSpans?: number;
  registry: Registry;
  log: Logger;
  now: () => number;
  /** The tenant's redaction policy, applied to what `source` hands out unless `redact: false`. */
  redactorOf?: (tenant: string) => Redactor;
}

export interface HistorySourceOptions {
  /** Stop after this many traces. */
  maxTraces?: number;
  /**
   * Apply the tenant's redaction policy to every span handed out (default true). Replay passes
   * false: rules must see spans as they were received, as live evaluation does (what leaves,
   * signal messages, is redacted by the pipeline).
   */
  redact?: boolean;
  /** Called after each segment is read. */
  onProgress?: (p: HistoryProgress) => void;
  /** Checked between records: when it returns true, reading stops (what is complete so far is not handed out). */
  cancelled?: () => boolean;
}

export interface HistoryProgress {
  segmentsRead: number;
  segmentsTotal: number;
  /** Receive time of the last record read (epoch ms). */
  receivedAt: number;
  traces: number;
}

/** What the history holds now (for status pages and the discovery API). */
export interface HistoryDescription {
  bytes: number;
  segments: number;
  /** Segments moved in and not yet compressed. */
  pendingSegments: number;
  /** Receive time of the oldest and newest record (epoch ms); undefined when empty. */
  oldest?: number;
  newest?: number;
  maxBytes: number;
  maxAgeMs: number;
  evicted: { age: number; bytes: number };
}

/** Calling it starts a pass over the history: compatible with discovery's TraceSource. */
export type HistorySource = () => AsyncIterable<Trace>;

interface Group {
  spans: Span[];
  ids: Set<string>;
  dropped: number;
  lastReceivedAt: number;
}

const fileSize = (s: HistorySegment): number => (s.state === 'compressed' ? s.index.bytes : s.rawBytes);
const seqOf = (s: HistorySegment): number => (s.state === 'compressed' ? s.index.seq : s.seq);

export class History {
  private readonly files: HistoryFiles;
  /** Oldest first, by sequence number. */
  private segments: HistorySegment[] = [];
  private nextSeq = 1;
  private compressing: Promise<void> | undefined;
  private compressingSeq: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private opened = false;
  private closed = false;
  private readonly evictedCount = { age: 0, bytes: 0 };
  private readonly bytesGauge: Gauge;
  private readonly segmentsGauge: Gauge;
  private readonly evicted: Counter;

  constructor(private readonly options: HistoryOptions) {
    this.files = new HistoryFiles(options.dir);
    const registers = [options.registry];
    this.bytesGauge = new Gauge({ name: 'betrace_history_bytes', help: 'Bytes of the history of recent traces on disk (compressed segments, their indexes, segments waiting for compression).', registers });
    this.segmentsGauge = new Gauge({ name: 'betrace_history_segments', help: 'Segments in the history of recent traces.', registers });
    this.evicted = new Counter({ name: 'betrace_history_evicted_segments_total', help: 'History segments deleted, by reason: age (HISTORY_MAX_AGE) or bytes (HISTORY_MAX_BYTES).', labelNames: ['reason'], registers });
    this.evicted.inc({ reason: 'age' }, 0);
    this.evicted.inc({ reason: 'bytes' }, 0);
  }

  /** Reads what is on disk (repairing what a crash left half done) and compresses pending segments. Call before the log is recovered. */
  async open(): Promise<void> {
    this.segments = await this.files.scan();
    this.nextSeq = this.segments.reduce((n, s) => Math.max(n, seqOf(s) + 1), 1);
    this.opened = true;
    await this.evict();
    this.kick();
  }

  /** Evicts by age every EVICT_EVERY_MS (and retries failed compressions). */
  start(): void {
    this.timer = setInterval(() => {
      void this.evict();
      this.kick();
    }, EVICT_EVERY_MS);
    this.timer.unref();
  }

  /** Stops the timer and waits for the compression in flight; segments still pending are compressed at the next open. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.compressing;
  }

  /**
   * Takes a segment the ingest log let go: moved into the history, compressed later. Resolves once
   * `file` is gone from the log's directory (moved, or deleted when the history cannot take it).
   */
  async retire(file: string): Promise<void> {
    if (!this.opened || this.closed) {
      await fsp.rm(file, { force: true });
      return;
    }
    // Each start of the log begins a segment; one that never took a record holds nothing to keep.
    if ((await fsp.stat(file).catch(() => undefined))?.size === 0) {
      await fsp.rm(file, { force: true });
      return;
    }
    const seq = this.nextSeq++;
    try {
      const rawBytes = await this.files.adopt(file, seq);
      this.segments.push({ state: 'pending', seq, rawBytes });
    } catch (e) {
      this.options.log.warn({ err: e, file }, 'history: could not keep a retired ingest log segment; it is deleted');
      await fsp.rm(file, { force: true });
      await this.files.remove(seq).catch(() => undefined);
    }
    this.refresh();
    this.kick();
  }

  /** Resolves once no segment waits for compression (or the one in flight failed). Tests and the bench. */
  async settled(): Promise<void> {
    while (this.compressing !== undefined) {
      await this.compressing;
    }
  }

  /** The segments, oldest first (a copy). */
  list(): readonly HistorySegment[] {
    return [...this.segments];
  }

  describe(): HistoryDescription {
    const indexed = this.segments.flatMap((s) => (s.state === 'compressed' && s.index.records > 0 ? [s.index] : []));
    return {
      bytes: this.bytes(),
      segments: this.segments.length,
      pendingSegments: this.segments.filter((s) => s.state === 'pending').length,
      oldest: indexed.length > 0 ? Math.min(...indexed.map((i) => i.firstReceivedAt)) : undefined,
      newest: indexed.length > 0 ? Math.max(...indexed.map((i) => i.lastReceivedAt)) : undefined,
      maxBytes: this.options.maxBytes,
      maxAgeMs: this.options.maxAgeMs,
      evicted: { ...this.evictedCount },
    };
  }

  /**
   * The tenant's traces that overlap [fromMs, toMs) (epoch ms; by span start and end times), one
   * pass per call, each call reading the files again. Other tenants' records are never decoded.
   */
  source(tenant: string, fromMs: number, toMs: number, opts: HistorySourceOptions = {}): HistorySource {
    return () => this.traces(tenant, fromMs, toMs, opts);
  }

  /** Deletes segments past HISTORY_MAX_AGE, then the oldest while the history holds more than HISTORY_MAX_BYTES. */
  async evict(): Promise<void> {
    const cutoff = this.options.now() - this.options.maxAgeMs;
    const victims: Array<{ seq: number; reason: 'age' | 'bytes' }> = [];
    // Age: by the segment's newest record. Pending segments are judged once compressed (their index says when).
    for (const s of this.segments) {
      if (s.state === 'compressed' && s.index.lastReceivedAt < cutoff) {
        victims.push({ seq: s.index.seq, reason: 'age' });
      }
    }
    const gone = new Set(victims.map((v) => v.seq));
    let bytes = this.segments.reduce((n, s) => n + (gone.has(seqOf(s)) ? 0 : fileSize(s)), 0);
    for (const s of this.segments) {
      if (bytes <= this.options.maxBytes) {
        break;
      }
      // The segment being compressed is left to finish; it is judged next round.
      if (!gone.has(seqOf(s)) && seqOf(s) !== this.compressingSeq) {
        victims.push({ seq: seqOf(s), reason: 'bytes' });
        gone.add(seqOf(s));
        bytes -= fileSize(s);
      }
    }
    if (victims.length === 0) {
      return;
    }
    this.segments = this.segments.filter((s) => !gone.has(seqOf(s)));
    for (const v of victims) {
      this.evicted.inc({ reason: v.reason });
      this.evictedCount[v.reason]++;
      await this.files.remove(v.seq).catch((e) => this.options.log.warn({ err: e, seq: v.seq }, 'history: deleting an evicted segment failed'));
    }
    this.refresh();
  }

  private bytes(): number {
    return this.segments.reduce((n, s) => n + fileSize(s), 0);
  }

  private refresh(): void {
    this.bytesGauge.set(this.bytes());
    this.segmentsGauge.set(this.segments.length);
  }

  /** Compresses pending segments one at a time, oldest first. */
  private kick(): void {
    if (this.compressing !== undefined || this.closed) {
      return;
    }
    const next = this.segments.find((s) => s.state === 'pending');
    if (next === undefined) {
      return;
    }
    const seq = seqOf(next);
    this.compressingSeq = seq;
    this.compressing = this.files
      .compress(seq)
      .then(
        (index) => {
          const at = this.segments.findIndex((s) => seqOf(s) === seq);
          if (at >= 0) {
            this.segments[at] = { state: 'compressed', index };
          } else {
            // Evicted while it was compressed.
            return this.files.remove(seq);
          }
        },
        (e: unknown) => {
          // Left pending (counted in the bytes), tried again on the timer: a full disk may have room after an eviction.
          this.options.log.warn({ err: e, seq }, 'history: compressing a segment failed; it is tried again later');
          return 'failed' as const;
        },
      )
      .then(async (outcome) => {
        this.compressing = undefined;
        this.compressingSeq = undefined;
        await this.evict();
        this.refresh();
        if (outcome !== 'failed') {
          this.kick();
        }
      });
  }

  private async *traces(tenant: string, fromMs: number, toMs: number, opts: HistorySourceOptions): AsyncGenerator<Trace> {
    const window = this.options.traceWindowMs;
    // Records received outside the range widened by one window cannot belong to a trace that is
    // complete by the grouping rule and overlaps the range.
    const lo = fromMs - window;
    const hi = toMs + window;
    const chosen = this.segments.filter((s) => s.state === 'pending' || (s.index.records > 0 && s.index.tenants.includes(tenant) && s.index.lastReceivedAt >= lo && s.index.firstReceivedAt <= hi));
    const redact = opts.redact !== false && this.options.redactorOf !== undefined ? spanRedactor(this.options.redactorOf(tenant)) : undefined;
    const maxTraces = opts.maxTraces ?? Number.POSITIVE_INFINITY;
    const maxWindowSpans = this.options.maxWindowSpans ?? DEFAULT_MAX_WINDOW_SPANS;
    const fromNs = BigInt(Math.floor(fromMs)) * 1_000_000n;
    const toNs = BigInt(Math.ceil(toMs)) * 1_000_000n;
    // Insertion order is last-arrival order (a group is moved to the end when a span joins it), so the quietest come first.
    const open = new Map<string, Group>();
    let held = 0;
    let handedOut = 0;
    let segmentsRead = 0;
    let receivedAt = lo;
    let sliceStart = performance.now();

    const complete = (traceId: string, g: Group): Trace | undefined => {
      open.delete(traceId);
      held -= g.spans.length;
      const trace = buildTrace(traceId, redact ? g.spans.map(redact) : g.spans, g.dropped);
      return trace.startNs < toNs && trace.endNs >= fromNs ? trace : undefined;
    };

    for (const segment of chosen) {
      if (handedOut >= maxTraces || opts.cancelled?.()) {
        return;
      }
      const raw = await this.readSegment(segment);
      segmentsRead++;
      if (raw !== undefined) {
        for (const r of records(raw)) {
          if (r.tenant !== tenant || r.receivedAt < lo || r.receivedAt > hi) {
            continue;
          }
          receivedAt = Math.max(receivedAt, r.receivedAt);
          // Complete: traces no span of which arrived for a window (before this record's spans join them).
          for (const [traceId, g] of open) {
            if (g.lastReceivedAt >= r.receivedAt - window) {
              break;
            }
            const trace = complete(traceId, g);
            if (trace !== undefined) {
              yield trace;
              if (++handedOut >= maxTraces || opts.cancelled?.()) {
                return;
              }
            }
          }
          let spans: Span[];
          try {
            // A protobuf body is copied: its spans read attributes from it, and must not pin the whole segment.
            const body = r.payload.subarray(r.bodyOffset);
            spans = r.protobuf ? decodeOtlpProtobufSpans(Buffer.from(body)) : decodeJsonRequest(body).flatMap((t) => t.spans);
          } catch (e) {
            // Accepted once, so decodable; a record that is not (a newer sidecar's, a damaged file) is skipped.
            this.options.log.warn({ err: e, seq: seqOf(segment) }, 'history: a record could not be decoded; skipped');
            continue;
          }
          for (const span of spans) {
            let g = open.get(span.traceId);
            if (g === undefined) {
              g = { spans: [], ids: new Set(), dropped: 0, lastReceivedAt: r.receivedAt };
              open.set(span.traceId, g);
            } else if (r.receivedAt > g.lastReceivedAt) {
              // Moved to the end once per record, not per span.
              open.delete(span.traceId);
              open.set(span.traceId, g);
              g.lastReceivedAt = r.receivedAt;
            }
            if (g.ids.has(span.spanId)) {
              continue; // the same span sent twice (a retry without an idempotency key)
            }
            g.ids.add(span.spanId);
            if (g.spans.length >= MAX_SPANS_PER_TRACE) {
              g.dropped++;
              continue;
            }
            g.spans.push(span);
            held++;
          }
          // Past the span bound, the quietest traces are complete early.
          for (const [traceId, g] of open) {
            if (held <= maxWindowSpans) {
              break;
            }
            const trace = complete(traceId, g);
            if (trace !== undefined) {
              yield trace;
              if (++handedOut >= maxTraces || opts.cancelled?.()) {
                return;
              }
            }
          }
          if (opts.cancelled?.()) {
            return;
          }
          if (performance.now() - sliceStart > SLICE_MS) {
            await nextTurn();
            sliceStart = performance.now();
          }
        }
      }
      opts.onProgress?.({ segmentsRead, segmentsTotal: chosen.length, receivedAt, traces: handedOut });
    }
    for (const [traceId, g] of open) {
      if (opts.cancelled?.()) {
        return;
      }
      const trace = complete(traceId, g);
      if (trace !== undefined) {
        yield trace;
        if (++handedOut >= maxTraces) {
          return;
        }
      }
    }
  }

  /** A segment's raw bytes; its current form when it was compressed meanwhile; undefined when it was evicted. */
  private async readSegment(segment: HistorySegment): Promise<Buffer | undefined> {
    try {
      return await this.files.read(segment);
    } catch (e) {
      if ((e as { code?: string }).code === 'ENOENT') {
        const now = this.segments.find((s) => seqOf(s) === seqOf(segment));
        if (now !== undefined && now !== segment) {
          return this.readSegment(now);
        }
        return undefined;
      }
      this.options.log.warn({ err: e, seq: seqOf(segment) }, 'history: a segment could not be read; skipped');
      return undefined;
    }
  }
}

