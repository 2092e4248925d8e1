/**
 * OTLP/protobuf bodies for property tests, written field by field so that they can do what real
 * encoders rarely do but the wire allows: fields in any order, repeated singular fields, several
 * AnyValue members at once, unknown fields of every wire type (groups too), wrong wire types for
 * known fields, ids of wrong lengths or all zeros, values nested past the depth limit. Plus
 * corruption of any body: flipped, inserted, deleted bytes and truncation.
 */
import fc from 'fast-check';

/** [field number, wire type, payload]: a varint (bigint, two's complement for negatives), 8 or 4 bytes, bytes, or a group's fields. */
export type WireField = [number, 0, bigint] | [number, 1 | 5 | 2, Uint8Array] | [number, 3, WireField[]];

function varint(out: number[], v: bigint): void {
  let x = BigInt.asUintN(64, v);
  while (x >= 128n) {
    out.push(Number(x & 127n) | 128);
    x >>= 7n;
  }
  out.push(Number(x));
}

/** Appends the encoding of `fields` to `out` (headers as small arrays, payloads as they are). */
function write(out: Uint8Array[], fields: readonly WireField[]): void {
  for (const [n, wt, payload] of fields) {
    const head: number[] = [];
    varint(head, BigInt((n << 3) | wt));
    if (wt === 0) {
      varint(head, payload);
      out.push(Uint8Array.from(head));
    } else if (wt === 3) {
      out.push(Uint8Array.from(head));
      write(out, payload);
      const end: number[] = [];
      varint(end, BigInt((n << 3) | 4));
      out.push(Uint8Array.from(end));
    } else {
      if (wt === 2) {
        varint(head, BigInt(payload.length));
      }
      out.push(Uint8Array.from(head), payload);
    }
  }
}

export function encodeFields(fields: readonly WireField[]): Uint8Array {
  const out: Uint8Array[] = [];
  write(out, fields);
  return new Uint8Array(Buffer.concat(out));
}

const utf8 = (s: string) => new TextEncoder().encode(s);
const message = (n: number, fields: readonly WireField[]): WireField => [n, 2, encodeFields(fields)];
const str = (n: number, s: string): WireField => [n, 2, utf8(s)];
function fixed64(n: number, v: bigint): WireField {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, v), true);
  return [n, 1, b];
}
function double(n: number, v: number): WireField {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setFloat64(0, v, true);
  return [n, 1, b];
}

/** Unknown fields (numbers no OTLP message here uses), every wire type. */
const unknownField: fc.Arbitrary<WireField> = fc.oneof(
  fc.tuple(fc.integer({ min: 17, max: 2000 }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })).map(([n, v]): WireField => [n, 0, v]),
  fc.tuple(fc.integer({ min: 17, max: 2000 }), fc.uint8Array({ maxLength: 6 })).map(([n, b]): WireField => [n, 2, b]),
  fc.integer({ min: 17, max: 2000 }).map((n): WireField => [n, 5, new Uint8Array([1, 2, 3, 4])]),
  fc.integer({ min: 17, max: 2000 }).map((n): WireField => [n, 1, new Uint8Array(8).fill(7)]),
  fc.tuple(fc.integer({ min: 17, max: 2000 }), fc.bigInt({ min: 0n, max: 300n })).map(([n, v]): WireField => [n, 3, [[n + 1, 0, v]]]),
);

/**
 * A message from its fields: mostly as generated (in order), sometimes shuffled, with an unknown
 * field or a duplicate thrown in.
 */
function messageOf(fields: fc.Arbitrary<WireField[]>): fc.Arbitrary<WireField[]> {
  return fc
    .tuple(fields, fc.option(unknownField, { freq: 4 }), fc.option(fc.array(fc.nat(), { minLength: 1, maxLength: 8 }), { freq: 5 }), fc.boolean())
    .map(([list, unknown, order, duplicate]) => {
      let out = [...list];
      if (unknown !== null) {
        out.splice(out.length >> 1, 0, unknown);
      }
      if (duplicate && out.length > 0 && order !== null) {
        out.push(out[order[0] % out.length]);
      }
      if (order !== null) {
        const keys = out.map((_f, i) => order[i % order.length] * 31 + i);
        out = out.map((f, i) => [keys[i], f] as const).sort((a, b) => a[0] - b[0]).map(([, f]) => f);
      }
      return out;
    });
}

const opt = <T>(a: fc.Arbitrary<T>, freq = 2) => fc.option(a, { freq }).map((v) => (v === null ? [] : [v]));

const keys = fc.constantFrom('service.name', 'http.route', 'amount', 'order_id', '__proto__', 'constructor', '', 'é', 'k\u00ff\u4e2d');
const strings = fc.oneof(fc.constantFrom('', 'x', 'payment.charge', 'ünïcödé', '\u{1f600}'), fc.string({ maxLength: 30 }), fc.string({ unit: 'grapheme', maxLength: 8 }));

/** An AnyValue of at most `depth` levels; several members at once now and then. */
export function anyValue(depth: number): fc.Arbitrary<WireField[]> {
  const scalar = fc.oneof(
    strings.map((s) => str(1, s)),
    fc.boolean().map((b): WireField => [2, 0, b ? 1n : 0n]),
    fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }).map((v): WireField => [3, 0, v]),
    fc.integer({ min: -1000, max: 100000 }).map((v): WireField => [3, 0, BigInt(v)]),
    fc.double().map((d) => double(4, d)),
    fc.uint8Array({ maxLength: 5 }).map((b): WireField => [7, 2, b]),
  );
  const members =
    depth <= 1
      ? scalar
      : fc.oneof(
          { weight: 4, arbitrary: scalar },
          { weight: 1, arbitrary: fc.array(anyValue(depth - 1).map((v) => message(1, v)), { maxLength: 3 }).map((vs) => message(5, vs)) },
          { weight: 1, arbitrary: fc.array(keyValue(depth - 1), { maxLength: 3 }).map((kvs) => message(6, kvs.map((kv) => message(1, kv)))) },
        );
  return messageOf(fc.array(members, { minLength: 0, maxLength: 2 }).map((m) => (m.length === 0 ? [] : m)));
}

export function keyValue(depth: number): fc.Arbitrary<WireField[]> {
  return messageOf(fc.tuple(keys, fc.option(anyValue(depth), { freq: 8 })).map(([k, v]) => [str(1, k), ...(v === null ? [] : [message(2, v)])]));
}

/** A value nested exactly `depth` levels (arrays and kvlists), for the depth limit. */
export function nestedValue(depth: number, kinds: readonly boolean[]): WireField[] {
  let v: WireField[] = [str(1, 'leaf')];
  for (let d = 1; d < depth; d++) {
    v = kinds[d % kinds.length] ? [message(5, [message(1, v)])] : [message(6, [message(1, [str(1, `k${d}`), message(2, v)])])];
  }
  return v;
}

const attributes = (field: number, depth = 3) => fc.array(keyValue(depth).map((kv) => message(field, kv)), { maxLength: 4 });

function id(field: number, bytes: number): fc.Arbitrary<WireField> {
  return fc.oneof(
    { weight: 60, arbitrary: fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b): WireField => [field, 2, b.map((x, i) => (i === 0 ? x | 1 : x))]) },
    { weight: 1, arbitrary: fc.constant<WireField>([field, 2, new Uint8Array(bytes)]) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 20 }).map((b): WireField => [field, 2, b]) },
  );
}

/** A few trace ids, so that spans share traces. */
const traceIds = fc.constantFrom(...[1, 2, 3, 4, 5, 6, 7].map((i) => new Uint8Array(16).fill(i * 17)));

const time = fc.oneof(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.bigInt({ min: 1700000000000000000n, max: 1700000000999999999n }));

const event = messageOf(fc.tuple(opt(time.map((t) => fixed64(1, t)), 5), opt(strings.map((s) => str(2, s)), 5), attributes(3)).map(([t, n, a]) => [...t, ...n, ...a]));
const link = messageOf(fc.tuple(opt(id(1, 16), 60), opt(id(2, 8), 60), attributes(4)).map(([t, s, a]) => [...t, ...s, ...a]));
const status = messageOf(
  fc
    .tuple(opt(strings.map((s) => str(2, s))), opt(fc.oneof({ weight: 20, arbitrary: fc.integer({ min: 0, max: 2 }) }, { weight: 1, arbitrary: fc.constantFrom(3, -1) }).map((c): WireField => [3, 0, BigInt(c)])))
    .map(([m, c]) => [...m, ...c]),
);

export const span: fc.Arbitrary<WireField[]> = messageOf(
  fc
    .tuple(
      fc.oneof({ weight: 12, arbitrary: traceIds.map((b): WireField => [1, 2, b]) }, { weight: 1, arbitrary: id(1, 16) }).map((f) => [f]),
      opt(id(2, 8), 60),
      opt(id(4, 8), 2),
      opt(strings.map((s) => str(5, s)), 8),
      opt(fc.oneof({ weight: 20, arbitrary: fc.integer({ min: 0, max: 5 }) }, { weight: 1, arbitrary: fc.constantFrom(6, -1) }).map((k): WireField => [6, 0, BigInt(k)])),
      opt(time.map((t) => fixed64(7, t)), 8),
      opt(time.map((t) => fixed64(8, t)), 8),
      attributes(9),
      fc.array(event.map((e) => message(11, e)), { maxLength: 2 }),
      fc.array(link.map((l) => message(13, l)), { maxLength: 1 }),
      opt(status.map((s) => message(15, s))),
      opt(fc.constant<WireField>([16, 5, new Uint8Array([1, 0, 0, 0])]), 1),
      opt(strings.map((s) => str(3, s)), 1),
    )
    .map((parts) => parts.flat()),
);

const scope = messageOf(fc.tuple(opt(strings.map((s) => str(1, s)), 5), opt(strings.map((s) => str(2, s))), attributes(3, 2)).map(([n, v, a]) => [...n, ...v, ...a]));
const resource = messageOf(fc.tuple(attributes(1), fc.constant([str(1, 'service.name'), message(2, [str(1, 'shop')])])).map(([a, svc]) => [message(1, svc), ...a]));

const scopeSpans = messageOf(fc.tuple(opt(scope.map((s) => message(1, s)), 5), fc.array(span.map((s) => message(2, s)), { minLength: 1, maxLength: 4 }), opt(strings.map((s) => str(3, s)), 1)).map((p) => p.flat()));
const resourceSpans = messageOf(fc.tuple(opt(resource.map((r) => message(1, r)), 5), fc.array(scopeSpans.map((s) => message(2, s)), { minLength: 1, maxLength: 2 })).map((p) => p.flat()));

/** A whole ExportTraceServiceRequest, mostly valid OTLP. */
export const traceRequest: fc.Arbitrary<Uint8Array> = fc.array(resourceSpans.map((rs) => message(1, rs)), { minLength: 1, maxLength: 2 }).map(encodeFields);

export type Mutation = ['flip', number, number] | ['truncate', number] | ['insert', number, Uint8Array] | ['delete', number, number];

export const mutations: fc.Arbitrary<Mutation[]> = fc.array(
  fc.oneof(
    fc.tuple(fc.constant('flip' as const), fc.nat(), fc.integer({ min: 1, max: 255 })),
    fc.tuple(fc.constant('truncate' as const), fc.nat()),
    fc.tuple(fc.constant('insert' as const), fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 4 })),
    fc.tuple(fc.constant('delete' as const), fc.nat(), fc.integer({ min: 1, max: 4 })),
  ),
  { minLength: 1, maxLength: 3 },
);

export function mutate(body: Uint8Array, ops: readonly Mutation[]): Uint8Array {
  let b = Array.from(body);
  for (const op of ops) {
    if (b.length === 0) {
      break;
    }
    const at = op[1] % b.length;
    switch (op[0]) {
      case 'flip':
        b[at] ^= op[2];
        break;
      case 'truncate':
        b = b.slice(0, at);
        break;
      case 'insert':
        b.splice(at, 0, ...op[2]);
        break;
      case 'delete':
        b.splice(at, op[2]);
        break;
    }
  }
  return Uint8Array.from(b);
}

export { message, str };
