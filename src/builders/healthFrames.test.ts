import { healthFrames } from './healthFrames';

const bucket = (hour: number, triggered: number, violations: number) => ({
  bucketStart: `2026-11-25T${String(hour).padStart(2, '0')}:00:00.000Z`,
  evaluated: triggered + 3,
  triggered,
  violations,
  skipped: 0,
  costUs: 0,
  costSamples: 0,
  complianceRatio: triggered === 0 ? null : 1 - violations / triggered,
});

describe('healthFrames', () => {
  it('gives hourly triggered and violations, and the compliance ratio with gaps where nothing triggered', () => {
    const { counts, compliance } = healthFrames([bucket(10, 8, 2), bucket(11, 0, 0), bucket(12, 4, 4)]);
    const values = (f: typeof counts) => f.fields.map((x) => [x.name, [...x.values]]);
    const t = (h: number) => Date.UTC(2026, 10, 25, h);
    expect(values(counts)).toEqual([
      ['Time', [t(10), t(11), t(12)]],
      ['Triggered', [8, 0, 4]],
      ['Violations', [2, 0, 4]],
    ]);
    expect(values(compliance)).toEqual([
      ['Time', [t(10), t(11), t(12)]],
      ['Compliance ratio', [0.75, null, 0]],
    ]);
    expect(compliance.fields[1].config).toEqual({ unit: 'percentunit', min: 0, max: 1 });
    expect([counts.refId, compliance.refId]).toEqual(['counts', 'compliance']);
  });

  it('gives empty frames for no buckets', () => {
    const { counts } = healthFrames([]);
    expect(counts.length).toBe(0);
    expect(counts.fields.map((f) => f.name)).toEqual(['Time', 'Triggered', 'Violations']);
  });
});
