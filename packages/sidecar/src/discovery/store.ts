/**
 * Discovery's tables in the sidecar's SQLite store (migration in src/store.ts): jobs with their
 * results, which suggestion of a job became which rule, and each tenant's dismissed suggestions.
 * Every query is scoped by tenant.
 */
import type { SqlDatabase, SqlStatement } from '../db/sql';
import type { DiscoveryResult, Suggestion, SuggestionKind } from '@betrace/evaluator';
import { StoreError } from '../store';

export type JobState = 'running' | 'done' | 'failed' | 'cancelled';
export type JobSource = 'history' | 'tempo';
export type SuggestionState = 'new' | 'adopted' | 'dismissed';

export interface JobOptions {
  top: number;
  minSupport?: number;
  minConfidence?: number;
  kinds?: SuggestionKind[];
}

export interface JobProgress {
  phase: 'mining' | 'validating' | 'ranking' | 'done';
  traces: number;
}

/** The job's summary: the miner's result without its suggestions, and what the sidecar left out. */
export type JobSummary = Omit<DiscoveryResult, 'suggestions'> & {
  /** Suggestions not kept because their text carried data the tenant's redaction policy withholds. */
  redacted: number;
};

export interface JobRecord {
  tenant: string;
  id: string;
  state: JobState;
  source: JobSource;
  from: number;
  to: number;
  createdAt: number;
  createdBy: string;
  finishedAt?: number;
  options: JobOptions;
  progress: JobProgress;
  error?: string;
  result?: JobSummary;
  suggestionCount: number;
}

interface JobRow {
  tenant: string;
  id: string;
  state: JobState;
  source: JobSource;
  from_ms: number;
  to_ms: number;
  created_at: number;
  created_by: string;
  finished_at: number | null;
  options: string;
  progress: string;
  error: string | null;
  result: string | null;
  suggestion_count: number;
}

const JOB_COLUMNS = 'tenant, id, state, source, from_ms, to_ms, created_at, created_by, finished_at, options, progress, error, result, suggestion_count';

function toJob(r: JobRow): JobRecord {
  const job: JobRecord = {
    tenant: r.tenant,
    id: r.id,
    state: r.state,
    source: r.source,
    from: r.from_ms,
    to: r.to_ms,
    createdAt: r.created_at,
    createdBy: r.created_by,
    options: JSON.parse(r.options) as JobOptions,
    progress: JSON.parse(r.progress) as JobProgress,
    suggestionCount: r.suggestion_count,
  };
  if (r.finished_at !== null) job.finishedAt = r.finished_at;
  if (r.error !== null) job.error = r.error;
  if (r.result !== null) job.result = JSON.parse(r.result) as JobSummary;
  return job;
}

/** Finished jobs kept per tenant: starting one more forgets the oldest finished one. */
export const KEPT_DISCOVERY_JOBS_PER_TENANT = 100;

export class DiscoveryStore {
  private readonly statements = new Map<string, SqlStatement>();

  constructor(readonly db: SqlDatabase) {}

  private sql(text: string): SqlStatement {
    let statement = this.statements.get(text);
    if (statement === undefined) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  insertJob(job: JobRecord): void {
    this.db.transaction(() => {
      this.sql(
        `INSERT INTO discovery_jobs (tenant, id, state, source, from_ms, to_ms, created_at, created_by, options, progress, suggestion_count)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)`,
      ).run(job.tenant, job.id, job.state, job.source, job.from, job.to, job.createdAt, job.createdBy, JSON.stringify(job.options), JSON.stringify(job.progress));
      const old = this.sql(`SELECT id FROM discovery_jobs WHERE tenant = ? AND state != 'running' ORDER BY created_at DESC, rowid DESC LIMIT -1 OFFSET ?`).all(
        job.tenant,
        KEPT_DISCOVERY_JOBS_PER_TENANT,
      ) as Array<{ id: string }>;
      for (const { id } of old) {
        this.deleteJob(job.tenant, id);
      }
    })();
  }

  /** Records how a job ended, with its summary and suggestions when it is done. */
  finishJob(
    tenant: string,
    id: string,
    end: { state: Exclude<JobState, 'running'>; finishedAt: number; progress: JobProgress; error?: string; result?: JobSummary; suggestions?: Suggestion[] },
  ): void {
    this.sql(
      `UPDATE discovery_jobs SET state = ?, finished_at = ?, progress = ?, error = ?, result = ?, suggestions = ?, suggestion_count = ?
       WHERE tenant = ? AND id = ?`,
    ).run(
      end.state,
      end.finishedAt,
      JSON.stringify(end.progress),
      end.error ?? null,
      end.result === undefined ? null : JSON.stringify(end.result),
      end.suggestions === undefined ? null : JSON.stringify(end.suggestions),
      end.suggestions?.length ?? 0,
      tenant,
      id,
    );
  }

  getJob(tenant: string, id: string): JobRecord | undefined {
    const row = this.sql(`SELECT ${JOB_COLUMNS} FROM discovery_jobs WHERE tenant = ? AND id = ?`).get(tenant, id) as JobRow | undefined;
    return row && toJob(row);
  }

  /** A job's suggestions as mined, best first (empty unless it is done). */
  suggestions(tenant: string, id: string): Suggestion[] {
    const row = this.sql('SELECT suggestions FROM discovery_jobs WHERE tenant = ? AND id = ?').get(tenant, id) as { suggestions: string | null } | undefined;
    return row?.suggestions ? (JSON.parse(row.suggestions) as Suggestion[]) : [];
  }

  /** The tenant's jobs, newest first. */
  listJobs(tenant: string): JobRecord[] {
    return (this.sql(`SELECT ${JOB_COLUMNS} FROM discovery_jobs WHERE tenant = ? ORDER BY created_at DESC, rowid DESC`).all(tenant) as JobRow[]).map(toJob);
  }

  /** Removes a job, its results and its adoption records (the rules adopted from it stay). */
  deleteJob(tenant: string, id: string): void {
    this.db.transaction(() => {
      this.sql('DELETE FROM discovery_jobs WHERE tenant = ? AND id = ?').run(tenant, id);
      this.sql('DELETE FROM discovery_adoptions WHERE tenant = ? AND job_id = ?').run(tenant, id);
    })();
  }

  /** Jobs left running by a sidecar that stopped: failed with `error`. Returns how many, per tenant. */
  failRunning(error: string, now: number): Array<{ tenant: string; id: string }> {
    const rows = this.sql(`SELECT tenant, id FROM discovery_jobs WHERE state = 'running'`).all() as Array<{ tenant: string; id: string }>;
    this.sql(`UPDATE discovery_jobs SET state = 'failed', error = ?, finished_at = ? WHERE state = 'running'`).run(error, now);
    return rows;
  }

  /** Which suggestion of a job became which rule. */
  adoptions(tenant: string, jobId: string): Map<string, string> {
    const rows = this.sql('SELECT suggestion_id, rule_id FROM discovery_adoptions WHERE tenant = ? AND job_id = ?').all(tenant, jobId) as Array<{ suggestion_id: string; rule_id: string }>;
    return new Map(rows.map((r) => [r.suggestion_id, r.rule_id]));
  }

  recordAdoption(tenant: string, jobId: string, suggestionId: string, ruleId: string, who: string, now: number): void {
    const done = this.sql('INSERT OR IGNORE INTO discovery_adoptions (tenant, job_id, suggestion_id, rule_id, adopted_at, adopted_by) VALUES (?, ?, ?, ?, ?, ?)').run(
      tenant,
      jobId,
      suggestionId,
      ruleId,
      now,
      who,
    );
    if (done.changes === 0) {
      throw new StoreError('conflict', `suggestion ${suggestionId} of ${jobId} is already adopted`);
    }
  }

  /** The tenant's dismissed suggestion ids. */
  dismissals(tenant: string): Set<string> {
    return new Set((this.sql('SELECT suggestion_id FROM discovery_dismissals WHERE tenant = ?').all(tenant) as Array<{ suggestion_id: string }>).map((r) => r.suggestion_id));
  }

  isDismissed(tenant: string, suggestionId: string): boolean {
    return this.sql('SELECT 1 FROM discovery_dismissals WHERE tenant = ? AND suggestion_id = ?').get(tenant, suggestionId) !== undefined;
  }

  dismiss(tenant: string, suggestionId: string, jobId: string, who: string, now: number): void {
    this.sql('INSERT OR IGNORE INTO discovery_dismissals (tenant, suggestion_id, job_id, dismissed_at, dismissed_by) VALUES (?, ?, ?, ?, ?)').run(tenant, suggestionId, jobId, now, who);
  }
}
