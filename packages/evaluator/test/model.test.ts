import { buildTrace, groupTraces, Span } from '@betrace/evaluator';

function span(id: string, parent: string | undefined, start: bigint, end: bigint, traceId = 'a'.repeat(32)): Span {
  return {
    traceId,
    spanId: id,
    parentSpanId: parent,
    name: 'op',
    kind: 'internal',
    status: 'unset',
    statusMessage: '',
    startNs: start,
    endNs: end,
    durationNs: Number(end - start),
    service: 'svc',
    attrs: {},
    resource: {},
    events: [],
    links: [],
  };
}

describe('buildTrace', () => {
  it('finds the root and the time bounds without losing nanoseconds above 2^53', () => {
    const base = 1_700_000_000_123_456_789n;
    const trace = buildTrace('a'.repeat(32), [
      span('0000000000000002', '0000000000000001', base + 5n, base + 9n),
      span('0000000000000001', undefined, base, base + 7n),
    ]);
    expect(trace.rootSpan?.spanId).toBe('0000000000000001');
    expect(trace.startNs).toBe(base);
    expect(trace.endNs).toBe(base + 9n);
  });

  it('has no root when the parentless span is missing', () => {
    const trace = buildTrace('a'.repeat(32), [span('0000000000000002', '0000000000000001', 1n, 2n)]);
    expect(trace.rootSpan).toBeUndefined();
  });
});

describe('groupTraces', () => {
  it('groups spans by trace id in order of first appearance', () => {
    const traces = groupTraces([
      span('0000000000000001', undefined, 1n, 2n, 'b'.repeat(32)),
      span('0000000000000002', undefined, 1n, 2n, 'a'.repeat(32)),
      span('0000000000000003', '0000000000000001', 1n, 2n, 'b'.repeat(32)),
    ]);
    expect(traces.map((t) => [t.traceId, t.spans.length])).toEqual([
      ['b'.repeat(32), 2],
      ['a'.repeat(32), 1],
    ]);
  });
});
