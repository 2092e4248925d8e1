/**
 * The ingest log's on-disk record: everything needed to re-run the accept of one OTLP batch after
 * a crash. Framing is `u32 length · u32 crc32(payload) · payload` (little-endian), so a record
 * torn by a crash mid-write fails its length or checksum and is cut, never misread.
 *
 * Payload (version 1): u8 version · f64 receivedAt · u8 protobuf? · u16+utf8 tenant ·
 * u8 count of remembered keys, each u8 kind · f64 expiresAt · u16+utf8 key · the rest: the
 * decompressed request body.
 */
import { crc32 } from 'zlib';

/** Bytes before each payload: length and checksum. */
export const FRAME_HEADER_BYTES = 8;
const VERSION = 1;
/** A record larger than this is not one we wrote (a corrupt length): reading stops there. */
export const MAX_RECORD_BYTES = 1024 ** 3;

export type SeenKind = 'idempotency' | 'signature';
const KINDS: readonly SeenKind[] = ['idempotency', 'signature'];

/** An idempotency key or accepted signature, durable together with its batch. */
export interface SeenKey {
  kind: SeenKind;
  key: string;
  expiresAt: number;
}

export interface BatchRecord {
  tenant: string;
  receivedAt: number;
  /** The body's media type: OTLP protobuf (true) or OTLP JSON. */
  protobuf: boolean;
  /** The request body after Content-Encoding was undone. */
  body: Buffer;
  remember: readonly SeenKey[];
}

export class CorruptRecord extends Error {}

/** One framed record, ready to append. */
export function encodeRecord(r: BatchRecord): Buffer {
  const [head, body] = encodeRecordParts(r);
  return Buffer.concat([head, body], head.length + body.length);
}

/**
 * One framed record as two buffers to write one after the other: the frame header and the
 * payload's fields, then the body itself (not copied: it must not change until it is written).
 */
export function encodeRecordParts(r: BatchRecord): [head: Buffer, body: Buffer] {
  const tenant = Buffer.from(r.tenant, 'utf8');
  const keys = r.remember.map((k) => ({ kind: KINDS.indexOf(k.kind), expiresAt: k.expiresAt, key: Buffer.from(k.key, 'utf8') }));
  if (tenant.length > 0xffff || keys.length > 0xff || keys.some((k) => k.key.length > 0xffff)) {
    throw new RangeError('ingest log record: tenant, key or key count too long');
  }
  const fixed = 1 + 8 + 1 + 2 + tenant.length + 1 + keys.reduce((n, k) => n + 1 + 8 + 2 + k.key.length, 0);
  const head = Buffer.allocUnsafe(FRAME_HEADER_BYTES + fixed);
  let at = FRAME_HEADER_BYTES;
  at = head.writeUInt8(VERSION, at);
  at = head.writeDoubleLE(r.receivedAt, at);
  at = head.writeUInt8(r.protobuf ? 1 : 0, at);
  at = head.writeUInt16LE(tenant.length, at);
  at += tenant.copy(head, at);
  at = head.writeUInt8(keys.length, at);
  for (const k of keys) {
    at = head.writeUInt8(k.kind, at);
    at = head.writeDoubleLE(k.expiresAt, at);
    at = head.writeUInt16LE(k.key.length, at);
    at += k.key.copy(head, at);
  }
  // The checksum of the payload (fields, then body), carried on from the fields to the body.
  head.writeUInt32LE(fixed + r.body.length, 0);
  head.writeUInt32LE(crc32(r.body, crc32(head.subarray(FRAME_HEADER_BYTES))), 4);
  return [head, r.body];
}

/**
 * The payload of the framed record at `offset`, or undefined when what is there is not a whole,
 * intact record (end of data, a torn write, a bad checksum): the reader stops and cuts there.
 */
export function framedPayload(buf: Buffer, offset: number): Buffer | undefined {
  if (offset + FRAME_HEADER_BYTES > buf.length) {
    return undefined;
  }
  const length = buf.readUInt32LE(offset);
  if (length === 0 || length > MAX_RECORD_BYTES || offset + FRAME_HEADER_BYTES + length > buf.length) {
    return undefined;
  }
  const payload = buf.subarray(offset + FRAME_HEADER_BYTES, offset + FRAME_HEADER_BYTES + length);
  return crc32(payload) === buf.readUInt32LE(offset + 4) ? payload : undefined;
}

/** A record's tenant, receive time and media type, and where its body starts: read without copying the body. */
export interface RecordHeader {
  tenant: string;
  receivedAt: number;
  protobuf: boolean;
  bodyOffset: number;
}

/**
 * The fixed part of a payload whose checksum held: version, receive time, media type, tenant and
 * the remembered keys, which are collected into `remember` when given (and only skipped otherwise:
 * history reads records of every tenant and decodes only one's bodies).
 */
function parseHeader(p: Buffer, remember?: SeenKey[]): RecordHeader {
  try {
    let at = 0;
    const version = p.readUInt8(at++);
    if (version !== VERSION) {
      throw new CorruptRecord(`unknown ingest log record version ${version}`);
    }
    const receivedAt = p.readDoubleLE(at);
    at += 8;
    const protobuf = p.readUInt8(at++) === 1;
    const tenantLength = p.readUInt16LE(at);
    at += 2;
    const tenant = p.toString('utf8', at, at + tenantLength);
    at += tenantLength;
    const count = p.readUInt8(at++);
    for (let i = 0; i < count; i++) {
      if (remember === undefined) {
        at += 1 + 8;
        at += 2 + p.readUInt16LE(at);
        continue;
      }
      const kind = KINDS[p.readUInt8(at++)];
      const expiresAt = p.readDoubleLE(at);
      at += 8;
      const keyLength = p.readUInt16LE(at);
      at += 2;
      if (kind === undefined || at + keyLength > p.length) {
        throw new CorruptRecord('bad remembered key in ingest log record');
      }
      remember.push({ kind, expiresAt, key: p.toString('utf8', at, at + keyLength) });
      at += keyLength;
    }
    if (at > p.length) {
      throw new CorruptRecord('ingest log record shorter than its header');
    }
    return { tenant, receivedAt, protobuf, bodyOffset: at };
  } catch (e) {
    if (e instanceof RangeError) {
      throw new CorruptRecord(`ingest log record shorter than its header: ${e.message}`);
    }
    throw e;
  }
}

/** The header of a payload whose checksum held, without reading its remembered keys or body. */
export function readHeader(p: Buffer): RecordHeader {
  return parseHeader(p);
}

/** Decodes a payload whose checksum held; a CorruptRecord means a version or layout we cannot read. */
export function decodePayload(p: Buffer): BatchRecord {
  const remember: SeenKey[] = [];
  const { tenant, receivedAt, protobuf, bodyOffset } = parseHeader(p, remember);
  return { tenant, receivedAt, protobuf, body: Buffer.from(p.subarray(bodyOffset)), remember };
}
