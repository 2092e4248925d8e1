/**
 * Discovery jobs (POST /api/v1/discover): the miner over a time range of the tenant's traces (from
 * Tempo, or from the sidecar's own history), one running job per tenant, with progress and cancel
 * like replay. A job's results are kept in the store until the job is deleted, across restarts; a
 * job that was running when the sidecar stopped is failed ("the sidecar stopped") at the next start.
 * The tenant's rules (enabled and disabled) are passed to the miner as existing rules, its
 * dismissed suggestions as dismissed: neither is proposed again.
 */
import { randomBytes } from 'crypto';
import { DiscoverAborted, DiscoverProgress, Suggestion, Trace, TraceSource } from '@betrace/evaluator';
import type { Logger } from 'pino';
import type { Redactor } from '../redact';
import type { Store } from '../store';
import type { TempoClient } from '../tempo/client';
import type { Miner } from './mine';
import type { WorkerOptions } from './protocol';
import { TraceHistory, tempoSource } from './sources';
import { DiscoveryStore, JobOptions, JobProgress, JobRecord, JobSource, SuggestionState } from './store';

export const STOPPED_ERROR = 'the sidecar stopped';

/** A second job of a tenant while one runs (the API answers 429). */
export class DiscoveryBusy extends Error {}

/** Neither Tempo nor the history can serve the job (the API answers 409 no_source). */
export class NoSource extends Error {}

export type RequestedSource = 'auto' | 'history' | 'tempo';

export interface JobSuggestion extends Suggestion {
  state: SuggestionState;
  adoptedRuleId?: string;
}

export interface DiscoveryJobsOptions {
  store: Store;
  discovery: DiscoveryStore;
  miner: Miner;
  /** The tenant's Tempo client, when the sidecar has one (TEMPO_URL). */
  tempoOf: (tenant: string) => TempoClient | undefined;
  /** The sidecar's trace history, when it keeps one. */
  history: TraceHistory | undefined;
  /** Without a history: what to set to have one (the 409 no_source message's end). */
  historyMissing?: string;
  redactorOf: (tenant: string) => Redactor;
  log: Logger;
  now: () => number;
}

interface Running {
  job: JobRecord;
  abort: { aborted: boolean };
  done: Promise<void>;
}

export class DiscoveryJobs {
  /** The running job of each tenant. */
  private readonly running = new Map<string, Running>();

  constructor(private readonly o: DiscoveryJobsOptions) {
    for (const j of o.discovery.failRunning(STOPPED_ERROR, o.now())) {
      o.log.warn({ tenant: j.tenant, discovery: j.id }, 'a discovery job was running when the sidecar stopped: marked failed');
    }
  }

  /** The source a job of `tenant` reads for `requested`; NoSource says which setting is missing. */
  sourceFor(tenant: string, requested: RequestedSource): JobSource {
    const tempo = this.o.tempoOf(tenant) !== undefined;
    const history = this.o.history !== undefined;
    if (requested === 'tempo' && !tempo) {
      throw new NoSource('discovery from Tempo needs pull mode: set TEMPO_URL');
    }
    const keepHistory = this.o.historyMissing ?? 'keep the sidecar’s history of recent traces (HISTORY_MAX_BYTES above 0)';
    if (requested === 'history' && !history) {
      throw new NoSource(`discovery from the history needs one: ${keepHistory}`);
    }
    if (requested === 'auto') {
      if (tempo) return 'tempo';
      if (history) return 'history';
      throw new NoSource(`discovery needs traces to read: set TEMPO_URL (pull mode), or ${keepHistory}`);
    }
    return requested;
  }

  /** Starts a job; throws DiscoveryBusy while the tenant has one running, NoSource without traces to read. */
  start(tenant: string, request: { from: number; to: number; source: RequestedSource; options: JobOptions }, who: string): JobRecord {
    const source = this.sourceFor(tenant, request.source);
    const busy = this.running.get(tenant);
    if (busy !== undefined) {
      throw new DiscoveryBusy(`discovery ${busy.job.id} is running; wait for it to finish or cancel it (DELETE /api/v1/discover/${busy.job.id})`);
    }
    const job: JobRecord = {
      tenant,
      id: `dj-${randomBytes(8).toString('hex')}`,
      state: 'running',
      source,
      from: request.from,
      to: request.to,
      createdAt: this.o.now(),
      createdBy: who,
      options: request.options,
      progress: { phase: 'mining', traces: 0 },
      suggestionCount: 0,
    };
    this.o.discovery.insertJob(job);
    const abort = { aborted: false };
    const run: Running = { job, abort, done: Promise.resolve() };
    this.running.set(tenant, run);
    run.done = this.run(run);
    return { ...job };
  }

  private traceSource(job: JobRecord, cancelled: () => boolean): TraceSource {
    if (job.source === 'tempo') {
      const client = this.o.tempoOf(job.tenant);
      if (!client) throw new NoSource('TEMPO_URL is no longer set');
      return tempoSource(client, job.from, job.to, { log: this.o.log, cancelled });
    }
    if (!this.o.history) throw new NoSource('the trace history is no longer kept');
    return this.o.history.source(job.tenant, job.from, job.to, { cancelled });
  }

  private async run(r: Running): Promise<void> {
    const { job, abort } = r;
    const redactor = this.o.redactorOf(job.tenant);
    const options: WorkerOptions = {
      top: job.options.top,
      ...(job.options.minSupport !== undefined ? { minSupport: job.options.minSupport } : {}),
      ...(job.options.minConfidence !== undefined ? { minConfidence: job.options.minConfidence } : {}),
      ...(job.options.kinds !== undefined ? { kinds: job.options.kinds } : {}),
      existingRules: this.o.store.listRules(job.tenant).map((x) => ({ id: x.definition.id, condition: x.definition.condition })),
      dismissed: [...this.o.discovery.dismissals(job.tenant)],
    };
    const started = this.o.now();
    try {
      const source = this.traceSource(job, () => abort.aborted);
      const result = await this.o.miner({
        source,
        options,
        signal: abort,
        onProgress: (p: DiscoverProgress) => {
          job.progress = { phase: p.phase, traces: p.traces };
        },
      });
      if (abort.aborted) {
        return; // cancelled (recorded by cancel) while the miner finished
      }
      // A suggestion is rule text mined from span data: one that carries what the tenant's
      // redaction policy withholds (an e-mail address in an enum set) is not shown at all.
      const { suggestions, ...summary } = result;
      const kept = suggestions.filter((s) => redactor.text(s.condition) === s.condition && redactor.text(s.title) === s.title);
      const progress: JobProgress = { phase: 'done', traces: result.traces };
      job.progress = progress;
      this.o.discovery.finishJob(job.tenant, job.id, {
        state: 'done',
        finishedAt: this.o.now(),
        progress,
        result: { ...summary, redacted: suggestions.length - kept.length },
        suggestions: kept,
      });
      this.o.log.info({ tenant: job.tenant, discovery: job.id, traces: result.traces, suggestions: kept.length, ms: this.o.now() - started }, 'discovery done');
    } catch (e) {
      if (abort.aborted || e instanceof DiscoverAborted) {
        return;
      }
      const message = e instanceof Error ? e.message : String(e);
      this.o.log.warn({ err: e, tenant: job.tenant, discovery: job.id }, 'discovery failed');
      this.o.discovery.finishJob(job.tenant, job.id, { state: 'failed', finishedAt: this.o.now(), progress: job.progress, error: message });
    } finally {
      if (this.running.get(job.tenant) === r) {
        this.running.delete(job.tenant);
      }
    }
  }

  /** A job of the tenant (its live progress while it runs). */
  get(tenant: string, id: string): JobRecord | undefined {
    const job = this.o.discovery.getJob(tenant, id);
    const live = this.running.get(tenant);
    if (job && live?.job.id === id) {
      job.progress = { ...live.job.progress };
    }
    return job;
  }

  list(tenant: string): JobRecord[] {
    const live = this.running.get(tenant);
    return this.o.discovery.listJobs(tenant).map((j) => (live?.job.id === j.id ? { ...j, progress: { ...live.job.progress } } : j));
  }

  /** A job's suggestions, best first, each with its state (dismissals are the tenant's, whichever job they came from). */
  suggestions(tenant: string, id: string): JobSuggestion[] {
    const adopted = this.o.discovery.adoptions(tenant, id);
    const dismissed = this.o.discovery.dismissals(tenant);
    return this.o.discovery.suggestions(tenant, id).map((s) => {
      const ruleId = adopted.get(s.id);
      if (ruleId !== undefined) return { ...s, state: 'adopted', adoptedRuleId: ruleId };
      return { ...s, state: dismissed.has(s.id) ? 'dismissed' : 'new' };
    });
  }

  /** Records that a suggestion of a job became a rule (inside the rule's transaction); a second time is a conflict. */
  recordAdoption(tenant: string, jobId: string, suggestionId: string, ruleId: string, who: string): void {
    this.o.discovery.recordAdoption(tenant, jobId, suggestionId, ruleId, who, this.o.now());
  }

  /** Remembers a dismissed suggestion for the tenant: later jobs do not propose it. */
  dismiss(tenant: string, jobId: string, suggestionId: string, who: string): void {
    this.o.discovery.dismiss(tenant, suggestionId, jobId, who, this.o.now());
  }

  /** Cancels a running job, or deletes a finished one with its results; undefined when the tenant has no such job. */
  cancelOrDelete(tenant: string, id: string, who: string): { job: JobRecord; action: 'cancel' | 'delete' } | undefined {
    const job = this.get(tenant, id);
    if (!job) {
      return undefined;
    }
    const live = this.running.get(tenant);
    if (job.state === 'running' && live?.job.id === id) {
      live.abort.aborted = true;
      this.running.delete(tenant);
      const end = { state: 'cancelled' as const, finishedAt: this.o.now(), progress: live.job.progress };
      this.o.discovery.finishJob(tenant, id, end);
      this.o.store.appendAudit(tenant, { who, action: 'discovery.cancel', target: `discovery:${id}`, before: { state: 'running' }, after: { state: 'cancelled' } }, end.finishedAt);
      return { job: { ...job, ...end }, action: 'cancel' };
    }
    this.o.discovery.deleteJob(tenant, id);
    this.o.store.appendAudit(tenant, { who, action: 'discovery.delete', target: `discovery:${id}`, before: { state: job.state, suggestionCount: job.suggestionCount }, after: null }, this.o.now());
    return { job, action: 'delete' };
  }

  /** One trace of a job's source (Tempo by id, or the history), or undefined. */
  async trace(job: JobRecord, traceId: string): Promise<Trace | undefined> {
    if (job.source === 'tempo') {
      return this.o.tempoOf(job.tenant)?.trace(traceId);
    }
    const history = this.o.history;
    if (!history) {
      return undefined;
    }
    if (history.trace) {
      return history.trace(job.tenant, traceId);
    }
    for await (const t of history.source(job.tenant, job.from, job.to)()) {
      if (t.traceId === traceId) {
        return t;
      }
    }
    return undefined;
  }

  /** Resolves when the tenant's running job (or every running job) has ended. */
  async idle(tenant?: string): Promise<void> {
    const runs = tenant === undefined ? [...this.running.values()] : [this.running.get(tenant)].filter((r): r is Running => r !== undefined);
    await Promise.all(runs.map((r) => r.done));
  }

  /** At stop: every running job is aborted and failed as "the sidecar stopped". */
  async stop(): Promise<void> {
    const runs = [...this.running.values()];
    for (const r of runs) {
      r.abort.aborted = true;
      this.running.delete(r.job.tenant);
      this.o.discovery.finishJob(r.job.tenant, r.job.id, { state: 'failed', finishedAt: this.o.now(), progress: r.job.progress, error: STOPPED_ERROR });
    }
    await Promise.all(runs.map((r) => r.done));
  }
}
