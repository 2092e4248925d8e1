/**
 * Evidence state in the sidecar's SQLite database (tables from the store's migrations): the
 * tenants' signing keys, the chain of records, open summary windows, and the evidence rows of the
 * shared outbox. Appending a record allocates its seq, links it to the head, signs it and queues
 * it for the writers in one transaction, so the chain has no gaps and a crash loses nothing.
 */
import { engineOf, lockKey, sqliteOf, type SqlDatabase, type SqlStatement } from '../db/sql';
import type { ComplianceMapping } from '@betrace/evaluator';
import { claimDueOutbox, StoreError, TenantWhere } from '../store';
import type { EvidenceKey } from '../tenants';
import { Anchor, anchorIds, AnchorLog, signAnchor } from './anchor';
import { EvidenceSecrets, keyCheck, KeyError, KeySource, MadeKey } from './keys';
import type { ControlSummary } from './report';
import { chainHash, EvidenceDraft, EvidenceOutcome, EvidenceRecord, evidenceSpanId, EvidenceType, GENESIS_PREV, signRecord } from './record';

export interface StoredEvidenceKey {
  id: string;
  /** `tenants-file`, `generated` (first use, no key configured) or `rotated` (the API); see keys.ts. */
  source: string;
  createdAt: number;
  retiredAt?: number;
  /** keyCheck(secret): whether a secret is the one this id signed with. */
  check?: string;
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

export interface AnchorOutboxItem {
  id: number;
  tenant: string;
  writer: string;
  attempts: number;
  anchor: Anchor;
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
  private readonly statements = new Map<string, SqlStatement>();

  /** Called after records are stored (usage counting). */
  onAppend?: (tenant: string, records: number) => void;
  /** Applied to each draft before it is signed (PII redaction): signatures cover what leaves. */
  redact?: (tenant: string, draft: EvidenceDraft) => EvidenceDraft;

  constructor(
    readonly db: SqlDatabase,
    /** The secrets, held in memory from outside the data folder (keys.ts). */
    readonly secrets: EvidenceSecrets = new EvidenceSecrets(),
  ) {}

  /** Prepared once per SQL text: preparing is the expensive part of a small query. */
  private sql(text: string): SqlStatement {
    let statement = this.statements.get(text);
    if (statement === undefined) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  // ---------------------------------------------------------------- keys

  /** The tenant's keys as the data folder knows them: ids and state, never a secret (`secrets` holds those). */
  keys(tenant: string): StoredEvidenceKey[] {
    return (
      this.sql('SELECT id, source, check_value, created_at, retired_at FROM evidence_keys WHERE tenant = ? ORDER BY created_at, rowid').all(tenant) as Array<{
        id: string;
        source: string;
        check_value: string | null;
        created_at: number;
        retired_at: number | null;
      }>
    ).map((k) => ({
      id: k.id,
      source: k.source,
      createdAt: k.created_at,
      ...(k.check_value !== null ? { check: k.check_value } : {}),
      ...(k.retired_at !== null ? { retiredAt: k.retired_at } : {}),
    }));
  }

  /** Key id → secret, retired keys included: what verification needs (keys whose secret is not at hand verify as unknown). */
  keyring(tenant: string): ReadonlyMap<string, string> {
    return this.secrets.ring(tenant);
  }

  /**
   * Adds the tenants file's keys that the store does not know yet (their ids; the secrets stay in
   * memory). A new current key from the file becomes the current one; keys the file marks retired
   * are retired. Keys are never deleted: older records stay verifiable. A key id the file gives a
   * different secret than the one its records were signed with is caught by `prepare`'s check.
   */
  seedKeys(tenant: string, keys: readonly EvidenceKey[], now: number): void {
    this.db.transaction(() => {
      // Replicas starting together seed the same keys: one at a time per tenant (PostgreSQL).
      lockKey(this.db, `evidence:${tenant}`);
      const known = new Map(this.keys(tenant).map((k) => [k.id, k]));
      for (const k of keys) {
        const stored = known.get(k.id);
        const held = this.secrets.get(tenant, k.id);
        if ((stored?.check !== undefined && stored.check !== keyCheck(k.secret)) || (held !== undefined && held !== k.secret)) {
          throw new StoreError('conflict', `tenant ${tenant}: evidence key ${k.id} in the tenants file differs from the one that signed with this id; a key id is never reused — give the new key a new id`);
        }
        this.secrets.put(tenant, k.id, k.secret);
        if (stored === undefined) {
          if (!k.retired) {
            this.sql('UPDATE evidence_keys SET retired_at = ? WHERE tenant = ? AND retired_at IS NULL').run(now, tenant);
          }
          this.sql("INSERT INTO evidence_keys (tenant, id, secret, source, check_value, created_at, retired_at) VALUES (?, ?, '', ?, ?, ?, ?)").run(
            tenant,
            k.id,
            'tenants-file',
            keyCheck(k.secret),
            now,
            k.retired ? now : null,
          );
        } else if (stored.check === undefined) {
          this.sql('UPDATE evidence_keys SET check_value = ? WHERE tenant = ? AND id = ?').run(keyCheck(k.secret), tenant, k.id);
        }
        if (stored !== undefined && k.retired && stored.retiredAt === undefined) {
          this.sql('UPDATE evidence_keys SET retired_at = ? WHERE tenant = ? AND id = ?').run(now, tenant, k.id);
        }
      }
    })();
  }

  /**
   * Moves secrets that older versions kept in the data folder (the evidence_keys table, and the
   * `evidence_key:<tenant>` setting of generated default keys) to the key backend, then overwrites
   * them in the database (secure_delete, and a WAL checkpoint so no copy stays in the log).
   * Returns how many secrets moved.
   */
  moveSecretsOut(): number {
    const rows = this.sql("SELECT tenant, id, secret FROM evidence_keys WHERE secret <> ''").all() as Array<{ tenant: string; id: string; secret: string }>;
    const settings = this.sql("SELECT key, value FROM settings WHERE key LIKE 'evidence\\_key:%' ESCAPE '\\'").all() as Array<{ key: string; value: string }>;
    if (rows.length === 0 && settings.length === 0) {
      return 0;
    }
    const adopt = this.secrets.backend.adopt?.bind(this.secrets.backend);
    if (adopt === undefined) {
      throw new StoreError(
        'invalid',
        `the data folder holds ${rows.length + settings.length} evidence secret(s) from an older version; start once without EVIDENCE_KMS so they move to EVIDENCE_KEY_DIR`,
      );
    }
    const moved: Array<{ tenant: string; id: string; secret: string }> = [...rows];
    for (const s of settings) {
      const key = JSON.parse(s.value) as { id: string; secret: string };
      moved.push({ tenant: s.key.slice('evidence_key:'.length), id: key.id, secret: key.secret });
    }
    for (const k of moved) {
      adopt(k.tenant, { id: k.id, secret: k.secret });
      this.secrets.put(k.tenant, k.id, k.secret);
    }
    const sqlite = sqliteOf(this.db);
    // SQLite keeps overwritten pages' old bytes unless told otherwise; PostgreSQL's old row
    // versions are removed by VACUUM (docs/postgres.md says to run it after an upgrade moves secrets).
    sqlite?.pragma('secure_delete = ON');
    this.db.transaction(() => {
      for (const k of moved) {
        this.sql('UPDATE evidence_keys SET check_value = ? WHERE tenant = ? AND id = ?').run(keyCheck(k.secret), k.tenant, k.id);
      }
      this.sql("UPDATE evidence_keys SET secret = '' WHERE secret <> ''").run();
      for (const s of settings) {
        this.sql('DELETE FROM settings WHERE key = ?').run(s.key);
      }
      // The default key an older version generated was seeded as a tenants-file key: it is a generated one, now in the folder.
      for (const k of moved.slice(rows.length)) {
        this.sql("UPDATE evidence_keys SET source = 'generated' WHERE tenant = ? AND id = ? AND source = 'tenants-file'").run(k.tenant, k.id);
      }
    })();
    if (sqlite !== undefined && sqlite.name !== ':memory:') {
      sqlite.pragma('wal_checkpoint(TRUNCATE)');
    }
    return moved.length;
  }

  /**
   * Loads the secrets of every stored key from the backend (a folder, or derived by the KMS), and
   * makes a current key for each tenant that has none or whose current secret is gone. Returns the
   * ids whose secret was not found (or is not the one that signed), per tenant: their records
   * verify as `unknown_key`. `prepareSync` is the same for a folder or memory.
   */
  async prepare(tenants: readonly string[], now: number): Promise<Map<string, string[]>> {
    const backend = this.secrets.backend;
    const lost = new Map<string, string[]>();
    for (const tenant of tenants) {
      const wanted = this.unloaded(tenant);
      this.accept(tenant, wanted, await backend.secrets(tenant, wanted.map((k) => k.id)), lost);
      if (this.needsCurrent(tenant)) {
        this.addKey(tenant, await backend.make(tenant, now, {}, 'generated'), 'generated', now);
      }
    }
    return lost;
  }

  prepareSync(tenants: readonly string[], now: number): Map<string, string[]> {
    const backend = this.secrets.backend;
    if (backend.secretsSync === undefined || backend.makeSync === undefined) {
      throw new Error(`the ${backend.kind} key backend is asynchronous: use prepare()`);
    }
    const lost = new Map<string, string[]>();
    for (const tenant of tenants) {
      const wanted = this.unloaded(tenant);
      this.accept(tenant, wanted, backend.secretsSync(tenant, wanted.map((k) => k.id)), lost);
      if (this.needsCurrent(tenant)) {
        // Made inside addKey's lock: replicas sharing a key folder must not write one tenant's key file at once.
        const makeSync = backend.makeSync.bind(backend);
        this.addKey(tenant, () => makeSync(tenant, now, {}, 'generated'), 'generated', now);
      }
    }
    return lost;
  }

  /** Stored keys whose secret is not in memory yet (seedKeys puts the tenants file's there; one the file no longer lists may be in the folder, moved out of an older data folder). */
  private unloaded(tenant: string): StoredEvidenceKey[] {
    return this.keys(tenant).filter((k) => this.secrets.get(tenant, k.id) === undefined);
  }

  private accept(tenant: string, wanted: readonly StoredEvidenceKey[], found: ReadonlyMap<string, string>, lost: Map<string, string[]>): void {
    const missing: string[] = [];
    for (const k of wanted) {
      const secret = found.get(k.id);
      // A secret that is not the one the id signed with is as good as lost (its records would read as altered).
      if (secret !== undefined && (k.check === undefined || k.check === keyCheck(secret))) {
        this.secrets.put(tenant, k.id, secret);
      } else {
        missing.push(k.id);
      }
    }
    if (missing.length > 0) {
      lost.set(tenant, missing);
    }
  }

  private needsCurrent(tenant: string): boolean {
    const current = this.keys(tenant)
      .filter((k) => k.retiredAt === undefined)
      .pop();
    if (current !== undefined && this.secrets.get(tenant, current.id) === undefined && this.shared) {
      // Replicas share the keys' ids: the current one is another replica's (or lost); never replace it here.
      this.adoptCurrent(tenant, current);
      return false;
    }
    return current === undefined || this.secrets.get(tenant, current.id) === undefined;
  }

  /** A store shared by replicas (PostgreSQL): keys are made only for a tenant that has none, and never replaced by a replica that lacks a secret. */
  private get shared(): boolean {
    return engineOf(this.db) === 'postgres';
  }

  /**
   * The current key's secret, read again from the key backend (another replica made or rotated the
   * key: a shared EVIDENCE_KEY_DIR or the KMS has it); a replica that cannot get it signs nothing
   * rather than making a key of its own that would retire the others' (each replica would then
   * replace the others' keys in turn).
   */
  private adoptCurrent(tenant: string, current: StoredEvidenceKey): StoredEvidenceKey & { secret: string } {
    const found = this.secrets.backend.secretsSync?.(tenant, [current.id]).get(current.id);
    if (found !== undefined && (current.check === undefined || current.check === keyCheck(found))) {
      this.secrets.put(tenant, current.id, found);
      return { ...current, secret: found };
    }
    throw new StoreError(
      'unavailable',
      `tenant ${tenant}: the current evidence key ${current.id} is not in this replica's key store (${this.secrets.backend.where}); replicas sharing DATABASE_URL need the same evidence keys: list them in the tenants file (evidenceKeys), use EVIDENCE_KMS, or give every replica the same EVIDENCE_KEY_DIR`,
    );
  }

  /** The key that signs new records. One is made on first use when none is configured (a folder or memory; a KMS key is made by `prepare`). */
  currentKey(tenant: string, now: number): StoredEvidenceKey & { secret: string } {
    const current = this.keys(tenant)
      .filter((k) => k.retiredAt === undefined)
      .pop();
    const secret = current && this.secrets.get(tenant, current.id);
    if (current !== undefined && secret !== undefined) {
      return { ...current, secret };
    }
    if (current !== undefined && this.shared) {
      return this.adoptCurrent(tenant, current);
    }
    const backend = this.secrets.backend;
    if (backend.makeSync === undefined) {
      throw new StoreError('unavailable', `tenant ${tenant} has no current evidence key: the KMS (${backend.where}) was not reached at start`);
    }
    const makeSync = backend.makeSync.bind(backend);
    return this.addKey(tenant, () => makeSync(tenant, now, {}, 'generated'), 'generated', now);
  }

  /** Stores a new current key; `make` (a key made on first use) runs under the tenant's lock, after checking another replica did not make one first. */
  private addKey(tenant: string, make: MadeKey | (() => MadeKey), source: KeySource, now: number): StoredEvidenceKey & { secret: string } {
    return this.db.transaction(() => {
      lockKey(this.db, `evidence:${tenant}`);
      if (source === 'generated' && this.shared) {
        // Replicas starting together: the first to get the lock makes the tenant's key, the others take it.
        const current = this.keys(tenant)
          .filter((k) => k.retiredAt === undefined)
          .pop();
        if (current !== undefined) {
          return this.adoptCurrent(tenant, current);
        }
      }
      const key = typeof make === 'function' ? make() : make;
      this.secrets.put(tenant, key.id, key.secret);
      this.sql('UPDATE evidence_keys SET retired_at = ? WHERE tenant = ? AND retired_at IS NULL').run(now, tenant);
      this.sql("INSERT INTO evidence_keys (tenant, id, secret, source, check_value, created_at, retired_at) VALUES (?, ?, '', ?, ?, ?, NULL)").run(tenant, key.id, source, keyCheck(key.secret), now);
      return { id: key.id, source, createdAt: now, check: keyCheck(key.secret), secret: key.secret };
    })();
  }

  /** A new current key (given, or made by the backend); the previous one is retired but kept for verification. */
  async rotateKey(tenant: string, now: number, given: { id?: string; secret?: string } = {}): Promise<{ key: StoredEvidenceKey & { secret: string }; previous?: string }> {
    if (given.id !== undefined && !KEY_ID.test(given.id)) {
      throw new StoreError('invalid', `key id ${JSON.stringify(given.id)} must be 1–64 letters, digits, '.', '_' or '-'`);
    }
    if (given.secret !== undefined && Buffer.byteLength(given.secret, 'utf8') < 32) {
      throw new StoreError('invalid', 'an evidence key secret must be at least 32 bytes');
    }
    if (given.id !== undefined && this.keys(tenant).some((k) => k.id === given.id)) {
      throw new StoreError('conflict', `evidence key ${given.id} exists already; key ids are never reused`);
    }
    let made: MadeKey;
    try {
      made = await this.secrets.backend.make(tenant, now, given, 'rotated');
    } catch (e) {
      if (e instanceof KeyError) {
        throw new StoreError(e.code, e.message);
      }
      throw e;
    }
    const keys = this.keys(tenant);
    if (keys.some((k) => k.id === made.id)) {
      throw new StoreError('conflict', `evidence key ${made.id} exists already; key ids are never reused`);
    }
    const previous = keys.filter((k) => k.retiredAt === undefined).pop()?.id;
    const key = this.addKey(tenant, made, 'rotated', now);
    return previous === undefined ? { key } : { key, previous };
  }

  // ---------------------------------------------------------------- summary windows

  /** Counts evaluated traces into their rules' open windows, in one transaction (a trace counts once per window; a failure sticks). */
  observe(batch: ReadonlyArray<{ window: OpenWindow; traces: ReadonlyMap<string, boolean> }>): void {
    this.db.transaction(() => {
      for (const { window: w, traces } of batch) {
        this.sql('INSERT INTO evidence_windows (tenant, rule_id, window_start, window_end, compliance) VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant, rule_id, window_start) DO UPDATE SET compliance = excluded.compliance').run(
          w.tenant,
          w.ruleId,
          w.windowStart,
          w.windowEnd,
          JSON.stringify(w.compliance),
        );
        const insert = this.sql(
          `INSERT INTO evidence_window_traces (tenant, rule_id, window_start, trace_id, failed) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (tenant, rule_id, window_start, trace_id) DO UPDATE SET failed = max(evidence_window_traces.failed, excluded.failed)`,
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
      // Replicas sharing PostgreSQL append to one chain: one at a time per tenant, in the database.
      lockKey(this.db, `evidence:${tenant}`);
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
      // No limit: the largest one both engines take (SQLite's -1 is an error to PostgreSQL).
      limit: filter.limit ?? Number.MAX_SAFE_INTEGER,
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
      `SELECT framework, control, count(*) AS records, sum(CASE WHEN outcome = 'pass' THEN 1 ELSE 0 END) AS pass, sum(CASE WHEN outcome = 'fail' THEN 1 ELSE 0 END) AS fail,
         sum(CASE WHEN evidence_type = 'summary' THEN checked_traces ELSE 0 END) AS checkedTraces,
         sum(CASE WHEN evidence_type = 'summary' THEN failed_traces ELSE 0 END) AS failedTraces
       FROM evidence WHERE ${clause} GROUP BY framework, control`,
    ).all(params) as ControlSummary[];
  }

  // ---------------------------------------------------------------- anchors

  /** Tenants with a chain (the ones there is a head to anchor). */
  chainTenants(): string[] {
    return (this.sql('SELECT tenant FROM evidence_heads ORDER BY tenant').all() as Array<{ tenant: string }>).map((r) => r.tenant);
  }

  /**
   * Anchors the tenant's head when it moved since its last anchor: signs (seq, hash) with the
   * current key, appends it to the anchor log outside the data folder first (an anchor that did
   * not leave is not an anchor), then keeps it here and queues it for the writers (the
   * `compliance.evidence` anchor span). Returns the anchor, or undefined when the head did not move.
   */
  anchorHead(tenant: string, now: number, writers: readonly string[], log: AnchorLog | undefined): Anchor | undefined {
    return this.db.transaction(() => {
      lockKey(this.db, `evidence:${tenant}`);
      return this.anchorLocked(tenant, now, writers, log);
    })();
  }

  private anchorLocked(tenant: string, now: number, writers: readonly string[], log: AnchorLog | undefined): Anchor | undefined {
    const head = this.head(tenant);
    const last = this.sql('SELECT id, head_seq, head_hash FROM evidence_anchors WHERE tenant = ? ORDER BY id DESC LIMIT 1').get(tenant) as
      | { id: number; head_seq: number; head_hash: string }
      | undefined;
    if (last === undefined ? head.seq === 0 : last.head_seq === head.seq && last.head_hash === head.hash) {
      return undefined;
    }
    const key = this.currentKey(tenant, now);
    const id = (last?.id ?? 0) + 1;
    const unsigned = { headSeq: head.seq, headHash: head.hash, anchoredAt: now, ...anchorIds(tenant, id, now), keyId: key.id };
    const anchor: Anchor = { ...unsigned, tenant, id, signature: signAnchor(unsigned, key.secret) };
    log?.append(anchor);
    this.db.transaction(() => {
      this.sql(
        `INSERT INTO evidence_anchors (tenant, id, head_seq, head_hash, anchored_at, trace_id, span_id, key_id, signature)
         VALUES (@tenant, @id, @headSeq, @headHash, @anchoredAt, @traceId, @spanId, @keyId, @signature)`,
      ).run(anchor);
      for (const writer of writers) {
        this.sql("INSERT INTO outbox (tenant, writer, signal_id, kind, record_id, next_at) VALUES (?, ?, '', 'anchor', ?, ?)").run(tenant, writer, id, now);
      }
    })();
    return anchor;
  }

  /** Due anchor rows of the outbox for one writer, oldest first. */
  dueAnchors(writer: string, now: number, limit: number): AnchorOutboxItem[] {
    const rows = claimDueOutbox(engineOf(this.db), (sql) => this.sql(sql), 'anchor', 'a.*', 'JOIN evidence_anchors a ON a.tenant = o.tenant AND a.id = o.record_id', writer, now, limit) as Array<{
      outbox_id: number;
      attempts: number;
      writer: string;
      tenant: string;
      id: number;
      head_seq: number;
      head_hash: string;
      anchored_at: number;
      trace_id: string;
      span_id: string;
      key_id: string;
      signature: string;
    }>;
    return rows.map((r) => ({
      id: r.outbox_id,
      tenant: r.tenant,
      writer: r.writer,
      attempts: r.attempts,
      anchor: {
        tenant: r.tenant,
        id: r.id,
        headSeq: r.head_seq,
        headHash: r.head_hash,
        anchoredAt: r.anchored_at,
        traceId: r.trace_id,
        spanId: r.span_id,
        keyId: r.key_id,
        signature: r.signature,
      },
    }));
  }

  /** Due evidence rows of the outbox for one writer, oldest first. */
  dueOutbox(writer: string, now: number, limit: number): EvidenceOutboxItem[] {
    const rows = claimDueOutbox(engineOf(this.db), (sql) => this.sql(sql), 'evidence', 'e.*', 'JOIN evidence e ON e.tenant = o.tenant AND e.seq = o.record_id', writer, now, limit) as Array<EvidenceRow & { outbox_id: number; attempts: number; writer: string }>;
    return rows.map((r) => ({ id: r.outbox_id, tenant: r.tenant, writer: r.writer, attempts: r.attempts, evidence: toRecord(r) }));
  }
}
