/**
 * Verification of a tenant's evidence chain, records taken in the order they are presented (the
 * store's insertion order, or an export's list order). A record is `altered` when its signature
 * does not match its key; a link is broken when its `prev` is not the hash of the record before
 * it; `missing` are the seq numbers absent between 1 and the head; `reordered` are records that
 * come after a record with a higher seq.
 */
import { AnchorCheck, anchorProblems, emptyAnchorCheck } from './anchor';
import { chainHash, EvidenceRecord, GENESIS_PREV, listSeq, MAX_LISTED, sameHex, signRecord } from './record';

export type SignatureCheck = 'valid' | 'invalid' | 'unknown_key';
export type LinkCheck = 'valid' | 'broken' | 'unchecked';

export interface RecordVerification {
  seq: number;
  signature: SignatureCheck;
  /** unchecked: the record before it is missing (or outside what was given). */
  link: LinkCheck;
  reordered: boolean;
  ok: boolean;
}

export interface VerificationSummary {
  records: number;
  /** Records whose signature and link both verify and that are in order. */
  verified: number;
  /** Seqs whose signature does not match (the record was changed after signing). */
  altered: number[];
  /** Seqs whose prev does not match the record before them. */
  brokenLinks: number[];
  /** Seqs absent from the chain (deleted records). */
  missing: number[];
  /** Seqs presented after a record with a higher seq. */
  reordered: number[];
  /** Seqs signed by a key this sidecar does not have. */
  unknownKey: number[];
  /** Seqs that occur more than once. */
  duplicates: number[];
  /** The stored head (seq, hash) does not match the stored record with that seq. */
  headMismatch: boolean;
  /** The stored chain against the anchors published outside the data folder (anchor.ts). */
  anchors: AnchorCheck;
  ok: boolean;
}

export { listSeq, MAX_LISTED } from './record';

/**
 * @param keys key id → secret, retired keys included.
 * @param head the highest seq allocated (from the store), so records deleted at the end are missing too.
 */
export function verifyChain(
  records: readonly EvidenceRecord[],
  keys: ReadonlyMap<string, string>,
  head = 0,
): { summary: VerificationSummary; bySeq: Map<number, RecordVerification>; highest: number; maxSeq: number } {
  const bySeq = new Map<number, EvidenceRecord>();
  const duplicates: number[] = [];
  let maxSeq = head;
  for (const r of records) {
    if (bySeq.has(r.seq)) {
      duplicates.push(r.seq);
    } else {
      bySeq.set(r.seq, r);
    }
    maxSeq = Math.max(maxSeq, r.seq);
  }
  const results = new Map<number, RecordVerification>();
  const summary: VerificationSummary = {
    records: records.length,
    verified: 0,
    altered: [],
    brokenLinks: [],
    missing: [],
    reordered: [],
    unknownKey: [],
    duplicates,
    headMismatch: false,
    anchors: emptyAnchorCheck(),
    ok: true,
  };
  let highest = 0;
  for (const r of records) {
    const v = verifyRecord(r, keys, r.seq === 1 ? undefined : bySeq.get(r.seq - 1), r.seq < highest);
    highest = Math.max(highest, r.seq);
    if (!results.has(r.seq)) {
      results.set(r.seq, v);
    }
    count(summary, v);
  }
  for (let seq = 1; seq <= maxSeq && summary.missing.length < MAX_LISTED; seq++) {
    if (!bySeq.has(seq)) {
      summary.missing.push(seq);
    }
  }
  settle(summary);
  return { summary, bySeq: results, highest, maxSeq };
}

/**
 * One record's check: its signature with its key, its link to `before` (the record with
 * seq − 1; unchecked when there is none), and whether it was presented after a higher seq.
 */
export function verifyRecord(r: EvidenceRecord, keys: ReadonlyMap<string, string>, before: EvidenceRecord | undefined, reordered: boolean): RecordVerification {
  const secret = keys.get(r.keyId);
  const signature: SignatureCheck = secret === undefined ? 'unknown_key' : sameHex(signRecord(r, secret), r.signature) ? 'valid' : 'invalid';
  const expected = r.seq === 1 ? GENESIS_PREV : before && chainHash(before);
  const link: LinkCheck = expected === undefined ? 'unchecked' : sameHex(expected, r.prev) ? 'valid' : 'broken';
  const ok = signature === 'valid' && link !== 'broken' && !reordered;
  return { seq: r.seq, signature, link, reordered, ok };
}

/** Counts one record's check into a summary (`records` and `duplicates` are the caller's). */
export function count(summary: VerificationSummary, v: RecordVerification): void {
  if (v.signature === 'invalid') listSeq(summary.altered, v.seq);
  if (v.signature === 'unknown_key') listSeq(summary.unknownKey, v.seq);
  if (v.link === 'broken') listSeq(summary.brokenLinks, v.seq);
  if (v.reordered) listSeq(summary.reordered, v.seq);
  if (v.ok && v.link === 'valid') {
    summary.verified++;
  }
}

/** Sets `ok` from the problem lists. */
export function settle(summary: VerificationSummary): void {
  summary.ok =
    summary.altered.length +
      summary.brokenLinks.length +
      summary.missing.length +
      summary.reordered.length +
      summary.unknownKey.length +
      summary.duplicates.length +
      anchorProblems(summary.anchors) +
      (summary.headMismatch ? 1 : 0) ===
    0;
}
