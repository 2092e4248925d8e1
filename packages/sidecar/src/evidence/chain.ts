/**
 * Verification without walking the whole chain per request. A year of evidence is millions of
 * records and a full walk costs ~1 s per 10 k, so the records route checks only the records it
 * returns (signature, link to the record with seq − 1, order: O(page)), and takes the chain's
 * summary from the tenant's last full walk, cached here with when it ran and the head it covered.
 * Records appended since are walked on from where it stopped, so the summary covers the current
 * head; a walk older than `maxAgeMs` is redone in full (a stored record changed in between shows
 * there, or at once on the page that holds it). Exports always walk in full and refresh the cache.
 */
import { Anchor, AnchorLog, checkAnchors, hashesBySeq } from './anchor';
import { chainHash, EvidenceRecord, GENESIS_PREV } from './record';
import type { EvidenceStore, StoredEvidence } from './store';
import { count, listSeq, RecordVerification, settle, VerificationSummary, verifyChain, verifyRecord } from './verify';

/** The chain summary as the API answers it: what it covers and when it was walked. */
export interface ChainVerification extends VerificationSummary {
  /** full: walked in full for this answer; cached: the full walk of `checkedAt`, continued over the records appended since. */
  scope: 'full' | 'cached';
  /** When the full walk this summary rests on ran. */
  checkedAt: string;
  /** The head (highest seq allocated) the summary covers. */
  head: number;
}

export const DEFAULT_VERIFICATION_MAX_AGE_MS = 10 * 60_000;

/** A tenant's walk: the summary so far and what the next records are checked against. */
interface Walk {
  summary: VerificationSummary;
  checkedAt: number;
  head: number;
  /** The last rowid of the evidence table walked (all tenants). */
  rowid: number;
  /** The highest seq presented so far (order), and the highest seq known (gaps). */
  highest: number;
  maxSeq: number;
  /** The last record walked: the usual predecessor of the next. */
  last: EvidenceRecord | undefined;
  /** Anchors checked so far (the log's first n), and the highest head they anchored (order). */
  anchors: number;
  anchorHighest: number;
}

export class ChainVerifier {
  private readonly walks = new Map<string, Walk>();

  constructor(
    private readonly evidence: EvidenceStore,
    /** A cached full walk older than this is redone in full. */
    private readonly maxAgeMs = DEFAULT_VERIFICATION_MAX_AGE_MS,
    /** The anchors published outside the data folder; none: nothing to check against (DATA_DIR=:memory:). */
    private readonly anchorLog?: AnchorLog,
  ) {}

  /** The tenant's published anchors (oldest first). */
  anchors(tenant: string): readonly Anchor[] {
    return this.anchorLog?.read(tenant).anchors ?? [];
  }

  /** Walks the tenant's whole chain now (exports), with each record's check; refreshes the cache. */
  full(tenant: string, now: number): { summary: ChainVerification; bySeq: Map<number, RecordVerification> } {
    const rowid = this.evidence.lastRowid();
    const records = this.evidence.all(tenant);
    const stored = this.evidence.head(tenant);
    const head = stored.seq;
    const keys = this.evidence.keyring(tenant);
    const { summary, bySeq, highest, maxSeq } = verifyChain(records, keys, head);
    const hashAt = hashesBySeq(records, chainHash);
    const atHead = hashAt(head);
    summary.headMismatch = head === 0 ? stored.hash !== GENESIS_PREV : atHead !== undefined && atHead !== stored.hash;
    const log = this.anchorLog?.read(tenant, true) ?? { anchors: [], unreadable: 0 };
    summary.anchors = checkAnchors(log.anchors, keys, highest, hashAt, log.unreadable);
    settle(summary);
    const walk: Walk = { summary, checkedAt: now, head, rowid, highest, maxSeq, last: records[records.length - 1],
      anchors: log.anchors.length,
      anchorHighest: log.anchors.reduce((m, a) => Math.max(m, a.headSeq), 0),
    };
    this.walks.set(tenant, walk);
    return { summary: view(walk, 'full'), bySeq };
  }

  /** The chain summary: the cached walk continued to the current head, or a full walk when there is none or it is too old. */
  summary(tenant: string, now: number): ChainVerification {
    const walk = this.walks.get(tenant);
    if (walk === undefined || now - walk.checkedAt >= this.maxAgeMs || now < walk.checkedAt) {
      return this.full(tenant, now).summary;
    }
    const head = this.evidence.head(tenant).seq;
    if (head < walk.head) {
      // The head went back: not an append. Walk again.
      return this.full(tenant, now).summary;
    }
    this.extend(tenant, walk, head);
    this.extendAnchors(tenant, walk);
    return view(walk, 'cached');
  }

  /** Walks on over the records stored since the walk stopped, as the full walk would have. */
  private extend(tenant: string, walk: Walk, head: number): void {
    const added = this.evidence.storedAfter(tenant, walk.rowid, walk.maxSeq);
    if (added.length === 0 && head === walk.head) {
      return;
    }
    const keys = this.evidence.keyring(tenant);
    const s = walk.summary;
    const walked = walk.rowid;
    const seen = new Map<number, EvidenceRecord>();
    const before = (seq: number): EvidenceRecord | undefined => {
      if (walk.last?.seq === seq) {
        return walk.last;
      }
      return seen.get(seq) ?? this.evidence.bySeqs(tenant, [seq])[0]?.record;
    };
    const oldMax = walk.maxSeq;
    for (const { rowid, record: r } of added) {
      if (seen.has(r.seq) || (r.seq <= oldMax && this.evidence.seqStoredBy(tenant, r.seq, walked))) {
        s.duplicates.push(r.seq);
      } else {
        seen.set(r.seq, r);
      }
      const v = verifyRecord(r, keys, r.seq === 1 ? undefined : before(r.seq - 1), r.seq < walk.highest);
      walk.highest = Math.max(walk.highest, r.seq);
      walk.maxSeq = Math.max(walk.maxSeq, r.seq);
      s.records++;
      count(s, v);
      walk.rowid = Math.max(walk.rowid, rowid);
      walk.last = r;
    }
    walk.maxSeq = Math.max(walk.maxSeq, head);
    for (let seq = oldMax + 1; seq <= walk.maxSeq; seq++) {
      if (!seen.has(seq)) {
        listSeq(s.missing, seq);
      }
    }
    walk.head = head;
    settle(s);
  }

  /** Checks the anchors published since the walk (their records by one indexed query). */
  private extendAnchors(tenant: string, walk: Walk): void {
    const log = this.anchorLog?.read(tenant);
    if (log === undefined || (log.anchors.length === walk.anchors && log.unreadable === walk.summary.anchors.unreadable)) {
      return;
    }
    if (log.anchors.length < walk.anchors) {
      walk.checkedAt = -Infinity; // the log was rewritten: the next request walks in full
      return;
    }
    const added = log.anchors.slice(walk.anchors);
    const found = new Map<number, string>();
    for (const { record } of this.evidence.bySeqs(
      tenant,
      added.map((a) => a.headSeq),
    )) {
      if (!found.has(record.seq)) found.set(record.seq, chainHash(record));
    }
    const c = checkAnchors(added, this.evidence.keyring(tenant), walk.highest, (seq) => found.get(seq), 0, walk.anchorHighest);
    walk.anchorHighest = Math.max(walk.anchorHighest, ...added.map((a) => a.headSeq));
    const s = walk.summary.anchors;
    s.anchors += c.anchors;
    s.latest = c.latest;
    s.altered.push(...c.altered);
    s.unknownKey.push(...c.unknownKey);
    s.truncated.push(...c.truncated);
    s.mismatched.push(...c.mismatched);
    s.outOfOrder.push(...c.outOfOrder);
    s.unreadable = log.unreadable;
    walk.anchors = log.anchors.length;
    settle(walk.summary);
  }
}

function view(walk: Walk, scope: ChainVerification['scope']): ChainVerification {
  const s = walk.summary;
  return {
    ...s,
    altered: [...s.altered],
    brokenLinks: [...s.brokenLinks],
    missing: [...s.missing],
    reordered: [...s.reordered],
    unknownKey: [...s.unknownKey],
    duplicates: [...s.duplicates],
    anchors: { ...s.anchors, altered: [...s.anchors.altered], unknownKey: [...s.anchors.unknownKey], truncated: [...s.anchors.truncated], mismatched: [...s.anchors.mismatched], outOfOrder: [...s.anchors.outOfOrder] },
    scope,
    checkedAt: new Date(walk.checkedAt).toISOString(),
    head: walk.head,
  };
}

/**
 * Checks records on their own, in full, whatever the chain's length: each one's signature with
 * its key, its link to the record with seq − 1, and its order (reordered when the record with
 * seq + 1 was stored before it: a record presented after a higher seq, as the full walk says).
 * The neighbours come from one indexed query.
 */
export function verifyRecords(evidence: EvidenceStore, tenant: string, rows: readonly StoredEvidence[]): RecordVerification[] {
  const wanted = new Set<number>();
  for (const { record: r } of rows) {
    if (r.seq > 1) wanted.add(r.seq - 1);
    wanted.add(r.seq + 1);
  }
  // The first stored record with a seq is the one the full walk links to.
  const first = new Map<number, StoredEvidence>();
  for (const n of evidence.bySeqs(tenant, [...wanted])) {
    if (!first.has(n.record.seq)) {
      first.set(n.record.seq, n);
    }
  }
  const keys = evidence.keyring(tenant);
  return rows.map(({ rowid, record: r }) => {
    const next = first.get(r.seq + 1);
    return verifyRecord(r, keys, r.seq === 1 ? undefined : first.get(r.seq - 1)?.record, next !== undefined && next.rowid < rowid);
  });
}
