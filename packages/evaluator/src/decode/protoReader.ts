/**
 * A cursor over protobuf wire bytes that accepts and refuses exactly what protobufjs 7's
 * BufferReader and generated decoders do (the receiver decoded with protobufjs before; the
 * property tests in packages/sidecar/test/decodeProto.property.test.ts hold the two together):
 * one position, the end of the message being read as the limit, varints read as protobufjs reads
 * them (a 32-bit varint may be 10 bytes long, its last 5 unread), strings clipped at the end of
 * their message, unknown fields skipped by wire type, groups included. No Node or DOM globals.
 */
import { DecodeError, MAX_ATTRIBUTE_DEPTH, PathRef } from './wire';

/** Nesting of protobuf messages (and groups) deeper than this is refused: protoc's and protobufjs' default. */
export const MAX_PROTOBUF_NESTING = 100;

/** The bytes are not a well-formed protobuf message (as opposed to well-formed but invalid OTLP). */
export class ProtobufError extends DecodeError {
  constructor(path: PathRef, detail: string) {
    super(path, detail);
    this.name = 'ProtobufError';
  }
}

interface Utf8Decoder {
  decode(bytes: Uint8Array): string;
}
// TextDecoder is in every browser and in Node, but not in the ES lib this package compiles against.
const utf8Decoder = new (globalThis as unknown as { TextDecoder: new () => Utf8Decoder }).TextDecoder();

/** UTF-8 → string; invalid sequences become U+FFFD, as with Buffer#toString (protobufjs). */
export function utf8(buf: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if (n === 0) {
    return '';
  }
  if (n <= 24) {
    // Short ASCII (keys, names, most values): cheaper in JS than a call into TextDecoder.
    let s = '';
    for (let i = start; i < end; i++) {
      const c = buf[i];
      if (c >= 128) {
        return utf8Decoder.decode(buf.subarray(start, end));
      }
      s += String.fromCharCode(c);
    }
    return s;
  }
  return utf8Decoder.decode(buf.subarray(start, end));
}

/** Strings up to this many bytes are looked up in a reader's string table before they are decoded. */
const SHORT_STRING = 32;
const TABLE_SIZE = 1024;

/**
 * The strings of one body, by their bytes: attribute keys, span names and many values repeat
 * across spans, and a string found here costs neither a decode nor, as a property key, a lookup
 * in V8's string table. Slots point into the body, so the table holds no copies.
 */
class StringTable {
  private readonly at = new Int32Array(TABLE_SIZE).fill(-1);
  private readonly length = new Int32Array(TABLE_SIZE);
  private readonly strings = new Array<string>(TABLE_SIZE).fill('');
  buf: Uint8Array = new Uint8Array(0);

  /** Points the table at another body: its slots are emptied (they point into the body they came from). */
  reset(buf: Uint8Array): void {
    this.buf = buf;
    this.at.fill(-1);
  }

  get(start: number, end: number): string {
    const buf = this.buf;
    const n = end - start;
    // A few bytes stand for the whole (a slot is compared in full before it is used): the first,
    // the middle and the last two, where keys, names and ids differ.
    let h = Math.imul(n ^ buf[start], 0x01000193);
    h = Math.imul(h ^ buf[start + (n >> 1)], 0x01000193);
    h = Math.imul(h ^ buf[end - 1], 0x01000193);
    h = Math.imul(h ^ buf[end - 2 < start ? start : end - 2], 0x01000193);
    const slot = (h ^ (h >>> 15)) & (TABLE_SIZE - 1);
    const at = this.at[slot];
    if (at >= 0 && this.length[slot] === n) {
      let same = true;
      for (let i = 0; i < n; i++) {
        if (buf[at + i] !== buf[start + i]) {
          same = false;
          break;
        }
      }
      if (same) {
        return this.strings[slot];
      }
    }
    const s = utf8(buf, start, end);
    this.at[slot] = start;
    this.length[slot] = n;
    this.strings[slot] = s;
    return s;
  }
}

/**
 * One table for every reader of this thread: a table per reader cost its allocation per request
 * (and, for spans held as bytes and built at evaluation, per trace). A reader of another body
 * empties it first; readers never run at once on one thread.
 */
let sharedTable: StringTable | undefined;

/** Thrown by the cursor without a path; the decoders add where they were (see ProtobufError). */
export class WireError extends Error {}

export class ProtoReader {
  pos = 0;
  /** The end of the message being read (protobufjs' `len`). */
  len: number;
  /** The two 32-bit halves of the last int64 or fixed64 read (unsigned). */
  lo = 0;
  hi = 0;
  private view: DataView | undefined;

  constructor(readonly buf: Uint8Array) {
    this.len = buf.length;
  }

  eof(what: string): WireError {
    return new WireError(`${what} at byte ${this.pos} runs past the end of its message (byte ${this.len})`);
  }

  uint32(): number {
    const buf = this.buf;
    let pos = this.pos;
    if (this.len - pos < 5) {
      if (pos >= this.len) {
        throw this.eof('a varint');
      }
      if (buf[pos] >= 128) {
        return this.uint32NearEnd();
      }
    }
    let b = buf[pos++];
    let v = b & 127;
    if (b < 128) {
      this.pos = pos;
      return v;
    }
    b = buf[pos++];
    v |= (b & 127) << 7;
    if (b < 128) {
      this.pos = pos;
      return v;
    }
    b = buf[pos++];
    v |= (b & 127) << 14;
    if (b < 128) {
      this.pos = pos;
      return v;
    }
    b = buf[pos++];
    v |= (b & 127) << 21;
    if (b < 128) {
      this.pos = pos;
      return v;
    }
    b = buf[pos++];
    v = (v | ((b & 15) << 28)) >>> 0;
    if (b < 128) {
      this.pos = pos;
      return v;
    }
    // A 64-bit varint where 32 bits were expected: the rest is skipped unread, as protobufjs does.
    if (pos + 5 > this.len) {
      this.pos = this.len;
      throw new WireError(`a 10-byte varint runs past the end of its message (byte ${this.len})`);
    }
    this.pos = pos + 5;
    return v;
  }

  private uint32NearEnd(): number {
    let v = 0;
    for (let i = 0; i < 4; i++) {
      if (this.pos >= this.len) {
        throw this.eof('a varint');
      }
      const b = this.buf[this.pos++];
      v = (v | ((b & 127) << (i * 7))) >>> 0;
      if (b < 128) {
        return v;
      }
    }
    throw this.eof('a varint');
  }

  /** A varint of up to 64 bits into lo/hi (protobufjs' readLongVarint, near-end quirks included). */
  int64(): void {
    const buf = this.buf;
    let lo = 0;
    let hi = 0;
    let b = 0;
    let i = 0;
    if (this.len - this.pos > 4) {
      for (; i < 4; i++) {
        b = buf[this.pos++];
        lo = (lo | ((b & 127) << (i * 7))) >>> 0;
        if (b < 128) {
          this.lo = lo;
          this.hi = 0;
          return;
        }
      }
      b = buf[this.pos++];
      lo = (lo | ((b & 127) << 28)) >>> 0;
      hi = ((b & 127) >> 4) >>> 0;
      if (b < 128) {
        this.lo = lo;
        this.hi = hi;
        return;
      }
    } else {
      for (; i < 3; i++) {
        if (this.pos >= this.len) {
          throw this.eof('a varint');
        }
        b = buf[this.pos++];
        lo = (lo | ((b & 127) << (i * 7))) >>> 0;
        if (b < 128) {
          this.lo = lo;
          this.hi = 0;
          return;
        }
      }
      // protobufjs takes a fourth byte here whatever it is; with none left, its decoder fails
      // when the message does not end where it should.
      if (this.pos >= this.len) {
        throw this.eof('a varint');
      }
      b = buf[this.pos++];
      this.lo = (lo | ((b & 127) << 21)) >>> 0;
      this.hi = 0;
      return;
    }
    const fast = this.len - this.pos > 4;
    for (i = 0; i < 5; i++) {
      if (!fast && this.pos >= this.len) {
        throw this.eof('a varint');
      }
      b = buf[this.pos++];
      hi = (hi | ((b & 127) << (i * 7 + 3))) >>> 0;
      if (b < 128) {
        this.lo = lo;
        this.hi = hi;
        return;
      }
    }
    throw new WireError(`invalid varint encoding before byte ${this.pos}`);
  }

  /** Position of a fixed64 (read with fixed64Hi/Lo or bigUint64), after checking it is there. */
  fixed64(): number {
    const at = this.pos;
    if (at + 8 > this.len) {
      throw this.eof('a fixed64');
    }
    this.pos = at + 8;
    return at;
  }

  fixed32(): number {
    const at = this.pos;
    if (at + 4 > this.len) {
      throw this.eof('a fixed32');
    }
    this.pos = at + 4;
    return at;
  }

  double(): number {
    return this.dataView().getFloat64(this.fixed64(), true);
  }

  bigUint64(at: number): bigint {
    return this.dataView().getBigUint64(at, true);
  }

  /** A bytes field: returns its start; it ends at `pos`. */
  bytes(): number {
    const length = this.uint32();
    const start = this.pos;
    if (start + length > this.len) {
      throw new WireError(`${length} bytes at byte ${start} run past the end of their message (byte ${this.len})`);
    }
    this.pos = start + length;
    return start;
  }

  /** A string field: returns its start; it ends at `pos`. Clipped at the end of its message, as protobufjs' BufferReader does. */
  string(): number {
    const length = this.uint32();
    const start = this.pos;
    this.pos = Math.min(start + length, this.len);
    return start;
  }

  /** Enters a length-delimited message at nesting `depth`; returns the limit to restore with leave(). */
  enter(depth: number): number {
    if (depth > MAX_PROTOBUF_NESTING) {
      throw new WireError(`messages nest deeper than ${MAX_PROTOBUF_NESTING} levels (attribute values may nest at most ${MAX_ATTRIBUTE_DEPTH})`);
    }
    const length = this.uint32();
    const end = this.pos + length;
    if (end > this.len) {
      throw new WireError(`a message of ${length} bytes at byte ${this.pos} runs past the end of its parent (byte ${this.len})`);
    }
    const outer = this.len;
    this.len = end;
    return outer;
  }

  leave(outer: number): void {
    if (this.pos !== this.len) {
      throw new WireError(`a message does not end at its declared length (byte ${this.len}; its last field ends at byte ${this.pos})`);
    }
    this.len = outer;
  }

  /** Skips a field of an unknown number (protobufjs' skipType). */
  skip(wireType: number, depth: number): void {
    if (depth > MAX_PROTOBUF_NESTING) {
      throw new WireError(`groups nest deeper than ${MAX_PROTOBUF_NESTING} levels`);
    }
    switch (wireType) {
      case 0:
        do {
          if (this.pos >= this.len) {
            throw this.eof('a varint');
          }
        } while (this.buf[this.pos++] & 128);
        return;
      case 1:
        this.fixed64();
        return;
      case 2: {
        const length = this.uint32();
        if (this.pos + length > this.len) {
          throw new WireError(`${length} bytes at byte ${this.pos} run past the end of their message (byte ${this.len})`);
        }
        this.pos += length;
        return;
      }
      case 3: {
        let inner: number;
        while ((inner = this.uint32() & 7) !== 4) {
          this.skip(inner, depth + 1);
        }
        return;
      }
      case 5:
        this.fixed32();
        return;
      default:
        throw new WireError(`invalid wire type ${wireType} at byte ${this.pos}`);
    }
  }

  /** The UTF-8 text in [start, end). */
  text(start: number, end: number): string {
    if (end - start > SHORT_STRING || end === start) {
      return end === start ? '' : utf8(this.buf, start, end);
    }
    const table = (sharedTable ??= new StringTable());
    if (table.buf !== this.buf) {
      table.reset(this.buf);
    }
    return table.get(start, end);
  }

  private dataView(): DataView {
    if (this.view === undefined) {
      this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    }
    return this.view;
  }
}
