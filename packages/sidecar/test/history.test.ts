/**
 * The history on real files: the ingest log hands it the segments it lets go, which are kept,
 * compressed and indexed; eviction by age and by bytes is counted; a restart (and a crash half
 * way through a compression) keeps what it holds; the reader hands out one tenant's traces in a
 * time range, whole across segments, from OTLP/JSON and protobuf records, redacted unless asked not to.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import * as zlib from 'zlib';
import pino from 'pino';
import { Registry } from 'prom-client';
import type { Trace } from '@betrace/evaluator';
import { History, HistoryOptions } from '../src/history';
import { fileName } from '../src/history/files';
import { IngestLog } from '../src/ingest/log/log';
import { BatchRecord } from '../src/ingest/log/record';
import { Redactor } from '../src/redact';
import { DEFAULT_REDACTION } from '../src/tenants';
import { jsonBody, protobufBody, shopTrace, spanIdOf, TestSpan, traceIdOf } from './support/historyTraces';

const T0 = 1_764_028_800_000;
const MINUTE = 60_000;
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

interface Rig {
  root: string;
  log: IngestLog;
  history: History;
  registry: Registry;
  clock: { now: number };
  append(tenant: string, receivedAt: number, spans: readonly TestSpan[], protobuf?: boolean): Promise<number>;
  /** Closes the active segment and hands every segment to the history (nothing is needed any more). */
  retireAll(): Promise<void>;
}

async function rig(extra: Partial<HistoryOptions> = {}, root = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-history-'))): Promise<Rig> {
  if (!dirs.includes(root)) dirs.push(root);
  const clock = { now: T0 };
  const registry = new Registry();
  const history = new History({
    dir: path.join(root, 'history'),
    maxBytes: 64 * 1024 * 1024,
    maxAgeMs: 24 * 60 * MINUTE,
    traceWindowMs: MINUTE,
    registry,
    log: pino({ level: 'silent' }),
    now: () => clock.now,
    redactorOf: () => new Redactor(DEFAULT_REDACTION, 'k'.repeat(64)),
    ...extra,
  });
  await history.open();
  const log = await IngestLog.open({ dir: path.join(root, 'ingest-log'), fsync: { mode: 'off' }, segmentBytes: 1024 * 1024, maxBytes: 256 * 1024 * 1024, retire: (f) => history.retire(f) });
  await log.recover(() => undefined);
  return {
    root,
    log,
    history,
    registry,
    clock,
    append: (tenant, receivedAt, spans, protobuf = false) => {
      const batch: BatchRecord = { tenant, receivedAt, protobuf, body: protobuf ? protobufBody(spans) : jsonBody(spans), remember: [] };
      return log.append(batch);
    },
    retireAll: async () => {
      await new Promise((resolve) => setImmediate(resolve)); // the log's writer is idle once its last append's turn is over
      await log.truncate(undefined);
      await history.settled();
    },
  };
}

async function all(source: () => AsyncIterable<Trace>): Promise<Trace[]> {
  const out: Trace[] = [];
  for await (const t of source()) out.push(t);
  return out;
}

const ids = (traces: readonly Trace[]) => traces.map((t) => t.traceId).sort();

async function metric(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = registry.getSingleMetric(name);
  if (!m) return Number.NaN;
  const { values } = await m.get();
  return values.filter((v) => Object.entries(labels).every(([k, x]) => (v.labels as Record<string, unknown>)[k] === x)).reduce((n, v) => n + v.value, 0);
}

const files = (dir: string) => fs.readdirSync(dir).sort();

describe('history: keeping what the ingest log lets go', () => {
  it('moves a retired segment into the history, compresses it and indexes it, leaving the log its active segment', async () => {
    const r = await rig();
    for (let i = 0; i < 30; i++) {
      await r.append(i % 3 === 0 ? 'b' : 'a', T0 + i * 1000, shopTrace(traceIdOf('aa', i), T0 + i * 1000), i % 2 === 0);
    }
    const segmentFile = path.join(r.root, 'ingest-log', '000000000001.wal');
    const original = fs.readFileSync(segmentFile);
    await r.retireAll();
    expect(files(path.join(r.root, 'ingest-log'))).toEqual(['000000000002.wal']);
    expect(files(path.join(r.root, 'history'))).toEqual(['000000000001.json', '000000000001.seg.br']);
    const [segment] = r.history.list();
    expect(segment.state).toBe('compressed');
    const index = segment.state === 'compressed' ? segment.index : undefined;
    const packed = fs.readFileSync(path.join(r.root, 'history', '000000000001.seg.br'));
    expect(index).toEqual({ seq: 1, firstReceivedAt: T0, lastReceivedAt: T0 + 29_000, tenants: ['a', 'b'], records: 30, rawBytes: original.length, bytes: packed.length });
    expect(JSON.parse(fs.readFileSync(path.join(r.root, 'history', '000000000001.json'), 'utf8'))).toEqual(index);
    // Brotli, byte for byte the segment the log wrote, and smaller.
    expect((await promisify(zlib.brotliDecompress)(packed)).equals(original)).toBe(true);
    expect(packed.length).toBeLessThan(original.length / 2);
    expect(await metric(r.registry, 'betrace_history_segments')).toBe(1);
    expect(await metric(r.registry, 'betrace_history_bytes')).toBe(packed.length);
    expect(r.history.describe()).toMatchObject({ bytes: packed.length, segments: 1, pendingSegments: 0, oldest: T0, newest: T0 + 29_000 });
    await r.log.close();
  });

  it('without a history the log deletes retired segments, as before', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-history-'));
    dirs.push(root);
    const log = await IngestLog.open({ dir: path.join(root, 'ingest-log'), fsync: { mode: 'off' }, segmentBytes: 1024 * 1024, maxBytes: 256 * 1024 * 1024 });
    await log.recover(() => undefined);
    await log.append({ tenant: 'a', receivedAt: T0, protobuf: false, body: jsonBody(shopTrace(traceIdOf('ab', 1), T0)), remember: [] });
    await new Promise((resolve) => setImmediate(resolve));
    await log.truncate(undefined);
    expect(files(path.join(root, 'ingest-log'))).toEqual(['000000000002.wal']);
    expect(fs.existsSync(path.join(root, 'history'))).toBe(false);
    await log.close();
  });

  it('closes a segment that holds records once it is rollAfterMs old, so that the history gets it while traffic goes on', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-history-'));
    dirs.push(root);
    const clock = { now: T0 };
    const log = await IngestLog.open({ dir: root, fsync: { mode: 'off' }, segmentBytes: 1024 * 1024, maxBytes: 256 * 1024 * 1024, rollAfterMs: MINUTE, now: () => clock.now });
    await log.recover(() => undefined);
    const append = () => log.append({ tenant: 'a', receivedAt: clock.now, protobuf: false, body: Buffer.from('{}'), remember: [] });
    await append();
    clock.now += MINUTE - 1;
    await append();
    expect(log.segments).toBe(1);
    clock.now += 1;
    const position = await append();
    expect(log.segments).toBe(2);
    expect(position).toBe(2 * 2 ** 24); // the first record of segment 2
    await log.close();
  });
});

describe('history: eviction', () => {
  it('deletes segments whose newest record is older than HISTORY_MAX_AGE, oldest first, and counts them', async () => {
    const r = await rig({ maxAgeMs: 10 * MINUTE });
    for (let s = 0; s < 3; s++) {
      await r.append('a', T0 + s * 5 * MINUTE, shopTrace(traceIdOf('ac', s), T0 + s * 5 * MINUTE));
      await r.retireAll();
    }
    expect(r.history.list()).toHaveLength(3);
    r.clock.now = T0 + 10 * MINUTE + 1; // the first segment (T0) is past the age; the second (T0 + 5 min) is not
    await r.history.evict();
    expect(r.history.list().map((s) => (s.state === 'compressed' ? s.index.seq : -1))).toEqual([2, 3]);
    expect(await metric(r.registry, 'betrace_history_evicted_segments_total', { reason: 'age' })).toBe(1);
    expect(await metric(r.registry, 'betrace_history_evicted_segments_total', { reason: 'bytes' })).toBe(0);
    expect(files(path.join(r.root, 'history')).filter((f) => f.startsWith('000000000001'))).toEqual([]);
    r.clock.now = T0 + 20 * MINUTE + 1;
    await r.history.evict();
    expect(r.history.list()).toHaveLength(0);
    expect(await metric(r.registry, 'betrace_history_evicted_segments_total', { reason: 'age' })).toBe(3);
    expect(await metric(r.registry, 'betrace_history_segments')).toBe(0);
    expect(await metric(r.registry, 'betrace_history_bytes')).toBe(0);
    expect(r.history.describe()).toMatchObject({ segments: 0, oldest: undefined, evicted: { age: 3, bytes: 0 } });
    await r.log.close();
  });

  it('keeps at most HISTORY_MAX_BYTES, deleting the oldest segments first, and counts them', async () => {
    // Attribute values that compress badly: each segment is ~8KiB compressed, so 20KiB holds two.
    const noise = (n: number) => Array.from({ length: 40 }, (_, i) => zlib.crc32(`${n}-${i}`).toString(36)).join('') + 'x'.repeat(10);
    const r = await rig({ maxBytes: 20 * 1024 });
    const sizes: number[] = [];
    for (let s = 0; s < 6; s++) {
      for (let i = 0; i < 40; i++) {
        await r.append('a', T0 + s * 1000 + i, shopTrace(traceIdOf('ad', s * 100 + i), T0 + s * 1000, ['payment.charge'], { blob: noise(s * 100 + i) }));
      }
      await r.retireAll();
      sizes.push(r.history.describe().bytes);
    }
    const kept = r.history.list().map((s) => (s.state === 'compressed' ? s.index.seq : -1));
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(4);
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, i) => 7 - kept.length + i)); // the newest ones
    expect(r.history.describe().bytes).toBeLessThanOrEqual(20 * 1024);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(20 * 1024);
    expect(await metric(r.registry, 'betrace_history_evicted_segments_total', { reason: 'bytes' })).toBe(6 - kept.length);
    expect(await metric(r.registry, 'betrace_history_evicted_segments_total', { reason: 'age' })).toBe(0);
    // What was evicted is not read any more.
    const read = await all(r.history.source('a', T0 - MINUTE, T0 + 10 * MINUTE));
    expect(new Set(read.map((t) => Math.floor((parseInt(t.traceId.slice(24), 16)) / 100)))).toEqual(new Set(kept.map((seq) => seq - 1)));
    await r.log.close();
  });
});

describe('history: restarts', () => {
  it('keeps its segments and index across a restart, and reads the same traces', async () => {
    const r = await rig();
    for (let i = 0; i < 10; i++) {
      await r.append('a', T0 + i * 1000, shopTrace(traceIdOf('ae', i), T0 + i * 1000), i % 2 === 1);
    }
    await r.retireAll();
    const before = await all(r.history.source('a', T0, T0 + MINUTE));
    expect(before).toHaveLength(10);
    await r.history.close();
    await r.log.close();
    const again = await rig({}, r.root);
    expect(again.history.list()).toEqual(r.history.list());
    expect(ids(await all(again.history.source('a', T0, T0 + MINUTE)))).toEqual(ids(before));
    // New segments continue the numbering.
    await again.append('a', T0 + MINUTE, shopTrace(traceIdOf('ae', 99), T0 + MINUTE));
    await again.retireAll();
    expect(again.history.list().map((s) => (s.state === 'compressed' ? s.index.seq : -1))).toEqual([1, 2]);
    await again.log.close();
  });

  it('finishes what a crash interrupted: compresses a pending segment, rebuilds a lost index, deletes temporary files', async () => {
    const r = await rig();
    for (let i = 0; i < 4; i++) {
      await r.append('a', T0 + i * 1000, shopTrace(traceIdOf('af', i), T0 + i * 1000));
      await r.retireAll();
    }
    await r.history.close();
    await r.log.close();
    const dir = path.join(r.root, 'history');
    // Segment 2: the crash came after the move, before compression finished (a half-written file and index are left).
    const raw = await promisify(zlib.brotliDecompress)(fs.readFileSync(path.join(dir, fileName(2, 'compressed'))));
    fs.writeFileSync(path.join(dir, fileName(2, 'pending')), raw);
    fs.writeFileSync(path.join(dir, `${fileName(2, 'compressed')}.tmp`), 'half');
    // Segment 3: its index was lost.
    fs.rmSync(path.join(dir, fileName(3, 'index')));
    // Segment 4: only an index is left (the segment was being deleted).
    fs.rmSync(path.join(dir, fileName(4, 'compressed')));
    const again = await rig({}, r.root);
    await again.history.settled();
    expect(files(dir)).toEqual(['000000000001.json', '000000000001.seg.br', '000000000002.json', '000000000002.seg.br', '000000000003.json', '000000000003.seg.br']);
    expect(again.history.list().map((s) => (s.state === 'compressed' ? [s.index.seq, s.index.records, s.index.firstReceivedAt] : []))).toEqual([
      [1, 1, T0],
      [2, 1, T0 + 1000],
      [3, 1, T0 + 2000],
    ]);
    expect(ids(await all(again.history.source('a', T0, T0 + MINUTE)))).toEqual([0, 1, 2].map((i) => traceIdOf('af', i)));
    await again.log.close();
  });
});

describe('history: reading traces', () => {
  it('hands out only the tenant’s traces, never another’s', async () => {
    const r = await rig();
    for (let i = 0; i < 12; i++) {
      const tenant = ['a', 'b', 'c'][i % 3];
      await r.append(tenant, T0 + i * 100, shopTrace(traceIdOf(`b${i % 3}`, i), T0 + i * 100), i % 2 === 0);
    }
    // The same trace id sent by two tenants stays two traces, one each.
    await r.append('a', T0 + 2000, [{ traceId: traceIdOf('ff', 1), spanId: spanIdOf('a', 1), name: 'a-only', startMs: T0 + 2000 }]);
    await r.append('b', T0 + 2000, [{ traceId: traceIdOf('ff', 1), spanId: spanIdOf('b', 1), name: 'b-only', startMs: T0 + 2000 }]);
    await r.retireAll();
    const a = await all(r.history.source('a', T0, T0 + MINUTE));
    const b = await all(r.history.source('b', T0, T0 + MINUTE));
    expect(ids(a)).toEqual([...[0, 3, 6, 9].map((i) => traceIdOf('b0', i)), traceIdOf('ff', 1)].sort());
    expect(ids(b)).toEqual([...[1, 4, 7, 10].map((i) => traceIdOf('b1', i)), traceIdOf('ff', 1)].sort());
    expect(a.find((t) => t.traceId === traceIdOf('ff', 1))!.spans.map((s) => s.name)).toEqual(['a-only']);
    expect(b.find((t) => t.traceId === traceIdOf('ff', 1))!.spans.map((s) => s.name)).toEqual(['b-only']);
    expect(await all(r.history.source('nobody', T0, T0 + MINUTE))).toEqual([]);
    await r.log.close();
  });

  it('decodes OTLP/JSON and protobuf records alike, attributes included', async () => {
    const r = await rig();
    const spans = (id: string) => shopTrace(id, T0, ['payment.charge'], { amount: 1200, currency: 'EUR', approved: true, ratio: 0.25 });
    await r.append('a', T0, spans(traceIdOf('c1', 1)), false);
    await r.append('a', T0, spans(traceIdOf('c2', 1)), true);
    await r.retireAll();
    const [json, proto] = (await all(r.history.source('a', T0, T0 + MINUTE, { redact: false }))).sort((x, y) => x.traceId.localeCompare(y.traceId));
    expect([json.traceId, proto.traceId]).toEqual([traceIdOf('c1', 1), traceIdOf('c2', 1)]);
    for (const t of [json, proto]) {
      expect(t.spans.map((s) => [s.name, s.service, s.attrs])).toEqual([
        ['checkout', 'shop', { amount: 1200, currency: 'EUR', approved: true, ratio: 0.25 }],
        ['payment.charge', 'shop', { amount: 1200, currency: 'EUR', approved: true, ratio: 0.25 }],
      ]);
      expect(t.rootSpan?.name).toBe('checkout');
      expect(t.startNs).toBe(BigInt(T0) * 1_000_000n);
    }
    await r.log.close();
  });

  it('assembles a trace whose spans are in several segments, and splits one whose spans arrived more than a window apart', async () => {
    const r = await rig({ traceWindowMs: 30_000 });
    const id = traceIdOf('d1', 1);
    const [root, child] = shopTrace(id, T0);
    await r.append('a', T0, [root]);
    await r.retireAll(); // segment 1
    await r.append('a', T0 + 10_000, [child], true);
    await r.append('a', T0 + 10_000, [child]); // sent twice: kept once
    await r.retireAll(); // segment 2
    const late = traceIdOf('d1', 2);
    await r.append('a', T0 + 10_000, [{ traceId: late, spanId: spanIdOf('d1', 10), name: 'early', startMs: T0 + 10_000 }]);
    await r.append('a', T0 + 50_000, [{ traceId: late, spanId: spanIdOf('d1', 11), name: 'late', startMs: T0 + 50_000 }]);
    await r.retireAll(); // segment 3
    const traces = await all(r.history.source('a', T0, T0 + MINUTE));
    const whole = traces.filter((t) => t.traceId === id);
    expect(whole).toHaveLength(1);
    expect(whole[0].spans.map((s) => s.name)).toEqual(['checkout', 'payment.charge']);
    // 40 s between its spans, more than the 30 s window: complete after the first, a second part later (trace assembly does the same).
    expect(traces.filter((t) => t.traceId === late).map((t) => t.spans.map((s) => s.name))).toEqual([['early'], ['late']]);
    await r.log.close();
  });

  it('keeps traces that overlap [from, to) by their span times, skips segments outside the range, and stops at maxTraces', async () => {
    const r = await rig({ traceWindowMs: 10_000 });
    for (let m = 0; m < 10; m++) {
      await r.append('a', T0 + m * MINUTE, shopTrace(traceIdOf('e1', m), T0 + m * MINUTE));
      await r.retireAll(); // one segment a minute
    }
    const range = await all(r.history.source('a', T0 + 3 * MINUTE, T0 + 6 * MINUTE));
    expect(ids(range)).toEqual([3, 4, 5].map((m) => traceIdOf('e1', m)));
    // A trace that starts before `from` and ends after it overlaps the range.
    expect(ids(await all(r.history.source('a', T0 + 2 * MINUTE + 20, T0 + 2 * MINUTE + 30)))).toEqual([traceIdOf('e1', 2)]);
    expect(ids(await all(r.history.source('a', T0 + 2 * MINUTE + 60, T0 + 2 * MINUTE + 70)))).toEqual([]);
    // Only the segments whose receive times are within a window of the range are read: minutes 3 to 6 (6:00 is within 10 s of `to`).
    let read = 0;
    await all(r.history.source('a', T0 + 3 * MINUTE, T0 + 6 * MINUTE, { onProgress: (p) => (read = p.segmentsTotal) }));
    expect(read).toBe(4);
    expect(await all(r.history.source('a', T0 + 3 * MINUTE, T0 + 6 * MINUTE, { maxTraces: 2 }))).toHaveLength(2);
    // Re-callable: each call reads the files again.
    const source = r.history.source('a', T0, T0 + 10 * MINUTE);
    expect(ids(await all(source))).toEqual(ids(await all(source)));
    expect(await all(source)).toHaveLength(10);
    await r.log.close();
  });

  it('applies the tenant’s redaction policy to what it hands out, unless told not to (replay)', async () => {
    const r = await rig();
    await r.append('a', T0, shopTrace(traceIdOf('f1', 1), T0, ['payment.charge'], { 'user.email': 'alice@example.com', note: 'card 4111 1111 1111 1111 used', order_id: 'o-1' }), true);
    await r.retireAll();
    const [redacted] = await all(r.history.source('a', T0, T0 + MINUTE));
    expect(redacted.spans[1].attrs).toEqual({ 'user.email': '[REDACTED:email]', note: 'card [REDACTED:card] used', order_id: 'o-1' });
    const [raw] = await all(r.history.source('a', T0, T0 + MINUTE, { redact: false }));
    expect(raw.spans[1].attrs).toEqual({ 'user.email': 'alice@example.com', note: 'card 4111 1111 1111 1111 used', order_id: 'o-1' });
    expect(raw.spans[1].name).toBe('payment.charge');
    await r.log.close();
  });

  it('stops reading when cancelled, and reads segments retired while it runs', async () => {
    const r = await rig();
    for (let i = 0; i < 5; i++) {
      await r.append('a', T0 + i, shopTrace(traceIdOf('f2', i), T0 + i));
      await r.retireAll();
    }
    let stop = false;
    const seen: string[] = [];
    for await (const t of r.history.source('a', T0, T0 + MINUTE, { cancelled: () => stop })()) {
      seen.push(t.traceId);
      stop = true;
    }
    expect(seen.length).toBeLessThan(5);
    // A segment still pending (not compressed yet) is read too.
    await r.append('a', T0 + 10, shopTrace(traceIdOf('f2', 10), T0 + 10));
    await new Promise((resolve) => setImmediate(resolve));
    await r.log.truncate(undefined);
    expect(r.history.list().some((s) => s.state === 'pending')).toBe(true);
    expect(ids(await all(r.history.source('a', T0, T0 + MINUTE)))).toContain(traceIdOf('f2', 10));
    await r.history.settled();
    await r.log.close();
  });
});
