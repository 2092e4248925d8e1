import { FieldType, type DataFrame } from '@grafana/data';
import type { EvidenceRecord, VerificationStatus } from '../api/evidence';

/** What the evidence spans of one control say over the chosen range. */
export interface ControlSummary {
  framework: string;
  control: string;
  /** Evidence records (spans) found. */
  records: number;
  /** Records whose outcome is `pass` / `fail`. */
  pass: number;
  fail: number;
  /** Traces the rules checked, and those that failed, summed over the records. */
  checkedTraces: number;
  failedTraces: number;
  /** The evaluating rules, sorted. */
  rules: string[];
  /** Up to `maxSamples` failing (first) or checked trace ids. */
  sampleTraceIds: string[];
  /** Epoch ms of the newest record. */
  lastSeen: number;
}

/** Tempo's span tables name attribute columns by key, without the `span.` scope. */
function column(frame: DataFrame, key: string): unknown[] | undefined {
  return (frame.fields.find((f) => f.name === key) ?? frame.fields.find((f) => f.name === `span.${key}`))?.values;
}

/** Tempo answers a span table as one frame, or (older versions) a frame of nested frames. */
function flatten(frames: DataFrame[]): DataFrame[] {
  const out: DataFrame[] = [];
  for (const f of frames) {
    const nested = f.fields.find((x) => x.type === FieldType.nestedFrames);
    if (nested) {
      for (const v of nested.values) {
        out.push(...flatten(v as DataFrame[]));
      }
    } else {
      out.push(f);
    }
  }
  return out;
}

/** `compliance.sample_trace_ids` arrives as a JSON array or as a comma/space separated string. */
export function parseTraceIds(value: unknown): string[] {
  if (Array.isArray(value)) {
    return value.map(String).filter((s) => /^[0-9a-f]{1,32}$/i.test(s));
  }
  if (typeof value !== 'string' || value.trim() === '') {
    return [];
  }
  const text = value.trim();
  if (text.startsWith('[')) {
    try {
      return parseTraceIds(JSON.parse(text));
    } catch {
      return [];
    }
  }
  return text.split(/[\s,]+/).filter((s) => /^[0-9a-f]{1,32}$/i.test(s));
}

const num = (v: unknown): number => {
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : 0;
};

/** Per-control summaries from the evidence span table Tempo returned, sorted by framework, control. */
export function controlSummaries(frames: DataFrame[], maxSamples = 5): ControlSummary[] {
  const byControl = new Map<
    string,
    ControlSummary & { failingSamples: string[]; otherSamples: string[]; ruleSet: Set<string> }
  >();
  for (const frame of flatten(frames)) {
    const frameworks = column(frame, 'compliance.framework');
    const controls = column(frame, 'compliance.control');
    if (!controls) {
      continue;
    }
    const outcomes = column(frame, 'compliance.outcome');
    const rules = column(frame, 'compliance.rule_id');
    const checked = column(frame, 'compliance.checked_traces');
    const failed = column(frame, 'compliance.failed_traces');
    const samples = column(frame, 'compliance.sample_trace_ids');
    const traceIds = column(frame, 'traceIdHidden') ?? column(frame, 'traceID');
    const times = column(frame, 'time') ?? column(frame, 'startTime');
    for (let i = 0; i < frame.length; i++) {
      const control = String(controls[i] ?? '');
      if (control === '') {
        continue;
      }
      const framework = String(frameworks?.[i] ?? '');
      const key = controlKey(framework, control);
      let s = byControl.get(key);
      if (!s) {
        s = {
          framework,
          control,
          records: 0,
          pass: 0,
          fail: 0,
          checkedTraces: 0,
          failedTraces: 0,
          rules: [],
          sampleTraceIds: [],
          lastSeen: 0,
          failingSamples: [],
          otherSamples: [],
          ruleSet: new Set(),
        };
        byControl.set(key, s);
      }
      const outcome = String(outcomes?.[i] ?? '');
      s.records++;
      if (outcome === 'pass') {
        s.pass++;
      } else if (outcome === 'fail') {
        s.fail++;
      }
      s.checkedTraces += num(checked?.[i]);
      s.failedTraces += num(failed?.[i]);
      if (rules?.[i]) {
        s.ruleSet.add(String(rules[i]));
      }
      s.lastSeen = Math.max(s.lastSeen, num(times?.[i]));
      // Per-trace evidence lives in the evaluated trace itself; summary evidence lists samples.
      const ids = samples ? parseTraceIds(samples[i]) : [];
      const own = ids.length === 0 && traceIds?.[i] ? [String(traceIds[i])] : [];
      (outcome === 'fail' ? s.failingSamples : s.otherSamples).push(...ids, ...own);
    }
  }
  return [...byControl.values()]
    .map(({ failingSamples, otherSamples, ruleSet, ...s }) => ({
      ...s,
      rules: [...ruleSet].sort(),
      sampleTraceIds: [...new Set([...failingSamples, ...otherSamples])].slice(0, maxSamples),
    }))
    .sort(
      (a, b) =>
        a.framework.localeCompare(b.framework) || a.control.localeCompare(b.control, undefined, { numeric: true })
    );
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
