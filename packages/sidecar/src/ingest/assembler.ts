/**
 * Trace assembly for push mode: spans are buffered per trace id until the trace has been quiet
 * for decision_wait, or has reached max_trace_age, then handed over whole for evaluation.
 * Evaluated traces are held a while longer, so late spans re-evaluate the trace with its earlier
 * spans; later still they are counted as late. The buffer is bounded in spans and bytes, and
 * nothing leaves it without being counted.
 */
import { buildTrace, Span, Trace } from '@betrace/evaluator';

export type DropReason = 'late' | 'buffer_full' | 'span_cap';

/** How many let-go trace ids are remembered to recognise late spans. */
const MAX_FORGOTTEN = 100_000;

export interface AssemblerOptions {
  decisionWaitMs: number;
  maxTraceAgeMs: number;
  maxSpans: number;
  maxBytes: number;
  /** How long an evaluated trace is kept for late spans (default: max_trace_age). */
  holdEvaluatedMs?: number;
  /** Spans one trace may hold (MAX_SPANS_PER_TRACE); more are counted (span_cap) and the trace is marked truncated. */
  maxSpansPerTrace?: number;
  /** Whether evaluation can take this trace now; when not, a due trace is held (still buffered) until a later tick. */
  hasRoom?: (tenant: string, traceId: string, spans: number) => boolean;
  now: () => number;
  /** `truncatedSpans`: spans of the trace left out at maxSpansPerTrace. */
  onReady: (tenant: string, trace: Trace, truncatedSpans: number) => void;
  onDrop: (reason: DropReason, spans: number) => void;
}

interface Pending {
  tenant: string;
  traceId: string;
  spans: Span[];
  bytes: number;
  firstSeen: number;
  lastSeen: number;
  /** Spans not kept because the trace reached maxSpansPerTrace. */
  truncated: number;
  /** Set once evaluated: the trace waits here for late spans until this time. */
  evaluatedAt?: number;
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
  add(tenant: string, traces: readonly Trace[], bytes: number): AddResult {
    const spans = traces.reduce((n, t) => n + t.spans.length, 0);
    if (this.spanCount + spans > this.options.maxSpans || this.byteCount + bytes > this.options.maxBytes) {
      this.evictEvaluated();
      if (this.spanCount + spans > this.options.maxSpans || this.byteCount + bytes > this.options.maxBytes) {
        this.options.onDrop('buffer_full', spans);
        return { accepted: false, reason: 'buffer_full', retryAfterMs: this.options.decisionWaitMs };
      }
    }
    const now = this.options.now();
    const perSpan = spans === 0 ? 0 : bytes / spans;
    for (const t of traces) {
      const key = `${tenant}\u0000${t.traceId}`;
      let p = this.traces.get(key);
      if (p === undefined && this.forgotten.has(key)) {
        this.options.onDrop('late', t.spans.length);
        continue;
      }
      if (p === undefined) {
        p = { tenant, traceId: t.traceId, spans: [], bytes: 0, firstSeen: now, lastSeen: now, truncated: 0 };
        this.traces.set(key, p);
      } else if (p.evaluatedAt !== undefined) {
        // A late span of a trace still held: evaluate again with the earlier spans.
        p.evaluatedAt = undefined;
        p.firstSeen = now;
      }
      const room = Math.max(0, (this.options.maxSpansPerTrace ?? Infinity) - p.spans.length);
      const kept = room >= t.spans.length ? t.spans : t.spans.slice(0, room);
      if (kept.length < t.spans.length) {
        p.truncated += t.spans.length - kept.length;
        this.options.onDrop('span_cap', t.spans.length - kept.length);
      }
      for (const span of kept) {
        p.spans.push(span); // not push(...kept): a 50 000-span request would overflow the call stack
      }
      p.lastSeen = now;
      const b = perSpan * kept.length;
      p.bytes += b;
      this.spanCount += kept.length;
      this.byteCount += b;
    }
    return { accepted: true };
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
      if (now - p.lastSeen >= this.options.decisionWaitMs || now - p.firstSeen >= this.options.maxTraceAgeMs) {
        if (this.options.hasRoom !== undefined && !this.options.hasRoom(p.tenant, p.traceId, p.spans.length)) {
          continue; // evaluation is behind: held here, not dropped, until a tick finds room
        }
        this.release(p, now);
        ready++;
      }
    }
    return ready;
  }

  /** Hands over everything pending now (SIGTERM drain), room or not. */
  drain(): number {
    const now = this.options.now();
    let ready = 0;
    for (const p of this.traces.values()) {
      if (p.evaluatedAt === undefined) {
        this.release(p, now);
        ready++;
      }
    }
    return ready;
  }

  private release(p: Pending, now: number): void {
    p.evaluatedAt = now;
    this.options.onReady(p.tenant, buildTrace(p.traceId, p.spans.slice()), p.truncated);
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
