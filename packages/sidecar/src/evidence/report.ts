/**
 * What the evidence API and its exports say: records with their verification, the per-control
 * table, and the CSV and JSON renderings. The JSON export carries each record's span attributes
 * exactly as signed, so docs/evidence.md's script can re-verify it without BeTrace.
 */
import { AnyValue, evidenceAttributes, EvidenceRecord } from './record';
import type { AnchorView } from './anchor';
import type { ChainVerification } from './chain';
import type { RecordVerification } from './verify';

export interface RecordView {
  seq: number;
  framework: string;
  control: string;
  ruleId: string;
  evidenceType: string;
  outcome: string;
  checkedTraces: number;
  passedTraces: number;
  failedTraces: number;
  windowStart: string;
  windowEnd: string;
  sampleTraceIds: string[];
  traceId: string;
  spanId: string;
  keyId: string;
  prev: string;
  signature: string;
  /** The span attributes as signed (OTLP/JSON AnyValues), signature included. */
  attributes: Record<string, AnyValue>;
  verification: RecordVerification;
}

export interface ControlSummary {
  framework: string;
  control: string;
  records: number;
  pass: number;
  fail: number;
  checkedTraces: number;
  failedTraces: number;
}

export interface EvidenceReport {
  tenant: string;
  generatedAt: string;
  scope: { framework: string | null; control: string | null };
  period: { from: string | null; to: string | null };
  /** The whole chain of the tenant, whatever the filter. */
  verification: ChainVerification;
  controls: ControlSummary[];
  records: RecordView[];
  /** Exports: the stored chain head (what the next record's prev will be). */
  head?: { seq: number; hash: string };
  /** Exports: the anchors published outside the data folder, oldest first (what the auditor's script checks the chain against). */
  anchors?: AnchorView[];
}

const UNCHECKED: RecordVerification = { seq: 0, signature: 'unknown_key', link: 'unchecked', reordered: false, ok: false };

export function recordView(r: EvidenceRecord, v: RecordVerification | undefined): RecordView {
  return {
    seq: r.seq,
    framework: r.framework,
    control: r.control,
    ruleId: r.ruleId,
    evidenceType: r.evidenceType,
    outcome: r.outcome,
    checkedTraces: r.checkedTraces,
    passedTraces: r.checkedTraces - r.failedTraces,
    failedTraces: r.failedTraces,
    windowStart: new Date(r.windowStart).toISOString(),
    windowEnd: new Date(r.windowEnd).toISOString(),
    sampleTraceIds: r.sampleTraceIds,
    traceId: r.traceId,
    spanId: r.spanId,
    keyId: r.keyId,
    prev: r.prev,
    signature: r.signature,
    attributes: evidenceAttributes(r),
    verification: v ?? { ...UNCHECKED, seq: r.seq },
  };
}

/** Pass/fail counts per framework and control, sorted: the definition store.ts `controls` computes in SQL (tests pin them together). */
export function controlSummary(records: readonly EvidenceRecord[]): ControlSummary[] {
  const by = new Map<string, ControlSummary>();
  for (const r of records) {
    const key = `${r.framework}\u0000${r.control}`;
    let c = by.get(key);
    if (c === undefined) {
      c = { framework: r.framework, control: r.control, records: 0, pass: 0, fail: 0, checkedTraces: 0, failedTraces: 0 };
      by.set(key, c);
    }
    c.records++;
    c[r.outcome]++;
    // Per-trace records repeat traces a summary already counts: the trace totals come from summaries.
    if (r.evidenceType === 'summary') {
      c.checkedTraces += r.checkedTraces;
      c.failedTraces += r.failedTraces;
    }
  }
  return sortControls([...by.values()]);
}

/** By framework, then control (the per-control table's order). */
export function sortControls(controls: ControlSummary[]): ControlSummary[] {
  return controls.sort((a, b) => (a.framework === b.framework ? a.control.localeCompare(b.control) : a.framework.localeCompare(b.framework)));
}

export const CSV_COLUMNS = [
  'seq',
  'framework',
  'control',
  'rule_id',
  'evidence_type',
  'outcome',
  'checked_traces',
  'passed_traces',
  'failed_traces',
  'window_start',
  'window_end',
  'sample_trace_ids',
  'trace_id',
  'span_id',
  'key_id',
  'prev',
  'signature',
  'verified',
] as const;

/** RFC 4180 quoting; a leading = + - @ gets a ' so a spreadsheet never runs it as a formula. */
function csvField(value: string | number): string {
  let s = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(s)) {
    s = `'${s}`;
  }
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function verdict(v: RecordVerification): string {
  if (v.ok) {
    return v.link === 'valid' ? 'ok' : 'ok (previous record not present)';
  }
  const problems = [];
  if (v.signature === 'invalid') problems.push('altered');
  if (v.signature === 'unknown_key') problems.push('unknown key');
  if (v.link === 'broken') problems.push('chain broken');
  if (v.reordered) problems.push('reordered');
  return problems.join('; ');
}

export function toCsv(report: EvidenceReport): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const r of report.records) {
    lines.push(
      [
        r.seq,
        r.framework,
        r.control,
        r.ruleId,
        r.evidenceType,
        r.outcome,
        r.checkedTraces,
        r.passedTraces,
        r.failedTraces,
        r.windowStart,
        r.windowEnd,
        r.sampleTraceIds.join(' '),
        r.traceId,
        r.spanId,
        r.keyId,
        r.prev,
        r.signature,
        verdict(r.verification),
      ]
        .map(csvField)
        .join(','),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}

export { verdict as verificationText };
