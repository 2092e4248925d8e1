import { FieldType, toDataFrame, type DataFrame } from '@grafana/data';
import type { RuleHealthBucket } from '../api/health';

/**
 * The Health tab's time series from a rule's hourly buckets (GET /api/v1/rules/{id}/health):
 * triggered traces and violations per hour, and the compliance ratio per hour (null where nothing
 * triggered, so the line breaks rather than drawing a 100 % that was never measured).
 */
export function healthFrames(series: readonly RuleHealthBucket[]): { counts: DataFrame; compliance: DataFrame } {
  const time = series.map((b) => Date.parse(b.bucketStart));
  return {
    counts: toDataFrame({
      refId: 'counts',
      name: 'Triggered and violations per hour',
      fields: [
        { name: 'Time', type: FieldType.time, values: time },
        { name: 'Triggered', type: FieldType.number, values: series.map((b) => b.triggered) },
        { name: 'Violations', type: FieldType.number, values: series.map((b) => b.violations) },
      ],
    }),
    compliance: toDataFrame({
      refId: 'compliance',
      name: 'Compliance ratio per hour',
      fields: [
        { name: 'Time', type: FieldType.time, values: time },
        { name: 'Compliance ratio', type: FieldType.number, values: series.map((b) => b.complianceRatio), config: { unit: 'percentunit', min: 0, max: 1 } },
      ],
    }),
  };
}
