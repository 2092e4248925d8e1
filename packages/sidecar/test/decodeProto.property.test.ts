/**
 * The evaluator's OTLP/protobuf decoder (decodeOtlpProtobufSpans) and partitioner
 * (partitionByTrace), pinned against the reference they replace on the ingest path: protobufjs
 * reflection (otlpProto.ts) followed by decodeResourceSpans. Same normalized spans for every body
 * the reference decodes, an error for every body it refuses — on generated, hand-shaped and
 * corrupted bytes.
 */
import fc from 'fast-check';
import { AttrValue, decodeCheckedOtlpProtobuf, HELD_SPAN_WORDS, holdCheckedOtlpProtobuf, spanIdWords, decodeOtlpProtobuf, decodeOtlpProtobufSpans, decodeResourceSpans, groupTraces, MAX_ATTRIBUTE_DEPTH, partitionByTrace, ProtobufError, Span, DecodeError, traceShard } from '@betrace/evaluator';
import { decodeTraceRequest, encodeTraceRequest } from '../src/ingest/otlpProto';
import { encodeFields, message, mutate, mutations, nestedValue, span, str, traceRequest, WireField } from './support/otlpWire';

/** A value with bytes as plain arrays: protobufjs hands out Buffer views, the decoder copies. */
function plainValue(v: AttrValue): unknown {
  if (v instanceof Uint8Array) {
    return { bytes: Array.from(v) };
  }
  if (Array.isArray(v)) {
    return v.map(plainValue);
  }
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v)) {
      Object.defineProperty(out, k, { value: plainValue(v[k]), enumerable: true });
    }
    return out;
  }
  return v;
}

const plainAttrs = (m: Record<string, AttrValue>) => plainValue(m);

/** Every field of the model, read through its getters. */
function plain(s: Span): unknown {
  return {
    traceId: s.traceId,
    spanId: s.spanId,
    parentSpanId: s.parentSpanId,
    hasParent: 'parentSpanId' in s,
    name: s.name,
    kind: s.kind,
    status: s.status,
    statusMessage: s.statusMessage,
    startNs: s.startNs,
    endNs: s.endNs,
    durationNs: s.durationNs,
    service: s.service,
    attrs: plainAttrs(s.attrs),
    resource: plainAttrs(s.resource),
    scope: s.scope,
    hasScope: 'scope' in s,
    events: s.events.map((e) => ({ name: e.name, timeNs: e.timeNs, attrs: plainAttrs(e.attrs) })),
    links: s.links.map((l) => ({ traceId: l.traceId, spanId: l.spanId, attrs: plainAttrs(l.attrs) })),
  };
}

type Outcome = { ok: true; spans: unknown[] } | { ok: false; error: Error };

function outcome(decode: () => Span[]): Outcome {
  try {
    return { ok: true, spans: decode().map(plain) };
  } catch (e) {
    return { ok: false, error: e as Error };
  }
}

const reference = (body: Uint8Array) => outcome(() => decodeResourceSpans(decodeTraceRequest(Buffer.from(body)).resourceSpans, 'resourceSpans', 'hex'));
const candidate = (body: Uint8Array) => outcome(() => decodeOtlpProtobufSpans(Buffer.from(body)));

function expectSame(body: Uint8Array): Outcome {
  const want = reference(body);
  const got = candidate(body);
  if (!want.ok && got.ok) {
    throw new Error(`the reference refuses (${want.error.message}) what the decoder accepts`);
  }
  if (want.ok && !got.ok) {
    throw new Error(`the decoder refuses (${got.error.message}) what the reference accepts`);
  }
  if (want.ok && got.ok) {
    expect(got.spans).toEqual(want.spans);
  }
  if (!got.ok) {
    // Malformed bytes and invalid OTLP are both DecodeErrors (the receiver answers 400); nothing else escapes.
    expect(got.error).toBeInstanceOf(DecodeError);
  }
  return got;
}

const RUNS = Number(process.env.BETRACE_PROPERTY_RUNS ?? 200);

/** Keys attr() is asked for besides a span's own: absent ones, Object.prototype's, empty, and text invalid UTF-8 reads as. */
const PROBES = ['absent', '__proto__', 'toString', 'constructor', '', '\ufffd', 'é', 'k\u00ff\u4e2d', 'amount', '\ud800'];

/** Every span's attr(key), for its own keys and the probes, asked in an order that varies with `seed` (the first asks find new keys). */
function expectAttrLookups(body: Uint8Array, seed: number): void {
  let want: Span[];
  try {
    want = decodeOtlpProtobufSpans(Buffer.from(body));
  } catch {
    return;
  }
  const fresh = decodeOtlpProtobufSpans(Buffer.from(body));
  const asks: Array<[number, string]> = [];
  want.forEach((s, i) => [...Object.keys(s.attrs), ...PROBES].forEach((k) => asks.push([i, k])));
  for (let i = asks.length - 1; i > 0; i--) {
    const j = (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % (i + 1);
    [asks[i], asks[j]] = [asks[j], asks[i]];
  }
  for (const [i, k] of asks) {
    const own = Object.prototype.hasOwnProperty.call(want[i].attrs, k) ? want[i].attrs[k] : undefined;
    const got = fresh[i].attr!(k);
    expect(got === undefined ? undefined : plainValue(got)).toEqual(own === undefined ? undefined : plainValue(own));
  }
  // Looking attributes up leaves the map whole.
  fresh.forEach((s, i) => expect(plainAttrs(s.attrs)).toEqual(plainAttrs(want[i].attrs)));
}

/**
 * Runs `check` on every generated or corrupted request that the checking decoder decodes, with
 * what it decodes to (the bodies a skim lets through, which the checked paths then read).
 */
function forEveryDecodingBody(check: (body: Buffer, want: ReturnType<typeof decodeOtlpProtobuf>) => void): void {
  let decoded = 0;
  fc.assert(
    fc.property(fc.oneof(traceRequest, fc.tuple(traceRequest, mutations).map(([b, ops]) => mutate(b, ops))), (body) => {
      let want;
      try {
        want = decodeOtlpProtobuf(Buffer.from(body));
      } catch {
        return;
      }
      decoded++;
      check(Buffer.from(body), want);
    }),
    { numRuns: RUNS * 2 },
  );
  // About a quarter of the bodies decode (most corrupted ones do not): the comparison is not vacuous.
  expect(decoded).toBeGreaterThan(RUNS / 5);
}

describe('decodeCheckedOtlpProtobuf (bodies the receiver skimmed)', () => {
  const tracesOf = (traces: ReturnType<typeof decodeOtlpProtobuf>) => traces.map((t) => ({ traceId: t.traceId, spans: t.spans.map(plain), root: t.rootSpan?.spanId }));
  it('builds the same traces as the checking decoder from every body that decodes', () => {
    forEveryDecodingBody((body, want) => expect(tracesOf(decodeCheckedOtlpProtobuf(body))).toEqual(tracesOf(want)));
  });
});

describe('holdCheckedOtlpProtobuf (spans held as bytes until evaluation)', () => {
  it('builds the same traces as the checking decoder, as often as asked, and holds each span id as its words', () => {
    forEveryDecodingBody((body, want) => {
      const held = holdCheckedOtlpProtobuf(body);
      const built = (times: number) =>
        held.map((t) => {
          let spans: Span[] = [];
          for (let i = 0; i < times; i++) {
            spans = [];
            t.build(spans);
          }
          return { traceId: t.traceId, spans: spans.map(plain), count: t.spanCount };
        });
      const expected = want.map((t) => ({ traceId: t.traceId, spans: t.spans.map(plain), count: t.spans.length }));
      expect(built(1)).toEqual(expected);
      expect(built(2)).toEqual(expected);
      held.forEach((t, k) =>
        want[k].spans.forEach((s, i) => {
          expect([t.spans[i * HELD_SPAN_WORDS + 3], t.spans[i * HELD_SPAN_WORDS + 4]]).toEqual(spanIdWords(s.spanId));
        }),
      );
    });
  });

  it('compares span ids of every form: words for hex ids, nothing for others', () => {
    expect(spanIdWords('0102030405060708')).toEqual([0x04030201, 0x08070605]);
    expect(spanIdWords('FFFFFFFFFFFFFFFF')).toEqual([0xffffffff, 0xffffffff]);
    expect(spanIdWords('s1')).toBeUndefined();
    expect(spanIdWords('010203040506070g')).toBeUndefined();
  });
});

describe('Span.attr of wire spans', () => {
  it('finds what attrs holds, without building it, on generated requests (repeats, odd orders, no value, non-ASCII keys)', () => {
    fc.assert(
      fc.property(traceRequest, fc.integer(), (body, seed) => expectAttrLookups(body, seed)),
      { numRuns: RUNS },
    );
  });

  it('finds what attrs holds on corrupted requests that still decode (invalid UTF-8 keys)', () => {
    fc.assert(
      fc.property(traceRequest, mutations, fc.integer(), (body, ops, seed) => expectAttrLookups(mutate(body, ops), seed)),
      { numRuns: RUNS },
    );
  });

  it('reads a key invalid UTF-8 turns into U+FFFD, and keys past the lookup bound, through the map', () => {
    const body = encodeTraceRequest({
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: [
                {
                  traceId: Buffer.alloc(16, 1),
                  spanId: Buffer.alloc(8, 2),
                  name: 'n',
                  attributes: [
                    { key: 'a', value: { intValue: 1 } },
                    { key: 'a', value: { stringValue: 'last' } },
                    { key: 'k', value: { arrayValue: { values: [{ boolValue: true }, { doubleValue: 1.5 }] } } },
                  ],
                },
              ],
            },
          ],
        },
      ],
    });
    const raw = Buffer.from(body);
    // Turn the key "k" into the byte 0xff: it reads as U+FFFD.
    const at = raw.indexOf(Buffer.from([0x0a, 0x01, 0x6b]));
    raw[at + 2] = 0xff;
    const [span] = decodeOtlpProtobufSpans(raw);
    expect(span.attr!('a')).toBe('last');
    expect(span.attr!('\ufffd')).toEqual([true, 1.5]);
    expect(span.attr!('k')).toBeUndefined();
    for (let i = 0; i < 300; i++) {
      expect(span.attr!(`unasked-${i}`)).toBeUndefined();
    }
    expect(span.attr!('a')).toBe('last');
  });
});

describe('decodeOtlpProtobufSpans against protobufjs + decodeResourceSpans', () => {
  it('decodes generated requests (odd field orders, repeats, unknown fields, several AnyValue members) to the same spans', () => {
    let spans = 0;
    fc.assert(
      fc.property(traceRequest, (body) => {
        const got = expectSame(body);
        spans += got.ok ? got.spans.length : 0;
      }),
      { numRuns: RUNS },
    );
    // Most generated requests are valid OTLP, with spans: the comparison is not only of errors.
    expect(spans).toBeGreaterThan(RUNS);
  });

  it('agrees on corrupted requests: the same spans or an error from both', () => {
    fc.assert(
      fc.property(traceRequest, mutations, (body, ops) => {
        expectSame(mutate(body, ops));
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it('agrees on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (body) => {
        expectSame(body);
      }),
      { numRuns: RUNS },
    );
  });

  it('agrees on requests encoded by protobufjs from plain objects', () => {
    const body = encodeTraceRequest({
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'shop' } }] },
          scopeSpans: [
            {
              scope: { name: 'lib', version: '1.0' },
              spans: [
                {
                  traceId: Buffer.alloc(16, 1),
                  spanId: Buffer.alloc(8, 2),
                  parentSpanId: Buffer.alloc(8, 3),
                  name: 'payment.charge',
                  kind: 3,
                  startTimeUnixNano: '1700000000000000001',
                  endTimeUnixNano: '1700000000500000001',
                  attributes: [
                    { key: 'amount', value: { intValue: '-9007199254740993' } },
                    { key: 'tags', value: { arrayValue: { values: [{ stringValue: 'a' }, { doubleValue: 1.5 }] } } },
                    { key: 'customer', value: { kvlistValue: { values: [{ key: 'tier', value: { boolValue: true } }] } } },
                    { key: 'raw', value: { bytesValue: Buffer.from([1, 2]) } },
                  ],
                  events: [{ timeUnixNano: '1700000000100000000', name: 'retry', attributes: [{ key: 'n', value: { intValue: 2 } }] }],
                  links: [{ traceId: Buffer.alloc(16, 9), spanId: Buffer.alloc(8, 8), attributes: [] }],
                  status: { code: 2, message: 'declined' },
                },
              ],
            },
          ],
        },
      ],
    });
    const got = expectSame(body);
    expect(got.ok && (got.spans[0] as { attrs: unknown }).attrs).toEqual({
      amount: -9007199254740993n,
      tags: ['a', 1.5],
      customer: { tier: true },
      raw: { bytes: [1, 2] },
    });
  });
});

/** A request of one span whose attribute `value` nests `depth` levels. */
function deepRequest(depth: number, kinds: readonly boolean[], where: 'span' | 'event' | 'resource' | 'scope'): Uint8Array {
  const attr = message(1, [str(1, 'deep'), message(2, nestedValue(depth, kinds))]);
  const at = (field: number): WireField => [field, 2, (attr[2] as Uint8Array)];
  const spanFields: WireField[] = [
    [1, 2, new Uint8Array(16).fill(1)],
    [2, 2, new Uint8Array(8).fill(2)],
    ...(where === 'span' ? [at(9)] : []),
    ...(where === 'event' ? [message(11, [at(3)])] : []),
  ];
  const scopeSpans = message(2, [...(where === 'scope' ? [message(1, [at(3)])] : []), message(2, spanFields)]);
  return encodeFields([message(1, [...(where === 'resource' ? [message(1, [at(1)])] : []), scopeSpans])]);
}

describe('the attribute depth limit on protobuf', () => {
  it.each([
    ['span', 'resourceSpans[0].scopeSpans[0].spans[0].attributes[0]'],
    ['event', 'resourceSpans[0].scopeSpans[0].spans[0].events[0].attributes[0]'],
    ['resource', 'resourceSpans[0].resource.attributes[0]'],
  ] as const)('takes %s attributes nested to the limit and refuses one level more, naming %s and the limit', (where, path) => {
    for (const kinds of [[true], [false], [true, false]]) {
      expect(decodeOtlpProtobufSpans(deepRequest(MAX_ATTRIBUTE_DEPTH, kinds, where))).toHaveLength(1);
      expectSame(deepRequest(MAX_ATTRIBUTE_DEPTH, kinds, where));
      const tooDeep = deepRequest(MAX_ATTRIBUTE_DEPTH + 1, kinds, where);
      expectSame(tooDeep);
      if (kinds.every((array) => array)) {
        expect(() => decodeOtlpProtobufSpans(tooDeep)).toThrow(new DecodeError(path, `attribute values nest deeper than ${MAX_ATTRIBUTE_DEPTH} levels (the limit)`));
      } else {
        // Three messages a level: a kvlist that deep is also past protobuf's nesting limit, which may be met first.
        const error = candidate(tooDeep);
        expect(error.ok).toBe(false);
        const { message } = (error as { error: Error }).error;
        expect(message.startsWith(path.replace(/\.(events\[0\]\.)?attributes\[0\]$/, ''))).toBe(true);
        expect(message).toContain(`${MAX_ATTRIBUTE_DEPTH}`);
      }
    }
  });

  it('refuses thousands of levels as malformed protobuf, without overflowing the stack', () => {
    for (const where of ['span', 'scope'] as const) {
      expect(() => decodeOtlpProtobufSpans(deepRequest(2000, [true, false], where))).toThrow(ProtobufError);
      expect(() => decodeOtlpProtobufSpans(deepRequest(2000, [true, false], where))).toThrow(/messages nest deeper than 100 levels \(attribute values may nest at most 32\)$/);
    }
  });

  it('reads deep scope attributes as protobufjs does: they are not part of the model', () => {
    expect(decodeOtlpProtobufSpans(deepRequest(40, [true], 'scope'))).toHaveLength(1);
    expectSame(deepRequest(40, [true], 'scope'));
  });
});

describe('partitionByTrace', () => {
  const byTrace = (spans: Span[]) =>
    groupTraces(spans)
      .map((t) => ({ traceId: t.traceId, spans: t.spans.map(plain) }))
      .sort((a, b) => (a.traceId < b.traceId ? -1 : 1));

  it('splits a request into shards that decode, merged, to the same traces; each trace in one shard, the shard of its id', () => {
    fc.assert(
      fc.property(fc.oneof(traceRequest, fc.tuple(traceRequest, mutations).map(([b, m]) => mutate(b, m))), fc.integer({ min: 1, max: 6 }), (body, shards) => {
        const whole = candidate(body);
        let parts: Uint8Array[];
        try {
          parts = partitionByTrace(body, shards);
        } catch (e) {
          // The skim refuses exactly what the decoder refuses.
          expect(whole.ok).toBe(false);
          expect(e).toBeInstanceOf(DecodeError);
          return;
        }
        expect(whole.ok).toBe(true);
        expect(parts).toHaveLength(shards);
        const decoded = parts.map((p) => decodeOtlpProtobufSpans(p));
        // Every part is a valid request for protobufjs too.
        parts.forEach((p, k) => expect(reference(p)).toEqual({ ok: true, spans: decoded[k].map(plain) }));
        decoded.forEach((spans, k) => spans.forEach((s) => expect(traceShard(s.traceId, shards)).toBe(k)));
        expect(byTrace(decoded.flat())).toEqual(byTrace(decodeOtlpProtobufSpans(body)));
      }),
      { numRuns: RUNS },
    );
  });

  it('puts spans of one trace in the same shard and spreads distinct traces', () => {
    const spans = [...Array(64).keys()].map((i) =>
      message(2, [
        [1, 2, new Uint8Array(16).map((_x, j) => (i * 7 + j * 13) & 255 || 1)],
        [2, 2, new Uint8Array(8).fill(i + 1)],
      ]),
    );
    const body = encodeFields([message(1, [message(2, spans)])]);
    const parts = partitionByTrace(body, 4).map((p) => decodeOtlpProtobufSpans(p).length);
    expect(parts.reduce((a, b) => a + b, 0)).toBe(64);
    expect(parts.every((n) => n > 0)).toBe(true);
  });

  it('keeps a span generated alone whole (its bytes are copied, not re-encoded)', () => {
    fc.assert(
      fc.property(span, (fields) => {
        const body = encodeFields([message(1, [message(2, [message(2, fields)])])]);
        const whole = candidate(body);
        fc.pre(whole.ok);
        const parts = partitionByTrace(body, 3).filter((p) => p.length > 0);
        expect(parts).toHaveLength(1);
        expect(Buffer.from(parts[0])).toEqual(Buffer.from(body));
      }),
      { numRuns: Math.ceil(RUNS / 3) },
    );
  });
});
