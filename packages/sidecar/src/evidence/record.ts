/**
 * Evidence records and their canonical form: what is signed, what is chained, and how an auditor
 * re-derives both from an export or from the `compliance.evidence` spans in Tempo.
 *
 * The canonical form of a record (docs/evidence.md, "Verifying"):
 *   JSON of { "attributes": {<key>: <OTLP/JSON AnyValue>}, "span_id": <hex>, "trace_id": <hex> }
 *   with keys sorted (at every level), no whitespace, UTF-8, and every `compliance.*` and
 *   `betrace.evidence.*` attribute except `betrace.evidence.signature`. Values carry their type
 *   as in OTLP/JSON: `{"stringValue":"…"}`, `{"intValue":"42"}` (int64 as a decimal string),
 *   `{"arrayValue":{"values":[…]}}`.
 *   signature = hex(HMAC-SHA256(utf8(key secret), canonical))
 *   prev      = hex(SHA-256(canonical form with the signature attribute included)) of the record
 *               with seq − 1; the first record's prev is 64 zeros.
 */
import { createHash, createHmac, timingSafeEqual } from 'crypto';

export type EvidenceOutcome = 'pass' | 'fail';
/** summary: one rule, one window; trace: one failing trace (per-trace mode). */
export type EvidenceType = 'summary' | 'trace';

export const GENESIS_PREV = '0'.repeat(64);

/** What the recorder decides; the chain (seq, prev, key, signature) is added when it is appended. */
export interface EvidenceDraft {
  framework: string;
  control: string;
  ruleId: string;
  outcome: EvidenceOutcome;
  evidenceType: EvidenceType;
  checkedTraces: number;
  failedTraces: number;
  /** Unix ms. */
  windowStart: number;
  windowEnd: number;
  sampleTraceIds: string[];
  traceId: string;
  /** Not signed: where the span hangs in the evaluated trace (per-trace mode). */
  parentSpanId?: string;
}

export interface EvidenceRecord extends EvidenceDraft {
  tenant: string;
  seq: number;
  spanId: string;
  keyId: string;
  prev: string;
  signature: string;
}

export type AnyValue = { stringValue: string } | { intValue: string } | { arrayValue: { values: AnyValue[] } };

const str = (v: string): AnyValue => ({ stringValue: v });
const int = (v: number): AnyValue => ({ intValue: String(v) });

/** The record's span attributes (the contract's names), signature last when present. */
export function evidenceAttributes(r: Omit<EvidenceRecord, 'tenant' | 'signature'> & { signature?: string }): Record<string, AnyValue> {
  const attrs: Record<string, AnyValue> = {
    'compliance.framework': str(r.framework),
    'compliance.control': str(r.control),
    'compliance.outcome': str(r.outcome),
    'compliance.rule_id': str(r.ruleId),
    'compliance.evidence_type': str(r.evidenceType),
    'compliance.checked_traces': int(r.checkedTraces),
    'compliance.failed_traces': int(r.failedTraces),
    'compliance.window_start': str(new Date(r.windowStart).toISOString()),
    'compliance.window_end': str(new Date(r.windowEnd).toISOString()),
    'compliance.sample_trace_ids': { arrayValue: { values: r.sampleTraceIds.map(str) } },
    'betrace.evidence.seq': int(r.seq),
    'betrace.evidence.prev': str(r.prev),
    'betrace.evidence.key_id': str(r.keyId),
  };
  if (r.signature !== undefined) {
    attrs['betrace.evidence.signature'] = str(r.signature);
  }
  return attrs;
}

/** JSON with keys sorted at every level and no whitespace. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) {
    return `[${value.map(canonicalJson).join(',')}]`;
  }
  if (value !== null && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    // Array.prototype.sort without a comparator orders by UTF-16 code units: code point order for the (ASCII) keys used here.
    let out = '';
    for (const k of Object.keys(object).sort()) {
      if (object[k] !== undefined) {
        out += `${out === '' ? '' : ','}${JSON.stringify(k)}:${canonicalJson(object[k])}`;
      }
    }
    return `{${out}}`;
  }
  if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    throw new Error(`canonical form: ${value} is not a safe integer (int64 values are strings)`);
  }
  return JSON.stringify(value);
}

/** The definition of the canonical form: canonicalJson over the attributes, span id and trace id. */
export function canonicalFormSlow(r: Omit<EvidenceRecord, 'tenant' | 'signature'> & { signature?: string }, withSignature = false): string {
  const attributes = evidenceAttributes(withSignature ? r : { ...r, signature: undefined });
  return canonicalJson({ attributes, span_id: r.spanId, trace_id: r.traceId });
}

/**
 * The bytes the signature covers (`withSignature`: the bytes the next record's prev hashes).
 * Verification runs it twice per record over whole chains, so the fixed attribute set is written
 * in its sorted order directly; tests pin it to canonicalFormSlow.
 */
export function canonicalForm(r: Omit<EvidenceRecord, 'tenant' | 'signature'> & { signature?: string }, withSignature = false): string {
  const s = JSON.stringify;
  const str = (v: string) => `{"stringValue":${s(v)}}`;
  const int = (v: number) => {
    if (!Number.isSafeInteger(v)) {
      throw new Error(`canonical form: ${v} is not a safe integer`);
    }
    return `{"intValue":"${v}"}`;
  };
  const signature = withSignature && r.signature !== undefined ? `"betrace.evidence.signature":${str(r.signature)},` : '';
  return (
    `{"attributes":{"betrace.evidence.key_id":${str(r.keyId)},"betrace.evidence.prev":${str(r.prev)},"betrace.evidence.seq":${int(r.seq)},${signature}` +
    `"compliance.checked_traces":${int(r.checkedTraces)},"compliance.control":${str(r.control)},"compliance.evidence_type":${str(r.evidenceType)},` +
    `"compliance.failed_traces":${int(r.failedTraces)},"compliance.framework":${str(r.framework)},"compliance.outcome":${str(r.outcome)},` +
    `"compliance.rule_id":${str(r.ruleId)},"compliance.sample_trace_ids":{"arrayValue":{"values":[${r.sampleTraceIds.map(str).join(',')}]}},` +
    `"compliance.window_end":${str(new Date(r.windowEnd).toISOString())},"compliance.window_start":${str(new Date(r.windowStart).toISOString())}},` +
    `"span_id":${s(r.spanId)},"trace_id":${s(r.traceId)}}`
  );
}

export function signRecord(r: Omit<EvidenceRecord, 'tenant' | 'signature'>, secret: string): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(canonicalForm(r), 'utf8').digest('hex');
}

/** What the next record's `prev` must be. */
export function chainHash(r: Omit<EvidenceRecord, 'tenant'>): string {
  return createHash('sha256').update(canonicalForm(r, true), 'utf8').digest('hex');
}

/** Span ids are derived, so a retried export rewrites the same span. */
export function evidenceSpanId(tenant: string, seq: number): string {
  return createHash('sha256').update(`betrace.evidence/${tenant}/${seq}`).digest('hex').slice(0, 16);
}

/** Summary records of one rule and window share a trace of their own. */
export function summaryTraceId(tenant: string, ruleId: string, windowStart: number): string {
  return createHash('sha256').update(`betrace.evidence/${tenant}/${ruleId}/${windowStart}`).digest('hex').slice(0, 32);
}

/** Two hex strings compared in constant time (signatures, hashes). */
export function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** At most this many seqs are listed per problem (the counts stay exact in `records`/`verified`). */
export const MAX_LISTED = 1000;

/** Lists a seq under a problem, up to MAX_LISTED. */
export function listSeq(into: number[], seq: number): void {
  if (into.length < MAX_LISTED) {
    into.push(seq);
  }
}
