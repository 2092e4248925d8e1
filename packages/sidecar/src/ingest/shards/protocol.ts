/**
 * Messages between the main thread (WorkerShards) and a shard worker (worker.ts). Every message
 * to a worker is handled in the order sent, so a reply to a tick covers every batch added before
 * it. Bodies travel as transferred bytes (the worker decodes them); outcomes come back as plain
 * data, and the main thread records them.
 */
import type { Trace } from '@betrace/evaluator';
import type { RuleSpec } from '../../eval/outcome';
import type { DropReason } from '../assembler';
import type { Decision, ShardLimits, ShardState } from './core';
import type { ShardPart } from './shards';

export interface ShardWorkerData extends ShardLimits {
  /** The main thread's clock when the worker was made (later messages carry it on). */
  now: number;
}

export type ToShard =
  | { type: 'rules'; tenant: string; rules: RuleSpec[] }
  /** A batch: an OTLP/protobuf request holding only this shard's spans, or decoded traces (OTLP/JSON). */
  | { type: 'add'; tenant: string; proto?: Uint8Array; traces?: Trace[]; serialized?: Uint8Array; bytes: number; position: number | undefined; at: number }
  /** Decode an OTLP/JSON body and cut it into `shards` parts (nothing is buffered: the body is not durable yet). */
  | { type: 'json'; id: number; body: Uint8Array; shards: number }
  | { type: 'tick'; id: number; now: number }
  | { type: 'drain'; id: number; now: number }
  /** Decisions the main thread could not store: pending again. */
  | { type: 'reopen'; now: number; traces: Array<[tenant: string, traceId: string]> }
  /** After recovery: trace key (tenant NUL trace id) → the log position it was decided up to. */
  | { type: 'settle'; id: number; now: number; decided: Array<[key: string, position: number]> };

export type FromShard =
  /** `duplicates`: per tenant, spans not buffered since the last reply because their trace already held them. */
  | { type: 'reply'; id: number; decisions: Decision[]; settled: number; state: ShardState; drops: Array<[DropReason, number]>; duplicates: Array<[tenant: string, spans: number]> }
  | { type: 'json'; id: number; error?: string; parts?: ShardPart[]; spanCount?: number }
  | { type: 'error'; message: string };
