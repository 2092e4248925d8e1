/**
 * Push mode's trace assembly and evaluation, sharded by trace id (docs/ingest.md "Shards").
 *
 * With EVAL_WORKERS=N (N ≥ 1, default one per core) each shard is a worker thread: the main
 * thread serves HTTP, checks each body (skimTraceRequest), makes it durable in the ingest log,
 * cuts it into one request per shard (partitionSkim: all spans of a trace land in one shard,
 * whatever request or connection they came in) and hands each part over as transferred bytes.
 * The worker decodes, assembles and evaluates; its decisions come back, and the main thread, the
 * one writer of the store, records each batch of them in one transaction with the log's decided
 * marker, so signals and evidence stay exactly-once. A pathological trace occupies its shard's
 * worker, never the HTTP thread. With EVAL_WORKERS=0 one shard runs on the main thread (tests,
 * embedding): the same ShardCore, synchronously.
 */
import * as fs from 'fs';
import * as path from 'path';
import { deserialize } from 'v8';
import { Worker } from 'worker_threads';
import { DecodeError, partitionSkim, Trace, traceShard, TraceRequestSkim } from '@betrace/evaluator';
import { BadRequest, decodeJsonRequest } from '../jsonBody';
import type { Logger } from 'pino';
import type { ActiveRule, RuleRegistry } from '../../rules';
import { DropReason, spanCount } from '../assembler';
import { Decision, ShardCore, ShardLimits, ShardState } from './core';
import type { FromShard, ShardWorkerData, ToShard } from './protocol';

/** A batch as the receiver checked it: the protobuf body with its skim, or decoded OTLP/JSON traces. */
export type CheckedBatch =
  | { kind: 'protobuf'; body: Uint8Array; skim: TraceRequestSkim }
  | { kind: 'traces'; traces: readonly Trace[] }
  /** OTLP/JSON decoded on a worker: each shard's traces, serialized (v8) there, moved here as bytes. */
  | { kind: 'parts'; parts: ShardPart[] };

export interface ShardPart {
  shard: number;
  bytes: Uint8Array;
  spans: number;
  /** The part's trace ids (the self tracing's links from a receive to the evaluations it fed). */
  traceIds?: string[];
}

/** An OTLP/JSON body decoded (on a worker, or here): the batch, or what is malformed (the 400's message). */
export type DecodedJson = { batch: CheckedBatch; spanCount: number } | { error: string };

export interface ShardsOptions extends ShardLimits {
  now: () => number;
  rules: RuleRegistry;
  /** Records decisions (one transaction per call); returns those that could not be stored. */
  commit: (decisions: readonly Decision[]) => readonly Decision[];
  onDrop: (reason: DropReason, spans: number) => void;
  /** Spans not buffered because their trace already held a span of that id (reported by a worker with its next reply). */
  onDuplicate?: (tenant: string, spans: number) => void;
  log: Logger;
}

export interface Shards {
  /** Worker threads (0: one shard on the main thread). */
  readonly workers: number;
  /** Whether a batch of `spans` and `bytes` wire bytes more fits among the traces not yet evaluated; `held`: OTLP/protobuf, held as its bytes. */
  room(spans: number, bytes: number, held?: boolean): boolean;
  /** Decodes an OTLP/JSON body (on a worker when there are workers); never throws for a malformed body. */
  decodeJson(body: Uint8Array): Promise<DecodedJson>;
  /** Hands over a durable batch (`position`: its ingest log position; `at`: when it was received, default now). */
  add(tenant: string, batch: CheckedBatch, bytes: number, position: number | undefined, at?: number): void;
  /** Evaluates every trace that is due and records the decisions; resolves with how many were recorded. */
  tick(): Promise<number>;
  /** Evaluates and records everything pending (the drain at stop). */
  drain(): Promise<number>;
  /** After recovery: holds traces decided before the crash as evaluated; resolves with how many. */
  settle(decided: ReadonlyMap<string, number>): Promise<number>;
  /** The oldest ingest log position a held (or handed-over) trace needs. */
  oldestPosition(): number | undefined;
  readonly bufferedSpans: number;
  readonly bufferedBytes: number;
  /** Each shard's state as last reported (a worker's: as of its last reply). */
  describe(): ShardState[];
  close(): Promise<void>;
}

export function createShards(workers: number, options: ShardsOptions, onFatal: (e: Error) => void): Shards {
  return workers === 0 ? new LocalShards(options) : new WorkerShards(workers, options, onFatal);
}

/**
 * What a buffered span costs in memory beyond its share of the request body, as `npm run bench
 * memory` measures it (resident memory per buffered span, less its wire bytes), so that
 * MAX_BUFFER_BYTES bounds memory, not only bodies. A decoded span (OTLP/JSON, or a protobuf
 * batch that had BeTrace's own spans taken out): its fields as objects, the assembly's structures
 * and the heap's slack.
 */
export const SPAN_OVERHEAD_BYTES = 900;

/**
 * The same for a span held as its request's bytes (OTLP/protobuf): five numbers, its share of
 * the trace's structures, and garbage not yet collected (measured 600 − 396 wire bytes ≈ 204).
 */
export const HELD_SPAN_OVERHEAD_BYTES = 250;

/** The bytes `spans` spans of `wireBytes` on the wire count for against MAX_BUFFER_BYTES; `held`: as wire bytes. */
export const accounted = (wireBytes: number, spans: number, held = false): number => wireBytes + spans * (held ? HELD_SPAN_OVERHEAD_BYTES : SPAN_OVERHEAD_BYTES);

const totalSpans = (parts: readonly ShardPart[]) => parts.reduce((n, p) => n + p.spans, 0);

/** A batch's `bytes` shared out by spans: what `spans` of its `total` spans count for. */
const shareOf = (bytes: number, spans: number, total: number): number => (total === 0 ? 0 : Math.round((bytes * spans) / total));

/** The traces of each shard (of `shards`), in their order. */
export function tracesByShard(traces: readonly Trace[], shards: number): Map<number, Trace[]> {
  const groups = new Map<number, Trace[]>();
  for (const t of traces) {
    const k = shards === 1 ? 0 : traceShard(t.traceId, shards);
    const group = groups.get(k);
    if (group === undefined) {
      groups.set(k, [t]);
    } else {
      group.push(t);
    }
  }
  return groups;
}

/** Decodes OTLP/JSON on this thread; what is malformed comes back as the 400's message. */
export function decodeJsonHere(body: Uint8Array): { traces: Trace[] } | { error: string } {
  try {
    return { traces: decodeJsonRequest(body) };
  } catch (e) {
    if (e instanceof BadRequest || e instanceof DecodeError) {
      return { error: e.message };
    }
    throw e;
  }
}

/** Commits decisions and hands back the traces whose decisions could not be stored. */
function commitAll(options: ShardsOptions, decisions: readonly Decision[], reopen: (failed: readonly Decision[]) => void): number {
  if (decisions.length === 0) {
    return 0;
  }
  const failed = options.commit(decisions);
  if (failed.length > 0) {
    reopen(failed);
  }
  return decisions.length - failed.length;
}

class LocalShards implements Shards {
  readonly workers = 0;
  private readonly core: ShardCore;

  constructor(private readonly options: ShardsOptions) {
    this.core = new ShardCore({ ...options, rulesOf: (tenant) => options.rules.active(tenant) });
  }

  room(spans: number, bytes: number, held = false): boolean {
    return this.core.assembler.room(spans, accounted(bytes, spans, held));
  }

  decodeJson(body: Uint8Array): Promise<DecodedJson> {
    const decoded = decodeJsonHere(body);
    return Promise.resolve('error' in decoded ? decoded : { batch: { kind: 'traces', traces: decoded.traces }, spanCount: spanCount(decoded.traces) });
  }

  add(tenant: string, batch: CheckedBatch, bytes: number, position: number | undefined, at?: number): void {
    if (batch.kind === 'protobuf') {
      this.core.addProtobuf(tenant, batch.body, accounted(bytes, batch.skim.spanCount, true), position, at);
    } else if (batch.kind === 'traces') {
      this.core.add(tenant, batch.traces, accounted(bytes, spanCount(batch.traces)), position, at);
    } else {
      const total = totalSpans(batch.parts);
      for (const p of batch.parts) {
        this.core.add(tenant, deserialize(p.bytes) as Trace[], accounted(shareOf(bytes, p.spans, total), p.spans), position, at);
      }
    }
  }

  tick(): Promise<number> {
    return Promise.resolve(this.commit(this.core.tick()));
  }

  drain(): Promise<number> {
    return Promise.resolve(this.commit(this.core.drain()));
  }

  settle(decided: ReadonlyMap<string, number>): Promise<number> {
    return Promise.resolve(this.core.settle(decided));
  }

  oldestPosition(): number | undefined {
    return this.core.assembler.oldestPosition();
  }

  get bufferedSpans(): number {
    return this.core.assembler.bufferedSpans;
  }

  get bufferedBytes(): number {
    return this.core.assembler.bufferedBytes;
  }

  describe(): ShardState[] {
    return [this.core.state()];
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  private commit(decisions: Decision[]): number {
    return commitAll(this.options, decisions, (failed) => failed.forEach((d) => this.core.reopen(d.tenant, d.outcome.traceId)));
  }
}

/** Where the shard worker's code is: beside this file when built; run from sources (jest), the build's. */
export function shardWorkerFile(): string {
  const beside = path.join(__dirname, 'worker.js');
  if (fs.existsSync(beside)) {
    return beside;
  }
  const built = path.join(__dirname, '../../../dist/ingest/shards/worker.js');
  if (fs.existsSync(built)) {
    return built;
  }
  throw new Error(`no shard worker at ${beside} or ${built}: build the sidecar (npm run build:packages), or set EVAL_WORKERS=0`);
}

interface Sent {
  seq: number;
  spans: number;
  bytes: number;
  position: number | undefined;
}

interface Shard {
  worker: Worker;
  state: ShardState;
  /** Batches sent and not yet covered by a reply (their spans count as pending, their positions pin the log). */
  unacked: Sent[];
  seq: number;
  /** Replies awaited, by request id: what to do with the reply, and the seq the request covers. */
  waiting: Map<number, { covers: number; resolve: (m: FromShard & { type: 'reply' }) => void }>;
}

class WorkerShards implements Shards {
  private readonly shards: Shard[];
  private nextId = 1;
  private nextDecoder = 0;
  /** OTLP/JSON bodies being decoded on a worker, by request id. */
  private readonly decoding = new Map<number, (d: DecodedJson) => void>();
  private ticking: Promise<number> | undefined;
  /** The rules each worker holds, per tenant (the registry's array: a new one means they changed). */
  private readonly sentRules = new Map<string, readonly ActiveRule[]>();
  private closed = false;

  constructor(
    readonly workers: number,
    private readonly options: ShardsOptions,
    onFatal: (e: Error) => void,
  ) {
    const file = shardWorkerFile();
    const data: ShardWorkerData = {
      decisionWaitMs: options.decisionWaitMs,
      maxTraceAgeMs: options.maxTraceAgeMs,
      maxSpans: Math.ceil(options.maxSpans / workers),
      maxBytes: Math.ceil(options.maxBytes / workers),
      holdEvaluatedMs: options.holdEvaluatedMs,
      budgetMs: options.budgetMs,
      now: options.now(),
    };
    this.shards = [];
    for (let i = 0; i < workers; i++) {
      const worker = new Worker(file, { workerData: data, name: `betrace-shard-${i}` });
      const shard: Shard = { worker, state: { pendingSpans: 0, pendingBytes: 0, bufferedSpans: 0, bufferedBytes: 0, oldest: undefined }, unacked: [], seq: 0, waiting: new Map() };
      worker.on('message', (m: FromShard) => {
        if (m.type === 'error') {
          options.log.error({ shard: i, err: m.message }, 'a shard worker failed on a message');
          return;
        }
        if (m.type === 'json') {
          const done = this.decoding.get(m.id);
          this.decoding.delete(m.id);
          done?.(m.error !== undefined ? { error: m.error } : { batch: { kind: 'parts', parts: m.parts ?? [] }, spanCount: m.spanCount ?? 0 });
          return;
        }
        const w = shard.waiting.get(m.id);
        if (w === undefined) {
          return;
        }
        shard.waiting.delete(m.id);
        shard.state = m.state;
        while (shard.unacked.length > 0 && shard.unacked[0].seq <= w.covers) {
          shard.unacked.shift();
        }
        for (const [reason, spans] of m.drops) {
          options.onDrop(reason, spans);
        }
        for (const [tenant, spans] of m.duplicates) {
          options.onDuplicate?.(tenant, spans);
        }
        w.resolve(m);
      });
      // A shard that dies loses its memory, never data: the log holds every span it had. The
      // process ends (a supervisor restarts it) and recovery evaluates what was not decided.
      worker.on('error', (e) => {
        if (!this.closed) onFatal(e);
      });
      worker.on('exit', (code) => {
        if (!this.closed) onFatal(new Error(`shard worker ${i} exited with code ${code}`));
      });
      this.shards.push(shard);
    }
  }

  room(spans: number, bytes: number, held = false): boolean {
    let s = spans;
    let b = accounted(bytes, spans, held);
    for (const shard of this.shards) {
      s += shard.state.pendingSpans;
      b += shard.state.pendingBytes;
      for (const u of shard.unacked) {
        s += u.spans;
        b += u.bytes;
      }
    }
    return s <= this.options.maxSpans && b <= this.options.maxBytes;
  }

  decodeJson(body: Uint8Array): Promise<DecodedJson> {
    // Round robin: decoding is pure, any worker can do it; the parts go to their shards after the log write.
    const k = this.nextDecoder++ % this.shards.length;
    const id = this.nextId++;
    const copy = new Uint8Array(body);
    return new Promise((resolve) => {
      this.decoding.set(id, resolve);
      this.post(k, { type: 'json', id, body: copy, shards: this.shards.length }, [copy.buffer as ArrayBuffer]);
    });
  }

  add(tenant: string, batch: CheckedBatch, bytes: number, position: number | undefined, at = this.options.now()): void {
    this.syncRules(tenant);
    const n = this.shards.length;
    if (batch.kind === 'parts') {
      const total = totalSpans(batch.parts);
      for (const p of batch.parts) {
        const share = accounted(shareOf(bytes, p.spans, total), p.spans);
        this.send(p.shard, { type: 'add', tenant, serialized: p.bytes, bytes: share, position, at }, p.spans, share, position, [p.bytes.buffer as ArrayBuffer]);
      }
      return;
    }
    if (batch.kind === 'protobuf') {
      const { skim } = batch;
      if (skim.spanCount === 0) {
        return;
      }
      const spans = new Array<number>(n).fill(0);
      // One shard: the body as it is (copied: the receiver's buffer is not ours to hand over).
      let parts: Uint8Array[];
      if (n === 1) {
        parts = [new Uint8Array(batch.body)];
        spans[0] = skim.spanCount;
      } else {
        parts = partitionSkim(skim, n, spans);
      }
      parts.forEach((part, k) => {
        if (spans[k] > 0) {
          const counted = accounted(part.length, spans[k], true);
          this.send(k, { type: 'add', tenant, proto: part, bytes: counted, position, at }, spans[k], counted, position, [part.buffer as ArrayBuffer]);
        }
      });
      return;
    }
    const total = spanCount(batch.traces);
    for (const [k, traces] of tracesByShard(batch.traces, n)) {
      const spans = spanCount(traces);
      const share = accounted(shareOf(bytes, spans, total), spans);
      this.send(k, { type: 'add', tenant, traces, bytes: share, position, at }, spans, share, position);
    }
  }

  tick(): Promise<number> {
    // One round at a time: a tick while one is running shares it.
    this.ticking ??= this.round('tick').finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  async drain(): Promise<number> {
    await this.ticking;
    return this.round('drain');
  }

  async settle(decided: ReadonlyMap<string, number>): Promise<number> {
    const entries = [...decided];
    const replies = await Promise.all(this.shards.map((_, k) => this.request(k, (id) => ({ type: 'settle', id, now: this.options.now(), decided: entries }))));
    return replies.reduce((n, r) => n + r.settled, 0);
  }

  oldestPosition(): number | undefined {
    let oldest: number | undefined;
    const see = (p: number | undefined) => {
      if (p !== undefined && (oldest === undefined || p < oldest)) oldest = p;
    };
    for (const shard of this.shards) {
      see(shard.state.oldest);
      shard.unacked.forEach((u) => see(u.position));
    }
    return oldest;
  }

  get bufferedSpans(): number {
    return this.shards.reduce((n, s) => n + s.state.bufferedSpans + s.unacked.reduce((m, u) => m + u.spans, 0), 0);
  }

  get bufferedBytes(): number {
    return this.shards.reduce((n, s) => n + s.state.bufferedBytes + s.unacked.reduce((m, u) => m + u.bytes, 0), 0);
  }

  describe(): ShardState[] {
    return this.shards.map((s) => ({ ...s.state }));
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.shards.map((s) => s.worker.terminate()));
  }

  /** Sends the tenants' rules again to every worker when they changed (compared by the registry's array). */
  private syncRules(tenant?: string): void {
    const tenants = tenant === undefined ? [...this.sentRules.keys()] : [tenant];
    for (const t of tenants) {
      const active = this.options.rules.active(t);
      if (this.sentRules.get(t) === active) {
        continue;
      }
      this.sentRules.set(t, active);
      const rules = active.map((r) => ({ definition: r.compiled.definition, version: r.version }));
      this.shards.forEach((_, k) => this.post(k, { type: 'rules', tenant: t, rules }));
    }
  }

  private async round(kind: 'tick' | 'drain'): Promise<number> {
    this.syncRules();
    let recorded = 0;
    await Promise.all(
      this.shards.map(async (_, k) => {
        const reply = await this.request(k, (id) => ({ type: kind, id, now: this.options.now() }));
        recorded += commitAll(this.options, reply.decisions, (failed) =>
          this.post(k, { type: 'reopen', now: this.options.now(), traces: failed.map((d) => [d.tenant, d.outcome.traceId]) }),
        );
      }),
    );
    return recorded;
  }

  private request(k: number, message: (id: number) => ToShard): Promise<FromShard & { type: 'reply' }> {
    const shard = this.shards[k];
    const id = this.nextId++;
    return new Promise((resolve) => {
      shard.waiting.set(id, { covers: shard.seq, resolve });
      this.post(k, message(id));
    });
  }

  private send(k: number, message: ToShard, spans: number, bytes: number, position: number | undefined, transfer?: ArrayBuffer[]): void {
    const shard = this.shards[k];
    shard.seq++;
    shard.unacked.push({ seq: shard.seq, spans, bytes, position });
    this.post(k, message, transfer);
  }

  private post(k: number, message: ToShard, transfer?: ArrayBuffer[]): void {
    this.shards[k].worker.postMessage(message, transfer);
  }
}
