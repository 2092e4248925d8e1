/**
 * Replay: rules (saved, or an unsaved draft from the editor) over a past time range in Tempo, or
 * in the sidecar's own history of recent traces when there is no Tempo (docs/history.md), as a
 * job with progress that can be cancelled. Jobs run one at a time; from Tempo with their own
 * client of low concurrency, so a replay never starves the live poller. A dry run returns the
 * violations without creating signals; otherwise signals are stored with source `replay`, through
 * the same pipeline as push and pull (same ids: a replay never duplicates a live signal).
 *
 * Jobs live in the store (replay_jobs), with their rules and progress, so any replica answers for
 * a job, a cancel reaches the replica running it, and a job survives the replica that ran it: the
 * runner holds the job's lease (src/leases.ts) while it runs and renews it window by window; when
 * the lease lapses, another replica's `resume` takes the job over from its last stored window.
 */
import { randomUUID } from 'crypto';
import { compileRule, evaluateTrace, RuleDefinition, Trace, Violation } from '@betrace/evaluator';
import type { Logger } from 'pino';
import type { History } from './history';
import { HeldLease, Leases, replayKey } from './leases';
import type { Pipeline } from './pipeline';
import type { ActiveRule } from './rules';
import type { Store } from './store';
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

/** How replay jobs are shared by the replicas of one store. */
export interface ReplaySharing {
  store: Store;
  /** This replica's id (REPLICA_ID): the holder of the jobs' leases. */
  replica: string;
  /** A job's lease period (PULL_LEASE): a job whose runner died is taken over after it. */
  leaseMs: number;
  /** Renew the lease on this timer too while a window waits on Tempo (default a third of leaseMs; 0: only between windows). */
  renewTimerMs?: number;
}

interface JobRow {
  id: string;
  status: ReplayStatus;
  source: 'tempo' | 'history';
  origin: string;
  job: string;
  rules: string;
  violations: string;
}

const ACTIVE = "('queued', 'running')";

export class ReplayRunner {
  /** Jobs queued or running on this replica (the live objects; the store has every job). */
  private readonly jobs = new Map<string, ReplayJob>();
  private readonly rulesOf = new Map<string, readonly ActiveRule[]>();
  private queue: Promise<void> = Promise.resolve();
  private readonly leases: Leases;
  /** Leases of the jobs running here. */
  private readonly held = new Map<string, HeldLease>();
  /** Violations already written for a job (they are rewritten only when more were found). */
  private readonly storedViolations = new Map<string, number>();
  private stopping = false;

  constructor(
    private readonly source: ReplaySource,
    private readonly pipeline: Pipeline,
    private readonly log: Logger,
    private readonly now: () => number,
    private readonly shared: ReplaySharing,
    private readonly limit = 200,
  ) {
    this.leases = new Leases(shared.store.db, shared.replica);
  }

  private get db() {
    return this.shared.store.db;
  }

  /** Queues a replay; it starts when the jobs before it (on this replica) are done. */
  start(tenant: string, rules: readonly ActiveRule[], from: number, to: number, dryRun: boolean): ReplayJob {
    // Across the cluster: the store counts every replica's jobs.
    const active = (this.db.prepare(`SELECT count(*) AS n FROM replay_jobs WHERE tenant = ? AND status IN ${ACTIVE}`).get(tenant) as { n: number }).n;
    if (Number(active) >= MAX_ACTIVE_JOBS_PER_TENANT) {
      throw new ReplayBusy(`${MAX_ACTIVE_JOBS_PER_TENANT} replays are already queued or running; wait for one to finish or cancel one`);
    }
    // The store stays bounded: only the newest finished jobs (and their dry-run violations) are kept.
    this.db
      .prepare(
        `DELETE FROM replay_jobs WHERE tenant = ? AND status NOT IN ${ACTIVE} AND id NOT IN (
           SELECT id FROM replay_jobs WHERE tenant = ? AND status NOT IN ${ACTIVE} ORDER BY created_at DESC LIMIT ?)`,
      )
      .run(tenant, tenant, KEPT_FINISHED_JOBS_PER_TENANT - 1);
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
    // Unsaved drafts too: whoever takes the job over compiles the same definitions.
    const stored = rules.map((r) => ({ definition: r.compiled.definition, version: r.version }));
    this.db
      .prepare('INSERT INTO replay_jobs (tenant, id, status, source, origin, created_at, rules, job, violations) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(tenant, job.id, job.status, job.source, this.shared.replica, job.createdAt, JSON.stringify(stored), JSON.stringify(progressOf(job)), '[]');
    this.enqueue(job, rules);
    return job;
  }

  private enqueue(job: ReplayJob, rules: readonly ActiveRule[]): void {
    this.jobs.set(job.id, job);
    this.rulesOf.set(job.id, rules);
    // A job that cannot even write its state (the store closed under it) must not stop the queue.
    this.queue = this.queue.then(() =>
      this.run(job).catch((e: unknown) => {
        this.log.warn({ err: e, replay: job.id }, 'replay stopped: its state could not be written');
        this.held.get(job.id)?.abandon();
        this.forget(job.id);
      }),
    );
  }

  /**
   * Stops here (the sidecar is stopping): a running job stops after its current window, keeps its
   * progress in the store and gives its lease up, so another replica (or this one after the
   * restart) takes it over at once; queued jobs stay queued. Resolves when the queue is empty.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.queue;
  }

  /** A job as this replica runs it (live progress), or as the store has it (any replica's). */
  get(tenant: string, id: string): ReplayJob | undefined {
    const live = this.jobs.get(id);
    if (live && live.tenant === tenant && this.held.get(id)?.held()) {
      return live;
    }
    const row = this.row(tenant, id);
    return row && jobOf(row);
  }

  /** Cancels a job wherever it runs: the store says so, and its runner stops at its next window. */
  cancel(tenant: string, id: string): ReplayJob | undefined {
    const now = this.now();
    const live = this.jobs.get(id);
    if (live && live.tenant === tenant && (live.status === 'queued' || live.status === 'running')) {
      live.status = 'cancelled';
      live.finishedAt = now;
    }
    // The write comes first, so SQLite takes its write lock before reading (no stale snapshot).
    this.db.transaction(() => {
      if (this.db.prepare(`UPDATE replay_jobs SET status = 'cancelled' WHERE tenant = ? AND id = ? AND status IN ${ACTIVE}`).run(tenant, id).changes === 1) {
        const job = { ...jobOf(this.row(tenant, id)!), finishedAt: now };
        this.db.prepare('UPDATE replay_jobs SET job = ? WHERE tenant = ? AND id = ?').run(JSON.stringify(progressOf(job)), tenant, id);
      }
    })();
    return this.get(tenant, id);
  }

  /**
   * Takes over the tenant's unfinished jobs that no replica holds: queued ones never started (or
   * whose replica is gone) and running ones whose runner's lease lapsed; each continues from its
   * last stored window. History jobs read this replica's own history, so only the replica that
   * made them (a restart with the same REPLICA_ID) resumes them, from the start of their range.
   * Returns the ids of the jobs queued here.
   */
  resume(tenant: string): string[] {
    const rows = this.db.prepare(`SELECT * FROM replay_jobs WHERE tenant = ? AND status IN ${ACTIVE} ORDER BY created_at`).all(tenant) as JobRow[];
    const taken: string[] = [];
    for (const row of rows) {
      if (this.jobs.has(row.id) || row.source !== this.source.kind || (row.source === 'history' && row.origin !== this.shared.replica)) {
        continue;
      }
      if (this.leases.holderOf(replayKey(tenant, row.id), this.now()) !== undefined) {
        continue;
      }
      const job = jobOf(row);
      if (job.source === 'history') {
        Object.assign(job, { windowsDone: 0, searches: 0, tracesFetched: 0, violationsFound: 0, signalsCreated: 0, violations: [] });
      }
      const rules: ActiveRule[] = [];
      for (const r of JSON.parse(row.rules) as Array<{ definition: RuleDefinition; version: number }>) {
        const compiled = compileRule(r.definition).rule;
        if (compiled) {
          rules.push({ compiled, version: r.version });
        }
      }
      this.log.info({ replay: job.id, tenant, windowsDone: job.windowsDone, windowsTotal: job.windowsTotal, origin: row.origin }, 'resuming a replay no replica holds');
      this.enqueue(job, rules);
      taken.push(job.id);
    }
    return taken;
  }

  /** Resolves when every job queued here has finished. */
  idle(): Promise<void> {
    return this.queue;
  }

  private row(tenant: string, id: string): JobRow | undefined {
    return this.db.prepare('SELECT * FROM replay_jobs WHERE tenant = ? AND id = ?').get(tenant, id) as JobRow | undefined;
  }

  /**
   * Writes the job's progress, only while its lease is ours and the store still has it unfinished
   * (a cancel from any replica wins: the job here becomes cancelled). False: stop the job.
   */
  private persist(job: ReplayJob, lease: HeldLease): boolean {
    return this.db.transaction(() => {
      if (!lease.held()) {
        return false;
      }
      // The write comes first (SQLite takes its write lock before it reads anything).
      if (this.db.prepare(`UPDATE replay_jobs SET status = ?, job = ? WHERE tenant = ? AND id = ? AND status IN ${ACTIVE}`).run(job.status, JSON.stringify(progressOf(job)), job.tenant, job.id).changes === 0) {
        const row = this.db.prepare('SELECT status FROM replay_jobs WHERE tenant = ? AND id = ?').get(job.tenant, job.id) as { status: ReplayStatus } | undefined;
        if (job.status === 'queued' || job.status === 'running') {
          job.status = row?.status ?? 'cancelled';
          job.finishedAt ??= this.now();
        }
        return false;
      }
      if ((this.storedViolations.get(job.id) ?? 0) !== job.violations.length) {
        this.db.prepare('UPDATE replay_jobs SET violations = ? WHERE tenant = ? AND id = ?').run(JSON.stringify(job.violations), job.tenant, job.id);
        this.storedViolations.set(job.id, job.violations.length);
      }
      return true;
    })();
  }

  private async run(job: ReplayJob): Promise<void> {
    const lease = job.status === 'cancelled' || this.stopping ? undefined : HeldLease.take(this.leases, replayKey(job.tenant, job.id), job.tenant, this.now, this.shared.leaseMs, this.shared.renewTimerMs ?? Math.floor(this.shared.leaseMs / 3));
    if (lease === undefined) {
      // Cancelled while queued, or another replica took it over first.
      this.forget(job.id);
      return;
    }
    this.held.set(job.id, lease);
    this.storedViolations.set(job.id, job.violations.length);
    job.status = 'running';
    if (!this.persist(job, lease)) {
      lease.release();
      this.forget(job.id);
      return;
    }
    const rules = this.rulesOf.get(job.id)!;
    const compiled = rules.map((r) => r.compiled);
    // Violations already found (before a takeover) count once, as a signal would.
    const seen = new Set<string>(job.violations.map((v) => `${v.ruleId}\u0000${v.traceId}\u0000${v.boundSpanId ?? ''}`));
    const onTrace = (trace: Trace, matching: readonly ActiveRule[]): void => {
      if (!lease.held()) {
        return;
      }
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
    const going = () => job.status === 'running' && !this.stopping && lease.held();
    try {
      if (this.source.kind === 'history') {
        // Spans as they were received (not redacted): rules must see what live evaluation saw;
        // what leaves (violation messages, signals) is redacted by the pipeline.
        let persistedAt = this.now();
        const traces = this.source.history.source(job.tenant, job.from, job.to, {
          redact: false,
          cancelled: () => !going(),
          onProgress: (p) => {
            job.windowsDone = Math.max(job.windowsDone, Math.min(job.windowsTotal - 1, Math.floor((p.receivedAt - job.from) / WINDOW_MS)));
            // Progress (and a cancel from another replica) a few times per lease period.
            if (this.now() - persistedAt >= this.shared.leaseMs / 3) {
              persistedAt = this.now();
              this.persist(job, lease);
            }
          },
        });
        for await (const trace of traces()) {
          if (!going()) {
            break;
          }
          job.tracesFetched++;
          onTrace(trace, rules);
        }
        if (going()) {
          job.windowsDone = job.windowsTotal;
        }
      } else {
        // From the first window not stored as done: a job taken over does not scan its done windows again.
        for (let from = job.from + job.windowsDone * WINDOW_MS; from < job.to && going(); from += WINDOW_MS) {
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
            () => !going(),
          );
          if (!going()) {
            break;
          }
          job.windowsDone++;
          this.persist(job, lease);
        }
      }
      if (going()) {
        job.status = 'done';
      }
    } catch (e) {
      if (this.stopping && lease.held()) {
        // Stopping mid-window: the window is scanned again by whoever resumes the job.
        this.persist(job, lease);
        lease.release();
        this.forget(job.id);
        return;
      }
      if (lease.held()) {
        job.status = 'failed';
        job.error = e instanceof Error ? e.message : String(e);
        this.log.warn({ err: e, replay: job.id }, 'replay failed');
      }
    }
    if (this.stopping && job.status === 'running' && lease.held()) {
      // Progress stays in the store with the job still running; the lease goes, for a takeover.
      this.persist(job, lease);
      lease.release();
    } else if (lease.held()) {
      job.finishedAt ??= this.now();
      this.persist(job, lease);
      lease.release();
    } else {
      // Taken over after this replica's lease lapsed: the replica that holds it now writes the job.
      this.log.warn({ replay: job.id, tenant: job.tenant, replica: this.shared.replica }, 'the lease on a replay was taken over by another replica; this one stops it here');
      lease.abandon();
    }
    this.forget(job.id);
  }

  private forget(id: string): void {
    this.jobs.delete(id);
    this.rulesOf.delete(id);
    this.held.delete(id);
    this.storedViolations.delete(id);
  }
}

/** The job as stored, without its violations (they have their own column, rewritten only when they grow). */
function progressOf(job: ReplayJob): Omit<ReplayJob, 'violations'> {
  const { violations: _v, ...rest } = job;
  return rest;
}

function jobOf(row: JobRow): ReplayJob {
  return { ...(JSON.parse(row.job) as Omit<ReplayJob, 'violations'>), status: row.status, violations: JSON.parse(row.violations) as Violation[] };
}
