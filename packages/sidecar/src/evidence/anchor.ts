/**
 * Anchors: signed statements "at time T the tenant's chain head was (seq, hash)", published
 * outside the data folder — appended to the anchor log (EVIDENCE_ANCHOR_DIR/<tenant>.jsonl) and
 * sent as `compliance.evidence` spans (evidence_type `anchor`) to Tempo — and carried in every
 * export. Whoever rewrites the data folder cannot take them back: a chain cut below an anchored
 * seq (even with the stored head rewound) is `truncated`, and a chain rewritten or replaced
 * wholesale does not hash to the anchored head (`mismatched`).
 *
 * The canonical form is the records' (record.ts): `{"attributes":{…sorted…},"span_id","trace_id"}`
 * over every attribute below except `betrace.evidence.signature`; the signature is
 * hex(HMAC-SHA256(secret of key_id, canonical form)).
 */
import { createHash, createHmac } from 'crypto';
import fs from 'fs';
import path from 'path';
import { AnyValue, canonicalJson, EvidenceRecord, GENESIS_PREV, listSeq, sameHex } from './record';

export interface Anchor {
  tenant: string;
  /** Per tenant, 1, 2, 3 … (where its span id comes from). */
  id: number;
  headSeq: number;
  /** The chain hash of the record with seq headSeq (the prev the next record will carry); 64 zeros for 0. */
  headHash: string;
  /** Unix ms. */
  anchoredAt: number;
  traceId: string;
  spanId: string;
  keyId: string;
  signature: string;
}

/** An anchor as exports and the anchor log carry it (and as its span's attributes read back from Tempo). */
export interface AnchorView {
  traceId: string;
  spanId: string;
  attributes: Record<string, AnyValue>;
}

export function anchorAttributes(a: Omit<Anchor, 'tenant' | 'id' | 'signature'> & { signature?: string }): Record<string, AnyValue> {
  const attrs: Record<string, AnyValue> = {
    'compliance.evidence_type': { stringValue: 'anchor' },
    'betrace.evidence.head_seq': { intValue: String(a.headSeq) },
    'betrace.evidence.head_hash': { stringValue: a.headHash },
    'betrace.evidence.anchored_at': { stringValue: new Date(a.anchoredAt).toISOString() },
    'betrace.evidence.key_id': { stringValue: a.keyId },
  };
  if (a.signature !== undefined) {
    attrs['betrace.evidence.signature'] = { stringValue: a.signature };
  }
  return attrs;
}

export function anchorCanonicalForm(a: Omit<Anchor, 'tenant' | 'id' | 'signature'> & { signature?: string }): string {
  return canonicalJson({ attributes: anchorAttributes({ ...a, signature: undefined }), span_id: a.spanId, trace_id: a.traceId });
}

export function signAnchor(a: Omit<Anchor, 'tenant' | 'id' | 'signature'> & { signature?: string }, secret: string): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(anchorCanonicalForm(a), 'utf8').digest('hex');
}

/** One trace per tenant and UTC day holds its anchor spans; span ids derive from (tenant, id), so a retry rewrites the same span. */
export function anchorIds(tenant: string, id: number, anchoredAt: number): { traceId: string; spanId: string } {
  const day = new Date(anchoredAt).toISOString().slice(0, 10);
  return {
    traceId: createHash('sha256').update(`betrace.evidence.anchor/${tenant}/${day}`).digest('hex').slice(0, 32),
    spanId: createHash('sha256').update(`betrace.evidence.anchor/${tenant}/${id}`).digest('hex').slice(0, 16),
  };
}

export function anchorView(a: Anchor): AnchorView {
  return { traceId: a.traceId, spanId: a.spanId, attributes: anchorAttributes(a) };
}

/** An anchor from its view (the log, an export, Tempo); undefined when it is not one. */
export function parseAnchorView(tenant: string, id: number, v: unknown): Anchor | undefined {
  if (v === null || typeof v !== 'object') return undefined;
  const { traceId, spanId, attributes } = v as Partial<AnchorView>;
  if (typeof traceId !== 'string' || typeof spanId !== 'string' || attributes === null || typeof attributes !== 'object') return undefined;
  const s = (k: string) => {
    const x = (attributes as Record<string, { stringValue?: unknown }>)[k]?.stringValue;
    return typeof x === 'string' ? x : undefined;
  };
  const seqText = (attributes as Record<string, { intValue?: unknown }>)['betrace.evidence.head_seq']?.intValue;
  const headSeq = typeof seqText === 'string' && /^\d{1,15}$/.test(seqText) ? Number(seqText) : undefined;
  const headHash = s('betrace.evidence.head_hash');
  const at = s('betrace.evidence.anchored_at');
  const anchoredAt = at === undefined ? NaN : Date.parse(at);
  const keyId = s('betrace.evidence.key_id');
  const signature = s('betrace.evidence.signature');
  if (s('compliance.evidence_type') !== 'anchor' || headSeq === undefined || headHash === undefined || Number.isNaN(anchoredAt) || keyId === undefined || signature === undefined) {
    return undefined;
  }
  return { tenant, id, headSeq, headHash, anchoredAt, traceId, spanId, keyId, signature };
}

/**
 * The anchor log: one JSON line (AnchorView) per anchor, appended and fsynced, per tenant. Read
 * incrementally (only the bytes appended since the last read); a file that shrank or changed
 * before the read position is read again in full.
 */
export class AnchorLog {
  private readonly cache = new Map<string, { size: number; head: string; anchors: Anchor[]; unreadable: number }>();

  constructor(readonly dir: string) {}

  file(tenant: string): string {
    return path.join(this.dir, `${tenant}.jsonl`);
  }

  append(a: Anchor): void {
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const fd = fs.openSync(this.file(a.tenant), 'a', 0o644);
    try {
      fs.writeSync(fd, `${JSON.stringify(anchorView(a))}\n`);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }

  /**
   * The tenant's anchors, oldest first, and how many lines could not be read as anchors. Costs
   * what was appended since the last read (a stat, the first 64 bytes, the new bytes), so the
   * records route can ask on every request. `full`: read it all again (a full walk of the chain,
   * an export), so a file rewritten underneath in place is seen too.
   */
  read(tenant: string, full = false): { anchors: readonly Anchor[]; unreadable: number } {
    let fd: number;
    try {
      fd = fs.openSync(this.file(tenant), 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        this.cache.delete(tenant);
        return { anchors: [], unreadable: 0 };
      }
      throw e;
    }
    try {
      const size = fs.fstatSync(fd).size;
      // The first bytes tell a rewritten file from an appended one cheaply.
      const first = Buffer.alloc(Math.min(64, size));
      fs.readSync(fd, first, 0, first.length, 0);
      const head = first.toString('latin1');
      let c = this.cache.get(tenant);
      if (full || c === undefined || size < c.size || head.slice(0, c.head.length) !== c.head) {
        c = { size: 0, head, anchors: [], unreadable: 0 };
      }
      if (size > c.size) {
        const added = Buffer.alloc(size - c.size);
        fs.readSync(fd, added, 0, added.length, c.size);
        const end = added.lastIndexOf(0x0a) + 1; // a line still being written is read next time
        for (const line of added.subarray(0, end).toString('utf8').split('\n')) {
          if (line.trim() === '') continue;
          let parsed: Anchor | undefined;
          try {
            parsed = parseAnchorView(tenant, c.anchors.length + 1, JSON.parse(line));
          } catch {
            parsed = undefined;
          }
          if (parsed === undefined) c.unreadable++;
          else c.anchors.push(parsed);
        }
        c.size += end;
        c.head = head;
      }
      this.cache.set(tenant, c);
      return { anchors: c.anchors, unreadable: c.unreadable };
    } finally {
      fs.closeSync(fd);
    }
  }
}

/** What checking the stored chain against the anchors found. */
export interface AnchorCheck {
  /** Anchors checked. */
  anchors: number;
  /** The latest anchor: its head seq and when it was published. */
  latest: { seq: number; anchoredAt: string } | null;
  /** Head seqs of anchors whose signature does not match, or signed by a key this sidecar does not have. */
  altered: number[];
  unknownKey: number[];
  /** Head seqs anchored that the stored chain no longer reaches (records deleted from the end, the head rewound). */
  truncated: number[];
  /** Head seqs whose stored record does not hash to the anchored hash (the chain was rewritten or replaced). */
  mismatched: number[];
  /** Head seqs of anchors published after an anchor with a higher head (a head that went back). */
  outOfOrder: number[];
  /** Lines of the anchor log that are not anchors. */
  unreadable: number;
}

export function emptyAnchorCheck(): AnchorCheck {
  return { anchors: 0, latest: null, altered: [], unknownKey: [], truncated: [], mismatched: [], outOfOrder: [], unreadable: 0 };
}

export function anchorProblems(c: AnchorCheck): number {
  return c.altered.length + c.unknownKey.length + c.truncated.length + c.mismatched.length + c.outOfOrder.length + c.unreadable;
}


/**
 * Checks anchors against the stored chain. `recordAt(seq)` gives the first stored record with that
 * seq (what the chain walk links to) and `chainHashOf` its chain hash; `storedHead` is the highest
 * seq stored.
 */
export function checkAnchors(
  anchors: readonly Anchor[],
  keys: ReadonlyMap<string, string>,
  storedHead: number,
  hashAt: (seq: number) => string | undefined,
  unreadable = 0,
  /** The highest head anchored before these (when checking anchors appended to ones checked earlier). */
  highestBefore = 0,
): AnchorCheck {
  const c = emptyAnchorCheck();
  c.unreadable = unreadable;
  let highest = highestBefore;
  for (const a of anchors) {
    c.anchors++;
    const secret = keys.get(a.keyId);
    if (secret === undefined) {
      listSeq(c.unknownKey, a.headSeq);
    } else if (!sameHex(signAnchor(a, secret), a.signature)) {
      listSeq(c.altered, a.headSeq);
      continue; // an altered anchor says nothing about the chain
    }
    if (a.headSeq < highest) {
      listSeq(c.outOfOrder, a.headSeq);
    }
    highest = Math.max(highest, a.headSeq);
    if (a.headSeq === 0) {
      if (a.headHash !== GENESIS_PREV) listSeq(c.mismatched, 0);
      continue;
    }
    const hash = a.headSeq <= storedHead ? hashAt(a.headSeq) : undefined;
    if (hash === undefined) {
      listSeq(c.truncated, a.headSeq);
    } else if (!sameHex(hash, a.headHash)) {
      listSeq(c.mismatched, a.headSeq);
    }
  }
  const last = anchors[anchors.length - 1];
  c.latest = last === undefined ? null : { seq: last.headSeq, anchoredAt: new Date(last.anchoredAt).toISOString() };
  return c;
}

/** The records' chain hashes by seq (first stored record per seq), for checkAnchors over a full walk. */
export function hashesBySeq(records: readonly EvidenceRecord[], chainHash: (r: EvidenceRecord) => string): (seq: number) => string | undefined {
  const first = new Map<number, EvidenceRecord>();
  for (const r of records) {
    if (!first.has(r.seq)) first.set(r.seq, r);
  }
  return (seq) => {
    const r = first.get(seq);
    return r === undefined ? undefined : chainHash(r);
  };
}
