/**
 * The sidecar's state: rules and their versions, signals and their lifecycle, and the durable
 * outbox that feeds the writers. Every query is scoped by tenant. A signal and its outbox rows
 * are written in one transaction, so a crash can lose neither half.
 *
 * Two engines behind one interface (db/sql.ts): SQLite (better-sqlite3, WAL) in the data folder
 * by default, or PostgreSQL when the target is a `postgres://` URL (DATABASE_URL), shared by any
 * number of replicas. The SQL is written once; db/pgDialect.ts turns SQLite's few spellings of
 * its own into PostgreSQL's, and the handful of statements whose meaning must differ between one
 * process and many (outbox claims, the ingest log's decisions) branch on the engine here.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import Database from 'better-sqlite3';
import { migratePostgres } from './db/pgSchema';
import { PgDatabase } from './db/pgSync';
import { SCHEMA_VERSION_TABLE } from './db/postgresCheck';
import { engineOf, isPostgresUrl, type SqlDatabase, type SqlEngine, type SqlStatement } from './db/sql';
import type { RuleDefinition, Severity, Violation } from '@betrace/evaluator';

export type SignalStatus = 'open' | 'acknowledged' | 'resolved' | 'false_positive';
export type SignalSource = 'push' | 'pull' | 'replay';

export const SIGNAL_STATUSES: readonly SignalStatus[] = ['open', 'acknowledged', 'resolved', 'false_positive'];

/** Allowed lifecycle moves: open → acknowledged → resolved | false_positive, and reopening. */
const TRANSITIONS: Record<SignalStatus, readonly SignalStatus[]> = {
  open: ['acknowledged', 'resolved', 'false_positive'],
  acknowledged: ['resolved', 'false_positive', 'open'],
  resolved: ['open'],
  false_positive: ['open'],
};

export interface Signal {
  id: string;
  tenant: string;
  ruleId: string;
  ruleVersion: number;
  ruleName: string;
  traceId: string;
  boundSpanId?: string;
  matchedSpanIds: string[];
  message: string;
  severity: Severity;
  status: SignalStatus;
  source: SignalSource;
  /** service.name of the bound (or first matched) span, when known. */
  service?: string;
  createdAt: number;
  updatedAt: number;
  /** Unix ns (decimal) inside the violating trace where its signal span goes; absent on signals from before. */
  anchorNs?: string;
}

export interface SignalChange {
  at: number;
  who: string;
  from: SignalStatus;
  to: SignalStatus;
  note: string;
}

export interface StoredRule {
  definition: RuleDefinition;
  version: number;
  provisioned: boolean;
  updatedAt: number;
  updatedBy: string;
}

export interface RuleVersion {
  version: number;
  definition: RuleDefinition;
  createdAt: number;
  createdBy: string;
  note: string;
}

export interface SignalFilter {
  from?: number;
  to?: number;
  ruleId?: string;
  severity?: Severity;
  status?: SignalStatus;
  service?: string;
  text?: string;
  /** The signals raised on one trace (32 hex digits, any case): Explore's "BeTrace signals for this trace". */
  traceId?: string;
  limit?: number;
  offset?: number;
}

/** One rule's signals in a range: how many, and when the newest was created (epoch ms). */
export interface RuleSignalCount {
  ruleId: string;
  total: number;
  lastAt: number;
}

export interface OutboxItem {
  id: number;
  tenant: string;
  writer: string;
  signal: Signal;
  attempts: number;
}

/** A batch waiting to be forwarded to Tempo (gateway mode): protobuf ExportTraceServiceRequest, already redacted. */
export interface SpooledBatch {
  id: number;
  tenant: string;
  orgId: string | undefined;
  body: Buffer;
  spans: number;
  attempts: number;
}

/**
 * A tenant-scoped WHERE clause with named parameters, built condition by condition: `add` keeps a
 * condition only when its value is given. Every list query of the store starts from the tenant.
 */
export class TenantWhere {
  private readonly conditions = ['tenant = @tenant'];
  readonly params: Record<string, unknown>;

  constructor(tenant: string) {
    this.params = { tenant };
  }

  add(condition: string, key: string, value: unknown): this {
    if (value !== undefined) {
      this.conditions.push(condition);
      this.params[key] = value;
    }
    return this;
  }

  get clause(): string {
    return this.conditions.join(' AND ');
  }
}

export class StoreError extends Error {
  constructor(
    readonly code: 'not_found' | 'conflict' | 'invalid' | 'unavailable',
    message: string,
  ) {
    super(message);
    this.name = 'StoreError';
  }
}

/** Same tenant, rule, trace and bound span → same id: evaluating a trace twice never makes two signals. */
export function signalId(tenant: string, ruleId: string, traceId: string, boundSpanId: string | undefined): string {
  return createHash('sha256')
    .update(`${tenant}\u0000${ruleId}\u0000${traceId}\u0000${boundSpanId ?? ''}`)
    .digest('hex')
    .slice(0, 32);
}

const MIGRATIONS: string[] = [
  `CREATE TABLE rules (
     tenant TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL, definition TEXT NOT NULL,
     provisioned INTEGER NOT NULL, deleted INTEGER NOT NULL DEFAULT 0, updated_at INTEGER NOT NULL, updated_by TEXT NOT NULL,
     PRIMARY KEY (tenant, id));
   CREATE TABLE rule_versions (
     tenant TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL, definition TEXT NOT NULL,
     created_at INTEGER NOT NULL, created_by TEXT NOT NULL, note TEXT NOT NULL,
     PRIMARY KEY (tenant, id, version));
   CREATE TABLE signals (
     tenant TEXT NOT NULL, id TEXT NOT NULL, rule_id TEXT NOT NULL, rule_version INTEGER NOT NULL, rule_name TEXT NOT NULL,
     trace_id TEXT NOT NULL, bound_span_id TEXT, matched_span_ids TEXT NOT NULL, message TEXT NOT NULL,
     severity TEXT NOT NULL, status TEXT NOT NULL, source TEXT NOT NULL, service TEXT,
     created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
     PRIMARY KEY (tenant, id));
   CREATE INDEX signals_by_time ON signals (tenant, created_at DESC);
   CREATE TABLE signal_changes (
     tenant TEXT NOT NULL, signal_id TEXT NOT NULL, at INTEGER NOT NULL, who TEXT NOT NULL,
     from_status TEXT NOT NULL, to_status TEXT NOT NULL, note TEXT NOT NULL);
   CREATE INDEX signal_changes_by_signal ON signal_changes (tenant, signal_id);
   CREATE TABLE outbox (
     id INTEGER PRIMARY KEY AUTOINCREMENT, tenant TEXT NOT NULL, writer TEXT NOT NULL, signal_id TEXT NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL, last_error TEXT);
   CREATE INDEX outbox_due ON outbox (writer, next_at);
   CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);`,
  `ALTER TABLE signals ADD COLUMN annotation_id INTEGER;
   CREATE TABLE annotation_storms (
     tenant TEXT NOT NULL, rule_id TEXT NOT NULL, minute INTEGER NOT NULL, annotation_id INTEGER NOT NULL, signals INTEGER NOT NULL,
     PRIMARY KEY (tenant, rule_id, minute));`,
  `CREATE TABLE watermarks (tenant TEXT PRIMARY KEY, until_ms INTEGER NOT NULL, updated_at INTEGER NOT NULL);`,
  // Ingest security and gateway mode: idempotency keys and accepted signatures (replay refusal)
  // outlive a restart, and so does every batch not yet forwarded to Tempo.
  `CREATE TABLE ingest_seen (
     tenant TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL, seen_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
     PRIMARY KEY (tenant, kind, key));
   CREATE INDEX ingest_seen_expiry ON ingest_seen (expires_at);
   CREATE TABLE gateway_spool (
     id INTEGER PRIMARY KEY AUTOINCREMENT, tenant TEXT NOT NULL, org_id TEXT, body BLOB NOT NULL, spans INTEGER NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL, last_error TEXT);
   CREATE INDEX gateway_spool_due ON gateway_spool (next_at);`,
  // The audit log is append-only: the triggers refuse any UPDATE or DELETE, whoever runs it.
  `CREATE TABLE audit_log (
     seq INTEGER PRIMARY KEY AUTOINCREMENT, tenant TEXT NOT NULL, at INTEGER NOT NULL, who TEXT NOT NULL,
     action TEXT NOT NULL, target TEXT NOT NULL, before TEXT, after TEXT);
   CREATE INDEX audit_log_by_time ON audit_log (tenant, at);
   CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: entries cannot be changed'); END;
   CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: entries cannot be deleted'); END;
   CREATE TABLE usage_daily (
     tenant TEXT NOT NULL, day TEXT NOT NULL, spans INTEGER NOT NULL DEFAULT 0, bytes INTEGER NOT NULL DEFAULT 0,
     traces INTEGER NOT NULL DEFAULT 0, signals INTEGER NOT NULL DEFAULT 0, evidence INTEGER NOT NULL DEFAULT 0,
     PRIMARY KEY (tenant, day));`,
  // Evidence (src/evidence): signed, chained records; the tenants' keys; open summary windows.
  // The outbox carries evidence too: kind 'evidence' rows name the record by seq (signal_id '').
  `CREATE TABLE evidence_keys (
     tenant TEXT NOT NULL, id TEXT NOT NULL, secret TEXT NOT NULL, source TEXT NOT NULL,
     created_at INTEGER NOT NULL, retired_at INTEGER, PRIMARY KEY (tenant, id));
   CREATE TABLE evidence (
     tenant TEXT NOT NULL, seq INTEGER NOT NULL, framework TEXT NOT NULL, control TEXT NOT NULL, rule_id TEXT NOT NULL,
     outcome TEXT NOT NULL, evidence_type TEXT NOT NULL, checked_traces INTEGER NOT NULL, failed_traces INTEGER NOT NULL,
     window_start INTEGER NOT NULL, window_end INTEGER NOT NULL, sample_trace_ids TEXT NOT NULL,
     trace_id TEXT NOT NULL, span_id TEXT NOT NULL, parent_span_id TEXT, key_id TEXT NOT NULL, prev TEXT NOT NULL,
     signature TEXT NOT NULL, created_at INTEGER NOT NULL);
   CREATE INDEX evidence_by_seq ON evidence (tenant, seq);
   CREATE INDEX evidence_by_control ON evidence (tenant, framework, control, window_end);
   CREATE TABLE evidence_heads (tenant TEXT PRIMARY KEY, seq INTEGER NOT NULL, hash TEXT NOT NULL);
   CREATE TABLE evidence_windows (
     tenant TEXT NOT NULL, rule_id TEXT NOT NULL, window_start INTEGER NOT NULL, window_end INTEGER NOT NULL, compliance TEXT NOT NULL,
     PRIMARY KEY (tenant, rule_id, window_start));
   CREATE INDEX evidence_windows_due ON evidence_windows (window_end);
   CREATE TABLE evidence_window_traces (
     tenant TEXT NOT NULL, rule_id TEXT NOT NULL, window_start INTEGER NOT NULL, trace_id TEXT NOT NULL, failed INTEGER NOT NULL,
     PRIMARY KEY (tenant, rule_id, window_start, trace_id));
   ALTER TABLE outbox ADD COLUMN kind TEXT NOT NULL DEFAULT 'signal';
   ALTER TABLE outbox ADD COLUMN record_id INTEGER;`,
  // The evidence list's per-control counts (GROUP BY framework, control) read only this index,
  // in its order: no table lookups over a year of records. It serves the scope filters as the
  // index it replaces did.
  `CREATE INDEX evidence_controls ON evidence (tenant, framework, control, window_end, window_start, outcome, evidence_type, checked_traces, failed_traces);
   DROP INDEX evidence_by_control;`,
  // The ingest log (src/ingest/log): which traces were decided (evaluated, their signals stored),
  // and up to which log position, written in the evaluation's transaction, so a restart that
  // reads the log back does not evaluate (and count evidence for) those traces again.
  `CREATE TABLE ingest_decided (
     tenant TEXT NOT NULL, trace_id TEXT NOT NULL, position INTEGER NOT NULL,
     PRIMARY KEY (tenant, trace_id));
   CREATE INDEX ingest_decided_by_position ON ingest_decided (position);
   CREATE TABLE storage_probe (id INTEGER PRIMARY KEY CHECK (id = 1), at INTEGER NOT NULL, filler BLOB NOT NULL);`,
  // Rule evaluations not completed on a trace (src/ruleSkips): one row per tenant, rule and
  // reason, with the latest such trace, written in the evaluation's transaction.
  `CREATE TABLE rule_skips (
     tenant TEXT NOT NULL, rule_id TEXT NOT NULL, reason TEXT NOT NULL, count INTEGER NOT NULL,
     last_at INTEGER NOT NULL, last_trace_id TEXT NOT NULL,
     PRIMARY KEY (tenant, rule_id, reason));`,
  // Invariant discovery (src/discovery): jobs with their results until deleted, which suggestion
  // of a job became which rule, and each tenant's dismissed suggestions (never proposed again).
  `CREATE TABLE discovery_jobs (
     tenant TEXT NOT NULL, id TEXT NOT NULL, state TEXT NOT NULL, source TEXT NOT NULL,
     from_ms INTEGER NOT NULL, to_ms INTEGER NOT NULL, created_at INTEGER NOT NULL, created_by TEXT NOT NULL,
     finished_at INTEGER, options TEXT NOT NULL, progress TEXT NOT NULL, error TEXT, result TEXT, suggestions TEXT,
     suggestion_count INTEGER NOT NULL DEFAULT 0,
     PRIMARY KEY (tenant, id));
   CREATE INDEX discovery_jobs_by_time ON discovery_jobs (tenant, created_at DESC);
   CREATE TABLE discovery_adoptions (
     tenant TEXT NOT NULL, job_id TEXT NOT NULL, suggestion_id TEXT NOT NULL, rule_id TEXT NOT NULL,
     adopted_at INTEGER NOT NULL, adopted_by TEXT NOT NULL,
     PRIMARY KEY (tenant, job_id, suggestion_id));
   CREATE TABLE discovery_dismissals (
     tenant TEXT NOT NULL, suggestion_id TEXT NOT NULL, job_id TEXT NOT NULL, dismissed_at INTEGER NOT NULL, dismissed_by TEXT NOT NULL,
     PRIMARY KEY (tenant, suggestion_id));`,
  // Where a signal's span goes in its trace: the end of the span it points at (decimal unix ns),
  // so the signal span sits inside the violating trace instead of stretching it to detection time.
  `ALTER TABLE signals ADD COLUMN anchor_ns TEXT;`,
  // Evidence secrets leave the data folder (evidence/keys.ts): a key keeps its id and a check
  // value (an HMAC of a fixed label under the secret: it tells whether a secret is the one that
  // signed, and gives nothing to sign with). Anchors: the chain heads published outside it.
  `ALTER TABLE evidence_keys ADD COLUMN check_value TEXT;
   CREATE TABLE evidence_anchors (
     tenant TEXT NOT NULL, id INTEGER NOT NULL, head_seq INTEGER NOT NULL, head_hash TEXT NOT NULL, anchored_at INTEGER NOT NULL,
     trace_id TEXT NOT NULL, span_id TEXT NOT NULL, key_id TEXT NOT NULL, signature TEXT NOT NULL, PRIMARY KEY (tenant, id));`,
  // Rule health (src/health): per tenant, rule and UTC hour (bucket_start, epoch ms), the traces
  // evaluated, triggered, violated and skipped by budget, and the sampled cost (µs, samples).
  `CREATE TABLE rule_health (
     tenant TEXT NOT NULL, rule_id TEXT NOT NULL, bucket_start INTEGER NOT NULL,
     evaluated INTEGER NOT NULL, triggered INTEGER NOT NULL, violations INTEGER NOT NULL, skipped INTEGER NOT NULL,
     cost_us INTEGER NOT NULL, cost_samples INTEGER NOT NULL,
     PRIMARY KEY (tenant, rule_id, bucket_start));`,
  // Rule sync across replicas (rules.ts): per tenant, a counter moved in the same transaction as
  // every change of its rules. Replicas sharing the store poll it (one small row per tenant) and
  // recompile a tenant's rules only when it moved; its row is also the per-tenant lock that
  // serializes rule writes (provisioning at start, concurrent API edits) across replicas.
  `CREATE TABLE rules_revisions (tenant TEXT PRIMARY KEY, revision INTEGER NOT NULL, updated_at INTEGER NOT NULL);`,
  // Replicas sharing one database (src/leases.ts, issue 12): leases on pull-mode windows and
  // replay jobs (key, holder, expiry in epoch ms); the pull-mode windows between the watermark
  // and the newest claim (the watermark is the end of the contiguous done ones); replay jobs with
  // their progress and rules, so any replica can answer for a job and take it over.
  `CREATE TABLE leases (key TEXT PRIMARY KEY, tenant TEXT NOT NULL, holder TEXT NOT NULL, since INTEGER NOT NULL, expires_at INTEGER NOT NULL);
   CREATE INDEX leases_by_tenant ON leases (tenant, key);
   CREATE TABLE pull_windows (
     tenant TEXT NOT NULL, start_ms INTEGER NOT NULL, end_ms INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, done_at INTEGER,
     PRIMARY KEY (tenant, start_ms));
   CREATE TABLE replay_jobs (
     tenant TEXT NOT NULL, id TEXT NOT NULL, status TEXT NOT NULL, source TEXT NOT NULL, origin TEXT NOT NULL,
     created_at INTEGER NOT NULL, rules TEXT NOT NULL, job TEXT NOT NULL, violations TEXT NOT NULL,
     PRIMARY KEY (tenant, id));
   CREATE INDEX replay_jobs_by_status ON replay_jobs (tenant, status, created_at);`,
];

/** One change, as the audit log keeps it: who did what to which thing, with the state before and after. */
export interface NewAuditEntry {
  /** The user (Grafana login through the plugin) or token name. */
  who: string;
  /**
   * `rule.create|update|enable|disable|delete|rollback`, `signal.status`, `evidence.export`, `evidence.key.rotate`,
   * `discovery.run|cancel|delete|adopt|dismiss`.
   */
  action: string;
  /** What was changed: `rule:<id>`, `signal:<id>`, `evidence:<framework>`, `key:<id>`, `discovery:<job id>[/<suggestion id>]`. */
  target: string;
  /** JSON-serializable; null/undefined when there was nothing before (a create) or after (a delete). */
  before?: unknown;
  after?: unknown;
}

export interface AuditEntry extends NewAuditEntry {
  /** Position in the log (increasing, shared by all tenants: gaps are other tenants' entries). */
  seq: number;
  tenant: string;
  at: number;
  before: unknown;
  after: unknown;
}

export interface AuditFilter {
  from?: number;
  to?: number;
  /** An action (`rule.update`), or a prefix ending in `.*` (`rule.*`). */
  action?: string;
  limit?: number;
  offset?: number;
}

export interface UsageCounts {
  spans?: number;
  bytes?: number;
  traces?: number;
  signals?: number;
  evidence?: number;
}

export interface UsageDay {
  /** UTC date, YYYY-MM-DD. */
  day: string;
  spans: number;
  bytes: number;
  traces: number;
  signals: number;
  evidence: number;
}

export const USAGE_FIELDS = ['spans', 'bytes', 'traces', 'signals', 'evidence'] as const;

/** The UTC date of a unix-ms time: the day usage is counted under. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

interface SignalRow {
  tenant: string;
  id: string;
  rule_id: string;
  rule_version: number;
  rule_name: string;
  trace_id: string;
  bound_span_id: string | null;
  matched_span_ids: string;
  message: string;
  severity: Severity;
  status: SignalStatus;
  source: SignalSource;
  service: string | null;
  created_at: number;
  updated_at: number;
  anchor_ns: string | null;
}

function toSignal(r: SignalRow): Signal {
  const s: Signal = {
    id: r.id,
    tenant: r.tenant,
    ruleId: r.rule_id,
    ruleVersion: r.rule_version,
    ruleName: r.rule_name,
    traceId: r.trace_id,
    matchedSpanIds: JSON.parse(r.matched_span_ids) as string[],
    message: r.message,
    severity: r.severity,
    status: r.status,
    source: r.source,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
  if (r.bound_span_id !== null) {
    s.boundSpanId = r.bound_span_id;
  }
  if (r.anchor_ns !== null) {
    s.anchorNs = r.anchor_ns;
  }
  if (r.service !== null) {
    s.service = r.service;
  }
  return s;
}

export interface NewSignal {
  violation: Violation;
  ruleVersion: number;
  ruleName: string;
  source: SignalSource;
  service?: string;
  /** Unix ns inside the violating trace where its signal span goes (the end of the span it points at). */
  anchorNs?: bigint;
}

export interface StoreOptions {
  /**
   * Which ingest log this process's decisions belong to (PostgreSQL: every replica has its own
   * log, numbered from 0, so a decision is kept per log). SQLite's file has one log: ignored.
   */
  logId?: string;
  /** PostgreSQL only: the connect timeout and statement timeout (ms). */
  connectTimeoutMs?: number;
  statementTimeoutMs?: number;
}

/** Where a configuration's store is: DATABASE_URL when set, else betrace.db in the data folder. */
export function storeTargetOf(config: { databaseUrl?: string; dataDir: string }, cwd = process.cwd()): string {
  if (config.databaseUrl !== undefined) {
    return config.databaseUrl;
  }
  return config.dataDir === ':memory:' ? ':memory:' : path.join(path.resolve(cwd, config.dataDir), 'betrace.db');
}

/**
 * Opens a configuration's store (storeTargetOf) with its PostgreSQL timeouts; `logId` names this
 * process's ingest log when the store is shared (the sidecar's; commands have none).
 */
export function openStore(
  config: { databaseUrl?: string; dataDir: string; databaseConnectTimeoutMs: number; databaseStatementTimeoutMs: number },
  options: { cwd?: string; logId?: string } = {},
): Store {
  return new Store(storeTargetOf(config, options.cwd), { logId: options.logId, connectTimeoutMs: config.databaseConnectTimeoutMs, statementTimeoutMs: config.databaseStatementTimeoutMs });
}

/** How long a PostgreSQL replica's claim on outbox rows lasts before another replica may deliver them. */
export const OUTBOX_CLAIM_MS = 60_000;

/**
 * A writer's due outbox rows of one kind, oldest first, joined (`join`, the outbox row is `o`) to
 * what they deliver, each with `outbox_id`, `attempts` and `writer`. On PostgreSQL the rows are
 * claimed for this replica: their next attempt moves OUTBOX_CLAIM_MS ahead in the same statement
 * and rows another replica is claiming are skipped (FOR UPDATE SKIP LOCKED), so two replicas never
 * deliver one row at once, and the rows of a replica that dies holding a claim are due again for
 * the others when the claim runs out. The writer completes (deletes) or reschedules each row.
 */
export function claimDueOutbox(
  engine: SqlEngine,
  /** The caller's prepared-statement cache: writers poll this often. */
  statement: (sql: string) => SqlStatement,
  kind: 'signal' | 'evidence' | 'anchor',
  select: string,
  join: string,
  writer: string,
  now: number,
  limit: number,
): unknown[] {
  if (engine === 'postgres') {
    return statement(
      `WITH o AS (
         UPDATE outbox SET next_at = ? WHERE id IN (
           SELECT id FROM outbox WHERE writer = ? AND kind = '${kind}' AND next_at <= ? ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED)
         RETURNING id, attempts, writer, tenant, signal_id, record_id)
       SELECT o.id AS outbox_id, o.attempts, o.writer, ${select} FROM o ${join} ORDER BY o.id`,
    ).all(now + OUTBOX_CLAIM_MS, writer, now, limit);
  }
  return statement(`SELECT o.id AS outbox_id, o.attempts, o.writer, ${select} FROM outbox o ${join} WHERE o.writer = ? AND o.kind = '${kind}' AND o.next_at <= ? ORDER BY o.id LIMIT ?`).all(writer, now, limit);
}

export class Store {
  readonly db: SqlDatabase;
  readonly engine: SqlEngine;
  private readonly logId: string;
  private readonly insertSignal: SqlStatement;
  private readonly insertOutbox: SqlStatement;

  /**
   * Runs `fn` as one transaction; inside one already (push mode's decision transaction), as part
   * of it: a savepoint per call would cost more than the work, and a failure rolls back the outer
   * transaction anyway.
   */
  private atomically(fn: () => void): void {
    if (this.db.inTransaction) {
      fn();
    } else {
      this.db.transaction(fn)();
    }
  }

  /** Prepared statements by SQL text: preparing costs more than running on the hot paths (decisions, signals). */
  private readonly statements = new Map<string, SqlStatement>();

  /** The prepared statement for `sql`, prepared once per store. */
  private stmt(sql: string): SqlStatement {
    let st = this.statements.get(sql);
    if (st === undefined) {
      st = this.db.prepare(sql);
      this.statements.set(sql, st);
    }
    return st;
  }

  /**
   * Opens (creating and migrating) the store: `target` is a SQLite file path, ':memory:', or a
   * PostgreSQL URL (`postgres://user:password@host:port/database[?schema=name]`).
   */
  constructor(target: string, options: StoreOptions = {}) {
    this.logId = options.logId ?? '';
    if (isPostgresUrl(target)) {
      const pg = new PgDatabase(target, { connectTimeoutMs: options.connectTimeoutMs, statementTimeoutMs: options.statementTimeoutMs });
      this.db = pg;
      this.engine = 'postgres';
      try {
        migratePostgres(pg, SCHEMA_VERSION_TABLE);
      } catch (e) {
        pg.close();
        throw e;
      }
    } else {
      if (target !== ':memory:') {
        fs.mkdirSync(path.dirname(target), { recursive: true });
      }
      const db = new Database(target);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 5000');
      // better-sqlite3's Database is the interface's model; only its transaction() type is more particular.
      this.db = db as unknown as SqlDatabase;
      this.engine = 'sqlite';
      this.migrate();
    }
    this.insertSignal = this.stmt(
      `INSERT OR IGNORE INTO signals (tenant, id, rule_id, rule_version, rule_name, trace_id, bound_span_id, matched_span_ids,
         message, severity, status, source, service, created_at, updated_at, anchor_ns)
       VALUES (@tenant, @id, @ruleId, @ruleVersion, @ruleName, @traceId, @boundSpanId, @matched, @message, @severity, 'open', @source, @service, @now, @now, @anchorNs)`,
    );
    this.insertOutbox = this.stmt('INSERT INTO outbox (tenant, writer, signal_id, next_at) VALUES (?, ?, ?, ?)');
  }

  private migrate(): void {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
    const row = this.stmt('SELECT version FROM schema_version').get() as { version: number } | undefined;
    let version = row?.version ?? 0;
    if (row === undefined) {
      this.stmt('INSERT INTO schema_version (version) VALUES (0)').run();
    }
    for (; version < MIGRATIONS.length; version++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[version]);
        this.stmt('UPDATE schema_version SET version = ?').run(version + 1);
      })();
    }
  }

  close(): void {
    if (this.db.open) {
      this.db.close();
    }
  }

  // ---------------------------------------------------------------- settings

  getSetting(key: string): string | undefined {
    return (this.stmt('SELECT value FROM settings WHERE key = ?').get(key) as { value: string } | undefined)?.value;
  }

  deleteSetting(key: string): void {
    this.stmt('DELETE FROM settings WHERE key = ?').run(key);
  }

  setSetting(key: string, value: string): void {
    this.stmt('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  // ---------------------------------------------------------------- pull mode

  /** How far (unix ms) a tenant's traces in Tempo have been evaluated. */
  getWatermark(tenant: string): number | undefined {
    return (this.stmt('SELECT until_ms FROM watermarks WHERE tenant = ?').get(tenant) as { until_ms: number } | undefined)?.until_ms;
  }

  setWatermark(tenant: string, untilMs: number, now: number): void {
    this
      .stmt('INSERT INTO watermarks (tenant, until_ms, updated_at) VALUES (?, ?, ?) ON CONFLICT (tenant) DO UPDATE SET until_ms = excluded.until_ms, updated_at = excluded.updated_at')
      .run(tenant, untilMs, now);
  }

  // ---------------------------------------------------------------- ingest (idempotency, replays, gateway spool)

  /** When an unexpired `kind` key (idempotency key, signature) was first seen for a tenant. */
  ingestSeen(tenant: string, kind: 'idempotency' | 'signature', key: string, now: number): number | undefined {
    const row = this.stmt('SELECT seen_at FROM ingest_seen WHERE tenant = ? AND kind = ? AND key = ? AND expires_at > ?').get(tenant, kind, key, now) as { seen_at: number } | undefined;
    return row?.seen_at;
  }

  /** Remembers keys until `expiresAt`; an expired row with the same key is replaced. */
  rememberIngest(tenant: string, entries: ReadonlyArray<{ kind: 'idempotency' | 'signature'; key: string; expiresAt: number }>, now: number): void {
    const put = this.stmt(
      `INSERT INTO ingest_seen (tenant, kind, key, seen_at, expires_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (tenant, kind, key) DO UPDATE SET seen_at = excluded.seen_at, expires_at = excluded.expires_at`,
    );
    this.db.transaction(() => {
      for (const e of entries) {
        put.run(tenant, e.kind, e.key, now, e.expiresAt);
      }
    })();
  }

  /** Forgets expired keys; returns how many. */
  pruneIngestSeen(now: number): number {
    return this.stmt('DELETE FROM ingest_seen WHERE expires_at <= ?').run(now).changes;
  }

  /** Records that a trace was decided with every span the ingest log holds for it up to `position`. */
  markDecided(tenant: string, traceId: string, position: number): void {
    if (this.engine === 'postgres') {
      this
        .stmt('INSERT INTO ingest_decided (log_id, tenant, trace_id, position) VALUES (?, ?, ?, ?) ON CONFLICT (log_id, tenant, trace_id) DO UPDATE SET position = max(ingest_decided.position, excluded.position)')
        .run(this.logId, tenant, traceId, position);
      return;
    }
    this
      .stmt('INSERT INTO ingest_decided (tenant, trace_id, position) VALUES (?, ?, ?) ON CONFLICT (tenant, trace_id) DO UPDATE SET position = max(position, excluded.position)')
      .run(tenant, traceId, position);
  }

  /** Every decided trace the ingest log may still hold, for recovery. */
  decidedTraces(): Array<{ tenant: string; traceId: string; position: number }> {
    const rows = this.engine === 'postgres' ? this.stmt('SELECT tenant, trace_id, position FROM ingest_decided WHERE log_id = ?').all(this.logId) : this.stmt('SELECT tenant, trace_id, position FROM ingest_decided').all();
    return (rows as Array<{ tenant: string; trace_id: string; position: number }>).map((r) => ({
      tenant: r.tenant,
      traceId: r.trace_id,
      position: r.position,
    }));
  }

  /** Forgets decisions about log positions below `position` (their segments are deleted). */
  pruneDecided(position: number): number {
    if (this.engine === 'postgres') {
      return this.stmt('DELETE FROM ingest_decided WHERE log_id = ? AND position < ?').run(this.logId, position).changes;
    }
    return this.stmt('DELETE FROM ingest_decided WHERE position < ?').run(position).changes;
  }

  /** Writes `bytes` bytes and clears them again (two commits): throws (SQLITE_FULL, …) while the store cannot take writes. */
  probeWrite(now: number, bytes: number): void {
    if (this.engine === 'postgres') {
      // One probe row per replica's log: replicas probing at once never wait on each other.
      this.stmt('INSERT INTO storage_probe (id, at, filler) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at, filler = excluded.filler').run(this.logId, now, Buffer.alloc(bytes));
      this.stmt("UPDATE storage_probe SET filler = '' WHERE id = ?").run(this.logId);
      return;
    }
    this.stmt('INSERT INTO storage_probe (id, at, filler) VALUES (1, ?, zeroblob(?)) ON CONFLICT (id) DO UPDATE SET at = excluded.at, filler = excluded.filler').run(now, bytes);
    this.stmt("UPDATE storage_probe SET filler = x'' WHERE id = 1").run();
  }

  spoolBatch(tenant: string, orgId: string | undefined, body: Uint8Array, spans: number, now: number): number {
    const row = this.stmt('INSERT INTO gateway_spool (tenant, org_id, body, spans, next_at) VALUES (?, ?, ?, ?, ?) RETURNING id').get(tenant, orgId ?? null, Buffer.from(body), spans, now) as { id: number };
    return Number(row.id);
  }

  dueSpool(now: number, limit: number): SpooledBatch[] {
    const rows = (
      this.engine === 'postgres'
        ? this.stmt(
            `UPDATE gateway_spool SET next_at = ? WHERE id IN (SELECT id FROM gateway_spool WHERE next_at <= ? ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED)
             RETURNING id, tenant, org_id, body, spans, attempts`,
          ).all(now + OUTBOX_CLAIM_MS, now, limit).sort((a, b) => (a as { id: number }).id - (b as { id: number }).id)
        : this.stmt('SELECT id, tenant, org_id, body, spans, attempts FROM gateway_spool WHERE next_at <= ? ORDER BY id LIMIT ?').all(now, limit)
    ) as Array<{
      id: number;
      tenant: string;
      org_id: string | null;
      body: Buffer;
      spans: number;
      attempts: number;
    }>;
    return rows.map((r) => ({ id: r.id, tenant: r.tenant, orgId: r.org_id ?? undefined, body: r.body, spans: r.spans, attempts: r.attempts }));
  }

  completeSpool(id: number): void {
    this.stmt('DELETE FROM gateway_spool WHERE id = ?').run(id);
  }

  retrySpool(id: number, nextAt: number, error: string): void {
    this.stmt('UPDATE gateway_spool SET attempts = attempts + 1, next_at = ?, last_error = ? WHERE id = ?').run(nextAt, error.slice(0, 1000), id);
  }

  /** When the next spooled batch is due (unix ms), if any. */
  nextSpoolAttempt(): number | undefined {
    return (this.stmt('SELECT min(next_at) AS at FROM gateway_spool').get() as { at: number | null }).at ?? undefined;
  }

  spoolDepth(): { batches: number; bytes: number; spans: number } {
    const row = this.stmt('SELECT count(*) AS batches, coalesce(sum(length(body)), 0) AS bytes, coalesce(sum(spans), 0) AS spans FROM gateway_spool').get() as {
      batches: number;
      bytes: number;
      spans: number;
    };
    return row;
  }

  // ---------------------------------------------------------------- signals

  /**
   * Stores new signals and, in the same transaction, one outbox row per writer for each signal
   * that was not stored before. Returns the signals that are new.
   */
  addSignals(tenant: string, signals: NewSignal[], writers: readonly string[], now: number): Signal[] {
    const added: Signal[] = [];
    this.atomically(() => {
      for (const s of signals) {
        const v = s.violation;
        const id = signalId(tenant, v.ruleId, v.traceId, v.boundSpanId);
        const result = this.insertSignal.run({
          tenant,
          id,
          ruleId: v.ruleId,
          ruleVersion: s.ruleVersion,
          ruleName: s.ruleName,
          traceId: v.traceId,
          boundSpanId: v.boundSpanId ?? null,
          matched: JSON.stringify(v.matchedSpanIds),
          message: v.message,
          severity: v.severity,
          source: s.source,
          service: s.service ?? null,
          now,
          anchorNs: s.anchorNs === undefined ? null : String(s.anchorNs),
        });
        if (result.changes === 0) {
          continue;
        }
        for (const writer of writers) {
          this.insertOutbox.run(tenant, writer, id, now);
        }
        const signal: Signal = {
          id,
          tenant,
          ruleId: v.ruleId,
          ruleVersion: s.ruleVersion,
          ruleName: s.ruleName,
          traceId: v.traceId,
          matchedSpanIds: v.matchedSpanIds,
          message: v.message,
          severity: v.severity,
          status: 'open',
          source: s.source,
          createdAt: now,
          updatedAt: now,
        };
        if (v.boundSpanId !== undefined) {
          signal.boundSpanId = v.boundSpanId;
        }
        if (s.service !== undefined) {
          signal.service = s.service;
        }
        added.push(signal);
      }
    });
    return added;
  }

  getSignal(tenant: string, id: string): Signal | undefined {
    const row = this.stmt('SELECT * FROM signals WHERE tenant = ? AND id = ?').get(tenant, id) as SignalRow | undefined;
    return row && toSignal(row);
  }

  listSignals(tenant: string, filter: SignalFilter = {}): { signals: Signal[]; total: number } {
    const where = new TenantWhere(tenant)
      .add('created_at >= @from', 'from', filter.from)
      .add('created_at < @to', 'to', filter.to)
      .add('rule_id = @ruleId', 'ruleId', filter.ruleId)
      .add('severity = @severity', 'severity', filter.severity)
      .add('status = @status', 'status', filter.status)
      .add('service = @service', 'service', filter.service)
      .add('trace_id = @traceId', 'traceId', filter.traceId?.toLowerCase())
      .add(
        '(instr(lower(message), lower(@text)) > 0 OR instr(lower(rule_name), lower(@text)) > 0 OR trace_id = lower(@text))',
        'text',
        filter.text === '' ? undefined : filter.text,
      );
    const { clause, params } = where;
    const total = (this.stmt(`SELECT count(*) AS n FROM signals WHERE ${clause}`).get(params) as { n: number }).n;
    const rows = this
      .stmt(`SELECT * FROM signals WHERE ${clause} ORDER BY created_at DESC, id LIMIT @limit OFFSET @offset`)
      .all({ ...params, limit: filter.limit ?? 100, offset: filter.offset ?? 0 }) as SignalRow[];
    return { signals: rows.map(toSignal), total };
  }

  /**
   * Per rule, how many signals fell in [from, to) and when the newest did: the rules list's two
   * columns in one query instead of one signals page per rule. Rules without a signal in the
   * range are absent.
   */
  signalCountsByRule(tenant: string, range: { from?: number; to?: number } = {}): RuleSignalCount[] {
    const { clause, params } = new TenantWhere(tenant).add('created_at >= @from', 'from', range.from).add('created_at < @to', 'to', range.to);
    const rows = this
      .stmt(`SELECT rule_id, count(*) AS n, max(created_at) AS last_at FROM signals WHERE ${clause} GROUP BY rule_id ORDER BY rule_id`)
      .all(params) as Array<{ rule_id: string; n: number; last_at: number }>;
    return rows.map((r) => ({ ruleId: r.rule_id, total: r.n, lastAt: r.last_at }));
  }

  /**
   * Per rule, its signals created in [from, to) by current status, and when the newest was
   * created (rule health's lifecycle counts and "last fired"). Rules without a signal are absent.
   */
  signalStatusByRule(tenant: string, range: { from?: number; to?: number; ruleId?: string } = {}): Map<string, { byStatus: Record<SignalStatus, number>; lastAt: number }> {
    const { clause, params } = new TenantWhere(tenant)
      .add('created_at >= @from', 'from', range.from)
      .add('created_at < @to', 'to', range.to)
      .add('rule_id = @ruleId', 'ruleId', range.ruleId);
    const rows = this
      .stmt(`SELECT rule_id, status, count(*) AS n, max(created_at) AS last_at FROM signals WHERE ${clause} GROUP BY rule_id, status`)
      .all(params) as Array<{ rule_id: string; status: SignalStatus; n: number; last_at: number }>;
    const out = new Map<string, { byStatus: Record<SignalStatus, number>; lastAt: number }>();
    for (const r of rows) {
      let entry = out.get(r.rule_id);
      if (entry === undefined) {
        entry = { byStatus: { open: 0, acknowledged: 0, resolved: 0, false_positive: 0 }, lastAt: r.last_at };
        out.set(r.rule_id, entry);
      }
      entry.byStatus[r.status] = r.n;
      entry.lastAt = Math.max(entry.lastAt, r.last_at);
    }
    return out;
  }

  /** Moves a signal through its lifecycle, recording who, when and why. */
  changeSignalStatus(tenant: string, id: string, to: SignalStatus, who: string, note: string, now: number): Signal {
    return this.db.transaction(() => {
      const current = this.getSignal(tenant, id);
      if (!current) {
        throw new StoreError('not_found', `no signal ${id}`);
      }
      if (current.status === to) {
        return current;
      }
      if (!TRANSITIONS[current.status].includes(to)) {
        throw new StoreError('conflict', `a ${current.status} signal cannot become ${to} (allowed: ${TRANSITIONS[current.status].join(', ')})`);
      }
      this.stmt('UPDATE signals SET status = ?, updated_at = ? WHERE tenant = ? AND id = ?').run(to, now, tenant, id);
      this.db
        .prepare('INSERT INTO signal_changes (tenant, signal_id, at, who, from_status, to_status, note) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(tenant, id, now, who, current.status, to, note);
      this.appendAudit(tenant, { who, action: 'signal.status', target: `signal:${id}`, before: { status: current.status }, after: { status: to, note } }, now);
      return { ...current, status: to, updatedAt: now };
    })();
  }

  signalChanges(tenant: string, id: string): SignalChange[] {
    return (
      this.stmt('SELECT at, who, from_status, to_status, note FROM signal_changes WHERE tenant = ? AND signal_id = ? ORDER BY rowid').all(tenant, id) as Array<{
        at: number;
        who: string;
        from_status: SignalStatus;
        to_status: SignalStatus;
        note: string;
      }>
    ).map((r) => ({ at: r.at, who: r.who, from: r.from_status, to: r.to_status, note: r.note }));
  }

  // ---------------------------------------------------------------- outbox

  /**
   * Due outbox items of one writer, oldest first. On PostgreSQL the rows are claimed for this
   * replica (their next attempt moved OUTBOX_CLAIM_MS ahead, rows another replica is claiming
   * skipped), so replicas never deliver one row twice at once, and a replica that dies holding a
   * claim hands its rows to the others when the claim runs out.
   */
  dueOutbox(writer: string, now: number, limit: number): OutboxItem[] {
    const rows = claimDueOutbox(this.engine, (sql) => this.stmt(sql), 'signal', 's.*', 'JOIN signals s ON s.tenant = o.tenant AND s.id = o.signal_id', writer, now, limit) as Array<
      SignalRow & { outbox_id: number; attempts: number; writer: string }
    >;
    return rows.map((r) => ({ id: r.outbox_id, tenant: r.tenant, writer: r.writer, attempts: r.attempts, signal: toSignal(r) }));
  }

  completeOutbox(id: number): void {
    this.stmt('DELETE FROM outbox WHERE id = ?').run(id);
  }

  retryOutbox(id: number, nextAt: number, error: string): void {
    this.stmt('UPDATE outbox SET attempts = attempts + 1, next_at = ?, last_error = ? WHERE id = ?').run(nextAt, error.slice(0, 1000), id);
  }

  /** The Grafana annotation a storm (one rule, one minute) was folded into, if any. */
  annotationStorm(tenant: string, ruleId: string, minute: number): { annotationId: number; signals: number } | undefined {
    const row = this.stmt('SELECT annotation_id, signals FROM annotation_storms WHERE tenant = ? AND rule_id = ? AND minute = ?').get(tenant, ruleId, minute) as
      | { annotation_id: number; signals: number }
      | undefined;
    return row && { annotationId: row.annotation_id, signals: row.signals };
  }

  /** Records a delivered annotation: with the signal, in its storm, and the outbox item done — one transaction. */
  recordAnnotation(outboxId: number, tenant: string, signalId: string, ruleId: string, minute: number, annotationId: number, signals: number): void {
    this.db.transaction(() => {
      this.stmt('UPDATE signals SET annotation_id = ? WHERE tenant = ? AND id = ?').run(annotationId, tenant, signalId);
      this.db
        .prepare(
          `INSERT INTO annotation_storms (tenant, rule_id, minute, annotation_id, signals) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (tenant, rule_id, minute) DO UPDATE SET annotation_id = excluded.annotation_id, signals = excluded.signals`,
        )
        .run(tenant, ruleId, minute, annotationId, signals);
      this.stmt('DELETE FROM outbox WHERE id = ?').run(outboxId);
    })();
  }

  annotationOf(tenant: string, signalId: string): number | undefined {
    const row = this.stmt('SELECT annotation_id FROM signals WHERE tenant = ? AND id = ?').get(tenant, signalId) as { annotation_id: number | null } | undefined;
    return row?.annotation_id ?? undefined;
  }

  outboxDepth(writer: string): number {
    return (this.stmt('SELECT count(*) AS n FROM outbox WHERE writer = ?').get(writer) as { n: number }).n;
  }

  // ---------------------------------------------------------------- audit log

  /** Appends one entry to the tenant's audit log (append-only: the table refuses UPDATE and DELETE). */
  appendAudit(tenant: string, entry: NewAuditEntry, now: number): AuditEntry {
    const json = (v: unknown) => (v === undefined || v === null ? null : JSON.stringify(v));
    const row = this
      .stmt('INSERT INTO audit_log (tenant, at, who, action, target, before, after) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING seq')
      .get(tenant, now, entry.who, entry.action, entry.target, json(entry.before), json(entry.after)) as { seq: number };
    return { seq: Number(row.seq), tenant, at: now, who: entry.who, action: entry.action, target: entry.target, before: entry.before ?? null, after: entry.after ?? null };
  }

  /** The tenant's audit entries, newest first. */
  listAudit(tenant: string, filter: AuditFilter = {}): { entries: AuditEntry[]; total: number } {
    const prefix = filter.action?.endsWith('.*') ? filter.action.slice(0, -1) : undefined;
    const { clause, params } = new TenantWhere(tenant)
      .add('at >= @from', 'from', filter.from)
      .add('at < @to', 'to', filter.to)
      .add('substr(action, 1, @prefixLength) = @prefix', 'prefix', prefix)
      .add('action = @action', 'action', prefix === undefined ? filter.action : undefined);
    if (prefix !== undefined) {
      params.prefixLength = prefix.length;
    }
    const total = (this.stmt(`SELECT count(*) AS n FROM audit_log WHERE ${clause}`).get(params) as { n: number }).n;
    const rows = this
      .stmt(`SELECT * FROM audit_log WHERE ${clause} ORDER BY seq DESC LIMIT @limit OFFSET @offset`)
      .all({ ...params, limit: filter.limit ?? 100, offset: filter.offset ?? 0 }) as Array<{
      seq: number;
      tenant: string;
      at: number;
      who: string;
      action: string;
      target: string;
      before: string | null;
      after: string | null;
    }>;
    const parse = (v: string | null): unknown => (v === null ? null : JSON.parse(v));
    return { entries: rows.map((r) => ({ seq: r.seq, tenant: r.tenant, at: r.at, who: r.who, action: r.action, target: r.target, before: parse(r.before), after: parse(r.after) })), total };
  }

  // ---------------------------------------------------------------- usage

  /** Adds to the tenant's totals of the UTC day of `now`: one upsert. */
  addUsage(tenant: string, now: number, counts: UsageCounts): void {
    const values: Record<string, unknown> = { tenant, day: utcDay(now) };
    for (const f of USAGE_FIELDS) {
      const n = counts[f] ?? 0;
      if (!Number.isInteger(n) || n < 0) {
        throw new StoreError('invalid', `usage ${f} must be a whole number of at least 0, got ${n}`);
      }
      values[f] = n;
    }
    this
      .stmt(
        `INSERT INTO usage_daily (tenant, day, spans, bytes, traces, signals, evidence) VALUES (@tenant, @day, @spans, @bytes, @traces, @signals, @evidence)
         ON CONFLICT (tenant, day) DO UPDATE SET spans = usage_daily.spans + excluded.spans, bytes = usage_daily.bytes + excluded.bytes, traces = usage_daily.traces + excluded.traces,
           signals = usage_daily.signals + excluded.signals, evidence = usage_daily.evidence + excluded.evidence`,
      )
      .run(values);
  }

  /** The tenant's daily totals for the UTC days from `fromDay` to `toDay` (inclusive, YYYY-MM-DD), oldest first; days without usage are left out. */
  listUsage(tenant: string, fromDay: string, toDay: string): UsageDay[] {
    return this
      .stmt('SELECT day, spans, bytes, traces, signals, evidence FROM usage_daily WHERE tenant = ? AND day >= ? AND day <= ? ORDER BY day')
      .all(tenant, fromDay, toDay) as UsageDay[];
  }

  // ---------------------------------------------------------------- rules

  listRules(tenant: string): StoredRule[] {
    const rows = this.stmt('SELECT * FROM rules WHERE tenant = ? AND deleted = 0 ORDER BY id').all(tenant) as RuleRow[];
    return rows.map(toRule);
  }

  getRule(tenant: string, id: string): StoredRule | undefined {
    const row = this.stmt('SELECT * FROM rules WHERE tenant = ? AND id = ? AND deleted = 0').get(tenant, id) as RuleRow | undefined;
    return row && toRule(row);
  }

  /** Creates a rule, or stores a new version of it. Provisioned rules are changed only by provisioning. */
  saveRule(
    tenant: string,
    definition: RuleDefinition,
    who: string,
    note: string,
    now: number,
    options: { provisioned?: boolean; create?: boolean; auditAction?: string } = {},
  ): StoredRule {
    return this.db.transaction(() => {
      this.lockRules(tenant, now);
      const existing = this.stmt('SELECT * FROM rules WHERE tenant = ? AND id = ?').get(tenant, definition.id) as RuleRow | undefined;
      const live = existing !== undefined && existing.deleted === 0;
      if (options.create && live) {
        throw new StoreError('conflict', `rule ${definition.id} already exists`);
      }
      if (!options.create && !options.provisioned && !live) {
        throw new StoreError('not_found', `no rule ${definition.id}`);
      }
      if (live && existing.provisioned === 1 && !options.provisioned) {
        throw new StoreError('conflict', `rule ${definition.id} is provisioned from a rule file and read-only here`);
      }
      const version = (existing?.version ?? 0) + 1;
      const stored = { ...definition, version };
      const json = JSON.stringify(stored);
      if (live && existing.provisioned === (options.provisioned ? 1 : 0) && existing.definition === JSON.stringify({ ...definition, version: existing.version })) {
        return toRule(existing);
      }
      const before = live ? (JSON.parse(existing.definition) as RuleDefinition & { version: number }) : null;
      let action = options.auditAction ?? (before === null ? 'rule.create' : 'rule.update');
      if (options.auditAction === undefined && before !== null && before.enabled !== definition.enabled) {
        const { version: _v, enabled: _a, ...b } = before;
        const { enabled: _b, ...a } = definition;
        if (JSON.stringify(b) === JSON.stringify(a)) {
          action = definition.enabled ? 'rule.enable' : 'rule.disable';
        }
      }
      this.appendAudit(tenant, { who, action, target: `rule:${definition.id}`, before, after: stored }, now);
      this.db
        .prepare(
          `INSERT INTO rules (tenant, id, version, definition, provisioned, deleted, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, 0, ?, ?)
           ON CONFLICT (tenant, id) DO UPDATE SET version = excluded.version, definition = excluded.definition,
             provisioned = excluded.provisioned, deleted = 0, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
        )
        .run(tenant, definition.id, version, json, options.provisioned ? 1 : 0, now, who);
      this.stmt('INSERT INTO rule_versions (tenant, id, version, definition, created_at, created_by, note) VALUES (?, ?, ?, ?, ?, ?, ?)').run(tenant, definition.id, version, json, now, who, note);
      this.bumpRulesRevision(tenant, now);
      return { definition: stored, version, provisioned: !!options.provisioned, updatedAt: now, updatedBy: who };
    })();
  }

  deleteRule(tenant: string, id: string, who: string, now: number, options: { provisioned?: boolean } = {}): void {
    this.db.transaction(() => {
      // Read behind the tenant's rule lock: of two replicas deleting one rule, the second finds it gone (one audit entry).
      this.lockRules(tenant, now);
      const rule = this.getRule(tenant, id);
      if (!rule) {
        throw new StoreError('not_found', `no rule ${id}`);
      }
      if (rule.provisioned && !options.provisioned) {
        throw new StoreError('conflict', `rule ${id} is provisioned from a rule file and read-only here`);
      }
      this.stmt('UPDATE rules SET deleted = 1, updated_at = ?, updated_by = ? WHERE tenant = ? AND id = ?').run(now, who, tenant, id);
      this.bumpRulesRevision(tenant, now);
      this.appendAudit(tenant, { who, action: 'rule.delete', target: `rule:${id}`, before: { ...rule.definition, version: rule.version }, after: null }, now);
    })();
  }

  ruleHistory(tenant: string, id: string): RuleVersion[] {
    return (
      this.stmt('SELECT * FROM rule_versions WHERE tenant = ? AND id = ? ORDER BY version DESC').all(tenant, id) as Array<{
        version: number;
        definition: string;
        created_at: number;
        created_by: string;
        note: string;
      }>
    ).map((r) => ({ version: r.version, definition: JSON.parse(r.definition) as RuleDefinition, createdAt: r.created_at, createdBy: r.created_by, note: r.note }));
  }

  /** Makes an earlier version current again, as a new version. */
  rollbackRule(tenant: string, id: string, version: number, who: string, now: number): StoredRule {
    const target = this.ruleHistory(tenant, id).find((v) => v.version === version);
    if (!target) {
      throw new StoreError('not_found', `rule ${id} has no version ${version}`);
    }
    const { version: _old, ...definition } = target.definition;
    return this.saveRule(tenant, definition, who, `rollback to version ${version}`, now, { auditAction: 'rule.rollback' });
  }

  // ---------------------------------------------------------------- rule revisions (sync across replicas)

  /**
   * Takes the tenant's rule-write lock for the rest of the transaction: a write to its
   * rules_revisions row (created at 0 when missing, otherwise left as it is). As the transaction's
   * first write it makes SQLite's deferred transaction a writer before it reads (so a concurrent
   * writer is waited for under busy_timeout, never a stale-snapshot error) and takes the row lock in
   * PostgreSQL, so two replicas writing one tenant's rules (both provisioning RULES_DIR at start, two
   * PUTs of one rule) run one after the other and the second sees what the first wrote.
   */
  lockRules(tenant: string, now: number): void {
    this
      .stmt('INSERT INTO rules_revisions (tenant, revision, updated_at) VALUES (?, 0, ?) ON CONFLICT (tenant) DO UPDATE SET revision = rules_revisions.revision')
      .run(tenant, now);
  }

  /** Moves the tenant's rules revision on: called in the transaction of every change of its rules. */
  bumpRulesRevision(tenant: string, now: number): number {
    const row = this
      .stmt(
        `INSERT INTO rules_revisions (tenant, revision, updated_at) VALUES (?, 1, ?)
         ON CONFLICT (tenant) DO UPDATE SET revision = rules_revisions.revision + 1, updated_at = excluded.updated_at RETURNING revision`,
      )
      .get(tenant, now) as { revision: number };
    return row.revision;
  }

  /** The tenant's rules revision: 0 before its first rule change. */
  rulesRevision(tenant: string): number {
    return (this.stmt('SELECT revision FROM rules_revisions WHERE tenant = ?').get(tenant) as { revision: number } | undefined)?.revision ?? 0;
  }

  /** Every tenant's rules revision in one read: what each replica polls (tenants without a row have revision 0). */
  rulesRevisions(): Map<string, number> {
    const rows = this.stmt('SELECT tenant, revision FROM rules_revisions').all() as Array<{ tenant: string; revision: number }>;
    return new Map(rows.map((r) => [r.tenant, r.revision]));
  }
}

interface RuleRow {
  tenant: string;
  id: string;
  version: number;
  definition: string;
  provisioned: number;
  deleted: number;
  updated_at: number;
  updated_by: string;
}

function toRule(r: RuleRow): StoredRule {
  return { definition: JSON.parse(r.definition) as RuleDefinition, version: r.version, provisioned: r.provisioned === 1, updatedAt: r.updated_at, updatedBy: r.updated_by };
}
