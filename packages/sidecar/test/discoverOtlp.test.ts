/**
 * The OTLP/JSON encoder of GET /api/v1/discover/:id/traces/:traceId: the decoder reads back the
 * same trace, whatever its attribute types, resources, scopes, events and links.
 */
import { decodeOtlpJson } from '@betrace/evaluator';
import { encodeOtlpJson } from '../src/discovery/otlp';

const T = 'ab'.repeat(16);
const request = {
  resourceSpans: [
    {
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'shop' } }, { key: 'host.cpus', value: { intValue: '8' } }] },
      scopeSpans: [
        {
          scope: { name: 'shop', version: '1.2.0' },
          spans: [
            {
              traceId: T,
              spanId: '01'.repeat(8),
              name: 'checkout',
              kind: 2,
              startTimeUnixNano: '1700000000000000001',
              endTimeUnixNano: '1700000000500000001',
              status: { code: 2, message: 'card declined' },
              attributes: [
                { key: 'big', value: { intValue: '9223372036854775807' } },
                { key: 'ratio', value: { doubleValue: 0.25 } },
                { key: 'inf', value: { doubleValue: 'Infinity' } },
                { key: 'ok', value: { boolValue: false } },
                { key: 'raw', value: { bytesValue: 'AAEC' } },
                { key: 'tags', value: { arrayValue: { values: [{ stringValue: 'a' }, { intValue: '2' }] } } },
                { key: 'nested', value: { kvlistValue: { values: [{ key: 'k', value: { stringValue: 'v' } }] } } },
                { key: 'empty', value: {} },
              ],
              events: [{ name: 'retry', timeUnixNano: '1700000000100000000', attributes: [{ key: 'n', value: { intValue: '1' } }] }],
              links: [{ traceId: 'cd'.repeat(16), spanId: '09'.repeat(8), attributes: [] }],
            },
          ],
        },
        { spans: [{ traceId: T, spanId: '02'.repeat(8), parentSpanId: '01'.repeat(8), name: 'unscoped', startTimeUnixNano: '1700000000000000002', endTimeUnixNano: '1700000000000000003' }] },
      ],
    },
    {
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'db' } }] },
      scopeSpans: [{ spans: [{ traceId: T, spanId: '03'.repeat(8), parentSpanId: '01'.repeat(8), name: 'db.query', kind: 3, startTimeUnixNano: '1700000000000000004', endTimeUnixNano: '1700000000000000009' }] }],
    },
  ],
};

describe('encodeOtlpJson', () => {
  it('round-trips through the decoder', () => {
    const [trace] = decodeOtlpJson(request);
    const encoded = encodeOtlpJson(trace);
    expect(encoded.resourceSpans.length).toBe(2);
    expect(decodeOtlpJson(JSON.parse(JSON.stringify(encoded)))).toEqual([trace]);
  });
});
