/**
 * The PostgreSQL schema: the same tables and columns as the SQLite migrations in store.ts, in
 * PostgreSQL's types (BIGINT for SQLite's INTEGER, whose values here are epoch milliseconds and
 * counts; BYTEA for BLOB; BIGSERIAL for AUTOINCREMENT keys). Where SQLite orders by its implicit
 * rowid (the order rows were written), the table has an explicit `rowid BIGSERIAL` column, so
 * the stores' queries read the same on both engines.
 *
 * Versions are rows of betrace_schema_version; replicas starting together migrate one at a time
 * (an advisory lock held for the migration's transaction). A database at a higher version than
 * POSTGRES_MIGRATIONS.length is refused at start (db/postgresCheck.ts).
 */
import type { PgDatabase } from './pgSync';

export const POSTGRES_MIGRATIONS: string[] = [
  `CREATE TABLE rules (
     tenant TEXT NOT NULL, id TEXT NOT NULL, version BIGINT NOT NULL, definition TEXT NOT NULL,
     provisioned BIGINT NOT NULL, deleted BIGINT NOT NULL DEFAULT 0, updated_at BIGINT NOT NULL, updated_by TEXT NOT NULL,
     PRIMARY KEY (tenant, id));
   CREATE TABLE rule_versions (
     tenant TEXT NOT NULL, id TEXT NOT NULL, version BIGINT NOT NULL, definition TEXT NOT NULL,
     created_at BIGINT NOT NULL, created_by TEXT NOT NULL, note TEXT NOT NULL,
     PRIMARY KEY (tenant, id, version));
   CREATE TABLE signals (
     tenant TEXT NOT NULL, id TEXT NOT NULL, rule_id TEXT NOT NULL, rule_version BIGINT NOT NULL, rule_name TEXT NOT NULL,
     trace_id TEXT NOT NULL, bound_span_id TEXT, matched_span_ids TEXT NOT NULL, message TEXT NOT NULL,
     severity TEXT NOT NULL, status TEXT NOT NULL, source TEXT NOT NULL, service TEXT,
     created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, annotation_id BIGINT, anchor_ns TEXT,
     PRIMARY KEY (tenant, id));
   CREATE INDEX signals_by_time ON signals (tenant, created_at DESC);
   CREATE TABLE signal_changes (
     rowid BIGSERIAL PRIMARY KEY, tenant TEXT NOT NULL, signal_id TEXT NOT NULL, at BIGINT NOT NULL, who TEXT NOT NULL,
     from_status TEXT NOT NULL, to_status TEXT NOT NULL, note TEXT NOT NULL);
   CREATE INDEX signal_changes_by_signal ON signal_changes (tenant, signal_id);
   CREATE TABLE outbox (
     id BIGSERIAL PRIMARY KEY, tenant TEXT NOT NULL, writer TEXT NOT NULL, signal_id TEXT NOT NULL,
     attempts BIGINT NOT NULL DEFAULT 0, next_at BIGINT NOT NULL, last_error TEXT,
     kind TEXT NOT NULL DEFAULT 'signal', record_id BIGINT);
   CREATE INDEX outbox_due ON outbox (writer, next_at);
   CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
   CREATE TABLE annotation_storms (
     tenant TEXT NOT NULL, rule_id TEXT NOT NULL, minute BIGINT NOT NULL, annotation_id BIGINT NOT NULL, signals BIGINT NOT NULL,
     PRIMARY KEY (tenant, rule_id, minute));
   CREATE TABLE watermarks (tenant TEXT PRIMARY KEY, until_ms BIGINT NOT NULL, updated_at BIGINT NOT NULL);
   CREATE TABLE ingest_seen (
     tenant TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL, seen_at BIGINT NOT NULL, expires_at BIGINT NOT NULL,
     PRIMARY KEY (tenant, kind, key));
   CREATE INDEX ingest_seen_expiry ON ingest_seen (expires_at);
   CREATE TABLE gateway_spool (
     id BIGSERIAL PRIMARY KEY, tenant TEXT NOT NULL, org_id TEXT, body BYTEA NOT NULL, spans BIGINT NOT NULL,
     attempts BIGINT NOT NULL DEFAULT 0, next_at BIGINT NOT NULL, last_error TEXT);
   CREATE INDEX gateway_spool_due ON gateway_spool (next_at);
   CREATE TABLE audit_log (
     seq BIGSERIAL PRIMARY KEY, tenant TEXT NOT NULL, at BIGINT NOT NULL, who TEXT NOT NULL,
     action TEXT NOT NULL, target TEXT NOT NULL, before TEXT, after TEXT);
   CREATE INDEX audit_log_by_time ON audit_log (tenant, at);
   CREATE FUNCTION betrace_audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
     IF TG_OP = 'UPDATE' THEN
       RAISE EXCEPTION 'audit_log is append-only: entries cannot be changed';
     END IF;
     RAISE EXCEPTION 'audit_log is append-only: entries cannot be deleted';
   END $$;
   CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION betrace_audit_log_append_only();
   CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION betrace_audit_log_append_only();
   CREATE TABLE usage_daily (
     tenant TEXT NOT NULL, day TEXT NOT NULL, spans BIGINT NOT NULL DEFAULT 0, bytes BIGINT NOT NULL DEFAULT 0,
     traces BIGINT NOT NULL DEFAULT 0, signals BIGINT NOT NULL DEFAULT 0, evidence BIGINT NOT NULL DEFAULT 0,
     PRIMARY KEY (tenant, day));
   CREATE TABLE evidence_keys (
     rowid BIGSERIAL UNIQUE, tenant TEXT NOT NULL, id TEXT NOT NULL, secret TEXT NOT NULL, source TEXT NOT NULL,
     created_at BIGINT NOT NULL, retired_at BIGINT, check_value TEXT, PRIMARY KEY (tenant, id));
   CREATE TABLE evidence (
     rowid BIGSERIAL PRIMARY KEY,
     tenant TEXT NOT NULL, seq BIGINT NOT NULL, framework TEXT NOT NULL, control TEXT NOT NULL, rule_id TEXT NOT NULL,
     outcome TEXT NOT NULL, evidence_type TEXT NOT NULL, checked_traces BIGINT NOT NULL, failed_traces BIGINT NOT NULL,
     window_start BIGINT NOT NULL, window_end BIGINT NOT NULL, sample_trace_ids TEXT NOT NULL,
     trace_id TEXT NOT NULL, span_id TEXT NOT NULL, parent_span_id TEXT, key_id TEXT NOT NULL, prev TEXT NOT NULL,
     signature TEXT NOT NULL, created_at BIGINT NOT NULL);
   CREATE INDEX evidence_by_seq ON evidence (tenant, seq);
   CREATE INDEX evidence_controls ON evidence (tenant, framework, control, window_end, window_start, outcome, evidence_type, checked_traces, failed_traces);
   CREATE TABLE evidence_heads (tenant TEXT PRIMARY KEY, seq BIGINT NOT NULL, hash TEXT NOT NULL);
   CREATE TABLE evidence_windows (
     tenant TEXT NOT NULL, rule_id TEXT NOT NULL, window_start BIGINT NOT NULL, window_end BIGINT NOT NULL, compliance TEXT NOT NULL,
     PRIMARY KEY (tenant, rule_id, window_start));
   CREATE INDEX evidence_windows_due ON evidence_windows (window_end);
   CREATE TABLE evidence_window_traces (
     rowid BIGSERIAL UNIQUE, tenant TEXT NOT NULL, rule_id TEXT NOT NULL, window_start BIGINT NOT NULL, trace_id TEXT NOT NULL, failed BIGINT NOT NULL,
     PRIMARY KEY (tenant, rule_id, window_start, trace_id));
   CREATE TABLE evidence_anchors (
     tenant TEXT NOT NULL, id BIGINT NOT NULL, head_seq BIGINT NOT NULL, head_hash TEXT NOT NULL, anchored_at BIGINT NOT NULL,
     trace_id TEXT NOT NULL, span_id TEXT NOT NULL, key_id TEXT NOT NULL, signature TEXT NOT NULL, PRIMARY KEY (tenant, id));
   -- Each replica's ingest log numbers its own positions: a decision is kept per log (log_id).
   CREATE TABLE ingest_decided (
     log_id TEXT NOT NULL, tenant TEXT NOT NULL, trace_id TEXT NOT NULL, position BIGINT NOT NULL,
     PRIMARY KEY (log_id, tenant, trace_id));
   CREATE INDEX ingest_decided_by_position ON ingest_decided (log_id, position);
   CREATE TABLE storage_probe (id TEXT PRIMARY KEY, at BIGINT NOT NULL, filler BYTEA NOT NULL);
   CREATE TABLE rule_skips (
     tenant TEXT NOT NULL, rule_id TEXT NOT NULL, reason TEXT NOT NULL, count BIGINT NOT NULL,
     last_at BIGINT NOT NULL, last_trace_id TEXT NOT NULL,
     PRIMARY KEY (tenant, rule_id, reason));
   CREATE TABLE discovery_jobs (
     rowid BIGSERIAL UNIQUE, tenant TEXT NOT NULL, id TEXT NOT NULL, state TEXT NOT NULL, source TEXT NOT NULL,
     from_ms BIGINT NOT NULL, to_ms BIGINT NOT NULL, created_at BIGINT NOT NULL, created_by TEXT NOT NULL,
     finished_at BIGINT, options TEXT NOT NULL, progress TEXT NOT NULL, error TEXT, result TEXT, suggestions TEXT,
     suggestion_count BIGINT NOT NULL DEFAULT 0,
     PRIMARY KEY (tenant, id));
   CREATE INDEX discovery_jobs_by_time ON discovery_jobs (tenant, created_at DESC);
   CREATE TABLE discovery_adoptions (
     tenant TEXT NOT NULL, job_id TEXT NOT NULL, suggestion_id TEXT NOT NULL, rule_id TEXT NOT NULL,
     adopted_at BIGINT NOT NULL, adopted_by TEXT NOT NULL,
     PRIMARY KEY (tenant, job_id, suggestion_id));
   CREATE TABLE discovery_dismissals (
     tenant TEXT NOT NULL, suggestion_id TEXT NOT NULL, job_id TEXT NOT NULL, dismissed_at BIGINT NOT NULL, dismissed_by TEXT NOT NULL,
     PRIMARY KEY (tenant, suggestion_id));
   CREATE TABLE rule_health (
     tenant TEXT NOT NULL, rule_id TEXT NOT NULL, bucket_start BIGINT NOT NULL,
     evaluated BIGINT NOT NULL, triggered BIGINT NOT NULL, violations BIGINT NOT NULL, skipped BIGINT NOT NULL,
     cost_us BIGINT NOT NULL, cost_samples BIGINT NOT NULL,
     PRIMARY KEY (tenant, rule_id, bucket_start));
   CREATE TABLE rules_revisions (tenant TEXT PRIMARY KEY, revision BIGINT NOT NULL, updated_at BIGINT NOT NULL);
   CREATE TABLE leases (key TEXT PRIMARY KEY, tenant TEXT NOT NULL, holder TEXT NOT NULL, since BIGINT NOT NULL, expires_at BIGINT NOT NULL);
   CREATE INDEX leases_by_tenant ON leases (tenant, key);
   CREATE TABLE pull_windows (
     tenant TEXT NOT NULL, start_ms BIGINT NOT NULL, end_ms BIGINT NOT NULL, attempts BIGINT NOT NULL DEFAULT 0, done_at BIGINT,
     PRIMARY KEY (tenant, start_ms));
   CREATE TABLE replay_jobs (
     tenant TEXT NOT NULL, id TEXT NOT NULL, status TEXT NOT NULL, source TEXT NOT NULL, origin TEXT NOT NULL,
     created_at BIGINT NOT NULL, rules TEXT NOT NULL, job TEXT NOT NULL, violations TEXT NOT NULL,
     PRIMARY KEY (tenant, id));
   CREATE INDEX replay_jobs_by_status ON replay_jobs (tenant, status, created_at);`,
];

/** Brings the database to POSTGRES_MIGRATIONS.length, one migration per transaction, one replica at a time. */
export function migratePostgres(db: PgDatabase, schemaVersionTable: string): void {
  // Under the lock too: CREATE TABLE IF NOT EXISTS is not safe against itself in PostgreSQL
  // (replicas starting together on an empty database both pass the check, and one fails with
  // 'type "…" already exists').
  db.transaction(() => {
    db.lockKey('betrace:migrate');
    db.exec(`CREATE TABLE IF NOT EXISTS ${schemaVersionTable} (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`);
  })();
  for (;;) {
    const done = db.transaction(() => {
      db.lockKey('betrace:migrate');
      const v = (db.prepare(`SELECT coalesce(max(version), 0) AS v FROM ${schemaVersionTable}`).get() as { v: number }).v;
      if (v >= POSTGRES_MIGRATIONS.length) {
        return true;
      }
      db.exec(POSTGRES_MIGRATIONS[v]);
      db.prepare(`INSERT INTO ${schemaVersionTable} (version) VALUES (?)`).run(v + 1);
      return false;
    })();
    if (done) {
      return;
    }
  }
}
