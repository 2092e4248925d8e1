/**
 * The history's files in DATA_DIR/history: segments the ingest log let go, moved here whole
 * (`<seq>.wal`, pending), then compressed with brotli off the HTTP thread (`<seq>.seg.br`) with a
 * small index beside each (`<seq>.json`: first and last receive time, tenants, records, bytes),
 * so a reader skips segments outside a time range or without its tenant without decompressing.
 *
 * Crash safety: the index is written (temporary name, then rename) before the compressed file is
 * renamed into place, and the pending segment is deleted last. At start, a pending segment is
 * compressed again; a compressed segment without its index gets it rebuilt; temporary files and
 * an index without its segment are deleted.
 */
import { promises as fsp } from 'fs';
import * as path from 'path';
import { promisify } from 'util';
import * as zlib from 'zlib';
import { FRAME_HEADER_BYTES, framedPayload, readHeader } from '../ingest/log/record';

/** Brotli quality 5: measured on 16MiB segments of shop traces, 21× smaller at ~50MiB/s (docs/history.md). */
export const BROTLI_QUALITY = 5;
const brotli = promisify(zlib.brotliCompress);
const unbrotli = promisify(zlib.brotliDecompress);

/** What the index says about one segment. */
export interface SegmentIndex {
  /** The history's own sequence number: segments are kept in the order the log let them go (oldest first). */
  seq: number;
  /** Earliest and latest receive time of its records (epoch ms); 0 for a segment without records. */
  firstReceivedAt: number;
  lastReceivedAt: number;
  /** Tenants with at least one record in it, sorted. */
  tenants: string[];
  records: number;
  /** Bytes of the segment as the log wrote it, and of its compressed file. */
  rawBytes: number;
  bytes: number;
}

/** A segment in the history: compressed with its index, or pending (moved in, not yet compressed). */
export type HistorySegment = { state: 'compressed'; index: SegmentIndex } | { state: 'pending'; seq: number; rawBytes: number };

const PENDING = /^(\d{12})\.wal$/;
const COMPRESSED = /^(\d{12})\.seg\.br$/;
const INDEX = /^(\d{12})\.json$/;

export function fileName(seq: number, kind: 'pending' | 'compressed' | 'index'): string {
  const n = String(seq).padStart(12, '0');
  return kind === 'pending' ? `${n}.wal` : kind === 'compressed' ? `${n}.seg.br` : `${n}.json`;
}

/**
 * The index of a raw segment: walks its frames by their lengths and reads each header, without
 * decoding bodies or checking checksums (it runs on the event loop; the log checked them when it
 * read the segment back, and a reader checks them again on every record it decodes).
 */
export function indexOf(seq: number, raw: Buffer, bytes: number): SegmentIndex {
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  const tenants = new Set<string>();
  let records = 0;
  for (let offset = 0; offset + FRAME_HEADER_BYTES <= raw.length; ) {
    const length = raw.readUInt32LE(offset);
    if (length === 0 || offset + FRAME_HEADER_BYTES + length > raw.length) {
      break;
    }
    const payload = raw.subarray(offset + FRAME_HEADER_BYTES, offset + FRAME_HEADER_BYTES + length);
    let h;
    try {
      h = readHeader(payload);
    } catch {
      break;
    }
    first = Math.min(first, h.receivedAt);
    last = Math.max(last, h.receivedAt);
    tenants.add(h.tenant);
    records++;
    offset += FRAME_HEADER_BYTES + payload.length;
  }
  return { seq, firstReceivedAt: records > 0 ? first : 0, lastReceivedAt: records > 0 ? last : 0, tenants: [...tenants].sort(), records, rawBytes: raw.length, bytes };
}

/** The records of a raw segment, in the order they were written. */
export function* records(raw: Buffer): Generator<{ payload: Buffer; tenant: string; receivedAt: number; protobuf: boolean; bodyOffset: number }> {
  for (let offset = 0; ; ) {
    const payload = framedPayload(raw, offset);
    if (payload === undefined) {
      return;
    }
    yield { payload, ...readHeader(payload) };
    offset += FRAME_HEADER_BYTES + payload.length;
  }
}

async function writeDurably(file: string, data: Buffer | string): Promise<void> {
  const tmp = `${file}.tmp`;
  const fh = await fsp.open(tmp, 'w');
  try {
    await fh.writeFile(data);
    await fh.datasync();
  } finally {
    await fh.close();
  }
  await fsp.rename(tmp, file);
}

export class HistoryFiles {
  constructor(readonly dir: string) {}

  /** What is on disk, oldest first; repairs what a crash left half done (see the file's comment). */
  async scan(): Promise<HistorySegment[]> {
    await fsp.mkdir(this.dir, { recursive: true });
    const names = await fsp.readdir(this.dir);
    const pending = new Set<number>();
    const compressed = new Set<number>();
    const indexes = new Set<number>();
    for (const name of names) {
      let m: RegExpExecArray | null;
      if (name.endsWith('.tmp')) {
        await fsp.rm(path.join(this.dir, name), { force: true });
      } else if ((m = PENDING.exec(name))) {
        pending.add(Number(m[1]));
      } else if ((m = COMPRESSED.exec(name))) {
        compressed.add(Number(m[1]));
      } else if ((m = INDEX.exec(name))) {
        indexes.add(Number(m[1]));
      }
    }
    const out: HistorySegment[] = [];
    for (const seq of [...new Set([...pending, ...compressed, ...indexes])].sort((a, b) => a - b)) {
      if (pending.has(seq)) {
        // Compressed again from the original: whatever was made of it before the crash goes.
        await fsp.rm(path.join(this.dir, fileName(seq, 'compressed')), { force: true });
        await fsp.rm(path.join(this.dir, fileName(seq, 'index')), { force: true });
        out.push({ state: 'pending', seq, rawBytes: (await fsp.stat(path.join(this.dir, fileName(seq, 'pending')))).size });
      } else if (compressed.has(seq)) {
        let index: SegmentIndex | undefined;
        if (indexes.has(seq)) {
          try {
            index = JSON.parse(await fsp.readFile(path.join(this.dir, fileName(seq, 'index')), 'utf8')) as SegmentIndex;
          } catch {
            index = undefined;
          }
        }
        if (index === undefined || index.seq !== seq) {
          const raw = await this.read({ state: 'compressed', index: { seq, firstReceivedAt: 0, lastReceivedAt: 0, tenants: [], records: 0, rawBytes: 0, bytes: 0 } }).catch(() => undefined);
          if (raw === undefined) {
            await this.remove(seq); // unreadable: nothing of it can be served
            continue;
          }
          index = indexOf(seq, raw, (await fsp.stat(path.join(this.dir, fileName(seq, 'compressed')))).size);
          await writeDurably(path.join(this.dir, fileName(seq, 'index')), JSON.stringify(index));
        }
        out.push({ state: 'compressed', index });
      } else {
        await fsp.rm(path.join(this.dir, fileName(seq, 'index')), { force: true });
      }
    }
    return out;
  }

  /**
   * Moves a segment the log let go into the history as `seq`, pending. Same file system: a
   * rename (nothing is copied); otherwise a copy, then the original is deleted.
   */
  async adopt(file: string, seq: number): Promise<number> {
    const target = path.join(this.dir, fileName(seq, 'pending'));
    try {
      await fsp.rename(file, target);
    } catch (e) {
      if ((e as { code?: string }).code !== 'EXDEV') {
        throw e;
      }
      await fsp.copyFile(file, `${target}.tmp`);
      await fsp.rename(`${target}.tmp`, target);
      await fsp.rm(file, { force: true });
    }
    return (await fsp.stat(target)).size;
  }

  /** Compresses a pending segment and writes its index; the pending file is deleted last. */
  async compress(seq: number): Promise<SegmentIndex> {
    const pendingFile = path.join(this.dir, fileName(seq, 'pending'));
    const raw = await fsp.readFile(pendingFile);
    // zlib's asynchronous API runs on libuv's thread pool, in chunks: the event loop stays free.
    const packed = await brotli(raw, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: raw.length } });
    const index = indexOf(seq, raw, packed.length);
    const target = path.join(this.dir, fileName(seq, 'compressed'));
    const tmp = `${target}.tmp`;
    const fh = await fsp.open(tmp, 'w');
    try {
      await fh.writeFile(packed);
      await fh.datasync();
    } finally {
      await fh.close();
    }
    await writeDurably(path.join(this.dir, fileName(seq, 'index')), JSON.stringify(index));
    await fsp.rename(tmp, target);
    await fsp.rm(pendingFile, { force: true });
    return index;
  }

  /** A segment's raw bytes (decompressed); rejects with ENOENT when it is gone. */
  async read(segment: HistorySegment): Promise<Buffer> {
    if (segment.state === 'pending') {
      return fsp.readFile(path.join(this.dir, fileName(segment.seq, 'pending')));
    }
    const packed = await fsp.readFile(path.join(this.dir, fileName(segment.index.seq, 'compressed')));
    // A segment is at most what the log writes in one (plus one record): refuse to inflate a damaged file without bound.
    return unbrotli(packed, { maxOutputLength: segment.index.rawBytes > 0 ? segment.index.rawBytes : 4 * 1024 ** 3 });
  }

  /** Deletes every file of a segment. */
  async remove(seq: number): Promise<void> {
    for (const kind of ['compressed', 'index', 'pending'] as const) {
      await fsp.rm(path.join(this.dir, fileName(seq, kind)), { force: true });
    }
  }
}
