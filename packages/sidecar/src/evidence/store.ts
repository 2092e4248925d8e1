/**
 * Evidence state in the sidecar's SQLite database (tables from the store's migrations): the
 * tenants' signing keys, the chain of records, open summary windows, and the evidence rows of the
 * shared outbox. Appending a record allocates its seq, links it to the head, signs it and queues
 * it for the writers in one transaction, so the chain has no gaps and a crash loses nothing.
 */
import { randomBytes } from 'crypto';
import type Database from 'better-sqlite3';
import type { ComplianceMapping } from '@betrace/evaluator';
import { StoreError, TenantWhere } from '../store';
import type { EvidenceKey } from '../tenants';
import type { ControlSummary } from './report';
import { chainHash, EvidenceDraft, EvidenceOutcome, EvidenceRecord, evidenceSpanId, EvidenceType, GENESIS_PREV, signRecord } from './record';

export interface StoredEvidenceKey {
  id: string;
  secret: string;
  /** `tenants-file`, `generated` (first use, no key configured) or `rotated` (the API). */
  source: string;
  createdAt: number;
  retiredAt?: number;
}

export interface EvidenceFilter {
  framework?: string;
  control?: string;
  /** Records whose window overlaps [from, to). */
  from?: number;
  to?: number;
  limit?: number;
  offset?: number;
}

export interface EvidenceOutboxItem {
  id: number;
  tenant: string;
  writer: string;
  attempts: number;
  evidence: EvidenceRecord;
}

export interface OpenWindow {
  tenant: string;
  ruleId: string;
  windowStart: number;
  windowEnd: number;
  compliance: ComplianceMapping[];
}

interface EvidenceRow {
  tenant: string;
  seq: number;
  framework: string;
  control: string;
  rule_id: string;
  outcome: EvidenceOutcome;
  evidence_type: EvidenceType;
  checked_traces: number;
  failed_traces: number;
  window_start: number;
  window_end: number;
  sample_trace_ids: string;
  trace_id: string;
  span_id: string;
  parent_span_id: string | null;
  key_id: string;
  prev: string;
  signature: string;
}

/** A record and where it is stored: the rowid orders the chain as it was written. */
export interface StoredEvidence {
  rowid: number;
  record: EvidenceRecord;
}

type StoredRow = EvidenceRow & { row_id: number };

function toStored(r: StoredRow): StoredEvidence {
  const { row_id: rowid, ...row } = r;
  return { rowid, record: toRecord(row) };
}

function toRecord(r: EvidenceRow): EvidenceRecord {
  const rec: EvidenceRecord = {
    tenant: r.tenant,
    seq: r.seq,
    framework: r.framework,
    control: r.control,
    ruleId: r.rule_id,
    outcome: r.outcome,
    evidenceType: r.evidence_type,
    checkedTraces: r.checked_traces,
    failedTraces: r.failed_traces,
    windowStart: r.window_start,
    windowEnd: r.window_end,
    sampleTraceIds: JSON.parse(r.sample_trace_ids) as string[],
    traceId: r.trace_id,
    spanId: r.span_id,
    keyId: r.key_id,
    prev: r.prev,
    signature: r.signature,
  };
  if (r.parent_span_id !== null) {
    rec.parentSpanId = r.parent_span_id;
  }
  return rec;
}

const KEY_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export class EvidenceStore {
  private readonly statements = new Map<string, Database.Statement>();

  /** Called after records are stored (usage counting). */
  onAppend?: (tenant: string, records: number) => void;
  /** Applied to each draft before it is signed (PII redaction): signatures cover what leaves. */
  redact?: (tenant: string, draft: EvidenceDraft) => EvidenceDraft;

  constructor(readonly db: Database.Database) {}

  /** Prepared once per SQL text: preparing is the expensive part of a small query. */
  private sql(text: string): Database.Statement {
    let statement = this.statements.get(text);
    if (statement === undefined) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  // ---------------------------------------------------------------- keys

  keys(tenant: string): StoredEvidenceKey[] {
    return (
      this.sql('SELECT id, secret, source, created_at, retired_at FROM evidence_keys WHERE tenant = ? ORDER BY created_at, rowid').all(tenant) as Array<{
        id: string;
        secret: string;
        source: string;
        created_at: number;
        retired_at: number | null;
      }>
    ).map((k) => ({ id: k.id, secret: k.secret, source: k.source, createdAt: k.created_at, ...(k.retired_at !== null ? { retiredAt: k.retired_at } : {}) }));
  }

  /** Key id → secret, retired keys included: what verification needs. */
  keyring(tenant: string): Map<string, string> {
    return new Map(this.keys(tenant).map((k) => [k.id, k.secret]));
  }

  /**
   * Adds the tenants file's keys that the store does not know yet. A new current key from the
   * file becomes the current one; keys the file marks retired are retired. Keys are never deleted:
   * older records stay verifiable.
   */
  seedKeys(tenant: string, keys: readonly EvidenceKey[], now: number): void {
    this.db.transaction(() => {
      const known = new Map(this.keys(tenant).map((k) => [k.id, k]));
      for (const k of keys) {
        const stored = known.get(k.id);
        if (stored !== undefined && stored.secret !== k.secret) {
          throw new StoreError('conflict', `tenant ${tenant}: evidence key ${k.id} in the tenants file differs from the stored one; a key id is never reused — give the new key a new id`);
        }
        if (stored === undefined) {
          if (!k.retired) {
            this.sql('UPDATE evidence_keys SET retired_at = ? WHERE tenant = ? AND retired_at IS NULL').run(now, tenant);
          }
          this.db
            .prepare('INSERT INTO evidence_keys (tenant, id, secret, source, created_at, retired_at) VALUES (?, ?, ?, ?, ?, ?)')
            .run(tenant, k.id, k.secret, 'tenants-file', now, k.retired ? now : null);
        } else if (k.retired && stored.retiredAt === undefined) {
          this.sql('UPDATE evidence_keys SET retired_at = ? WHERE tenant = ? AND id = ?').run(now, tenant, k.id);
        }
      }
    })();
  }

  /** The key that signs new records; one is generated on first use when none is configured. */
  currentKey(tenant: string, now: number): StoredEvidenceKey {
    const current = this.keys(tenant).filter((k) => k.retiredAt === undefined);
    if (current.length > 0) {
      return current[current.length - 1];
    }
    return this.addKey(tenant, `k-${randomBytes(4).toString('hex')}`, randomBytes(32).toString('hex'), 'generated', now);
  }

  private addKey(tenant: string, id: string, secret: string, source: string, now: number): StoredEvidenceKey {
    this.sql('UPDATE evidence_keys SET retired_at = ? WHERE tenant = ? AND retired_at IS NULL').run(now, tenant);
    this.sql('INSERT INTO evidence_keys (tenant, id, secret, source, created_at, retired_at) VALUES (?, ?, ?, ?, ?, NULL)').run(tenant, id, secret, source, now);
    return { id, secret, source, createdAt: now };
  }

  /** A new current key (given, or generated); the previous one is retired but kept for verification. */
  rotateKey(tenant: string, now: number, given: { id?: string; secret?: string } = {}): { key: StoredEvidenceKey; previous?: string } {
    return this.db.transaction(() => {
      const id = given.id ?? `k-${new Date(now).toISOString().slice(0, 10).replace(/-/g, '')}-${randomBytes(3).toString('hex')}`;
      if (!KEY_ID.test(id)) {
        throw new StoreError('invalid', `key id ${JSON.stringify(id)} must be 1–64 letters, digits, '.', '_' or '-'`);
      }
      if (given.secret !== undefined && Buffer.byteLength(given.secret, 'utf8') < 32) {
        throw new StoreError('invalid', 'an evidence key secret must be at least 32 bytes');
      }
      const keys = this.keys(tenant);
      if (keys.some((k) => k.id === id)) {
        throw new StoreError('conflict', `evidence key ${id} exists already; key ids are never reused`);
      }
      const previous = keys.filter((k) => k.retiredAt === undefined).pop()?.id;
      const key = this.addKey(tenant, id, given.secret ?? randomBytes(32).toString('hex'), 'rotated', now);
      return previous === undefined ? { key } : { key, previous };
    })();
  }

  // ---------------------------------------------------------------- summary windows

  /** Counts evaluated traces into their rules' open windows, in one transaction (a trace counts once per window; a failure sticks). */
  observe(batch: ReadonlyArray<{ window: OpenWindow; traces: ReadonlyMap<string, boolean> }>): void {
    this.db.transaction(() => {
      for (const { window: w, traces } of batch) {
        this.sql('INSERT INTO evidence_windows (tenant, rule_id, window_start, window_end, compliance) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET compliance = excluded.compliance').run(
          w.tenant,
          w.ruleId,
          w.windowStart,
          w.windowEnd,
          JSON.stringify(w.compliance),
        );
        const insert = this.sql(
          `INSERT INTO evidence_window_traces (tenant, rule_id, window_start, trace_id, failed) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT DO UPDATE SET failed = max(failed, excluded.failed)`,
        );
        for (const [traceId, failed] of traces) {
          insert.run(w.tenant, w.ruleId, w.windowStart, traceId, failed ? 1 : 0);
        }
      }
    })();
  }

  /** Windows whose end has passed, oldest first. */
  dueWindows(now: number): OpenWindow[] {
    return (
      this.sql('SELECT * FROM evidence_windows WHERE window_end <= ? ORDER BY window_start, tenant, rule_id').all(now) as Array<{
        tenant: string;
        rule_id: string;
        window_start: number;
        window_end: number;
        compliance: string;
      }>
    ).map((r) => ({ tenant: r.tenant, ruleId: r.rule_id, windowStart: r.window_start, windowEnd: r.window_end, compliance: JSON.parse(r.compliance) as ComplianceMapping[] }));
  }

  /** Counts of a window and up to `samples` trace ids, failing traces first. */
  windowCounts(w: OpenWindow, samples: number): { checked: number; failed: number; sampleTraceIds: string[] } {
    const { checked, failed } = this.db
      .prepare('SELECT count(*) AS checked, coalesce(sum(failed), 0) AS failed FROM evidence_window_traces WHERE tenant = ? AND rule_id = ? AND window_start = ?')
      .get(w.tenant, w.ruleId, w.windowStart) as { checked: number; failed: number };
    const ids = this.db
      .prepare('SELECT trace_id FROM evidence_window_traces WHERE tenant = ? AND rule_id = ? AND window_start = ? ORDER BY failed DESC, rowid LIMIT ?')
      .all(w.tenant, w.ruleId, w.windowStart, samples) as Array<{ trace_id: string }>;
    return { checked, failed, sampleTraceIds: ids.map((r) => r.trace_id) };
  }

  closeWindow(w: OpenWindow): void {
    this.sql('DELETE FROM evidence_window_traces WHERE tenant = ? AND rule_id = ? AND window_start = ?').run(w.tenant, w.ruleId, w.windowStart);
    this.sql('DELETE FROM evidence_windows WHERE tenant = ? AND rule_id = ? AND window_start = ?').run(w.tenant, w.ruleId, w.windowStart);
  }

  // ---------------------------------------------------------------- the chain

  head(tenant: string): { seq: number; hash: string } {
    return (this.sql('SELECT seq, hash FROM evidence_heads WHERE tenant = ?').get(tenant) as { seq: number; hash: string } | undefined) ?? { seq: 0, hash: GENESIS_PREV };
  }

  /** Signs and chains drafts onto the tenant's chain, queueing each for the writers. */
  append(tenant: string, drafts: readonly EvidenceDraft[], writers: readonly string[], now: number): EvidenceRecord[] {
    if (drafts.length === 0) {
      return [];
    }
    const redact = this.redact;
    const records = this.appendInTransaction(tenant, redact ? drafts.map((d) => redact(tenant, d)) : drafts, writers, now);
    this.onAppend?.(tenant, records.length);
    return records;
  }

  private appendInTransaction(tenant: string, drafts: readonly EvidenceDraft[], writers: readonly string[], now: number): EvidenceRecord[] {
    return this.db.transaction(() => {
      const key = this.currentKey(tenant, now);
      let { seq, hash } = this.head(tenant);
      const out: EvidenceRecord[] = [];
      for (const d of drafts) {
        seq++;
        const unsigned = { ...d, seq, spanId: evidenceSpanId(tenant, seq), keyId: key.id, prev: hash };
        const record: EvidenceRecord = { ...unsigned, tenant, signature: signRecord(unsigned, key.secret) };
        this.db
          .prepare(
            `INSERT INTO evidence (tenant, seq, framework, control, rule_id, outcome, evidence_type, checked_traces, failed_traces, window_start, window_end,
               sample_trace_ids, trace_id, span_id, parent_span_id, key_id, prev, signature, created_at)
             VALUES (@tenant, @seq, @framework, @control, @ruleId, @outcome, @evidenceType, @checkedTraces, @failedTraces, @windowStart, @windowEnd,
               @samples, @traceId, @spanId, @parent, @keyId, @prev, @signature, @now)`,
          )
          .run({ ...record, samples: JSON.stringify(record.sampleTraceIds), parent: record.parentSpanId ?? null, now });
        for (const writer of writers) {
          this.sql("INSERT INTO outbox (tenant, writer, signal_id, kind, record_id, next_at) VALUES (?, ?, '', 'evidence', ?, ?)").run(tenant, writer, seq, now);
        }
        hash = chainHash(record);
        out.push(record);
      }
      this.db
        .prepare('INSERT INTO evidence_heads (tenant, seq, hash) VALUES (?, ?, ?) ON CONFLICT (tenant) DO UPDATE SET seq = excluded.seq, hash = excluded.hash')
        .run(tenant, seq, hash);
      return out;
    })();
  }

  /** The whole chain of a tenant in the order it was stored (what verification walks). */
  all(tenant: string): EvidenceRecord[] {
    return (this.sql('SELECT * FROM evidence WHERE tenant = ? ORDER BY rowid').all(tenant) as EvidenceRow[]).map(toRecord);
  }

  /** The highest rowid of the evidence table (all tenants): where a walk of the stored order has got to. */
  lastRowid(): number {
    return (this.sql('SELECT coalesce(max(rowid), 0) AS n FROM evidence').get() as { n: number }).n;
  }

  /**
   * A tenant's records stored after `rowid` or numbered after `seq`, in stored order. A rowid range
   * of the table's own b-tree (NOT INDEXED: the tenant index would walk the whole chain) and a seq
   * range of the index, so it costs what was appended since. The seq range catches appends that
   * reused the rowid of a deleted last row (the table has no AUTOINCREMENT).
   */
  storedAfter(tenant: string, rowid: number, seq: number): StoredEvidence[] {
    const byRowid = this.sql('SELECT rowid AS row_id, * FROM evidence NOT INDEXED WHERE rowid > ? AND tenant = ?').all(rowid, tenant) as StoredRow[];
    const bySeq = this.sql('SELECT rowid AS row_id, * FROM evidence WHERE tenant = ? AND seq > ?').all(tenant, seq) as StoredRow[];
    const rows = new Map<number, StoredRow>();
    for (const r of [...byRowid, ...bySeq]) {
      rows.set(r.row_id, r);
    }
    return [...rows.values()].sort((a, b) => a.row_id - b.row_id).map(toStored);
  }

  /** The records with these seqs (every occurrence), in stored order: one indexed query. */
  bySeqs(tenant: string, seqs: readonly number[]): StoredEvidence[] {
    if (seqs.length === 0) {
      return [];
    }
    return (
      this.sql('SELECT rowid AS row_id, * FROM evidence WHERE tenant = ? AND seq IN (SELECT value FROM json_each(?)) ORDER BY rowid').all(tenant, JSON.stringify(seqs)) as StoredRow[]
    ).map(toStored);
  }

  /** Whether a record with this seq was stored at or before `rowid` (a later one is a duplicate). */
  seqStoredBy(tenant: string, seq: number, rowid: number): boolean {
    return this.sql('SELECT 1 FROM evidence WHERE tenant = ? AND seq = ? AND rowid <= ? LIMIT 1').get(tenant, seq, rowid) !== undefined;
  }

  private where(tenant: string, filter: EvidenceFilter): TenantWhere {
    return new TenantWhere(tenant)
      .add('lower(framework) = lower(@framework)', 'framework', filter.framework)
      .add('control = @control', 'control', filter.control)
      .add('window_end >= @from', 'from', filter.from)
      .add('window_start < @to', 'to', filter.to);
  }

  /** Records in scope, ordered by seq, with where they are stored (page verification checks the order). */
  page(tenant: string, filter: EvidenceFilter = {}): { rows: StoredEvidence[]; total: number } {
    const { clause, params } = this.where(tenant, filter);
    const total = (this.sql(`SELECT count(*) AS n FROM evidence WHERE ${clause}`).get(params) as { n: number }).n;
    const rows = this.sql(`SELECT rowid AS row_id, * FROM evidence WHERE ${clause} ORDER BY seq LIMIT @limit OFFSET @offset`).all({
      ...params,
      limit: filter.limit ?? -1,
      offset: filter.offset ?? 0,
    }) as StoredRow[];
    return { rows: rows.map(toStored), total };
  }

  list(tenant: string, filter: EvidenceFilter = {}): { records: EvidenceRecord[]; total: number } {
    const { rows, total } = this.page(tenant, filter);
    return { records: rows.map((r) => r.record), total };
  }

  /**
   * Pass/fail counts per framework and control of the records in scope, by one aggregate (what
   * report.ts `controlSummary` computes from the records). Trace totals come from summary records
   * only: per-trace records repeat traces a summary already counts.
   */
  controls(tenant: string, filter: EvidenceFilter = {}): ControlSummary[] {
    const { clause, params } = this.where(tenant, filter);
    return this.sql(
      `SELECT framework, control, count(*) AS records, sum(outcome = 'pass') AS pass, sum(outcome = 'fail') AS fail,
         sum(CASE WHEN evidence_type = 'summary' THEN checked_traces ELSE 0 END) AS checkedTraces,
         sum(CASE WHEN evidence_type = 'summary' THEN failed_traces ELSE 0 END) AS failedTraces
       FROM evidence WHERE ${clause} GROUP BY framework, control`,
    ).all(params) as ControlSummary[];
  }

  /** Due evidence rows of the outbox for one writer, oldest first. */
  dueOutbox(writer: string, now: number, limit: number): EvidenceOutboxItem[] {
    const rows = this.db
      .prepare(
        `SELECT o.id AS outbox_id, o.attempts, o.writer, e.* FROM outbox o JOIN evidence e ON e.tenant = o.tenant AND e.seq = o.record_id
         WHERE o.writer = ? AND o.kind = 'evidence' AND o.next_at <= ? ORDER BY o.id LIMIT ?`,
      )
      .all(writer, now, limit) as Array<EvidenceRow & { outbox_id: number; attempts: number; writer: string }>;
    return rows.map((r) => ({ id: r.outbox_id, tenant: r.tenant, writer: r.writer, attempts: r.attempts, evidence: toRecord(r) }));
  }
}
