import type { EvidencePage, EvidenceRecord } from '../api/evidence';
import { controlKey, controlRows, passRateText, verificationByControl } from './evidenceFrames';

const record = (over: Partial<EvidenceRecord>): EvidenceRecord => ({
  seq: 1,
  traceId: '0af7651916cd43dd8448eb211c80319c',
  spanId: 'b7ad6b7169203331',
  framework: 'soc2',
  control: 'CC6.1',
  outcome: 'pass',
  ruleId: 'pii-guard',
  evidenceType: 'summary',
  checkedTraces: 0,
  passedTraces: 0,
  failedTraces: 0,
  windowStart: '2026-11-28T10:00:00.000Z',
  windowEnd: '2026-11-28T10:01:00.000Z',
  sampleTraceIds: [],
  keyId: 'k1',
  prev: '',
  signature: 'ab',
  attributes: {},
  verification: { status: 'verified' },
  ...over,
});

const page = (records: EvidenceRecord[], controls: EvidencePage['controls']): EvidencePage => ({
  records,
  total: records.length,
  limit: 1000,
  offset: 0,
  summary: { records: records.length, verified: records.length, altered: 0, missing: 0, reordered: 0, anchorProblems: null },
  controls,
});

const T0 = Date.parse('2026-11-28T10:00:00.000Z');
const MIN = 60_000;

describe('controlRows', () => {
  it('takes the counts from the sidecar, the rules and violating traces from the records', () => {
    const rows = controlRows(
      page(
        [
          // a summary that passed: its samples are passing traces
          record({ seq: 1, checkedTraces: 40, sampleTraceIds: ['aa01', 'aa02'] }),
          // a summary that failed 1 of 60: only its first sample is a violating trace
          record({
            seq: 2,
            outcome: 'fail',
            ruleId: 'auth-check',
            checkedTraces: 60,
            failedTraces: 1,
            windowStart: '2026-11-28T10:01:00.000Z',
            windowEnd: '2026-11-28T10:02:00.000Z',
            sampleTraceIds: ['bb01', 'bb02'],
          }),
          // a per-trace record names the violating trace
          record({
            seq: 3,
            outcome: 'fail',
            checkedTraces: 1,
            failedTraces: 1,
            windowStart: '2026-11-28T10:03:00.000Z',
            windowEnd: '2026-11-28T10:03:00.000Z',
            traceId: 'cc01',
            spanId: '00f067aa0ba902b7',
            sampleTraceIds: ['cc01'],
          }),
          record({ seq: 4, framework: 'hipaa', control: '164.312(b)', ruleId: 'audit-log', sampleTraceIds: ['dd01'] }),
        ],
        [
          // exact counts over more records than the page holds
          {
            framework: 'hipaa',
            control: '164.312(b)',
            records: 9,
            pass: 9,
            fail: 0,
            checkedTraces: 70,
            failedTraces: 0,
          },
          { framework: 'soc2', control: 'CC10.1', records: 2, pass: 2, fail: 0, checkedTraces: 5, failedTraces: 0 },
          {
            framework: 'soc2',
            control: 'CC6.1',
            records: 700,
            pass: 650,
            fail: 50,
            checkedTraces: 9000,
            failedTraces: 48,
          },
        ]
      ),
      3
    );
    expect(rows).toEqual([
      {
        framework: 'hipaa',
        control: '164.312(b)',
        records: 9,
        pass: 9,
        fail: 0,
        checkedTraces: 70,
        failedTraces: 0,
        passRate: 1,
        rules: ['audit-log'],
        samples: [{ traceId: 'dd01', range: { from: T0 - 30 * MIN, to: T0 + 31 * MIN } }],
        lastRecord: { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', at: T0 + MIN },
      },
      // no record of it on the page: counts only
      {
        framework: 'soc2',
        control: 'CC10.1',
        records: 2,
        pass: 2,
        fail: 0,
        checkedTraces: 5,
        failedTraces: 0,
        passRate: 1,
        rules: [],
        samples: [],
      },
      {
        framework: 'soc2',
        control: 'CC6.1',
        records: 700,
        pass: 650,
        fail: 50,
        checkedTraces: 9000,
        failedTraces: 48,
        passRate: (9000 - 48) / 9000,
        rules: ['auth-check', 'pii-guard'],
        samples: [
          { traceId: 'cc01', range: { from: T0 - 27 * MIN, to: T0 + 33 * MIN } },
          { traceId: 'bb01', range: { from: T0 - 29 * MIN, to: T0 + 32 * MIN } },
          { traceId: 'bb02', range: { from: T0 - 29 * MIN, to: T0 + 32 * MIN } },
        ],
        lastRecord: { traceId: 'cc01', spanId: '00f067aa0ba902b7', at: T0 + 3 * MIN },
      },
    ]);
  });

  it('has no pass rate for a control whose rules applied to no trace', () => {
    const [row] = controlRows(page([], [{ framework: 'soc2', control: 'CC6.1', records: 0, pass: 0, fail: 0, checkedTraces: 0, failedTraces: 0 }]));
    expect(row.passRate).toBeUndefined();
    expect(passRateText(row.passRate)).toBe('–');
  });

  it('lists a trace once, where it failed', () => {
    const rows = controlRows(
      page(
        [
          record({ seq: 1, sampleTraceIds: ['aa01'] }),
          record({ seq: 2, outcome: 'fail', failedTraces: 1, sampleTraceIds: ['aa01'] }),
        ],
        [{ framework: 'soc2', control: 'CC6.1', records: 2, pass: 1, fail: 1, checkedTraces: 2, failedTraces: 1 }]
      )
    );
    expect(rows[0].samples.map((s) => s.traceId)).toEqual(['aa01']);
  });
});

describe('verificationByControl', () => {
  const checked = (control: string, status: EvidenceRecord['verification']['status']) =>
    record({ control, verification: { status } });

  it('counts each verification status per control', () => {
    const counts = verificationByControl([
      checked('CC6.1', 'verified'),
      checked('CC6.1', 'altered'),
      checked('CC6.1', 'verified'),
      checked('CC7.2', 'missing'),
    ]);
    expect([...counts.entries()]).toEqual([
      [controlKey('soc2', 'CC6.1'), { verified: 2, altered: 1, missing: 0, reordered: 0 }],
      [controlKey('soc2', 'CC7.2'), { verified: 0, altered: 0, missing: 1, reordered: 0 }],
    ]);
  });
});

describe('passRateText', () => {
  it('rounds down, so a failure never reads as 100 %', () => {
    expect([1, 0.982, 0.9999, 0.5, 0].map(passRateText)).toEqual(['100 %', '98.2 %', '99.9 %', '50.0 %', '0.0 %']);
  });
});
