/**
 * The ingest log on its own: records come back as written, a torn or corrupt tail is cut and
 * never misread, concurrent appends share fsyncs, segments roll and are deleted below the oldest
 * position still needed, and the bound is kept.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { IngestLog, IngestLogOptions, LogFull, segmentOf } from '../src/ingest/log/log';
import { BatchRecord, decodePayload, encodeRecord, FRAME_HEADER_BYTES, framedPayload } from '../src/ingest/log/record';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function options(extra: Partial<IngestLogOptions> = {}): IngestLogOptions {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-log-'));
  dirs.push(dir);
  return { dir, fsync: { mode: 'always' }, segmentBytes: 1024 * 1024, maxBytes: 64 * 1024 * 1024, ...extra };
}

function batch(i: number, bytes = 100): BatchRecord {
  return {
    tenant: i % 2 === 0 ? 'default' : 'tenant-ü',
    receivedAt: 1_764_028_800_000 + i,
    protobuf: i % 3 === 0,
    body: Buffer.alloc(bytes, i % 256),
    remember: i % 4 === 0 ? [{ kind: 'idempotency', key: `key-${i}`, expiresAt: 1_764_115_200_000 }, { kind: 'signature', key: `sha256=${'a'.repeat(64)}`, expiresAt: 1_764_029_100_000 }] : [],
  };
}

async function readBack(o: IngestLogOptions): Promise<{ log: IngestLog; got: Array<{ batch: BatchRecord; position: number }>; cutBytes: number }> {
  const log = await IngestLog.open(o);
  const got: Array<{ batch: BatchRecord; position: number }> = [];
  const { cutBytes } = await log.recover((b, position) => got.push({ batch: b, position }));
  return { log, got, cutBytes };
}

function segmentFiles(dir: string): string[] {
  return fs.readdirSync(dir).filter((f) => f.endsWith('.wal')).sort();
}

describe('ingest log records', () => {
  it('decode to what was encoded', () => {
    for (let i = 0; i < 8; i++) {
      const frame = encodeRecord(batch(i, i * 10));
      const payload = framedPayload(frame, 0)!;
      expect(payload).toBeDefined();
      expect(decodePayload(payload)).toEqual(batch(i, i * 10));
    }
  });

  it('are refused when any byte is changed or missing', () => {
    const frame = encodeRecord(batch(4));
    for (let at = 0; at < frame.length; at += 7) {
      const bad = Buffer.from(frame);
      bad[at] ^= 0x5a;
      expect(framedPayload(bad, 0)).toBeUndefined();
    }
    expect(framedPayload(frame.subarray(0, frame.length - 1), 0)).toBeUndefined();
    expect(framedPayload(frame.subarray(0, FRAME_HEADER_BYTES - 1), 0)).toBeUndefined();
  });
});

describe('the ingest log', () => {
  it('reads back every appended batch, in order, with increasing positions, after a restart', async () => {
    const o = options();
    const log = await IngestLog.open(o);
    await log.recover(() => undefined);
    const positions = await Promise.all(Array.from({ length: 50 }, (_, i) => log.append(batch(i))));
    await log.close();
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    const { got, cutBytes, log: again } = await readBack(o);
    expect(cutBytes).toBe(0);
    expect(got.map((g) => g.batch)).toEqual(Array.from({ length: 50 }, (_, i) => batch(i)));
    expect(got.map((g) => g.position)).toEqual(positions);
    await again.close();
  });

  it('shares one fsync among appends that arrive while a write is in flight (group commit)', async () => {
    const log = await IngestLog.open(options());
    await log.recover(() => undefined);
    await Promise.all(Array.from({ length: 200 }, (_, i) => log.append(batch(i))));
    expect(log.syncs).toBeGreaterThan(0);
    expect(log.syncs).toBeLessThan(50);
    await log.close();
  });

  it('forces nothing to disk with fsync off, and still reads back what was written', async () => {
    const o = options({ fsync: { mode: 'off' } });
    const log = await IngestLog.open(o);
    await log.recover(() => undefined);
    await Promise.all(Array.from({ length: 20 }, (_, i) => log.append(batch(i))));
    expect(log.syncs).toBe(0);
    await log.close();
    const again = await readBack(o);
    expect(again.got).toHaveLength(20);
    await again.log.close();
  });

  it('cuts a torn tail (a crash mid-write) off the segment and reads every whole record before it', async () => {
    const o = options();
    const log = await IngestLog.open(o);
    await log.recover(() => undefined);
    for (let i = 0; i < 5; i++) {
      await log.append(batch(i));
    }
    await log.close();
    const [file] = segmentFiles(o.dir).slice(-1).map((f) => path.join(o.dir, f));
    const whole = fs.statSync(file).size;
    const torn = encodeRecord(batch(99)).subarray(0, 40);
    fs.appendFileSync(file, torn);
    const first = await readBack(o);
    expect(first.got.map((g) => g.batch)).toEqual([0, 1, 2, 3, 4].map((i) => batch(i)));
    expect(first.cutBytes).toBe(torn.length);
    expect(fs.statSync(file).size).toBe(whole);
    // The next start finds nothing torn: the cut is on disk, and new appends go to a new segment.
    await first.log.append(batch(5));
    await first.log.close();
    const second = await readBack(o);
    expect(second.cutBytes).toBe(0);
    expect(second.got.map((g) => g.batch)).toEqual([0, 1, 2, 3, 4, 5].map((i) => batch(i)));
    await second.log.close();
  });

  it('stops at a record whose checksum fails instead of misreading it or what follows', async () => {
    const o = options();
    const log = await IngestLog.open(o);
    await log.recover(() => undefined);
    for (let i = 0; i < 4; i++) {
      await log.append(batch(i));
    }
    await log.close();
    const file = path.join(o.dir, segmentFiles(o.dir).slice(-1)[0]);
    const buf = fs.readFileSync(file);
    const third = encodeRecord(batch(0)).length + encodeRecord(batch(1)).length;
    buf[third + FRAME_HEADER_BYTES + 20] ^= 0xff;
    fs.writeFileSync(file, buf);
    const { got, cutBytes, log: again } = await readBack(o);
    expect(got.map((g) => g.batch)).toEqual([batch(0), batch(1)]);
    expect(cutBytes).toBe(buf.length - third);
    await again.close();
  });

  it('rolls segments and deletes those wholly below the oldest position still needed', async () => {
    const o = options({ segmentBytes: 4096, maxBytes: 1024 * 1024 });
    const log = await IngestLog.open(o);
    await log.recover(() => undefined);
    const positions: number[] = [];
    for (let i = 0; i < 40; i++) {
      positions.push(await log.append(batch(i, 1000)));
    }
    const segments = new Set(positions.map(segmentOf));
    expect(segments.size).toBeGreaterThan(5);
    expect(log.segments).toBe(segments.size);
    const needed = positions[20];
    const before = log.bytes;
    expect(await log.truncate(needed)).toBe([...segments].filter((s) => s < segmentOf(needed)).length);
    expect(log.bytes).toBeLessThan(before);
    await log.close();
    const { got, log: again } = await readBack(o);
    expect(got[0].position).toBeLessThanOrEqual(needed);
    expect(got.map((g) => g.position)).toContain(needed);
    expect(got.map((g) => g.position)).toEqual(positions.filter((p) => segmentOf(p) >= segmentOf(needed)));
    // Nothing needed: everything goes, the segment in use included (a fresh one takes its place).
    await again.append(batch(100));
    await new Promise((r) => setImmediate(r)); // the writer goes idle: a busy log keeps its active segment
    await again.truncate(undefined);
    expect(again.segments).toBe(1);
    expect(again.bytes).toBe(0);
    await again.close();
    const last = await readBack(o);
    expect(last.got).toHaveLength(0);
    await last.log.close();
  });

  it('refuses appends past its bound with LogFull, and takes them again once segments are deleted', async () => {
    const o = options({ segmentBytes: 2048, maxBytes: 8192 });
    const log = await IngestLog.open(o);
    await log.recover(() => undefined);
    let full: unknown;
    for (let i = 0; i < 20 && full === undefined; i++) {
      await log.append(batch(i, 900)).catch((e: unknown) => (full = e));
    }
    expect(full).toBeInstanceOf(LogFull);
    expect(log.bytes).toBeLessThanOrEqual(8192);
    expect(log.hasRoom(900)).toBe(false);
    await log.truncate(undefined);
    expect(log.hasRoom(900)).toBe(true);
    await expect(log.append(batch(0, 900))).resolves.toEqual(expect.any(Number));
    await log.close();
  });
});
