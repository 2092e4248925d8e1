/**
 * Messages between the sidecar's main thread and a discovery worker (src/discovery/worker.ts).
 * The worker mines; the main thread reads the traces (history, Tempo) and hands them over in
 * batches, one batch ahead of the worker at most, when the worker asks for them.
 */
import type { DiscoverProgress, DiscoveryResult, SuggestionKind, Trace } from '@betrace/evaluator';

/** The serializable part of DiscoverOptions (no callbacks, no Set). */
export interface WorkerOptions {
  minSupport?: number;
  minConfidence?: number;
  top?: number;
  holdout?: number;
  seed?: number;
  kinds?: SuggestionKind[];
  existingRules?: Array<{ id: string; condition: string }>;
  dismissed?: string[];
  maxExamples?: number;
}

export interface DiscoveryWorkerData {
  options: WorkerOptions;
  /** One Int32: set to 1 (Atomics.store) when the job is cancelled; the miner's signal reads it. */
  abort: SharedArrayBuffer;
}

export type ToWorker =
  /** The traces of a pass; `done` when the pass has no more. */
  { type: 'batch'; pass: number; traces: Trace[]; done: boolean } | { type: 'source-error'; pass: number; message: string };

export type FromWorker =
  /** Asks for the next batch of pass `pass` (a new pass starts with its first request). */
  | { type: 'next'; pass: number }
  | { type: 'progress'; progress: DiscoverProgress }
  | { type: 'result'; result: DiscoveryResult }
  | { type: 'error'; message: string; aborted: boolean };
