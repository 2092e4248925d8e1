/**
 * Evaluation off the thread that answers HTTP: a pool of worker threads, each one shard of the
 * traces. A trace goes to the shard its (tenant, trace id) hashes to, so every evaluation of one
 * trace (a late span's re-evaluation too) meets in one worker, in order. Workers return their
 * violations; the main thread records them through the Pipeline, the one place that stores, so
 * exactly-once of signals, outboxes and evidence is what it was.
 *
 * Limits: each shard has a bounded number of traces in flight (the assembler holds due traces
 * while a shard is full: hasRoom); a trace over MAX_SPANS_PER_TRACE is evaluated on its first
 * spans and marked; a worker stuck in one rule past the hard limit is terminated, the rule counts
 * as skipped (hard-limit) and the shard's traces go to its replacement; a worker that crashes is
 * replaced the same way, and a trace it crashed on twice is recorded as not evaluated. Nothing
 * handed to the pool is lost without being counted.
 */
import { buildTrace, Trace, Violation } from '@betrace/evaluator';
import type { Logger } from 'pino';
import { Worker } from 'worker_threads';
import type { Metrics } from '../metrics';
import type { EvaluationMarks, Pipeline } from '../pipeline';
import type { ActiveRule, RuleRegistry } from '../rules';
import type { Signal, SignalSource } from '../store';
import { EvalWorkerData, FromWorker, PROGRESS_JOB, PROGRESS_RULE, PROGRESS_SLOTS, ToWorker } from './protocol';
import type { RuleRun, SkippedRule } from './run';
import { defaultWorkerEntry, WorkerEntry } from './workerEntry';

/**
 * What one shard may have in flight (sent, not answered); past it the assembler holds due traces
 * (they stay buffered). Generous in traces, because the assembler releases only on its tick (up to
 * 1 s apart): a small bound would cap throughput at bound × workers per tick. Bounded in spans,
 * because each in-flight trace is a second copy (its clone in the worker). A trace larger than the
 * span bound still goes to an idle shard.
 */
export const MAX_IN_FLIGHT_PER_WORKER = 2048;
export const MAX_IN_FLIGHT_SPANS_PER_WORKER = 250_000;
/** Rule sets a worker keeps compiled (a tenant's live rules, a replay's); the oldest are forgotten. */
export const MAX_RULE_SETS_PER_WORKER = 32;
/** A trace whose worker crashed this many times while on it is recorded as not evaluated. */
export const MAX_CRASHES_PER_TRACE = 2;

export interface EvalPoolOptions {
  /** Worker threads; 0: evaluate on the calling thread (no hard limit). */
  workers: number;
  budgetMs: number;
  hardLimitMs: number;
  maxSpansPerTrace: number;
  maxInFlightPerWorker?: number;
  pipeline: Pipeline;
  rules: RuleRegistry;
  metrics: Metrics;
  log: Logger;
  /** The worker's code (tests: a worker that misbehaves). */
  entry?: WorkerEntry;
}

/** Why a trace handed to the pool was not evaluated at all. */
export type NotEvaluatedReason = 'worker-crash' | 'shutdown';

type Outcome = { run: RuleRun } | { notEvaluated: NotEvaluatedReason };

interface Job {
  id: number;
  tenant: string;
  trace: Trace;
  /** The stable rule set the rules come from (its worker-side id), and the rules to run, in order. */
  set: readonly ActiveRule[];
  rules: readonly ActiveRule[];
  /** Rules taken out after they held a worker past the hard limit, with their skip. */
  hardSkips: SkippedRule[];
  crashes: number;
  /** Main-thread time the worker began the job (it runs its shard's jobs in order). */
  startedAt: number;
  done: (o: Outcome) => void;
}

interface Shard {
  index: number;
  worker: Worker | undefined;
  /** Whether the worker's code is loaded (the hard limit applies from then). */
  ready: boolean;
  threadId: number;
  progress: Int32Array;
  /** In the order sent: the worker answers in this order. */
  jobs: Job[];
  /** Spans of the jobs in flight. */
  spans: number;
  /** Set ids this worker holds, oldest first. */
  sets: Map<number, true>;
}

export class EvalPool {
  private readonly shards: Shard[];
  private readonly setIds = new WeakMap<readonly ActiveRule[], number>();
  private readonly entry: WorkerEntry | undefined;
  private nextSetId = 1;
  private nextJobId = 1;
  private watchdog: NodeJS.Timeout | undefined;
  private waiters: Array<() => void> = [];
  private stopped = false;

  constructor(private readonly o: EvalPoolOptions) {
    this.shards = Array.from({ length: o.workers }, (_, index) => ({
      index,
      worker: undefined,
      ready: false,
      threadId: 0,
      progress: new Int32Array(new SharedArrayBuffer(PROGRESS_SLOTS * Int32Array.BYTES_PER_ELEMENT)),
      jobs: [],
      spans: 0,
      sets: new Map(),
    }));
    this.entry = o.workers > 0 ? (o.entry ?? defaultWorkerEntry()) : undefined;
    for (const s of this.shards) {
      o.metrics.evalQueueDepth.set({ worker: String(s.index) }, 0);
    }
  }

  get workers(): number {
    return this.shards.length;
  }

  /** The shard of a trace: stable for (tenant, trace id) as long as the worker count is. */
  shardOf(tenant: string, traceId: string): number {
    return this.shards.length === 0 ? 0 : fnv1a(`${tenant}\u0000${traceId}`) % this.shards.length;
  }

  /** Whether the trace's shard can take another trace of `spans` spans now (the assembler holds it otherwise). */
  hasRoom(tenant: string, traceId: string, spans = 0): boolean {
    if (this.shards.length === 0) {
      return true;
    }
    const shard = this.shards[this.shardOf(tenant, traceId)];
    if (shard.jobs.length === 0) {
      return true;
    }
    return shard.jobs.length < (this.o.maxInFlightPerWorker ?? MAX_IN_FLIGHT_PER_WORKER) && shard.spans + spans <= MAX_IN_FLIGHT_SPANS_PER_WORKER;
  }

  /**
   * Starts every worker now instead of at its shard's first trace (a worker takes about a second to
   * load the evaluator): `betrace serve` does this at start; tests and tools start them on demand.
   */
  warm(): void {
    if (this.stopped) {
      return;
    }
    this.startWatchdog();
    for (const s of this.shards) {
      this.workerOf(s);
    }
  }

  /** Traces sent to workers and not yet answered. */
  get inFlight(): number {
    return this.shards.reduce((n, s) => n + s.jobs.length, 0);
  }

  /** Evaluates a trace against the tenant's live rules (or only those in `only`) and stores its new signals. */
  evaluate(tenant: string, trace: Trace, source: SignalSource, only?: ReadonlySet<string>, marks: EvaluationMarks = {}): Promise<Signal[]> {
    return this.evaluateWith(tenant, trace, source, this.o.rules.active(tenant), only, marks);
  }

  /** Evaluates a trace against `set` (or its rules in `only`), e.g. a replay's rules, and stores its new signals. */
  async evaluateWith(tenant: string, trace: Trace, source: SignalSource, set: readonly ActiveRule[], only?: ReadonlySet<string>, marks: EvaluationMarks = {}): Promise<Signal[]> {
    const rules = only === undefined ? set : set.filter((r) => only.has(r.compiled.definition.id));
    const capped = this.cap(trace, marks);
    if (this.shards.length === 0) {
      this.o.metrics.evalWorkerEvaluations.inc({ worker: 'main', thread: '0' });
      return this.o.pipeline.evaluateWith(tenant, capped.trace, source, rules, capped.marks);
    }
    const outcome = await this.dispatch(tenant, capped.trace, set, rules);
    if ('notEvaluated' in outcome) {
      this.o.pipeline.recordNotEvaluated(tenant, capped.trace, rules, outcome.notEvaluated);
      return [];
    }
    return this.o.pipeline.record(tenant, capped.trace, source, rules, outcome.run, capped.marks);
  }

  /** A dry run: the violations of `set` (or its rules in `only`) on the trace, nothing stored. */
  async violations(tenant: string, trace: Trace, set: readonly ActiveRule[], only?: ReadonlySet<string>): Promise<Violation[]> {
    const rules = only === undefined ? set : set.filter((r) => only.has(r.compiled.definition.id));
    const { trace: t } = this.cap(trace, {});
    if (this.shards.length === 0) {
      return this.o.pipeline.dryRun(t, rules).violations;
    }
    const outcome = await this.dispatch(tenant, t, set, rules);
    return 'run' in outcome ? outcome.run.violations : [];
  }

  /** Resolves once every trace handed over so far has its outcome recorded. */
  idle(): Promise<void> {
    if (this.inFlight === 0) {
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Terminates the workers; traces still in flight (stop without idle) are recorded as not evaluated. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.watchdog) clearInterval(this.watchdog);
    const workers: Worker[] = [];
    for (const s of this.shards) {
      if (s.worker) workers.push(s.worker);
      s.worker = undefined;
      for (const job of s.jobs.splice(0)) {
        job.done({ notEvaluated: 'shutdown' });
      }
      s.spans = 0;
      this.o.metrics.evalQueueDepth.set({ worker: String(s.index) }, 0);
    }
    this.wake();
    await Promise.all(workers.map((w) => w.terminate()));
  }

  private cap(trace: Trace, marks: EvaluationMarks): { trace: Trace; marks: EvaluationMarks } {
    const over = trace.spans.length - this.o.maxSpansPerTrace;
    if (over <= 0) {
      return { trace, marks };
    }
    this.o.metrics.tracesDropped.inc({ reason: 'span_cap' }, over);
    return { trace: buildTrace(trace.traceId, trace.spans.slice(0, this.o.maxSpansPerTrace)), marks: { ...marks, truncatedSpans: (marks.truncatedSpans ?? 0) + over } };
  }

  private dispatch(tenant: string, trace: Trace, set: readonly ActiveRule[], rules: readonly ActiveRule[]): Promise<Outcome> {
    if (this.stopped) {
      return Promise.reject(new Error('the evaluation pool is stopped'));
    }
    this.startWatchdog();
    return new Promise<Outcome>((done) => {
      const job: Job = { id: this.nextJobId, tenant, trace, set, rules, hardSkips: [], crashes: 0, startedAt: 0, done };
      this.nextJobId = this.nextJobId >= 0x7fffffff ? 1 : this.nextJobId + 1;
      this.send(this.shards[this.shardOf(tenant, trace.traceId)], job);
    });
  }

  private send(shard: Shard, job: Job): void {
    const worker = this.workerOf(shard);
    let setId = this.setIds.get(job.set);
    if (setId === undefined) {
      setId = this.nextSetId++;
      this.setIds.set(job.set, setId);
    }
    if (!shard.sets.has(setId)) {
      this.post(worker, { type: 'rules', setId, definitions: job.set.map((r) => r.compiled.definition) });
      shard.sets.set(setId, true);
      if (shard.sets.size > MAX_RULE_SETS_PER_WORKER) {
        const oldest = shard.sets.keys().next().value as number;
        shard.sets.delete(oldest);
        this.post(worker, { type: 'forget', setId: oldest });
      }
    }
    const excluded = new Set(job.hardSkips.map((s) => s.ruleId));
    const ruleIds = job.rules.map((r) => r.compiled.definition.id).filter((id) => !excluded.has(id));
    if (shard.jobs.length === 0) {
      job.startedAt = Date.now();
    }
    shard.jobs.push(job);
    shard.spans += job.trace.spans.length;
    // Structured clone of the spans (bigint timestamps and byte attributes clone as they are).
    this.post(worker, { type: 'evaluate', jobId: job.id, setId, ruleIds, trace: job.trace, budgetMs: this.o.budgetMs });
    this.o.metrics.evalQueueDepth.set({ worker: String(shard.index) }, shard.jobs.length);
  }

  private post(worker: Worker, m: ToWorker): void {
    worker.postMessage(m);
  }

  private workerOf(shard: Shard): Worker {
    if (shard.worker !== undefined) {
      return shard.worker;
    }
    const data: EvalWorkerData = { progress: shard.progress.buffer as SharedArrayBuffer };
    Atomics.store(shard.progress, PROGRESS_JOB, 0);
    Atomics.store(shard.progress, PROGRESS_RULE, 0);
    const w = new Worker(this.entry!.filename, { eval: this.entry!.eval, workerData: data, name: `betrace-eval-${shard.index}` });
    shard.worker = w;
    shard.ready = false;
    shard.threadId = w.threadId;
    shard.sets = new Map();
    w.on('message', (m: FromWorker) => {
      if (shard.worker === w) this.onMessage(shard, m);
    });
    w.on('error', (e) => {
      if (shard.worker === w) this.onCrash(shard, e);
    });
    w.on('exit', (code) => {
      if (shard.worker === w) this.onCrash(shard, new Error(`the evaluation worker exited with code ${code}`));
    });
    return w;
  }

  private onMessage(shard: Shard, m: FromWorker): void {
    if (m.type === 'ready') {
      shard.ready = true;
      if (shard.jobs.length > 0) {
        shard.jobs[0].startedAt = Date.now();
      }
      return;
    }
    const i = shard.jobs.findIndex((j) => j.id === m.jobId);
    if (i < 0) {
      return; // answered after its job was given up (cannot happen while the worker is current)
    }
    const [job] = shard.jobs.splice(i, 1);
    shard.spans -= job.trace.spans.length;
    if (shard.jobs.length > 0) {
      shard.jobs[0].startedAt = Date.now();
    }
    this.o.metrics.evalQueueDepth.set({ worker: String(shard.index) }, shard.jobs.length);
    this.o.metrics.evalWorkerEvaluations.inc({ worker: String(shard.index), thread: String(shard.threadId) });
    const run: RuleRun = { violations: m.violations, evaluated: m.evaluated, skipped: [...job.hardSkips, ...m.skipped], durationMs: m.durationMs };
    this.finish(job, { run });
  }

  private finish(job: Job, outcome: Outcome): void {
    try {
      job.done(outcome);
    } finally {
      this.wake();
    }
  }

  /** Resolves idle() waiters once nothing is in flight (after the outcome was recorded: done runs first). */
  private wake(): void {
    if (this.inFlight > 0 || this.waiters.length === 0) {
      return;
    }
    // The awaiting evaluate() records in a microtask after done(): let those run first.
    const waiters = this.waiters;
    this.waiters = [];
    setImmediate(() => waiters.forEach((w) => w()));
  }

  private onCrash(shard: Shard, error: unknown): void {
    shard.worker = undefined;
    this.o.metrics.evalWorkerRestarts.inc({ reason: 'crash' });
    const head = shard.jobs[0];
    if (head !== undefined) {
      head.crashes++;
      this.o.log.error({ err: error, worker: shard.index, tenant: head.tenant, traceId: head.trace.traceId, crashes: head.crashes }, 'an evaluation worker crashed; it is replaced and its traces are sent again');
      if (head.crashes >= MAX_CRASHES_PER_TRACE) {
        shard.jobs.shift();
        shard.spans -= head.trace.spans.length;
        this.finish(head, { notEvaluated: 'worker-crash' });
      }
    } else {
      this.o.log.error({ err: error, worker: shard.index }, 'an idle evaluation worker crashed; the next trace starts a new one');
    }
    this.resend(shard);
  }

  /** A worker stuck on one trace past the hard limit: terminate it, skip the rule it was in, resend. */
  private onHardLimit(shard: Shard): void {
    const head = shard.jobs[0];
    const w = shard.worker;
    if (head === undefined || w === undefined) {
      return;
    }
    shard.worker = undefined;
    void w.terminate();
    this.o.metrics.evalWorkerRestarts.inc({ reason: 'hard-limit' });
    const running = Atomics.load(shard.progress, PROGRESS_JOB) === head.id ? Atomics.load(shard.progress, PROGRESS_RULE) - 1 : -1;
    const excluded = new Set(head.hardSkips.map((s) => s.ruleId));
    const sent = head.rules.filter((r) => !excluded.has(r.compiled.definition.id));
    // The worker reports the rule it starts; not yet in one (still receiving the trace): every rule left is out of time.
    const blamed = running >= 0 && running < sent.length ? [sent[running]] : sent;
    for (const r of blamed) {
      head.hardSkips.push({ ruleId: r.compiled.definition.id, reason: 'hard-limit' });
    }
    this.o.log.error(
      { worker: shard.index, tenant: head.tenant, traceId: head.trace.traceId, rules: blamed.map((r) => r.compiled.definition.id), hardLimitMs: this.o.hardLimitMs },
      'a rule held an evaluation worker past EVAL_HARD_LIMIT: the worker is replaced and the rule skipped on this trace',
    );
    if (head.hardSkips.length >= head.rules.length) {
      shard.jobs.shift();
      shard.spans -= head.trace.spans.length;
      this.o.metrics.evalWorkerEvaluations.inc({ worker: String(shard.index), thread: String(shard.threadId) });
      this.finish(head, { run: { violations: [], evaluated: [], skipped: head.hardSkips, durationMs: Date.now() - head.startedAt } });
    }
    this.resend(shard);
  }

  /** Sends a shard's traces again, in their order, to a new worker. */
  private resend(shard: Shard): void {
    const jobs = shard.jobs.splice(0);
    shard.spans = 0;
    this.o.metrics.evalQueueDepth.set({ worker: String(shard.index) }, 0);
    if (this.stopped) {
      jobs.forEach((j) => this.finish(j, { notEvaluated: 'shutdown' }));
      return;
    }
    for (const job of jobs) {
      this.send(shard, job);
    }
  }

  private startWatchdog(): void {
    if (this.watchdog !== undefined) {
      return;
    }
    const every = Math.max(20, Math.min(1000, Math.floor(this.o.hardLimitMs / 4)));
    this.watchdog = setInterval(() => {
      const now = Date.now();
      for (const s of this.shards) {
        if (s.ready && s.jobs.length > 0 && now - s.jobs[0].startedAt > this.o.hardLimitMs) {
          this.onHardLimit(s);
        }
      }
    }, every);
    this.watchdog.unref();
  }
}

/** FNV-1a over UTF-16 code units: fast, stable across processes and versions. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
