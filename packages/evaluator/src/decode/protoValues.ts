/**
 * OTLP common.v1 messages (AnyValue, ArrayValue, KeyValueList, KeyValue) on the wire: checking
 * them without building anything, and building attribute maps from checked bytes. Values are
 * what decodeResourceSpans makes of protobufjs' messages: for an AnyValue with several members
 * set, the first of string, bool, int, double, array, kvlist, bytes; for a repeated key, the last.
 */
import type { AttrMap, AttrValue } from '../model';
import { MAX_PROTOBUF_NESTING, ProtoReader, utf8 } from './protoReader';

const HEX_CODES = new Uint8Array(16);
for (let i = 0; i < 16; i++) {
  HEX_CODES[i] = '0123456789abcdef'.charCodeAt(i);
}

/** Character codes of one id, by its byte count: reused (ids are made per span, and the array is garbage at once). */
const codesFor: number[][] = [];

/** `bytes` bytes at `at` as lowercase hex. */
export function hexAt(buf: Uint8Array, at: number, bytes: number): string {
  const codes = (codesFor[bytes] ??= new Array<number>(bytes * 2).fill(0));
  for (let i = 0; i < bytes; i++) {
    const b = buf[at + i];
    codes[2 * i] = HEX_CODES[b >> 4];
    codes[2 * i + 1] = HEX_CODES[b & 15];
  }
  return String.fromCharCode.apply(null, codes);
}

/** The 4 bytes at `at` as an unsigned little-endian 32-bit word. */
export const wordAt = (b: Uint8Array, at: number): number => (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;

/** Whether the `n` bytes at `a` and at `b` are the same. */
export function sameBytes(buf: Uint8Array, a: number, b: number, n: number): boolean {
  for (let i = 0; i < n; i++) {
    if (buf[a + i] !== buf[b + i]) {
      return false;
    }
  }
  return true;
}

export function isZeroAt(buf: Uint8Array, at: number, bytes: number): boolean {
  for (let i = 0; i < bytes; i++) {
    if (buf[at + i] !== 0) {
      return false;
    }
  }
  return true;
}

/** An int64 from its unsigned halves: a number when exact, else a bigint (as the JSON path reads it). */
export function int64Value(lo: number, hi: number): number | bigint {
  if (hi < 0x200000) {
    return hi * 4294967296 + lo;
  }
  if (hi >= 0xffe00000 && !(hi === 0xffe00000 && lo === 0)) {
    return (hi - 4294967296) * 4294967296 + lo;
  }
  return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo));
}

// Checking. Each returns the height of the value as decodeResourceSpans would read it (1 for a
// scalar or an empty list, 1 + the tallest element for a non-empty list), so a caller knows whether
// it nests deeper than MAX_ATTRIBUTE_DEPTH without the value being built. `n` is protobufjs'
// nesting count of the message being entered.

const SCALAR = 1 | 2 | 4 | 8;
const ARRAY = 16;
const KVLIST = 32;

export function checkAnyValue(r: ProtoReader, n: number): number {
  const outer = r.enter(n);
  let seen = 0;
  let arrayHeight = 1;
  let kvlistHeight = 1;
  while (r.pos < r.len) {
    const t = r.uint32();
    switch (t >>> 3) {
      case 1:
        r.string();
        seen |= 1;
        break;
      case 2:
        r.uint32();
        seen |= 2;
        break;
      case 3:
        r.int64();
        seen |= 4;
        break;
      case 4:
        r.fixed64();
        seen |= 8;
        break;
      case 5:
        arrayHeight = checkList(r, n + 1, false);
        seen |= ARRAY;
        break;
      case 6:
        kvlistHeight = checkList(r, n + 1, true);
        seen |= KVLIST;
        break;
      case 7:
        r.bytes();
        break;
      default:
        r.skip(t & 7, n);
    }
  }
  r.leave(outer);
  return (seen & SCALAR) !== 0 ? 1 : (seen & ARRAY) !== 0 ? arrayHeight : (seen & KVLIST) !== 0 ? kvlistHeight : 1;
}

/** An ArrayValue (values: AnyValue) or a KeyValueList (values: KeyValue), both field 1. */
function checkList(r: ProtoReader, n: number, keyValues: boolean): number {
  const outer = r.enter(n);
  let height = 1;
  while (r.pos < r.len) {
    const t = r.uint32();
    if (t >>> 3 === 1) {
      height = Math.max(height, 1 + (keyValues ? checkKeyValue(r, n + 1) : checkAnyValue(r, n + 1)));
    } else {
      r.skip(t & 7, n);
    }
  }
  r.leave(outer);
  return height;
}

/** A KeyValue: the height of its (last) value, 1 without one. */
export function checkKeyValue(r: ProtoReader, n: number): number {
  const outer = r.enter(n);
  let height = 1;
  while (r.pos < r.len) {
    const t = r.uint32();
    switch (t >>> 3) {
      case 1:
        r.string();
        break;
      case 2: {
        // (The value is a message at n + 1: past the nesting limit even a simple one is refused.)
        const end = n < MAX_PROTOBUF_NESTING ? simpleValueEnd(r) : -1;
        if (end >= 0) {
          r.pos = end;
          height = 1;
        } else {
          height = checkAnyValue(r, n + 1);
        }
        break;
      }
      default:
        r.skip(t & 7, n);
    }
  }
  r.leave(outer);
  return height;
}

// Building, from bytes the checks above accepted: nothing here can fail.

/** Jumps over a length-delimited field already checked. */
export function jump(r: ProtoReader): void {
  const length = r.uint32();
  r.pos += length;
}

export function readKeyValueInto(r: ProtoReader, n: number, out: AttrMap): void {
  const outer = r.enter(n);
  let key = '';
  let value: AttrValue = null;
  while (r.pos < r.len) {
    const t = r.uint32();
    switch (t >>> 3) {
      case 1:
        key = r.text(r.string(), r.pos);
        break;
      case 2: {
        const end = simpleValueEnd(r);
        value = end >= 0 ? simpleValue(r, end) : readAnyValue(r, n + 1);
        break;
      }
      default:
        r.skip(t & 7, n);
    }
  }
  r.leave(outer);
  if (key === '__proto__') {
    // Assignment would set the prototype: "__proto__" must stay an ordinary attribute.
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    out[key] = value;
  }
}

const STRING_VALUE_TAG = (1 << 3) | 2;
const BOOL_VALUE_TAG = 2 << 3;
const INT_VALUE_TAG = 3 << 3;

/**
 * Where the common AnyValue at `r.pos` ends — one string, bool or small int member filling the
 * message, every length in one byte — or -1 for any other (read the long way). Nothing is read.
 */
function simpleValueEnd(r: ProtoReader): number {
  const buf = r.buf;
  const at = r.pos;
  const length = buf[at];
  const end = at + 1 + length;
  if (length >= 128 || length < 2 || end > r.len) {
    return -1;
  }
  const tag = buf[at + 1];
  if (tag === STRING_VALUE_TAG) {
    return buf[at + 2] === length - 2 ? end : -1;
  }
  if (tag !== BOOL_VALUE_TAG && tag !== INT_VALUE_TAG) {
    return -1;
  }
  // A varint of one to three bytes ending where the message ends.
  if (length > 4) {
    return -1;
  }
  for (let i = at + 2; i < end; i++) {
    if (buf[i] >= 128 !== i < end - 1) {
      return -1;
    }
  }
  return end;
}

/** The value of a simple AnyValue ending at `end` (see simpleValueEnd). */
function simpleValue(r: ProtoReader, end: number): AttrValue {
  const buf = r.buf;
  const at = r.pos;
  r.pos = end;
  const tag = buf[at + 1];
  if (tag === STRING_VALUE_TAG) {
    return r.text(at + 3, end);
  }
  let v = 0;
  for (let i = at + 2; i < end; i++) {
    v |= (buf[i] & 127) << (7 * (i - at - 2));
  }
  return tag === BOOL_VALUE_TAG ? v !== 0 : v;
}

function readAnyValue(r: ProtoReader, n: number): AttrValue {
  const outer = r.enter(n);
  let str: string | undefined;
  let bool: boolean | undefined;
  let int: number | bigint | undefined;
  let double: number | undefined;
  let array: AttrValue[] | undefined;
  let kvlist: AttrMap | undefined;
  let bytes: Uint8Array | undefined;
  while (r.pos < r.len) {
    const t = r.uint32();
    switch (t >>> 3) {
      case 1: {
        str = r.text(r.string(), r.pos);
        break;
      }
      case 2:
        bool = r.uint32() !== 0;
        break;
      case 3:
        r.int64();
        int = int64Value(r.lo, r.hi);
        break;
      case 4:
        double = r.double();
        break;
      case 5:
        array = readArrayValue(r, n + 1);
        break;
      case 6: {
        const inner = r.enter(n + 1);
        kvlist = {};
        while (r.pos < r.len) {
          const t2 = r.uint32();
          if (t2 >>> 3 === 1) {
            readKeyValueInto(r, n + 2, kvlist);
          } else {
            r.skip(t2 & 7, n + 1);
          }
        }
        r.leave(inner);
        break;
      }
      case 7: {
        const at = r.bytes();
        // A copy: the model's bytes must not alias the request body.
        bytes = new Uint8Array(r.buf.subarray(at, r.pos));
        break;
      }
      default:
        r.skip(t & 7, n);
    }
  }
  r.leave(outer);
  return str ?? bool ?? int ?? double ?? array ?? kvlist ?? bytes ?? null;
}

function readArrayValue(r: ProtoReader, n: number): AttrValue[] {
  const outer = r.enter(n);
  const out: AttrValue[] = [];
  while (r.pos < r.len) {
    const t = r.uint32();
    if (t >>> 3 === 1) {
      out.push(readAnyValue(r, n + 1));
    } else {
      r.skip(t & 7, n);
    }
  }
  r.leave(outer);
  return out;
}

// TextEncoder is in every browser and in Node, but not in the ES lib this package compiles against.
const keyEncoder = new (globalThis as unknown as { TextEncoder: new () => { encode(s: string): Uint8Array } }).TextEncoder();

/**
 * The attribute keys rules have asked wire spans for (Span.attr), by their UTF-8 bytes: a span
 * finds them among its KeyValues by comparing bytes, and builds only their values, not the whole
 * map. Keys are added as they are asked for, up to `max` (past that a span builds its map).
 */
export class KeyInterest {
  private readonly index = new Map<string, number>();
  private readonly encoded: Uint8Array[] = [];
  /** Key indices by UTF-8 length. */
  private readonly byLength: Array<number[] | undefined> = [];
  /** Whether a key has a character outside ASCII: only then can a key with bytes ≥ 0x80 match. */
  private nonAscii = false;

  constructor(readonly max: number) {}

  get size(): number {
    return this.encoded.length;
  }

  /**
   * The key's index, added when new; -1 when `max` keys are known already, or when the key has
   * a lone surrogate (its UTF-8 bytes would decode to another string).
   */
  indexOf(key: string): number {
    const known = this.index.get(key);
    if (known !== undefined) {
      return known;
    }
    const bytes = keyEncoder.encode(key);
    if (this.encoded.length >= this.max || utf8(bytes, 0, bytes.length) !== key) {
      return -1;
    }
    const i = this.encoded.length;
    this.encoded.push(bytes);
    this.index.set(key, i);
    const same = this.byLength[bytes.length];
    if (same === undefined) {
      this.byLength[bytes.length] = [i];
    } else {
      same.push(i);
    }
    this.nonAscii ||= bytes.some((b) => b >= 0x80);
    return i;
  }

  /** The index of the key the text in [start, end) reads as, or -1. */
  find(r: ProtoReader, start: number, end: number): number {
    const buf = r.buf;
    const same = this.byLength[end - start];
    if (same !== undefined) {
      for (const i of same) {
        const k = this.encoded[i];
        let j = 0;
        while (j < k.length && k[j] === buf[start + j]) {
          j++;
        }
        if (j === k.length) {
          return i;
        }
      }
    }
    if (!this.nonAscii) {
      return -1; // bytes ≥ 0x80 read as text with a character outside ASCII: no key is such text
    }
    // Bytes that are not valid UTF-8 read as other text (U+FFFD): compare what they read as.
    for (let j = start; j < end; j++) {
      if (buf[j] >= 0x80) {
        return this.index.get(r.text(start, end)) ?? -1;
      }
    }
    return -1;
  }
}

/**
 * A KeyValue whose key is one of `keys` numbered `from` or more: its value into `out` at the
 * key's index (a repeated key: the last, as readKeyValueInto). Other KeyValues are only stepped over.
 */
export function readKeyValueMatching(r: ProtoReader, n: number, keys: KeyInterest, from: number, out: Array<AttrValue | undefined>): void {
  const outer = r.enter(n);
  let keyAt = 0;
  let keyEnd = 0;
  let valueAt = -1;
  while (r.pos < r.len) {
    const t = r.uint32();
    switch (t >>> 3) {
      case 1:
        keyAt = r.string();
        keyEnd = r.pos;
        break;
      case 2:
        valueAt = r.pos;
        jump(r);
        break;
      default:
        r.skip(t & 7, n);
    }
  }
  const i = keys.find(r, keyAt, keyEnd);
  if (i >= from) {
    let value: AttrValue = null;
    if (valueAt >= 0) {
      const end = r.pos;
      r.pos = valueAt;
      const simple = simpleValueEnd(r);
      value = simple >= 0 ? simpleValue(r, simple) : readAnyValue(r, n + 1);
      r.pos = end;
    }
    out[i] = value;
  }
  r.leave(outer);
}
