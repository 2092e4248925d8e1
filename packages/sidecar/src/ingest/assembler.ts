/**
 * Trace assembly for push mode: spans are buffered per trace id until the trace has been quiet
 * for decision_wait, or has reached max_trace_age, then handed over whole for evaluation.
 * Evaluated traces are held a while longer, so late spans re-evaluate the trace with its earlier
 * spans; later still they are counted as late. The buffer is bounded in spans and bytes, and
 * nothing leaves it without being counted.
 *
 * With the ingest log, each trace also knows the log positions of its spans: the oldest pins the
 * log (segments below every held trace's oldest position can go), the newest is handed to
 * onReady so the decision can be recorded. A trace whose evaluation throws (its signals could not
 * be stored) stays pending and is tried again after RETRY_FAILED_MS.
 *
 * A span is held once: senders deliver at least once (the Collector resends a batch whose answer
 * a crash or a timeout cut off, after the sidecar had logged it; recovery then reads the first
 * copy back from the ingest log), so the same trace id and span id again is the same span, and
 * the copy already held wins. A batch that brings a held trace nothing new leaves it as it was:
 * not re-evaluated, its wait and log positions unchanged. Only a trace still held is checked; a
 * copy that comes after its trace was let go counts as late, like any span of that trace.
 */
import { buildTrace, Span, Trace } from '@betrace/evaluator';

export type DropReason = 'late' | 'buffer_full';

/** How many spans the traces hold. */
export function spanCount(traces: readonly Trace[]): number {
  return traces.reduce((n, t) => n + t.spans.length, 0);
}

/**
 * Up to this many spans, a trace's span ids are kept in an array that a new span's id is compared
 * against: for small traces (most; the benchmark corpus averages ~28 spans) cheaper than a set
 * per trace, which hashes every id (in a loop over that corpus's 330 k spans: ~25 ms added
 * against ~60 ms for a set). Past it, a set of ids. Comparing with the spans' own `spanId`
 * instead was slower under the profiler (a property load per comparison, on spans of several shapes).
 */
const SCAN_SPANS = 32;

/** How many let-go trace ids are remembered to recognise late spans. */
const MAX_FORGOTTEN = 100_000;
/** How long a trace whose evaluation failed waits before it is tried again. */
export const RETRY_FAILED_MS = 1000;

export interface AssemblerOptions {
  decisionWaitMs: number;
  maxTraceAgeMs: number;
  maxSpans: number;
  maxBytes: number;
  /** How long an evaluated trace is kept for late spans (default: max_trace_age). */
  holdEvaluatedMs?: number;
  now: () => number;
  /** Evaluates a trace; `position`: the newest ingest log position of its spans. Throwing keeps it pending, to be tried again. */
  onReady: (tenant: string, trace: Trace, position: number | undefined) => void;
  onDrop: (reason: DropReason, spans: number) => void;
  /** Spans not buffered because their trace already holds a span of that id (betrace_spans_duplicate_total). */
  onDuplicate?: (tenant: string, spans: number) => void;
}

interface Pending {
  tenant: string;
  traceId: string;
  spans: Span[];
  /** The span ids of `spans`, in their order, while the trace holds at most SCAN_SPANS (scanned); past it, `idSet`. */
  ids: string[] | undefined;
  idSet?: Set<string>;
  bytes: number;
  firstSeen: number;
  lastSeen: number;
  /** Set once evaluated: the trace waits here for late spans until this time. */
  evaluatedAt?: number;
  /** Ingest log positions of its oldest and newest spans (none without the log). */
  oldest?: number;
  newest?: number;
  /** Its evaluation failed: not tried again before this time. */
  retryAt?: number;
}

/** Where a batch sits in the ingest log, and how it is buffered. */
export interface AddOptions {
  position?: number;
  /** When it was received (recovery: the original time), default now. */
  at?: number;
  /** Already durable (recovered, or its room reserved before the log write): buffered even past the bounds. */
  force?: boolean;
}

export type AddResult = { accepted: true } | { accepted: false; reason: 'buffer_full'; retryAfterMs: number };

export class TraceAssembler {
  private readonly traces = new Map<string, Pending>();
  /** Traces evaluated and no longer held, by when they were let go: their spans are late. */
  private readonly forgotten = new Map<string, number>();
  private spanCount = 0;
  private byteCount = 0;

  constructor(private readonly options: AssemblerOptions) {}

  /** Spans currently held (pending and held-after-evaluation). */
  get bufferedSpans(): number {
    return this.spanCount;
  }

  get bufferedBytes(): number {
    return this.byteCount;
  }

  /**
   * Buffers the spans of one request (already grouped per trace). All or nothing: a request that
   * does not fit is refused whole, so the exporter's retry does not double-count spans.
   */
  add(tenant: string, traces: readonly Trace[], bytes: number, opts: AddOptions = {}): AddResult {
    const spans = spanCount(traces);
    if (opts.force !== true && !this.room(spans, bytes)) {
      this.options.onDrop('buffer_full', spans);
      return { accepted: false, reason: 'buffer_full', retryAfterMs: this.options.decisionWaitMs };
    }
    if (opts.force === true && !this.fits(spans, bytes)) {
      this.evictEvaluated(); // durable already, so it is taken; evaluated traces make what room they can
    }
    const now = opts.at ?? this.options.now();
    const position = opts.position;
    const perSpan = spans === 0 ? 0 : bytes / spans;
    let duplicates = 0;
    for (const t of traces) {
      const key = `${tenant}\u0000${t.traceId}`;
      let p = this.traces.get(key);
      if (p === undefined && this.forgotten.has(key)) {
        this.options.onDrop('late', t.spans.length);
        continue;
      }
      const known = p !== undefined;
      if (p === undefined) {
        p = { tenant, traceId: t.traceId, spans: [], ids: [], bytes: 0, firstSeen: now, lastSeen: now };
        this.traces.set(key, p);
      }
      // One by one: a spread of a trace of 100 000+ spans overflows the stack. A span whose id
      // the trace holds (this batch's included) is not taken.
      const held = p.spans;
      const had = held.length;
      const list = p.ids;
      if (list !== undefined && had + t.spans.length <= SCAN_SPANS) {
        next: for (const span of t.spans) {
          const id = span.spanId;
          for (let i = 0; i < list.length; i++) {
            if (list[i] === id) {
              continue next;
            }
          }
          list.push(id);
          held.push(span);
        }
      } else {
        const ids = (p.idSet ??= new Set(list));
        p.ids = undefined;
        for (const span of t.spans) {
          const size = ids.size;
          if (ids.add(span.spanId).size !== size) {
            held.push(span);
          }
        }
      }
      const added = held.length - had;
      duplicates += t.spans.length - added;
      if (known && added === 0) {
        continue; // nothing new: as if this copy had not come
      }
      if (p.evaluatedAt !== undefined) {
        // A late span of a trace still held: evaluate again with the earlier spans.
        p.evaluatedAt = undefined;
        p.firstSeen = now;
      }
      p.lastSeen = Math.max(p.lastSeen, now);
      if (position !== undefined) {
        p.oldest = Math.min(p.oldest ?? position, position);
        p.newest = Math.max(p.newest ?? position, position);
      }
      const b = perSpan * added;
      p.bytes += b;
      this.spanCount += added;
      this.byteCount += b;
    }
    if (duplicates > 0) {
      this.options.onDuplicate?.(tenant, duplicates);
    }
    return { accepted: true };
  }

  /** Whether `spans` and `bytes` more fit (evaluated traces are forgotten early to make room). */
  room(spans: number, bytes: number): boolean {
    if (!this.fits(spans, bytes)) {
      this.evictEvaluated();
    }
    return this.fits(spans, bytes);
  }

  private fits(spans: number, bytes: number): boolean {
    return this.spanCount + spans <= this.options.maxSpans && this.byteCount + bytes <= this.options.maxBytes;
  }

  /** Spans (and their bytes) of traces not yet evaluated: held evaluated traces can be forgotten to make room, these cannot. */
  pending(): { spans: number; bytes: number } {
    let spans = 0;
    let bytes = 0;
    for (const p of this.traces.values()) {
      if (p.evaluatedAt === undefined) {
        spans += p.spans.length;
        bytes += p.bytes;
      }
    }
    return { spans, bytes };
  }

  /**
   * A trace whose decision could not be stored after it was handed over (asynchronously, by a
   * shard worker's main thread): pending again, tried again after RETRY_FAILED_MS. Its spans
   * that arrived since stay with it.
   */
  reopen(tenant: string, traceId: string): void {
    const p = this.traces.get(`${tenant}\u0000${traceId}`);
    if (p !== undefined) {
      p.evaluatedAt = undefined;
      p.retryAt = this.options.now() + RETRY_FAILED_MS;
    }
  }

  /** The oldest ingest log position any held trace needs; segments wholly below it can be deleted. */
  oldestPosition(): number | undefined {
    let oldest: number | undefined;
    for (const p of this.traces.values()) {
      if (p.oldest !== undefined && (oldest === undefined || p.oldest < oldest)) {
        oldest = p.oldest;
      }
    }
    return oldest;
  }

  /**
   * After recovery: traces that were decided before the crash with every span now held
   * (`decidedUpTo` ≥ their newest position) are held as evaluated instead of evaluated again.
   */
  settleDecided(decidedUpTo: (tenant: string, traceId: string) => number | undefined): number {
    const now = this.options.now();
    let settled = 0;
    for (const p of this.traces.values()) {
      const upTo = decidedUpTo(p.tenant, p.traceId);
      if (p.evaluatedAt === undefined && upTo !== undefined && p.newest !== undefined && p.newest <= upTo) {
        p.evaluatedAt = now;
        settled++;
      }
    }
    return settled;
  }

  /** Hands over every trace that is due; forgets evaluated traces past their hold time. */
  tick(): number {
    const now = this.options.now();
    const hold = this.options.holdEvaluatedMs ?? this.options.maxTraceAgeMs;
    let ready = 0;
    for (const [key, at] of this.forgotten) {
      if (now - at < hold) {
        break; // insertion order is time order
      }
      this.forgotten.delete(key);
    }
    for (const [key, p] of this.traces) {
      if (p.evaluatedAt !== undefined) {
        if (now - p.evaluatedAt >= hold) {
          this.forget(key, p);
        }
        continue;
      }
      if (p.retryAt !== undefined && now < p.retryAt) {
        continue;
      }
      if (now - p.lastSeen >= this.options.decisionWaitMs || now - p.firstSeen >= this.options.maxTraceAgeMs) {
        if (this.release(p, now)) {
          ready++;
        }
      }
    }
    return ready;
  }

  /** Hands over everything pending now (SIGTERM drain). */
  drain(): number {
    const now = this.options.now();
    let ready = 0;
    for (const p of this.traces.values()) {
      if (p.evaluatedAt === undefined && this.release(p, now)) {
        ready++;
      }
    }
    return ready;
  }

  /** Evaluates a trace; false when that failed (it stays pending, and in the log, for a retry). */
  private release(p: Pending, now: number): boolean {
    p.evaluatedAt = now;
    try {
      this.options.onReady(p.tenant, buildTrace(p.traceId, p.spans.slice()), p.newest);
    } catch {
      p.evaluatedAt = undefined;
      p.retryAt = now + RETRY_FAILED_MS;
      return false;
    }
    p.retryAt = undefined;
    return true;
  }

  private forget(key: string, p: Pending): void {
    this.traces.delete(key);
    this.spanCount -= p.spans.length;
    this.byteCount -= p.bytes;
    this.forgotten.set(key, this.options.now());
    if (this.forgotten.size > MAX_FORGOTTEN) {
      this.forgotten.delete(this.forgotten.keys().next().value as string);
    }
  }

  /** Makes room by forgetting evaluated traces early (their late spans will count as late). */
  private evictEvaluated(): void {
    for (const [key, p] of this.traces) {
      if (p.evaluatedAt !== undefined) {
        this.forget(key, p);
      }
    }
  }
}
