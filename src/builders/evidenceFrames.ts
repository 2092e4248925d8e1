import type { EvidencePage, EvidenceRecord, VerificationStatus } from '../api/evidence';
import { rangeAround } from './exploreUrl';

/** A trace to open in Explore, with the range its evidence record covers. */
export interface SampleTrace {
  traceId: string;
  /** Epoch milliseconds: the record's window with a margin, so Explore finds the trace. */
  range: { from: number; to: number };
}

/** One control's row: the sidecar's exact counts, with the rules and traces its records name. */
export interface ControlSummary {
  framework: string;
  control: string;
  /** Evidence records over the whole range (the sidecar counts them all, not one page). */
  records: number;
  /** Records whose outcome is `pass` / `fail`. */
  pass: number;
  fail: number;
  /**
   * Traces the control's rules applied to (their trigger held), each counted once per window, and
   * those of them that violated a rule (from the summary records). Traces a rule does not apply to
   * are not counted at all.
   */
  checkedTraces: number;
  failedTraces: number;
  /** Share of the checked traces that passed, 0–1; undefined when no trace was checked. */
  passRate?: number;
  /** The evaluating rules, sorted. */
  rules: string[];
  /** Up to `maxSamples` traces: failing ones first, newest first. */
  samples: SampleTrace[];
  /** The newest record read, for a link to its evidence span in Tempo. */
  lastRecord?: { traceId: string; spanId: string; at: number };
}

/** The margin either side of a record's window, for the Explore links. */
const SAMPLE_MARGIN_MS = 30 * 60 * 1000;

/**
 * The Evidence page's control table from the sidecar's answer: the counts are the sidecar's
 * `summary.controls` (exact over the range); the rules, sample traces and last record come from
 * the records of the page read.
 */
export function controlRows(page: EvidencePage, maxSamples = 5): ControlSummary[] {
  const byControl = new Map<string, EvidenceRecord[]>();
  for (const r of page.records) {
    const key = controlKey(r.framework, r.control);
    byControl.set(key, [...(byControl.get(key) ?? []), r]);
  }
  return page.controls.map((c) => {
    const records = [...(byControl.get(controlKey(c.framework, c.control)) ?? [])].sort((a, b) => b.seq - a.seq);
    const newest = records[0];
    return {
      ...c,
      ...(c.checkedTraces > 0 ? { passRate: (c.checkedTraces - c.failedTraces) / c.checkedTraces } : {}),
      rules: [...new Set(records.map((r) => r.ruleId))].sort(),
      samples: sampleTraces(records, maxSamples),
      ...(newest
        ? { lastRecord: { traceId: newest.traceId, spanId: newest.spanId, at: Date.parse(newest.windowEnd) } }
        : {}),
    };
  });
}

/**
 * A record lists its failing traces first (a per-trace record names the one failing trace), so
 * the first `failedTraces` of a failing record's samples are violating traces; the rest passed.
 */
function sampleTraces(newestFirst: EvidenceRecord[], max: number): SampleTrace[] {
  const failing: SampleTrace[] = [];
  const others: SampleTrace[] = [];
  for (const r of newestFirst) {
    const range = {
      from: rangeAround(Date.parse(r.windowStart), SAMPLE_MARGIN_MS).from,
      to: rangeAround(Date.parse(r.windowEnd), SAMPLE_MARGIN_MS).to,
    };
    const cut = r.outcome === 'fail' ? r.failedTraces : 0;
    r.sampleTraceIds.forEach((traceId, i) => (i < cut ? failing : others).push({ traceId, range }));
  }
  const seen = new Set<string>();
  return [...failing, ...others].filter((s) => !seen.has(s.traceId) && seen.add(s.traceId)).slice(0, max);
}

/** A pass rate as the table shows it: whole percent, one decimal below 100 % so 99.96 % does not read as 100 %. */
export function passRateText(rate: number | undefined): string {
  if (rate === undefined) {
    return '–';
  }
  if (rate === 1) {
    return '100 %';
  }
  // Rounded down (a tiny epsilon absorbs binary fractions such as 0.982 * 1000 = 981.99…).
  const pct = Math.floor(rate * 1000 + 1e-9) / 10;
  return `${pct.toFixed(1)} %`;
}

export type VerificationCounts = Record<VerificationStatus, number>;

/** The sidecar's verification results per control (key `framework\0control`). */
export function verificationByControl(records: EvidenceRecord[]): Map<string, VerificationCounts> {
  const out = new Map<string, VerificationCounts>();
  for (const r of records) {
    const key = controlKey(r.framework, r.control);
    const counts = out.get(key) ?? { verified: 0, altered: 0, missing: 0, reordered: 0 };
    counts[r.verification.status]++;
    out.set(key, counts);
  }
  return out;
}

export function controlKey(framework: string, control: string): string {
  return `${framework}\u0000${control}`;
}
