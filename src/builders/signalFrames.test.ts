import { FieldType, type DataFrame } from '@grafana/data';
import type { Signal, SignalPage } from '../api/signals';
import { bucketStep, signalRows, signalsBySeverityFrame, signalsTableFrame } from './signalFrames';

const signal = (over: Partial<Signal>): Signal => ({
  id: 's1',
  tenant: 'default',
  ruleId: 'pii-guard',
  ruleVersion: 2,
  ruleName: 'PII guard',
  traceId: '5b8efff798038103d269b633813fc700',
  boundSpanId: 'eee19b7ec3c1b100',
  matchedSpanIds: ['eee19b7ec3c1b100'],
  message: 'email in span attributes',
  severity: 'high',
  status: 'open',
  source: 'push',
  service: 'checkout',
  createdAt: '2026-11-28T10:00:00.000Z',
  updatedAt: '2026-11-28T10:00:00.000Z',
  ...over,
});

const shape = (frame: DataFrame) => frame.fields.map((f) => [f.name, f.type, [...f.values]]);

describe('signalsTableFrame', () => {
  const page: SignalPage = {
    signals: [
      signal({}),
      signal({
        id: 's2',
        severity: 'critical',
        status: 'acknowledged',
        boundSpanId: undefined,
        service: undefined,
        source: 'pull',
        createdAt: '2026-11-28T09:59:00.000Z',
      }),
    ],
    total: 12345,
    limit: 100,
    offset: 200,
  };

  it('keeps the sidecar order and every column the table shows', () => {
    const frame = signalsTableFrame(page, 'signals');
    expect(frame.refId).toBe('signals');
    expect(frame.length).toBe(2);
    expect(frame.meta).toEqual({
      preferredVisualisationType: 'table',
      custom: { total: 12345, limit: 100, offset: 200 },
    });
    expect(shape(frame)).toEqual([
      ['time', FieldType.time, [Date.UTC(2026, 10, 28, 10, 0), Date.UTC(2026, 10, 28, 9, 59)]],
      ['id', FieldType.string, ['s1', 's2']],
      ['severity', FieldType.string, ['high', 'critical']],
      ['status', FieldType.string, ['open', 'acknowledged']],
      ['rule', FieldType.string, ['PII guard', 'PII guard']],
      ['ruleId', FieldType.string, ['pii-guard', 'pii-guard']],
      ['service', FieldType.string, ['checkout', '']],
      ['message', FieldType.string, ['email in span attributes', 'email in span attributes']],
      ['traceId', FieldType.string, ['5b8efff798038103d269b633813fc700', '5b8efff798038103d269b633813fc700']],
      ['spanId', FieldType.string, ['eee19b7ec3c1b100', '']],
      ['source', FieldType.string, ['push', 'pull']],
    ]);
  });

  it('reads its rows back by name', () => {
    expect(signalRows(signalsTableFrame(page, 'A'))[1]).toEqual({
      time: Date.UTC(2026, 10, 28, 9, 59),
      id: 's2',
      severity: 'critical',
      status: 'acknowledged',
      rule: 'PII guard',
      ruleId: 'pii-guard',
      service: '',
      message: 'email in span attributes',
      traceId: '5b8efff798038103d269b633813fc700',
      spanId: '',
      source: 'pull',
    });
  });

  it('says which fields a foreign frame lacks', () => {
    const frame = signalsTableFrame(page, 'A');
    expect(() =>
      signalRows({ ...frame, fields: frame.fields.filter((f) => f.name !== 'id' && f.name !== 'spanId') })
    ).toThrow('not a signals frame: no field id, spanId');
  });
});

describe('signalsBySeverityFrame', () => {
  const from = Date.UTC(2026, 10, 28, 10, 0);
  const minute = 60_000;

  it('counts per severity in aligned buckets, every severity present', () => {
    const frame = signalsBySeverityFrame(
      [
        signal({ severity: 'high', createdAt: '2026-11-28T10:00:30.000Z' }),
        signal({ severity: 'high', createdAt: '2026-11-28T10:01:59.999Z' }),
        signal({ severity: 'critical', createdAt: '2026-11-28T10:02:00.000Z' }),
        signal({ severity: 'info', createdAt: '2026-11-28T09:59:59.000Z' }), // before the range
        signal({ severity: 'low', createdAt: '2026-11-28T10:03:00.000Z' }), // at `to`: excluded
      ],
      { from, to: from + 3 * minute },
      minute,
      'bySeverity'
    );
    expect(shape(frame)).toEqual([
      ['time', FieldType.time, [from, from + minute, from + 2 * minute]],
      ['info', FieldType.number, [0, 0, 0]],
      ['low', FieldType.number, [0, 0, 0]],
      ['medium', FieldType.number, [0, 0, 0]],
      ['high', FieldType.number, [1, 1, 0]],
      ['critical', FieldType.number, [0, 0, 1]],
    ]);
    expect(frame.fields[0].config.interval).toBe(minute);
  });

  it('aligns a range that starts mid-bucket to the bucket', () => {
    const frame = signalsBySeverityFrame(
      [signal({ createdAt: '2026-11-28T10:00:45.000Z' })],
      { from: from + 30_000, to: from + 90_000 },
      minute,
      'A'
    );
    expect(shape(frame)[0]).toEqual(['time', FieldType.time, [from, from + minute]]);
    expect(shape(frame)[4]).toEqual(['high', FieldType.number, [1, 0]]);
  });

  it('rejects a step that is not a positive number', () => {
    expect(() => signalsBySeverityFrame([], { from, to: from + minute }, 0, 'A')).toThrow(
      'step must be a positive number of milliseconds; got 0'
    );
  });

  it.each([
    [0, 60 * minute, 100, minute],
    [0, 24 * 60 * minute, 100, 15 * minute],
    [0, 7 * 24 * 60 * minute, 1000, 11 * minute],
  ])('picks whole-minute steps: [%d, %d) in %d points → %d ms', (a, b, points, step) => {
    expect(bucketStep(a, b, points)).toBe(step);
  });
});
