/**
 * The ingest log: an append-only log of accepted OTLP batches in segment files under
 * DATA_DIR/ingest-log, so that a 2xx means the batch is on disk. Appends made while a write is
 * in flight are written together and share one fdatasync (group commit); all file work is
 * asynchronous (libuv's thread pool), so the HTTP thread only encodes and waits.
 *
 * Every record has a position: segment number × 2^24 + its index in the segment. Positions only
 * grow, so "everything before position P is settled" is one number, and segments wholly below
 * it are deleted (truncate), or handed to the history (`retire`) when it keeps recent traces. At start the log is read back (recover) and a new segment is begun;
 * a torn tail (a crash mid-write) fails its checksum and is cut off the file.
 */
import { promises as fsp } from 'fs';
import * as path from 'path';
import { BatchRecord, CorruptRecord, decodePayload, encodeRecordParts, FRAME_HEADER_BYTES, framedPayload } from './record';

/** When appended records are forced to disk before they are acknowledged. */
export type FsyncPolicy = { mode: 'always' } | { mode: 'interval'; everyMs: number } | { mode: 'off' };

/** Records per segment are counted in the low 24 bits of a position. */
const INDEX_BITS = 2 ** 24;
const SEGMENT_SUFFIX = '.wal';
const SEGMENT_NAME = /^(\d{12})\.wal$/;

export function segmentOf(position: number): number {
  return Math.floor(position / INDEX_BITS);
}

/** Test-only crash points (BETRACE_TEST_CRASH_AT): `at` says whether to crash here, `die` ends the process at once. */
export interface CrashHook {
  at(point: string): boolean;
  die(): never;
}

export interface IngestLogOptions {
  dir: string;
  fsync: FsyncPolicy;
  /** A segment is closed and a new one begun once it holds this many bytes. */
  segmentBytes: number;
  /** The log never holds more than this: appends beyond it are refused (LogFull). */
  maxBytes: number;
  crash?: CrashHook;
  /**
   * Takes a segment no longer needed instead of deleting it (the history moves it away); it must
   * leave `file` gone when it resolves. Undefined: segments are deleted.
   */
  retire?: (file: string) => Promise<void>;
  /** A segment holding records is closed at the next write once it is this old (so the history gets recent traces soon). */
  rollAfterMs?: number;
  now?: () => number;
}

/** The log holds maxBytes already: the sender should retry once evaluated traces let segments go. */
export class LogFull extends Error {}

interface Pending {
  /** The record's frame header and fields, and its body (written as they are, not copied together). */
  parts: [Buffer, Buffer];
  bytes: number;
  resolve: (position: number) => void;
  reject: (e: unknown) => void;
}

interface Segment {
  number: number;
  bytes: number;
}

function segmentPath(dir: string, n: number): string {
  return path.join(dir, `${String(n).padStart(12, '0')}${SEGMENT_SUFFIX}`);
}

export class IngestLog {
  /** Closed segments, oldest first. */
  private readonly sealed: Segment[] = [];
  private active: { number: number; bytes: number; records: number; file: fsp.FileHandle; openedAt: number } | undefined;
  private queue: Pending[] = [];
  private queuedBytes = 0;
  private busy = false;
  /** After a failed write the segment's tail is suspect: the next write starts a new segment. */
  private mustRoll = false;
  private rollRequested = false;
  private dirty = false;
  private syncTimer: NodeJS.Timeout | undefined;
  private idle: Array<() => void> = [];
  private syncCount = 0;

  private constructor(private readonly options: IngestLogOptions) {}

  /** Opens the log directory (creating it); call recover() next, then append. */
  static async open(options: IngestLogOptions): Promise<IngestLog> {
    await fsp.mkdir(options.dir, { recursive: true });
    const log = new IngestLog(options);
    for (const name of (await fsp.readdir(options.dir)).sort()) {
      const m = SEGMENT_NAME.exec(name);
      if (m) {
        log.sealed.push({ number: Number(m[1]), bytes: (await fsp.stat(path.join(options.dir, name))).size });
      }
    }
    return log;
  }

  /**
   * Reads every record back, oldest first, cutting torn tails off their files, then begins a new
   * segment. `visit` gets each batch with its position.
   */
  async recover(visit: (batch: BatchRecord, position: number) => void): Promise<{ batches: number; cutBytes: number }> {
    let batches = 0;
    let cutBytes = 0;
    for (const seg of this.sealed) {
      const file = segmentPath(this.options.dir, seg.number);
      const buf = await fsp.readFile(file);
      let offset = 0;
      let index = 0;
      for (;;) {
        const payload = framedPayload(buf, offset);
        if (payload === undefined) {
          break;
        }
        let batch: BatchRecord;
        try {
          batch = decodePayload(payload);
        } catch (e) {
          if (e instanceof CorruptRecord) {
            // The checksum held, so this is a record we cannot read (a newer version), not a torn write: stop rather than lose it.
            throw new Error(`${file}: ${e.message}; refusing to start rather than drop accepted batches`);
          }
          throw e;
        }
        visit(batch, seg.number * INDEX_BITS + index);
        batches++;
        index++;
        offset += FRAME_HEADER_BYTES + payload.length;
      }
      if (offset < buf.length) {
        cutBytes += buf.length - offset;
        await fsp.truncate(file, offset);
        seg.bytes = offset;
      }
    }
    await this.roll();
    if (this.options.fsync.mode === 'interval') {
      const every = this.options.fsync.everyMs;
      this.syncTimer = setInterval(() => this.syncSoon(), every);
      this.syncTimer.unref();
    }
    return { batches, cutBytes };
  }

  /** Bytes in all segments, including what is queued to be written. */
  get bytes(): number {
    return this.sealed.reduce((n, s) => n + s.bytes, 0) + (this.active?.bytes ?? 0) + this.queuedBytes;
  }

  /** fdatasync calls on segments so far (group commit shares one among concurrent appends). */
  get syncs(): number {
    return this.syncCount;
  }

  /** The first position any segment can hold: decisions about earlier positions are of no use. */
  get firstPosition(): number {
    return (this.sealed[0]?.number ?? this.active?.number ?? 0) * INDEX_BITS;
  }

  get segments(): number {
    return this.sealed.length + (this.active ? 1 : 0);
  }

  /** Whether a record of about `bytes` payload would fit under maxBytes now. */
  hasRoom(bytes: number): boolean {
    return this.bytes + bytes + FRAME_HEADER_BYTES <= this.options.maxBytes;
  }

  /**
   * Appends one batch; resolves with its position once it is written (and, with fsync `always`,
   * on disk). Rejects with the file system's error (ENOSPC, EIO, …) or LogFull; a rejected batch
   * is not in the log.
   */
  append(batch: BatchRecord): Promise<number> {
    const parts = encodeRecordParts(batch);
    const bytes = parts[0].length + parts[1].length;
    if (this.bytes + bytes > this.options.maxBytes) {
      return Promise.reject(new LogFull(`the ingest log holds ${this.bytes} of at most ${this.options.maxBytes} bytes`));
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ parts, bytes, resolve, reject });
      this.queuedBytes += bytes;
      this.kick();
    });
  }

  /**
   * Deletes every segment below the one holding `oldestNeeded` (all of them when nothing is
   * needed), closing the active segment first when nothing in it is needed any more. Returns
   * the number of segments deleted.
   */
  async truncate(oldestNeeded: number | undefined): Promise<number> {
    let keepFrom = oldestNeeded === undefined ? Number.POSITIVE_INFINITY : segmentOf(oldestNeeded);
    const active = this.active;
    if (active !== undefined && active.records > 0 && active.number < keepFrom && !this.busy && this.queue.length === 0) {
      // Nothing in the active segment is needed. The roll starts now, before any later append,
      // so that segment holds only records `oldestNeeded` accounted for.
      this.rollRequested = true;
      this.kick();
      keepFrom = active.number + 1;
      await this.whenIdle();
    } else if (active !== undefined) {
      // The active segment may take records `oldestNeeded` knows nothing of yet.
      keepFrom = Math.min(keepFrom, active.number);
    }
    let deleted = 0;
    while (this.sealed.length > 0 && this.sealed[0].number < keepFrom) {
      const seg = this.sealed.shift()!;
      const file = segmentPath(this.options.dir, seg.number);
      if (this.options.retire !== undefined) {
        // The history never holds the log back: a segment it could not take is deleted.
        await this.options.retire(file).catch(() => fsp.rm(file, { force: true }));
      } else {
        await fsp.rm(file, { force: true });
      }
      deleted++;
    }
    return deleted;
  }

  /** Writes out what is queued, forces it to disk and closes the active segment. */
  async close(): Promise<void> {
    if (this.syncTimer) clearInterval(this.syncTimer);
    await this.whenIdle();
    if (this.active !== undefined) {
      if (this.dirty && this.options.fsync.mode !== 'off') {
        await this.active.file.datasync().catch(() => undefined);
      }
      await this.active.file.close();
      this.sealed.push({ number: this.active.number, bytes: this.active.bytes });
      this.active = undefined;
    }
  }

  private whenIdle(): Promise<void> {
    return this.busy ? new Promise((resolve) => this.idle.push(resolve)) : Promise.resolve();
  }

  /** One writer at a time; appends that arrive meanwhile wait and go in the next group. */
  private kick(): void {
    if (this.busy) {
      return;
    }
    this.busy = true;
    void this.run();
  }

  private async run(): Promise<void> {
    try {
      for (;;) {
        if (this.rollRequested) {
          this.rollRequested = false;
          await this.roll().catch(() => {
            this.mustRoll = true; // tried again before the next write
          });
        } else if (this.queue.length > 0) {
          const group = this.queue;
          this.queue = [];
          await this.writeGroup(group);
        } else {
          break;
        }
      }
    } finally {
      this.busy = false;
      const waiting = this.idle;
      this.idle = [];
      waiting.forEach((w) => w());
    }
  }

  private async writeGroup(group: Pending[]): Promise<void> {
    const bytes = group.reduce((n, p) => n + p.bytes, 0);
    const crash = this.options.crash;
    // A crash point counts batches, not groups: "the n-th batch to reach it", whatever group
    // commit made of the load (a crash test's n must be reachable on a slow machine too).
    const reached = (point: string): CrashHook | undefined => (crash !== undefined && group.some(() => crash.at(point)) ? crash : undefined);
    try {
      const rollAfter = this.options.rollAfterMs;
      const old = rollAfter !== undefined && this.active !== undefined && this.active.records > 0 && (this.options.now ?? Date.now)() - this.active.openedAt >= rollAfter;
      if (this.mustRoll || this.active === undefined || old || this.active.bytes >= this.options.segmentBytes || this.active.records + group.length >= INDEX_BITS) {
        await this.roll();
      }
      const seg = this.active!;
      const frames = group.flatMap((p) => p.parts);
      /** The group as one buffer: made only for a crash test or a short write (a copy of every body). */
      const whole = () => Buffer.concat(frames, bytes);
      reached('log.before-write')?.die();
      const midWrite = reached('log.mid-write');
      if (midWrite !== undefined) {
        await seg.file.write(whole(), 0, Math.max(1, Math.floor(bytes / 2)), seg.bytes);
        await seg.file.datasync();
        midWrite.die();
      }
      try {
        // The frames as they are, in one writev: no copy of the bodies into one buffer.
        let written = (await seg.file.writev(frames, seg.bytes)).bytesWritten;
        if (written < bytes) {
          const all = whole();
          while (written < bytes) {
            const { bytesWritten } = await seg.file.write(all, written, bytes - written, seg.bytes + written);
            written += bytesWritten;
          }
        }
        this.dirty = true;
        reached('log.after-write')?.die();
        if (this.options.fsync.mode === 'always') {
          this.syncCount++;
          await seg.file.datasync();
          this.dirty = false;
        }
      } catch (e) {
        // Cut what may have reached the file, so a batch refused now is never recovered later,
        // and begin a new segment before the next write.
        this.mustRoll = true;
        await seg.file.truncate(seg.bytes).catch(() => undefined);
        throw e;
      }
      reached('log.after-fsync')?.die();
      const first = seg.number * INDEX_BITS + seg.records;
      seg.bytes += bytes;
      seg.records += group.length;
      this.queuedBytes -= bytes;
      group.forEach((p, i) => p.resolve(first + i));
    } catch (e) {
      this.queuedBytes -= bytes;
      group.forEach((p) => p.reject(e));
    }
  }

  /** Closes the active segment (forced to disk) and begins the next one. */
  private async roll(): Promise<void> {
    const last = Math.max(this.active?.number ?? 0, ...this.sealed.map((s) => s.number));
    const name = segmentPath(this.options.dir, last + 1);
    const file = await fsp.open(name, 'wx');
    if (this.options.fsync.mode !== 'off') {
      // The new file's name must survive a power cut too, or its records would vanish with it.
      try {
        const dir = await fsp.open(this.options.dir, 'r');
        await dir.sync().finally(() => dir.close());
      } catch (e) {
        await file.close().catch(() => undefined);
        await fsp.rm(name, { force: true }).catch(() => undefined);
        throw e;
      }
    }
    const old = this.active;
    this.active = { number: last + 1, bytes: 0, records: 0, file, openedAt: (this.options.now ?? Date.now)() };
    this.mustRoll = false;
    if (old !== undefined) {
      this.sealed.push({ number: old.number, bytes: old.bytes });
      if (this.dirty && this.options.fsync.mode !== 'off') {
        await old.file.datasync().catch(() => undefined);
      }
      this.dirty = false;
      await old.file.close().catch(() => undefined);
    }
  }

  /** fsync `interval`: forces written records to disk, between groups. */
  private syncSoon(): void {
    if (!this.dirty || this.busy || this.active === undefined) {
      return;
    }
    const file = this.active.file;
    this.busy = true;
    this.dirty = false;
    this.syncCount++;
    file
      .datasync()
      .catch(() => {
        this.dirty = true;
      })
      .finally(() => {
        this.busy = false;
        const waiting = this.idle;
        this.idle = [];
        waiting.forEach((w) => w());
        if (this.queue.length > 0 || this.rollRequested) {
          this.kick();
        }
      });
  }
}
