import { createDataFrame, FieldType, type DataFrame } from '@grafana/data';
import { SEVERITIES, type Signal, type SignalPage } from '../api/signals';

/** Paging facts of a table frame, kept in `meta.custom` so the table knows what it shows. */
export interface SignalsPageMeta {
  total: number;
  limit: number;
  offset: number;
}

/** The signals of one page as a table frame, newest first as the sidecar sorts them. */
export function signalsTableFrame(page: SignalPage, refId: string): DataFrame {
  const s = page.signals;
  const meta: SignalsPageMeta = { total: page.total, limit: page.limit, offset: page.offset };
  return createDataFrame({
    refId,
    name: 'signals',
    meta: { preferredVisualisationType: 'table', custom: meta },
    fields: [
      { name: 'time', type: FieldType.time, values: s.map((x) => Date.parse(x.createdAt)) },
      { name: 'id', type: FieldType.string, values: s.map((x) => x.id) },
      { name: 'severity', type: FieldType.string, values: s.map((x) => x.severity) },
      { name: 'status', type: FieldType.string, values: s.map((x) => x.status) },
      { name: 'rule', type: FieldType.string, values: s.map((x) => x.ruleName) },
      { name: 'ruleId', type: FieldType.string, values: s.map((x) => x.ruleId) },
      { name: 'service', type: FieldType.string, values: s.map((x) => x.service ?? '') },
      { name: 'message', type: FieldType.string, values: s.map((x) => x.message) },
      { name: 'traceId', type: FieldType.string, values: s.map((x) => x.traceId) },
      { name: 'spanId', type: FieldType.string, values: s.map((x) => x.boundSpanId ?? '') },
      { name: 'source', type: FieldType.string, values: s.map((x) => x.source) },
    ],
  });
}

/** One row of a signals table frame, read back by name. */
export interface SignalRow {
  time: number;
  id: string;
  severity: string;
  status: string;
  rule: string;
  ruleId: string;
  service: string;
  message: string;
  traceId: string;
  spanId: string;
  source: string;
}

const ROW_FIELDS: Array<keyof SignalRow> = [
  'time',
  'id',
  'severity',
  'status',
  'rule',
  'ruleId',
  'service',
  'message',
  'traceId',
  'spanId',
  'source',
];

/** The rows of a frame made by `signalsTableFrame`; a frame without these fields is an error. */
export function signalRows(frame: DataFrame): SignalRow[] {
  const byName = new Map(frame.fields.map((f) => [f.name, f.values]));
  const missing = ROW_FIELDS.filter((n) => !byName.has(n));
  if (missing.length > 0) {
    throw new Error(`not a signals frame: no field ${missing.join(', ')}`);
  }
  const rows: SignalRow[] = [];
  for (let i = 0; i < frame.length; i++) {
    const row = {} as Record<string, unknown>;
    for (const n of ROW_FIELDS) {
      row[n] = byName.get(n)![i];
    }
    rows.push(row as unknown as SignalRow);
  }
  return rows;
}

/** A step that gives at most `maxPoints` buckets, in whole minutes (signals are not finer). */
export function bucketStep(from: number, to: number, maxPoints: number): number {
  const minute = 60_000;
  return Math.max(minute, Math.ceil((to - from) / Math.max(1, maxPoints) / minute) * minute);
}

/**
 * Signals counted per severity in `step`-wide buckets over [from, to): a wide frame (time plus
 * one count field per severity, every severity present so the colours never shift).
 */
export function signalsBySeverityFrame(
  signals: Array<Pick<Signal, 'createdAt' | 'severity'>>,
  range: { from: number; to: number },
  step: number,
  refId: string
): DataFrame {
  if (!(step > 0) || !Number.isFinite(step)) {
    throw new RangeError(`step must be a positive number of milliseconds; got ${step}`);
  }
  const start = Math.floor(range.from / step) * step;
  const buckets = Math.max(1, Math.ceil((range.to - start) / step));
  const times = Array.from({ length: buckets }, (_, i) => start + i * step);
  const counts = new Map(SEVERITIES.map((sev) => [sev as string, new Array<number>(buckets).fill(0)]));
  for (const s of signals) {
    const t = Date.parse(s.createdAt);
    const i = Math.floor((t - start) / step);
    const series = counts.get(s.severity);
    if (series && i >= 0 && i < buckets && t >= range.from && t < range.to) {
      series[i]++;
    }
  }
  return createDataFrame({
    refId,
    name: 'signals by severity',
    fields: [
      { name: 'time', type: FieldType.time, values: times, config: { interval: step } },
      ...SEVERITIES.map((sev) => ({
        name: sev,
        type: FieldType.number,
        values: counts.get(sev)!,
        config: { displayName: sev },
      })),
    ],
  });
}
