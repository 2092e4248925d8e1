/**
 * Wire-value readers shared by the decoders: ids (hex, base64, bytes), int64 (string, number,
 * bigint, Long-like), enums (ints or names) and OTLP AnyValue. Written without Node or DOM
 * globals (no Buffer, no atob): the evaluator runs in browsers too.
 */
import type { AttrMap, AttrValue, SpanKind, StatusCode } from '../model';

/**
 * Where a value stands in the input, for error messages. A function when building the string
 * eagerly would cost more than the decoding itself (the common case never needs it).
 */
export type PathRef = string | (() => string);

export function pathOf(p: PathRef): string {
  return typeof p === 'function' ? p() : p;
}

/** Malformed input, with the path of the offending field (the sidecar answers 400 with this message). */
export class DecodeError extends Error {
  readonly path: string;

  constructor(path: PathRef, detail: string) {
    const where = pathOf(path);
    super(`${where}: ${detail}`);
    this.path = where;
    this.name = 'DecodeError';
  }
}

const HEX = '0123456789abcdef';
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = new Int16Array(128).fill(-1);
for (let i = 0; i < B64.length; i++) {
  B64_INDEX[B64.charCodeAt(i)] = i;
}
// URL-safe alphabet too: some encoders use it.
B64_INDEX['-'.charCodeAt(0)] = 62;
B64_INDEX['_'.charCodeAt(0)] = 63;

export function bytesToHex(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    out += HEX[bytes[i] >> 4] + HEX[bytes[i] & 15];
  }
  return out;
}

/** Decodes base64 (standard or URL-safe, padding optional); undefined when it is not base64. */
export function base64ToBytes(s: string): Uint8Array | undefined {
  let end = s.length;
  while (end > 0 && s[end - 1] === '=') {
    end--;
  }
  if (s.length - end > 2 || end % 4 === 1) {
    return undefined;
  }
  const out = new Uint8Array(Math.floor((end * 3) / 4));
  let buffer = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < end; i++) {
    const c = s.charCodeAt(i);
    const v = c < 128 ? B64_INDEX[c] : -1;
    if (v < 0) {
      return undefined;
    }
    buffer = (buffer << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (buffer >> bits) & 0xff;
    }
  }
  return out;
}

export function bytesToBase64(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += B64[(n >> 18) & 63] + B64[(n >> 12) & 63];
    out += i + 1 < bytes.length ? B64[(n >> 6) & 63] : '=';
    out += i + 2 < bytes.length ? B64[n & 63] : '=';
  }
  return out;
}

function isHex(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70))) {
      return false;
    }
  }
  return true;
}

export type IdEncoding = 'hex' | 'base64';

/**
 * An id of `bytes` bytes as lowercase hex. The wire's own encoding is tried first (hex for
 * OTLP/JSON, base64 for Tempo's trace-by-id); the other one is accepted when the string can only
 * be that (right length, right alphabet), because both kinds are seen in the wild.
 * Returns undefined for an absent or empty id.
 */
export function readId(value: unknown, bytes: number, encoding: IdEncoding, path: PathRef): string | undefined {
  // An empty array is protobufjs' default for an unset bytes field.
  if (value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0)) {
    return undefined;
  }
  if (value instanceof Uint8Array) {
    if (value.length === 0) {
      return undefined;
    }
    if (value.length !== bytes) {
      throw new DecodeError(path, `expected ${bytes} bytes, got ${value.length}`);
    }
    return bytesToHex(value);
  }
  if (typeof value !== 'string') {
    throw new DecodeError(path, `expected a string id, got ${typeName(value)}`);
  }
  const hexLength = bytes * 2;
  const asHex = value.length === hexLength && isHex(value) ? value.toLowerCase() : undefined;
  const raw = value.length === Math.ceil(bytes / 3) * 4 || value.length === Math.ceil((bytes * 4) / 3) ? base64ToBytes(value) : undefined;
  const asBase64 = raw !== undefined && raw.length === bytes ? bytesToHex(raw) : undefined;
  const id = encoding === 'hex' ? (asHex ?? asBase64) : (asBase64 ?? asHex);
  if (id === undefined) {
    const expected = encoding === 'hex' ? `${hexLength} hex characters` : `base64 of ${bytes} bytes`;
    throw new DecodeError(path, `expected ${expected}, got ${JSON.stringify(value.length > 64 ? value.slice(0, 64) + '…' : value)}`);
  }
  return id;
}

/** Tempo trims leading zeros of trace ids in search results; ids are compared at full width. */
export function normalizeTraceIdHex(id: string): string {
  return id.toLowerCase().padStart(32, '0');
}

const UINT64_LIMIT = 1n << 64n;

/**
 * How deep OTLP AnyValues may nest (an arrayValue or kvlistValue inside another): a top-level
 * attribute value is at depth 1, the values inside it at depth 2, and so on. Deeper input is
 * refused (the sidecar answers 400), for OTLP/JSON and OTLP/protobuf alike, so a hostile request
 * thousands of levels deep can neither overflow the stack nor cost more than a shallow one.
 */
export const MAX_ATTRIBUTE_DEPTH = 32;

export function tooDeep(path: PathRef): DecodeError {
  return new DecodeError(path, `attribute values nest deeper than ${MAX_ATTRIBUTE_DEPTH} levels (the limit)`);
}

/** An int64/uint64 as bigint, exactly: never through a JS number when the value can exceed 2^53. */
export function readInt64(value: unknown, path: PathRef): bigint {
  if (typeof value === 'string') {
    if (!/^-?\d+$/.test(value)) {
      throw new DecodeError(path, `expected an integer, got ${JSON.stringify(value)}`);
    }
    return BigInt(value);
  }
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) {
      throw new DecodeError(path, `expected an integer, got ${value}`);
    }
    return BigInt(value);
  }
  if (typeof value === 'bigint') {
    return value;
  }
  if (value !== null && typeof value === 'object' && 'low' in value && 'high' in value) {
    // protobufjs Long: two signed 32-bit halves.
    const { low, high, unsigned } = value as { low: number; high: number; unsigned?: boolean };
    const v = (BigInt(high >>> 0) << 32n) | BigInt(low >>> 0);
    return unsigned || v < 1n << 63n ? v : v - UINT64_LIMIT;
  }
  throw new DecodeError(path, `expected an integer, got ${typeName(value)}`);
}

/**
 * A timestamp field: absent means 0. OTLP timestamps are fixed64 nanoseconds, so anything below
 * 0 or from 2^64 on cannot be one (JSON can write it; protobuf cannot).
 */
export function readTime(value: unknown, path: PathRef): bigint {
  if (value === undefined || value === null) {
    return 0n;
  }
  const ns = readInt64(value, path);
  if (ns < 0n || ns >= UINT64_LIMIT) {
    throw new DecodeError(path, `expected nanoseconds from 0 to 2^64-1, got ${ns}`);
  }
  return ns;
}

const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_SPAN_ID = '0'.repeat(16);

/** OTLP: "A trace_id [span_id] with all zeroes … is considered invalid." */
export const ALL_ZEROS = 'is all zeros, which OTLP defines as invalid';

/** OTLP calls an all-zero trace or span id invalid (it is how "no id" is written). */
export function isZeroId(hex: string): boolean {
  return hex === ZERO_TRACE_ID || hex === ZERO_SPAN_ID;
}

/** Span kinds and status codes by their OTLP enum numbers. */
export const KINDS: readonly SpanKind[] = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];
export const STATUSES: readonly StatusCode[] = ['unset', 'ok', 'error'];

/** An enum given as its number or its name (`SPAN_KIND_SERVER`, or plain `server`). */
function readEnum<T extends string>(value: unknown, names: readonly T[], prefix: string, fallback: T, path: PathRef, what: string): T {
  if (value === undefined || value === null) {
    return fallback;
  }
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < names.length) {
    return names[value];
  }
  if (typeof value === 'string') {
    const name = (value.startsWith(prefix) ? value.slice(prefix.length) : value).toLowerCase();
    if ((names as readonly string[]).includes(name)) {
      return name as T;
    }
  }
  throw new DecodeError(path, `expected ${what} (0-${names.length - 1} or ${prefix}*), got ${JSON.stringify(value)}`);
}

export function readKind(value: unknown, path: PathRef): SpanKind {
  return readEnum(value, KINDS, 'SPAN_KIND_', 'unspecified', path, 'a span kind');
}

export function readStatusCode(value: unknown, path: PathRef): StatusCode {
  return readEnum(value, STATUSES, 'STATUS_CODE_', 'unset', path, 'a status code');
}

export function readString(value: unknown, path: PathRef): string {
  if (value === undefined || value === null) {
    return '';
  }
  if (typeof value !== 'string') {
    throw new DecodeError(path, `expected a string, got ${typeName(value)}`);
  }
  return value;
}

export function readArray(value: unknown, path: PathRef): unknown[] {
  if (value === undefined || value === null) {
    return [];
  }
  if (!Array.isArray(value)) {
    throw new DecodeError(path, `expected an array, got ${typeName(value)}`);
  }
  return value;
}

export function readObject(value: unknown, path: PathRef): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new DecodeError(path, `expected an object, got ${typeName(value)}`);
  }
  return value as Record<string, unknown>;
}

/** An int64 attribute: a number when exact, else a bigint. */
function intAttr(value: unknown, path: PathRef): number | bigint {
  const big = readInt64(value, path);
  return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
}

/** Whether `key` is an own property of `o` (not one Object.prototype lends it). */
export const hasOwn = (o: object, key: string): boolean => Object.prototype.hasOwnProperty.call(o, key);

/**
 * OTLP AnyValue → AttrValue. Own properties only: protobuf-decoded messages carry every field's
 * default on their prototype, so `in` would see fields the wire never set.
 */
export function readAnyValue(value: unknown, path: PathRef, depth = 1): AttrValue {
  if (depth > MAX_ATTRIBUTE_DEPTH) {
    throw tooDeep(path);
  }
  if (value === undefined || value === null) {
    return null;
  }
  const v = readObject(value, path);
  if (hasOwn(v, 'stringValue')) {
    return readString(v.stringValue, () => `${pathOf(path)}.stringValue`);
  }
  if (hasOwn(v, 'boolValue')) {
    if (typeof v.boolValue !== 'boolean') {
      throw new DecodeError(() => `${pathOf(path)}.boolValue`, `expected a boolean, got ${typeName(v.boolValue)}`);
    }
    return v.boolValue;
  }
  if (hasOwn(v, 'intValue')) {
    return intAttr(v.intValue, () => `${pathOf(path)}.intValue`);
  }
  if (hasOwn(v, 'doubleValue')) {
    const d = v.doubleValue;
    if (typeof d === 'number') {
      return d;
    }
    // proto3 JSON writes NaN/Infinity (and some encoders any double) as strings.
    if (typeof d === 'string' && d.trim() !== '' && !Number.isNaN(Number(d))) {
      return Number(d);
    }
    if (d === 'NaN') {
      return NaN;
    }
    throw new DecodeError(() => `${pathOf(path)}.doubleValue`, `expected a number, got ${typeName(d)}`);
  }
  if (hasOwn(v, 'arrayValue')) {
    const arr = v.arrayValue === null || v.arrayValue === undefined ? {} : readObject(v.arrayValue, () => `${pathOf(path)}.arrayValue`);
    return readArray(arr.values, () => `${pathOf(path)}.arrayValue.values`).map((x, i) => readAnyValue(x, () => `${pathOf(path)}.arrayValue.values[${i}]`, depth + 1));
  }
  if (hasOwn(v, 'kvlistValue')) {
    const kv = v.kvlistValue === null || v.kvlistValue === undefined ? {} : readObject(v.kvlistValue, () => `${pathOf(path)}.kvlistValue`);
    return readAttributes(kv.values, () => `${pathOf(path)}.kvlistValue.values`, depth + 1);
  }
  if (hasOwn(v, 'bytesValue')) {
    const b = v.bytesValue;
    if (b instanceof Uint8Array) {
      return b;
    }
    const bytes = typeof b === 'string' ? base64ToBytes(b) : undefined;
    if (bytes === undefined) {
      throw new DecodeError(() => `${pathOf(path)}.bytesValue`, 'expected base64');
    }
    return bytes;
  }
  // An empty AnyValue is valid protobuf (no value set).
  return null;
}

/**
 * A list of OTLP KeyValue → attribute map (later keys win, as collectors do). `depth` is that of
 * the values in the list (1 for a span's attributes, more inside a kvlistValue).
 */
export function readAttributes(value: unknown, path: PathRef, depth = 1): AttrMap {
  const out: AttrMap = {};
  const list = readArray(value, path);
  if (list.length > 0 && depth > MAX_ATTRIBUTE_DEPTH) {
    throw tooDeep(() => `${pathOf(path)}[0]`);
  }
  for (let i = 0; i < list.length; i++) {
    const item = list[i] as { key?: unknown; value?: unknown } | null;
    const kv = item !== null && typeof item === 'object' && !Array.isArray(item) ? item : readObject(item, () => `${pathOf(path)}[${i}]`);
    const key = kv.key;
    if (typeof key !== 'string') {
      throw new DecodeError(() => `${pathOf(path)}[${i}].key`, `expected a string, got ${typeName(key)}`);
    }
    let v = simpleAnyValue(kv.value);
    if (v === NOT_SIMPLE) {
      v = readAnyValue(kv.value, () => `${pathOf(path)}[${i}].value`, depth);
    }
    if (key === '__proto__') {
      // Assignment would set the prototype: "__proto__" must stay an ordinary attribute.
      Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
    } else {
      out[key] = v;
    }
  }
  return out;
}

const NOT_SIMPLE: unique symbol = Symbol('not simple');

/**
 * The common AnyValues (string, bool, safe int, number) read without building any error path;
 * anything else, or anything malformed, goes to readAnyValue, which says precisely what is wrong.
 * Tests the keys in readAnyValue's order, so both read the same value.
 */
function simpleAnyValue(value: unknown): AttrValue | typeof NOT_SIMPLE {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return NOT_SIMPLE;
  }
  const v = value as Record<string, unknown>;
  if (hasOwn(v, 'stringValue')) {
    return typeof v.stringValue === 'string' ? v.stringValue : NOT_SIMPLE;
  }
  if (hasOwn(v, 'boolValue')) {
    return typeof v.boolValue === 'boolean' ? v.boolValue : NOT_SIMPLE;
  }
  if (hasOwn(v, 'intValue')) {
    const n = v.intValue;
    if (typeof n === 'number' && Number.isSafeInteger(n)) {
      return n;
    }
    if (typeof n === 'string' && n.length < 16 && /^-?\d+$/.test(n)) {
      return Number(n);
    }
    if (n !== null && typeof n === 'object' && (n as { high?: unknown }).high === 0 && typeof (n as { low?: unknown }).low === 'number') {
      // A protobuf Long below 2^31.
      return (n as { low: number }).low >= 0 ? (n as { low: number }).low : NOT_SIMPLE;
    }
    return NOT_SIMPLE;
  }
  if (hasOwn(v, 'doubleValue')) {
    return typeof v.doubleValue === 'number' ? v.doubleValue : NOT_SIMPLE;
  }
  return NOT_SIMPLE;
}

export function typeName(v: unknown): string {
  if (v === null) {
    return 'null';
  }
  if (Array.isArray(v)) {
    return 'an array';
  }
  if (v instanceof Uint8Array) {
    return 'bytes';
  }
  const t = typeof v;
  return t === 'object' ? 'an object' : t === 'string' ? `the string ${JSON.stringify(v)}` : `${t === 'undefined' ? 'nothing' : t}`;
}
