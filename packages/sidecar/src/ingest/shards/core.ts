/**
 * One shard of push mode: trace assembly and evaluation for the traces whose id hashes to it.
 * The same code runs on a shard worker thread (worker.ts) and, with EVAL_WORKERS=0, on the main
 * thread (LocalShards). It never touches the store: each evaluated trace becomes a Decision that
 * the main thread records in one transaction with the ingest log's decided marker; a decision
 * that could not be stored comes back through reopen() and the trace is evaluated again later.
 */
import { holdCheckedOtlpProtobuf, Trace } from '@betrace/evaluator';
import type { ActiveRule } from '../../rules';
import { CostSampler, evaluateOutcome, Outcome } from '../../eval/outcome';
import { DropReason, Incoming, TraceAssembler } from '../assembler';

export interface Decision {
  tenant: string;
  /** The newest ingest log position of the trace's spans (none without the log). */
  position: number | undefined;
  outcome: Outcome;
}

/** What a shard holds, reported to the main thread (room, truncation, gauges). */
export interface ShardState {
  /** Spans of traces not yet evaluated, and their bytes. */
  pendingSpans: number;
  pendingBytes: number;
  /** All spans held, evaluated or not, and their bytes. */
  bufferedSpans: number;
  bufferedBytes: number;
  /** The oldest ingest log position a held trace needs. */
  oldest: number | undefined;
}

/** Trace assembly's timing and bounds, and the evaluation budget: what every shard is given. */
export interface ShardLimits {
  decisionWaitMs: number;
  maxTraceAgeMs: number;
  /** MAX_BUFFER_SPANS / MAX_BUFFER_BYTES (a shard worker is given its share). */
  maxSpans: number;
  maxBytes: number;
  holdEvaluatedMs?: number;
  /** The per-trace evaluation budget (EVAL_BUDGET), milliseconds. */
  budgetMs: number | undefined;
}

export interface ShardCoreOptions extends ShardLimits {
  now: () => number;
  /** The tenant's rules at evaluation time. */
  rulesOf: (tenant: string) => readonly ActiveRule[];
  onDrop: (reason: DropReason, spans: number) => void;
  /** Spans not buffered: their trace already held a span of that id (a sender's retry, a batch twice in the log). */
  onDuplicate?: (tenant: string, spans: number) => void;
}

export class ShardCore {
  readonly assembler: TraceAssembler;
  private decisions: Decision[] = [];
  /** Which of this shard's traces time which rules (rule health's sampled cost). */
  private readonly sampler = new CostSampler();

  constructor(private readonly options: ShardCoreOptions) {
    this.assembler = new TraceAssembler({
      decisionWaitMs: options.decisionWaitMs,
      maxTraceAgeMs: options.maxTraceAgeMs,
      maxSpans: options.maxSpans,
      maxBytes: options.maxBytes,
      holdEvaluatedMs: options.holdEvaluatedMs,
      now: options.now,
      onReady: (tenant, trace, position) => this.decide(tenant, trace, position),
      onDrop: options.onDrop,
      onDuplicate: options.onDuplicate,
    });
  }

  /** Buffers traces (already durable: taken even past the shard's bounds, which evict evaluated traces first). */
  add(tenant: string, traces: readonly Incoming[], bytes: number, position: number | undefined, at: number | undefined): void {
    this.assembler.add(tenant, traces, bytes, { position, at, force: true });
  }

  /**
   * Buffers the spans of an OTLP/protobuf request the main thread has checked (skimmed at receipt,
   * or read back from the ingest log, whose records are checksummed): its values are not checked
   * again, and its spans are held as its bytes until their trace is evaluated. `bytes`: what they
   * count for.
   */
  addProtobuf(tenant: string, body: Uint8Array, bytes: number, position: number | undefined, at: number | undefined): void {
    this.add(tenant, holdCheckedOtlpProtobuf(body), bytes, position, at);
  }

  /** Evaluates every trace that is due; returns their decisions (to be recorded by the caller). */
  tick(): Decision[] {
    this.assembler.tick();
    return this.take();
  }

  /** Evaluates everything pending (the drain at stop). */
  drain(): Decision[] {
    this.assembler.drain();
    return this.take();
  }

  reopen(tenant: string, traceId: string): void {
    this.assembler.reopen(tenant, traceId);
  }

  /** After recovery: traces decided before the crash with every span held are held as evaluated. */
  settle(decided: ReadonlyMap<string, number>): number {
    return this.assembler.settleDecided((tenant, traceId) => decided.get(`${tenant}\u0000${traceId}`));
  }

  state(): ShardState {
    const pending = this.assembler.pending();
    return {
      pendingSpans: pending.spans,
      pendingBytes: pending.bytes,
      bufferedSpans: this.assembler.bufferedSpans,
      bufferedBytes: this.assembler.bufferedBytes,
      oldest: this.assembler.oldestPosition(),
    };
  }

  private decide(tenant: string, trace: Trace, position: number | undefined): void {
    const outcome = evaluateOutcome(this.options.rulesOf(tenant), trace, this.options.budgetMs, this.sampler);
    this.decisions.push({ tenant, position, outcome });
  }

  private take(): Decision[] {
    const out = this.decisions;
    this.decisions = [];
    return out;
  }
}
