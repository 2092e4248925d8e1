/**
 * Replay: rules (saved, or an unsaved draft from the editor) over a past time range in Tempo, or
 * in the sidecar's own history of recent traces when there is no Tempo (docs/history.md), as a
 * job with progress that can be cancelled. Jobs run one at a time; from Tempo with their own
 * client of low concurrency, so a replay never starves the live poller. A dry run returns the
 * violations without creating signals; otherwise signals are stored with source `replay`, through
 * the same pipeline as push and pull (same ids: a replay never duplicates a live signal).
 */
import { randomUUID } from 'crypto';
import { evaluateTrace, Trace, Violation } from '@betrace/evaluator';
import type { Logger } from 'pino';
import type { History } from './history';
import type { Pipeline } from './pipeline';
import type { ActiveRule } from './rules';
import type { TempoClient } from './tempo/client';
import { scanWindow } from './tempo/scan';

export type ReplayStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export interface ReplayJob {
  id: string;
  tenant: string;
  /** Where the traces are read: Tempo (pull mode) or the sidecar's history. */
  source: 'tempo' | 'history';
  ruleIds: string[];
  from: number;
  to: number;
  dryRun: boolean;
  status: ReplayStatus;
  /** 5-minute windows of the range; from history, done as the receive time of the records read passes them. */
  windowsDone: number;
  windowsTotal: number;
  /** Tempo searches (0 from history). */
  searches: number;
  /** Traces read from Tempo or the history. */
  tracesFetched: number;
  violationsFound: number;
  signalsCreated: number;
  /** Dry runs: the violations found (at most MAX_DRY_RUN_VIOLATIONS). */
  violations: Violation[];
  error?: string;
  createdAt: number;
  finishedAt?: number;
}

export const MAX_DRY_RUN_VIOLATIONS = 10_000;
/** Jobs a tenant may have queued or running at once; more are refused (the API answers 429). */
export const MAX_ACTIVE_JOBS_PER_TENANT = 5;
/** Finished jobs kept per tenant for GET /replay/:id (the oldest are forgotten). */
export const KEPT_FINISHED_JOBS_PER_TENANT = 20;

export class ReplayBusy extends Error {}
const WINDOW_MS = 5 * 60_000;

/** Where replay reads traces: Tempo, or the history (which has every trace, so rules' pushdown searches are not needed). */
export type ReplaySource = { kind: 'tempo'; client: TempoClient } | { kind: 'history'; history: History };

export class ReplayRunner {
  private readonly jobs = new Map<string, ReplayJob>();
  private readonly rulesOf = new Map<string, readonly ActiveRule[]>();
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly source: ReplaySource,
    private readonly pipeline: Pipeline,
    private readonly log: Logger,
    private readonly now: () => number,
    private readonly limit = 200,
  ) {}

  /** Queues a replay; it starts when the jobs before it are done. */
  start(tenant: string, rules: readonly ActiveRule[], from: number, to: number, dryRun: boolean): ReplayJob {
    const mine = [...this.jobs.values()].filter((j) => j.tenant === tenant);
    if (mine.filter((j) => j.status === 'queued' || j.status === 'running').length >= MAX_ACTIVE_JOBS_PER_TENANT) {
      throw new ReplayBusy(`${MAX_ACTIVE_JOBS_PER_TENANT} replays are already queued or running; wait for one to finish or cancel one`);
    }
    // Memory stays bounded: only the newest finished jobs (and their dry-run violations) are kept.
    const finished = mine.filter((j) => j.status !== 'queued' && j.status !== 'running');
    for (const old of finished.slice(0, Math.max(0, finished.length - KEPT_FINISHED_JOBS_PER_TENANT + 1))) {
      this.jobs.delete(old.id);
    }
    const job: ReplayJob = {
      id: randomUUID(),
      tenant,
      source: this.source.kind,
      ruleIds: rules.map((r) => r.compiled.definition.id),
      from,
      to,
      dryRun,
      status: 'queued',
      windowsDone: 0,
      windowsTotal: Math.max(1, Math.ceil((to - from) / WINDOW_MS)),
      searches: 0,
      tracesFetched: 0,
      violationsFound: 0,
      signalsCreated: 0,
      violations: [],
      createdAt: this.now(),
    };
    this.jobs.set(job.id, job);
    this.rulesOf.set(job.id, rules);
    this.queue = this.queue.then(() => this.run(job));
    return job;
  }

  get(tenant: string, id: string): ReplayJob | undefined {
    const job = this.jobs.get(id);
    return job && job.tenant === tenant ? job : undefined;
  }

  cancel(tenant: string, id: string): ReplayJob | undefined {
    const job = this.get(tenant, id);
    if (job && (job.status === 'queued' || job.status === 'running')) {
      job.status = 'cancelled';
      job.finishedAt = this.now();
    }
    return job;
  }

  /** Resolves when every queued job has finished. */
  idle(): Promise<void> {
    return this.queue;
  }

  private async run(job: ReplayJob): Promise<void> {
    if (job.status === 'cancelled') {
      this.rulesOf.delete(job.id);
      return;
    }
    job.status = 'running';
    const rules = this.rulesOf.get(job.id)!;
    const compiled = rules.map((r) => r.compiled);
    const seen = new Set<string>();
    const onTrace = (trace: Trace, matching: readonly ActiveRule[]): void => {
      if (job.dryRun) {
        const found = evaluateTrace(
          matching.map((r) => r.compiled),
          trace,
        );
        for (const v of found) {
          // Overlapping windows see a trace twice; a violation counts once, as a signal would.
          const key = `${v.ruleId}\u0000${v.traceId}\u0000${v.boundSpanId ?? ''}`;
          if (seen.has(key)) {
            continue;
          }
          seen.add(key);
          job.violationsFound++;
          if (job.violations.length < MAX_DRY_RUN_VIOLATIONS) {
            job.violations.push(this.pipeline.redacted(job.tenant, v, trace.spans.find((s) => s.spanId === v.boundSpanId)));
          }
        }
      } else {
        const before = job.signalsCreated;
        const stored = this.pipeline.evaluateWith(job.tenant, trace, 'replay', matching);
        job.signalsCreated = before + stored.length;
        job.violationsFound += stored.length;
      }
    };
    try {
      if (this.source.kind === 'history') {
        // Spans as they were received (not redacted): rules must see what live evaluation saw;
        // what leaves (violation messages, signals) is redacted by the pipeline.
        const traces = this.source.history.source(job.tenant, job.from, job.to, {
          redact: false,
          cancelled: () => job.status !== 'running',
          onProgress: (p) => {
            job.windowsDone = Math.max(job.windowsDone, Math.min(job.windowsTotal - 1, Math.floor((p.receivedAt - job.from) / WINDOW_MS)));
          },
        });
        for await (const trace of traces()) {
          if (job.status !== 'running') {
            break;
          }
          job.tracesFetched++;
          onTrace(trace, rules);
        }
        if (job.status === 'running') {
          job.windowsDone = job.windowsTotal;
        }
      } else {
        for (let from = job.from; from < job.to && job.status === 'running'; from += WINDOW_MS) {
          const to = Math.min(from + WINDOW_MS, job.to);
          await scanWindow(
            this.source.client,
            compiled,
            from,
            to,
            this.limit,
            this.log,
            job,
            (trace, ruleIds) => onTrace(trace, rules.filter((r) => ruleIds.has(r.compiled.definition.id))),
            () => job.status !== 'running',
          );
          job.windowsDone++;
        }
      }
      if (job.status === 'running') {
        job.status = 'done';
      }
    } catch (e) {
      job.status = 'failed';
      job.error = e instanceof Error ? e.message : String(e);
      this.log.warn({ err: e, replay: job.id }, 'replay failed');
    }
    job.finishedAt ??= this.now();
    this.rulesOf.delete(job.id);
  }
}
