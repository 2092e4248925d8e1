/**
 * decodeOtlpProtobuf on hand-written bytes: the spans behave as the model says for every consumer
 * (attributes, events and links read, re-read and replaced), and what rules see is the same as
 * from OTLP/JSON. Agreement with protobufjs on generated and corrupted bytes is pinned in
 * packages/sidecar/test/decodeProto.property.test.ts.
 */
import { compileRule, decodeOtlpJson, decodeOtlpProtobuf, decodeOtlpProtobufSpans, evaluateTrace, partitionByTrace, partitionSkim, ProtobufError, skimTraceRequest, traceShard } from '@betrace/evaluator';

const enc = new TextEncoder();

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 128) {
    out.push((n % 128) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}
/** A length-delimited field. */
const ld = (field: number, bytes: Uint8Array | number[]): number[] => [(field << 3) | 2, ...varint(bytes.length), ...bytes];
const msg = (field: number, ...parts: number[][]): number[] => ld(field, parts.flat());
const s = (field: number, text: string): number[] => ld(field, Array.from(enc.encode(text)));
const fixed64 = (field: number, v: bigint): number[] => [(field << 3) | 1, ...Array.from({ length: 8 }, (_x, i) => Number((v >> BigInt(8 * i)) & 255n))];
const kv = (key: string, value: number[]): number[] => [...s(1, key), ...ld(2, value)];
const hex = (h: string): number[] => Array.from({ length: h.length / 2 }, (_x, i) => parseInt(h.slice(2 * i, 2 * i + 2), 16));

const TRACE = '5b8efff798038103d269b633813fc700';
const ROOT = 'eee19b7ec3c1b100';
const CHILD = '00000000000000aa';

function span(spanId: string, name: string, extra: number[][] = []): number[] {
  return msg(2, ld(1, hex(TRACE)), ld(2, hex(spanId)), s(5, name), [0x30, 2], fixed64(7, 1700000000000000000n), fixed64(8, 1700000000250000000n), ...extra);
}

const body = Uint8Array.from(
  msg(
    1,
    // The resource after its spans: still theirs.
    msg(
      2,
      msg(1, s(1, 'lib'), s(2, '2.0')),
      span(ROOT, 'payment.charge', [msg(9, kv('amount', s(1, 'x'))), msg(9, kv('amount', [0x18, 0xb8, 0x17])), msg(11, fixed64(1, 5n), s(2, 'retry')), msg(13, ld(1, hex(TRACE)), ld(2, hex(CHILD)))]),
      span(CHILD, 'payment.fraud_check', [ld(4, hex(ROOT)), msg(15, s(2, 'declined'), [0x18, 2])]),
    ),
    msg(1, msg(1, kv('service.name', s(1, 'payment')))),
  ),
);

describe('decodeOtlpProtobuf', () => {
  it('decodes every field, the resource and scope whatever their place, later attributes winning', () => {
    const [trace] = decodeOtlpProtobuf(body);
    const [root, child] = trace.spans;
    expect(trace.traceId).toBe(TRACE);
    expect(trace.rootSpan).toBe(root);
    expect(root).toMatchObject({ spanId: ROOT, name: 'payment.charge', kind: 'server', status: 'unset', service: 'payment', startNs: 1700000000000000000n, durationNs: 250000000, scope: { name: 'lib', version: '2.0' } });
    expect(root.resource).toEqual({ 'service.name': 'payment' });
    expect(root.attrs).toEqual({ amount: 3000 });
    expect(root.events).toEqual([{ name: 'retry', timeNs: 5n, attrs: {} }]);
    expect(root.links).toEqual([{ traceId: TRACE, spanId: CHILD, attrs: {} }]);
    expect(child).toMatchObject({ parentSpanId: ROOT, status: 'error', statusMessage: 'declined' });
    expect(child.attrs).toEqual({});
    expect(child.events).toEqual([]);
  });

  it('builds attributes once, and lets a consumer replace them as on any span', () => {
    const [root] = decodeOtlpProtobufSpans(body);
    const first = root.attrs;
    expect(root.attrs).toBe(first);
    root.attrs = { amount: 1 };
    expect(root.attrs).toEqual({ amount: 1 });
    root.events = [];
    expect(root.events).toEqual([]);
  });

  it('gives rules what OTLP/JSON gives them', () => {
    const json = decodeOtlpJson({
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'payment' } }] },
          scopeSpans: [
            {
              spans: [
                { traceId: TRACE, spanId: ROOT, name: 'payment.charge', kind: 2, startTimeUnixNano: '1700000000000000000', endTimeUnixNano: '1700000000250000000', attributes: [{ key: 'amount', value: { intValue: 3000 } }] },
                { traceId: TRACE, spanId: CHILD, parentSpanId: ROOT, name: 'payment.fraud_check', kind: 2, startTimeUnixNano: '1700000000000000000', endTimeUnixNano: '1700000000250000000', status: { code: 2 } },
              ],
            },
          ],
        },
      ],
    });
    const { rule } = compileRule({ id: 'r', name: 'R', severity: 'high', enabled: true, condition: 'when { payment.charge.where(amount > 1000) } always { payment.fraud_check.where(status != error) }' });
    const fromProto = evaluateTrace([rule!], decodeOtlpProtobuf(body)[0]);
    expect(fromProto).toEqual(evaluateTrace([rule!], json[0]));
    expect(fromProto.length).toBeGreaterThan(0);
  });

  it('refuses malformed bytes with a ProtobufError naming where', () => {
    const truncated = body.slice(0, body.length - 3);
    expect(() => decodeOtlpProtobuf(truncated)).toThrow(ProtobufError);
    expect(() => decodeOtlpProtobuf(Uint8Array.from([0x0a, 0x05, 0x12]))).toThrow('resourceSpans[0]: a message of 5 bytes at byte 2 runs past the end of its parent (byte 3)');
  });
});

describe('skimTraceRequest and partitionByTrace', () => {
  it('finds every span and its trace id without decoding, and routes hex and raw ids alike', () => {
    const skim = skimTraceRequest(body);
    expect(skim.spanCount).toBe(2);
    const spans = skim.resourceSpans[0].scopeSpans[0].spans;
    expect(spans.map((sp) => Array.from(body.subarray(sp.traceIdAt, sp.traceIdAt + 16)))).toEqual([hex(TRACE), hex(TRACE)]);
    expect(traceShard(TRACE, 7)).toBe(traceShard(Uint8Array.from(hex(TRACE)), 7));
    const parts = partitionByTrace(body, 3);
    expect(parts.map((p) => decodeOtlpProtobufSpans(p).length)).toEqual([0, 1, 2].map((k) => (k === traceShard(TRACE, 3) ? 2 : 0)));
  });

  it('hands a request whose spans are all in one shard over whole, as a copy, and counts spans per shard', () => {
    const counts: number[] = [];
    const parts = partitionSkim(skimTraceRequest(body), 3, counts);
    const k = traceShard(TRACE, 3);
    expect(Array.from(parts[k])).toEqual(Array.from(body));
    parts[k][0] ^= 0xff;
    expect(parts[k][0]).not.toBe(body[0]);
    expect(counts[k]).toBe(2);
    expect(parts.filter((p, i) => i !== k).every((p) => p.length === 0)).toBe(true);
  });

  it('refuses a number of shards that is not a positive integer', () => {
    expect(() => partitionByTrace(body, 0)).toThrow('shards must be a positive integer, got 0');
  });
});
