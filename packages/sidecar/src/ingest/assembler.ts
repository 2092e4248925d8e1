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
import { buildTrace, HELD_SPAN_WORDS, MAX_SPANS_PER_TRACE, Span, spanIdWords, Trace, WireTrace } from '@betrace/evaluator';

export type DropReason = 'late' | 'buffer_full';

/**
 * What a batch brings per trace: spans decoded (OTLP/JSON, hand-made), or held as the wire bytes
 * of a checked OTLP/protobuf request (holdCheckedOtlpProtobuf), built only at evaluation: held
 * spans then cost their bytes and five numbers, not objects the garbage collector keeps marking.
 */
export type Incoming = Trace | WireTrace;

/** How many spans the traces hold. */
export function spanCount(traces: readonly Incoming[]): number {
  let n = 0;
  for (const t of traces) {
    n += t instanceof WireTrace ? t.spanCount : t.spans.length;
  }
  return n;
}

/**
 * Up to this many spans, a trace's span ids are kept as pairs of 32-bit words in one array that a
 * new span's id is compared against: for small traces (most; the benchmark corpus has 10 to 40
 * spans) cheaper than a set per trace, which hashes every id and keeps a string per span. Past
 * it, a set of ids.
 */
const SCAN_SPANS = 64;

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
  /** The spans held, batch by batch in the order received: decoded, or as wire bytes. */
  pieces: Array<Span[] | WireTrace>;
  /** How many spans `pieces` hold. */
  count: number;
  /** The span ids held as [low word, high word, …] while the trace holds at most SCAN_SPANS; past it, `idSet`. */
  words: number[] | undefined;
  idSet?: Set<string>;
  /** Ids that are not 16 hex characters (spans made by hand), compared as strings. */
  names?: Set<string>;
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
  add(tenant: string, traces: readonly Incoming[], bytes: number, opts: AddOptions = {}): AddResult {
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
      const wire = t instanceof WireTrace;
      const brought = wire ? t.spanCount : t.spans.length;
      if (p === undefined && this.forgotten.has(key)) {
        this.options.onDrop('late', brought);
        continue;
      }
      const known = p !== undefined;
      if (p === undefined) {
        p = { tenant, traceId: t.traceId, pieces: [], count: 0, words: [], bytes: 0, firstSeen: now, lastSeen: now };
        this.traces.set(key, p);
      }
      // A span whose id the trace holds (this batch's included) is not taken.
      const added = wire ? takeWire(p, t) : takeSpans(p, t.spans);
      p.count += added;
      duplicates += brought - added;
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
        spans += p.count;
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
      // Built afresh for each evaluation, and garbage after it: what stays held is bytes. Past
      // MAX_SPANS_PER_TRACE (evaluated on its first spans, and marked) the rest is not built.
      const spans: Span[] = [];
      for (const piece of p.pieces) {
        if (spans.length >= MAX_SPANS_PER_TRACE) {
          break;
        }
        if (piece instanceof WireTrace) {
          piece.build(spans, MAX_SPANS_PER_TRACE);
        } else {
          for (let i = 0; i < piece.length && spans.length < MAX_SPANS_PER_TRACE; i++) {
            spans.push(piece[i]); // one by one: a spread of 100 000+ spans overflows the stack
          }
        }
      }
      this.options.onReady(p.tenant, buildTrace(p.traceId, spans, p.count - spans.length), p.newest);
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
    this.spanCount -= p.count;
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

/** Takes a span id into the trace's ids; false when the trace already held it. */
function takeId(p: Pending, lo: number, hi: number): boolean {
  const w = p.words;
  if (w !== undefined) {
    for (let i = 0; i < w.length; i += 2) {
      if (w[i] === lo && w[i + 1] === hi) {
        return false;
      }
    }
    if (w.length < 2 * SCAN_SPANS) {
      w.push(lo, hi);
      return true;
    }
    const set = (p.idSet = new Set<string>());
    for (let i = 0; i < w.length; i += 2) {
      set.add(`${w[i]}:${w[i + 1]}`);
    }
    p.words = undefined;
  }
  const set = p.idSet!;
  const size = set.size;
  return set.add(`${lo}:${hi}`).size !== size;
}

/** Holds the spans of a wire trace that are new to the trace; returns how many. */
function takeWire(p: Pending, t: WireTrace): number {
  const s = t.spans;
  let kept: number[] | undefined; // made at the first span already held
  for (let i = 0; i < s.length; i += HELD_SPAN_WORDS) {
    if (takeId(p, s[i + 3], s[i + 4])) {
      if (kept !== undefined) {
        for (let j = 0; j < HELD_SPAN_WORDS; j++) {
          kept.push(s[i + j]);
        }
      }
    } else {
      kept ??= s.slice(0, i);
    }
  }
  const piece = kept === undefined ? t : new WireTrace(t.traceId, t.batch, kept);
  const n = piece.spanCount;
  if (n > 0) {
    p.pieces.push(piece);
  }
  return n;
}

/** Holds the decoded spans that are new to the trace; returns how many. */
function takeSpans(p: Pending, spans: readonly Span[]): number {
  const kept: Span[] = [];
  for (const span of spans) {
    const words = spanIdWords(span.spanId);
    let fresh: boolean;
    if (words !== undefined) {
      fresh = takeId(p, words[0], words[1]);
    } else {
      const names = (p.names ??= new Set());
      const size = names.size;
      fresh = names.add(span.spanId).size !== size;
    }
    if (fresh) {
      kept.push(span);
    }
  }
  if (kept.length > 0) {
    p.pieces.push(kept);
  }
  return kept.length;
}
