import { createDataFrame, FieldType } from '@grafana/data';
import type { EvidenceRecord } from '../api/evidence';
import { controlKey, controlSummaries, parseTraceIds, verificationByControl } from './evidenceFrames';

// The columns Grafana's Tempo datasource gives a `tableType: 'spans'` answer, attributes by key.
const spansFrame = createDataFrame({
  fields: [
    { name: 'traceIdHidden', type: FieldType.string, values: ['t1', 't2', 't3', 't4'] },
    { name: 'spanID', type: FieldType.string, values: ['s1', 's2', 's3', 's4'] },
    { name: 'time', type: FieldType.time, values: [1000, 3000, 2000, 4000] },
    {
      name: 'name',
      type: FieldType.string,
      values: ['compliance.evidence', 'compliance.evidence', 'compliance.evidence', 'compliance.evidence'],
    },
    { name: 'compliance.framework', type: FieldType.string, values: ['soc2', 'soc2', 'soc2', 'hipaa'] },
    { name: 'compliance.control', type: FieldType.string, values: ['CC6.1', 'CC6.1', 'CC10.1', '164.312(b)'] },
    { name: 'compliance.outcome', type: FieldType.string, values: ['pass', 'fail', 'pass', 'pass'] },
    {
      name: 'compliance.rule_id',
      type: FieldType.string,
      values: ['pii-guard', 'auth-check', 'pii-guard', 'audit-log'],
    },
    { name: 'compliance.checked_traces', type: FieldType.string, values: ['120', '80', '5', '7'] },
    { name: 'compliance.failed_traces', type: FieldType.string, values: ['0', '3', '0', '0'] },
    {
      name: 'compliance.sample_trace_ids',
      type: FieldType.string,
      values: ['aa01,aa02', '["bb01","bb02"]', '', 'cc01'],
    },
  ],
});

describe('controlSummaries', () => {
  it('sums records, outcomes and traces per control, failing samples first', () => {
    expect(controlSummaries([spansFrame], 3)).toEqual([
      {
        framework: 'hipaa',
        control: '164.312(b)',
        records: 1,
        pass: 1,
        fail: 0,
        checkedTraces: 7,
        failedTraces: 0,
        rules: ['audit-log'],
        sampleTraceIds: ['cc01'],
        lastSeen: 4000,
      },
      {
        framework: 'soc2',
        control: 'CC6.1',
        records: 2,
        pass: 1,
        fail: 1,
        checkedTraces: 200,
        failedTraces: 3,
        rules: ['auth-check', 'pii-guard'],
        sampleTraceIds: ['bb01', 'bb02', 'aa01'],
        lastSeen: 3000,
      },
      // per-trace evidence has no sample list: the trace holding the span is the sample
      {
        framework: 'soc2',
        control: 'CC10.1',
        records: 1,
        pass: 1,
        fail: 0,
        checkedTraces: 5,
        failedTraces: 0,
        rules: ['pii-guard'],
        sampleTraceIds: ['t3'],
        lastSeen: 2000,
      },
    ]);
  });

  it('reads frames nested per trace, and scoped column names', () => {
    const inner = createDataFrame({
      fields: [
        { name: 'traceIdHidden', type: FieldType.string, values: ['t9'] },
        { name: 'span.compliance.framework', type: FieldType.string, values: ['gdpr'] },
        { name: 'span.compliance.control', type: FieldType.string, values: ['Art.32'] },
        { name: 'span.compliance.outcome', type: FieldType.string, values: ['fail'] },
      ],
    });
    const outer = createDataFrame({ fields: [{ name: 'nested', type: FieldType.nestedFrames, values: [[inner]] }] });
    expect(controlSummaries([outer])).toEqual([
      {
        framework: 'gdpr',
        control: 'Art.32',
        records: 1,
        pass: 0,
        fail: 1,
        checkedTraces: 0,
        failedTraces: 0,
        rules: [],
        sampleTraceIds: ['t9'],
        lastSeen: 0,
      },
    ]);
  });

  it('ignores frames without a control column (no evidence in range)', () => {
    expect(
      controlSummaries([
        createDataFrame({ fields: [{ name: 'traceIdHidden', type: FieldType.string, values: ['x'] }] }),
      ])
    ).toEqual([]);
  });
});

describe('parseTraceIds', () => {
  it.each([
    ['a1, b2  c3', ['a1', 'b2', 'c3']],
    ['["a1","zz"]', ['a1']],
    ['[broken', []],
    [
      ['ab', 'cd'],
      ['ab', 'cd'],
    ],
    [undefined, []],
    [42, []],
  ])('%j → %j', (value, ids) => {
    expect(parseTraceIds(value)).toEqual(ids);
  });
});

describe('verificationByControl', () => {
  const record = (control: string, status: EvidenceRecord['verification']['status']): EvidenceRecord => ({
    seq: 1,
    traceId: 't',
    spanId: 's',
    framework: 'soc2',
    control,
    outcome: 'pass',
    ruleId: 'r',
    checkedTraces: 1,
    failedTraces: 0,
    windowStart: '2026-11-28T10:00:00Z',
    windowEnd: '2026-11-28T10:05:00Z',
    sampleTraceIds: [],
    keyId: 'k1',
    signature: 'ab',
    verification: { status },
  });

  it('counts each verification status per control', () => {
    const counts = verificationByControl([
      record('CC6.1', 'verified'),
      record('CC6.1', 'altered'),
      record('CC6.1', 'verified'),
      record('CC7.2', 'missing'),
    ]);
    expect([...counts.entries()]).toEqual([
      [controlKey('soc2', 'CC6.1'), { verified: 2, altered: 1, missing: 0, reordered: 0 }],
      [controlKey('soc2', 'CC7.2'), { verified: 0, altered: 0, missing: 1, reordered: 0 }],
    ]);
  });
});
