import * as fs from 'fs';
import * as path from 'path';
import { decodeOtlpJson, decodeOtlpJsonText, decodeResourceSpans, decodeTempoTrace, DecodeError, MAX_ATTRIBUTE_DEPTH } from '@betrace/evaluator';

const fixtures = path.join(__dirname, '../../../tests/fixtures/tempo');
const fixture = (name: string): unknown => JSON.parse(fs.readFileSync(path.join(fixtures, name), 'utf8'));

describe('vendored Tempo fixtures', () => {
  const shared = path.join(__dirname, '../../../../shared/fixtures/tempo');
  const run = fs.existsSync(shared) ? it : it.skip;
  run('are byte-for-byte the shared ones (CI has ../shared beside the clone)', () => {
    const names = fs.readdirSync(shared).sort();
    expect(fs.readdirSync(fixtures).sort()).toEqual(names);
    for (const name of names) {
      expect(fs.readFileSync(path.join(fixtures, name))).toEqual(fs.readFileSync(path.join(shared, name)));
    }
  });
});

describe('decodeTempoTrace', () => {
  it.each(['trace-v2-response.json', 'trace-v1-response.json'])('decodes %s: base64 ids, string int64, enum names', (name) => {
    const trace = decodeTempoTrace(fixture(name))!;
    expect(trace.traceId).toBe('5b8efff798038103d269b633813fc700');
    expect(trace.spans).toHaveLength(1);
    const span = trace.spans[0];
    expect(span).toMatchObject({
      spanId: 'eee19b7ec3c1b100',
      name: 'I am a span!',
      kind: 'server',
      status: 'unset',
      statusMessage: '',
      service: 'my.service',
      attrs: { 'my.span.attr': 'some value' },
      resource: { 'service.name': 'my.service' },
      scope: { name: 'my.library', version: '1.0.0' },
    });
    expect(span.parentSpanId).toBeUndefined();
    expect(span.startNs).toBe(1689969302000000000n);
    expect(span.endNs).toBe(1689970000000000000n);
    expect(span.durationNs).toBe(698000000000);
    expect(trace.rootSpan).toBe(span);
  });

  it('decodes the vulture trace: two resource spans, parent links, int64 attributes', () => {
    const trace = decodeTempoTrace(fixture('vulture-trace-resourceSpans.json'))!;
    expect(trace.traceId).toBe('3149195ffb0bec05347b48efe8ecc1b0');
    expect(trace.spans.map((s) => [s.spanId, s.parentSpanId ?? null, s.name])).toEqual([
      ['4b23de25d1fb6641', null, 'vulture-68'],
      ['3ef58fd67f3c3c44', '4b23de25d1fb6641', 'vulture-45'],
      ['23483ddcaf958888', '3ef58fd67f3c3c44', 'vulture-96'],
      ['04b1672edf34433d', '23483ddcaf958888', 'vulture-48'],
      ['083a27a20c7b6de3', null, 'vulture-36'],
      ['5ef2b292ae1ab9e8', '083a27a20c7b6de3', 'vulture-38'],
    ]);
    expect(trace.rootSpan?.spanId).toBe('4b23de25d1fb6641');
    expect(trace.spans[0].service).toBe('tempo-vulture');
    expect(trace.spans[0].resource['vulture-process-int-01']).toBe(164005);
    expect(trace.spans[0].kind).toBe('unspecified');
    expect(trace.spans[0].durationNs).toBe(92000);
  });

  it('treats an empty v2 answer as an unknown trace', () => {
    expect(decodeTempoTrace({})).toBeUndefined();
    expect(decodeTempoTrace({ trace: {} })).toBeUndefined();
    expect(decodeTempoTrace({ trace: null })).toBeUndefined();
  });

  it('accepts hex ids in a Tempo answer when they can only be hex', () => {
    const t = decodeTempoTrace({
      trace: { resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: '5b8efff798038103d269b633813fc700', spanId: 'eee19b7ec3c1b100', name: 'x' }] }] }] },
    })!;
    expect(t.spans[0].spanId).toBe('eee19b7ec3c1b100');
  });
});

const otlp = (spans: unknown[], resource: unknown[] = [{ key: 'service.name', value: { stringValue: 'shop' } }]) => ({
  resourceSpans: [{ resource: { attributes: resource }, scopeSpans: [{ scope: { name: 'lib' }, spans }] }],
});

describe('decodeOtlpJson', () => {
  const base = { traceId: '5B8EFFF798038103D269B633813FC700', spanId: 'eee19b7ec3c1b100', name: 'op' };

  it('reads hex ids (lowercased), int enums and every AnyValue kind', () => {
    const [trace] = decodeOtlpJson(
      otlp([
        {
          ...base,
          parentSpanId: '',
          kind: 3,
          status: { code: 2, message: 'boom' },
          startTimeUnixNano: '1700000000123456789',
          endTimeUnixNano: 1700000000123456800,
          attributes: [
            { key: 's', value: { stringValue: 'x' } },
            { key: 'b', value: { boolValue: true } },
            { key: 'i', value: { intValue: '42' } },
            { key: 'n', value: { intValue: 7 } },
            { key: 'big', value: { intValue: '9007199254740993' } },
            { key: 'neg', value: { intValue: '-9223372036854775808' } },
            { key: 'd', value: { doubleValue: 2.5 } },
            { key: 'a', value: { arrayValue: { values: [{ stringValue: 'p' }, { intValue: '1' }] } } },
            { key: 'kv', value: { kvlistValue: { values: [{ key: 'inner', value: { boolValue: false } }] } } },
            { key: 'bytes', value: { bytesValue: 'AQID' } },
            { key: 'empty', value: {} },
            { key: '__proto__', value: { stringValue: 'safe' } },
          ],
          events: [{ name: 'e', timeUnixNano: '1700000000123456790', attributes: [{ key: 'k', value: { stringValue: 'v' } }] }],
          links: [{ traceId: base.traceId, spanId: '00000000000000aa' }],
        },
      ]),
    );
    const span = trace.spans[0];
    expect(trace.traceId).toBe('5b8efff798038103d269b633813fc700');
    expect(span.kind).toBe('client');
    expect(span.status).toBe('error');
    expect(span.statusMessage).toBe('boom');
    expect(span.startNs).toBe(1700000000123456789n);
    expect(span.parentSpanId).toBeUndefined();
    expect(span.attrs.s).toBe('x');
    expect(span.attrs.b).toBe(true);
    expect(span.attrs.i).toBe(42);
    expect(span.attrs.n).toBe(7);
    expect(span.attrs.big).toBe(9007199254740993n);
    expect(span.attrs.neg).toBe(-9223372036854775808n);
    expect(span.attrs.d).toBe(2.5);
    expect(span.attrs.a).toEqual(['p', 1]);
    expect(span.attrs.kv).toEqual({ inner: false });
    expect(span.attrs.bytes).toEqual(new Uint8Array([1, 2, 3]));
    expect(span.attrs.empty).toBeNull();
    expect(Object.getOwnPropertyDescriptor(span.attrs, '__proto__')?.value).toBe('safe');
    expect(span.events).toEqual([{ name: 'e', timeNs: 1700000000123456790n, attrs: { k: 'v' } }]);
    expect(span.links).toEqual([{ traceId: '5b8efff798038103d269b633813fc700', spanId: '00000000000000aa', attrs: {} }]);
    expect(span.scope).toEqual({ name: 'lib' });
    expect(span.service).toBe('shop');
  });

  it('reads enum names and the deprecated instrumentationLibrarySpans', () => {
    const [trace] = decodeOtlpJson({
      resourceSpans: [{ instrumentationLibrarySpans: [{ spans: [{ ...base, kind: 'SPAN_KIND_PRODUCER', status: { code: 'STATUS_CODE_OK' } }] }] }],
    });
    expect(trace.spans[0].kind).toBe('producer');
    expect(trace.spans[0].status).toBe('ok');
    expect(trace.spans[0].service).toBe('');
  });

  it('groups spans by trace id and keeps an empty request valid', () => {
    const other = { ...base, traceId: 'aa'.repeat(16), spanId: '00000000000000bb' };
    expect(decodeOtlpJson(otlp([base, other, { ...base, spanId: '00000000000000cc' }])).map((t) => t.spans.length)).toEqual([2, 1]);
    expect(decodeOtlpJson({})).toEqual([]);
  });

  it.each<[unknown, string]>([
    [[], 'request: expected an object, got an array'],
    [{ resourceSpans: {} }, 'resourceSpans: expected an array, got an object'],
    [otlp([{ ...base, traceId: 'xyz' }]), 'resourceSpans[0].scopeSpans[0].spans[0].traceId: expected 32 hex characters, got "xyz"'],
    [otlp([{ ...base, traceId: 'ab'.repeat(15) }]), `resourceSpans[0].scopeSpans[0].spans[0].traceId: expected 32 hex characters, got "${'ab'.repeat(15)}"`],
    [otlp([{ ...base, spanId: undefined }]), 'resourceSpans[0].scopeSpans[0].spans[0].spanId: is missing'],
    [otlp([{ ...base, spanId: 12 }]), 'resourceSpans[0].scopeSpans[0].spans[0].spanId: expected a string id, got number'],
    [otlp([{ ...base, name: 5 }]), 'resourceSpans[0].scopeSpans[0].spans[0].name: expected a string, got number'],
    [otlp([{ ...base, startTimeUnixNano: '12a' }]), 'resourceSpans[0].scopeSpans[0].spans[0].startTimeUnixNano: expected an integer, got "12a"'],
    [otlp([{ ...base, startTimeUnixNano: 1.5 }]), 'resourceSpans[0].scopeSpans[0].spans[0].startTimeUnixNano: expected an integer, got 1.5'],
    [otlp([{ ...base, kind: 9 }]), 'resourceSpans[0].scopeSpans[0].spans[0].kind: expected a span kind (0-5 or SPAN_KIND_*), got 9'],
    [otlp([{ ...base, status: { code: 'BAD' } }]), 'resourceSpans[0].scopeSpans[0].spans[0].status.code: expected a status code (0-2 or STATUS_CODE_*), got "BAD"'],
    [otlp([{ ...base, attributes: [{ key: 1 }] }]), 'resourceSpans[0].scopeSpans[0].spans[0].attributes[0].key: expected a string, got number'],
    [otlp([{ ...base, attributes: [{ key: 'k', value: { intValue: 'x' } }] }]), 'resourceSpans[0].scopeSpans[0].spans[0].attributes[0].value.intValue: expected an integer, got "x"'],
    [otlp([{ ...base, attributes: [{ key: 'k', value: { boolValue: 'yes' } }] }]), 'resourceSpans[0].scopeSpans[0].spans[0].attributes[0].value.boolValue: expected a boolean, got the string "yes"'],
    [otlp([base], [{ key: 'service.name', value: { bytesValue: '***' } }]), 'resourceSpans[0].resource.attributes[0].value.bytesValue: expected base64'],
  ])('reports %j precisely', (input, message) => {
    let error: unknown;
    try {
      decodeOtlpJson(input);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DecodeError);
    expect((error as Error).message).toBe(message);
  });
});

describe('decodeOtlpJson limits', () => {
  const base = { traceId: '5b8efff798038103d269b633813fc700', spanId: 'eee19b7ec3c1b100', name: 'op' };
  const at = 'resourceSpans[0].scopeSpans[0].spans[0]';
  /** An AnyValue `depth` levels deep, alternating arrayValue and kvlistValue (built without recursion). */
  const nested = (depth: number): unknown => {
    let v: unknown = { stringValue: 'leaf' };
    for (let d = 1; d < depth; d++) {
      v = d % 2 ? { arrayValue: { values: [v] } } : { kvlistValue: { values: [{ key: 'k', value: v }] } };
    }
    return v;
  };
  const decodeError = (input: unknown): string => {
    try {
      decodeOtlpJson(input);
    } catch (e) {
      expect(e).toBeInstanceOf(DecodeError);
      return (e as Error).message;
    }
    throw new Error('decoded');
  };

  it(`takes attribute values nested ${MAX_ATTRIBUTE_DEPTH} levels and refuses ${MAX_ATTRIBUTE_DEPTH + 1}, naming the value and the limit`, () => {
    const [trace] = decodeOtlpJson(otlp([{ ...base, attributes: [{ key: 'deep', value: nested(MAX_ATTRIBUTE_DEPTH) }] }]));
    expect(trace.spans).toHaveLength(1);
    const message = decodeError(otlp([{ ...base, attributes: [{ key: 'deep', value: nested(MAX_ATTRIBUTE_DEPTH + 1) }] }]));
    expect(message.startsWith(`${at}.attributes[0].value.kvlistValue.values[0].value.arrayValue.values[0]`)).toBe(true);
    expect(message.endsWith(`: attribute values nest deeper than ${MAX_ATTRIBUTE_DEPTH} levels (the limit)`)).toBe(true);
  });

  it('refuses values 100 000 levels deep in events and resources without overflowing the stack', () => {
    const deep = nested(100_000);
    expect(decodeError(otlp([{ ...base, events: [{ name: 'e', attributes: [{ key: 'k', value: deep }] }] }]))).toMatch(/^resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]\.events\[0\]\.attributes\[0\]\.value.*: attribute values nest deeper than 32 levels \(the limit\)$/);
    expect(decodeError(otlp([base], [{ key: 'k', value: deep }]))).toMatch(/^resourceSpans\[0\]\.resource\.attributes\[0\]\.value.*: attribute values nest deeper than 32 levels \(the limit\)$/);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['an all-zero trace id', { traceId: '0'.repeat(32) }, `${at}.traceId: is all zeros, which OTLP defines as invalid`],
    ['an all-zero span id', { spanId: '0'.repeat(16) }, `${at}.spanId: is all zeros, which OTLP defines as invalid`],
    ['an all-zero link trace id', { links: [{ traceId: '0'.repeat(32), spanId: base.spanId }] }, `${at}.links[0].traceId: is all zeros, which OTLP defines as invalid`],
    ['a negative start', { startTimeUnixNano: -1 }, `${at}.startTimeUnixNano: expected nanoseconds from 0 to 2^64-1, got -1`],
    ['an end of 2^64', { endTimeUnixNano: '18446744073709551616' }, `${at}.endTimeUnixNano: expected nanoseconds from 0 to 2^64-1, got 18446744073709551616`],
    ['an event at -5', { events: [{ timeUnixNano: '-5' }] }, `${at}.events[0].timeUnixNano: expected nanoseconds from 0 to 2^64-1, got -5`],
  ])('refuses %s, naming the field', (_name, fields, message) => {
    expect(decodeError(otlp([{ ...base, ...fields }]))).toBe(message);
  });

  it('takes the extremes of the timestamp range and an all-zero parent as "no parent"', () => {
    const [trace] = decodeOtlpJson(otlp([{ ...base, parentSpanId: '0'.repeat(16), startTimeUnixNano: '0', endTimeUnixNano: '18446744073709551615' }]));
    expect(trace.spans[0].startNs).toBe(0n);
    expect(trace.spans[0].endNs).toBe(2n ** 64n - 1n);
    expect(trace.spans[0].parentSpanId).toBeUndefined();
  });
});

describe('decodeResourceSpans (protobuf-decoded objects)', () => {
  it('reads byte ids and Long int64 timestamps exactly', () => {
    const traceId = new Uint8Array(16).map((_v, i) => i + 1);
    const spanId = new Uint8Array(8).fill(0xab);
    const start = 1700000000123456789n;
    const long = { low: Number(start & 0xffffffffn) | 0, high: Number(start >> 32n) | 0, unsigned: true };
    const [span] = decodeResourceSpans([{ scopeSpans: [{ spans: [{ traceId, spanId, parentSpanId: new Uint8Array(0), name: 'x', startTimeUnixNano: long, endTimeUnixNano: start + 5n }] }] }]);
    expect(span.traceId).toBe('0102030405060708090a0b0c0d0e0f10');
    expect(span.spanId).toBe('abababababababab');
    expect(span.parentSpanId).toBeUndefined();
    expect(span.startNs).toBe(start);
    expect(span.durationNs).toBe(5);
  });
});

describe('decodeResourceSpans (protobuf messages with prototype defaults)', () => {
  it('reads only the fields the wire set, not the defaults on the prototype', () => {
    const withDefaults = <T extends object>(own: T, defaults: object): T => Object.assign(Object.create(defaults) as T, own);
    const anyValueDefaults = { stringValue: '', boolValue: false, intValue: 0, doubleValue: 0, arrayValue: null, kvlistValue: null, bytesValue: [] };
    const span = withDefaults(
      {
        traceId: new Uint8Array(16).fill(1),
        spanId: new Uint8Array(8).fill(2),
        name: 'x',
        attributes: [{ key: 'n', value: withDefaults({ intValue: { low: 7, high: 0, unsigned: false } }, anyValueDefaults) }, { key: 'b', value: withDefaults({ boolValue: true }, anyValueDefaults) }],
      },
      { parentSpanId: [], status: null, kind: 0, events: [], links: [] },
    );
    const [decoded] = decodeResourceSpans([withDefaults({ scopeSpans: [{ spans: [span] }] }, { resource: null })]);
    expect(decoded.attrs).toEqual({ n: 7, b: true });
    expect(decoded.parentSpanId).toBeUndefined();
    expect(decoded.status).toBe('unset');
  });
});

describe('decodeOtlpJsonText', () => {
  const line = (spanId: string) => JSON.stringify(otlp([{ traceId: 'ab'.repeat(16), spanId, name: 'x' }]));

  it('reads NDJSON and merges the spans of one trace across lines', () => {
    const traces = decodeOtlpJsonText(`${line('0000000000000001')}\n\n${line('0000000000000002')}\n`);
    expect(traces).toHaveLength(1);
    expect(traces[0].spans.map((s) => s.spanId)).toEqual(['0000000000000001', '0000000000000002']);
  });

  it('reads one pretty-printed document', () => {
    expect(decodeOtlpJsonText(JSON.stringify(JSON.parse(line('0000000000000001')), null, 2))).toHaveLength(1);
  });

  it('names the line that is not JSON', () => {
    expect(() => decodeOtlpJsonText(`${line('0000000000000001')}\n{oops`)).toThrow(/^line 2: not JSON/);
  });
});
