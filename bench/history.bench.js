'use strict';
// History benchmark: what keeping recent traces costs. Shop traces (bench/corpus.js) are written
// as ingest log records, one OTLP request of 5 traces each, through the real IngestLog and History
// (packages/sidecar/dist), in 16MiB segments; then the segments are retired into the history.
// Measured per round, over REPEATS rounds (median, min–max):
//   - bytes per span on disk, raw (the log's segment) and in the history (brotli, per segment);
//   - compression time per 16MiB segment (libuv's pool, off the event loop) and the event loop's
//     longest stall meanwhile;
//   - retire(): the ingest log's truncation with history (a rename) against without (a delete);
//   - reading back: spans per second through History.source (decompress, decode, group);
//   - the alternative: one SQLite row per batch (better-sqlite3, WAL, synchronous=NORMAL), its
//     body brotli-compressed per batch — the time it adds to each accepted batch on the HTTP
//     thread, and its bytes per span.
// Protobuf and OTLP/JSON bodies are measured separately. Writes bench/results/history.json with --save.
const fs = require('fs');
const os = require('os');
const path = require('path');
const zlib = require('zlib');
const { monitorEventLoopDelay } = require('perf_hooks');
const Database = require('better-sqlite3');
const pino = require('pino');
const { Registry } = require('prom-client');
const { makeCorpus, toOtlpRequests } = require('./corpus');
const { encodeTraceRequest } = require('../packages/sidecar/dist/ingest/otlpProto');
const { IngestLog } = require('../packages/sidecar/dist/ingest/log/log');
const { History } = require('../packages/sidecar/dist/history');
const { saveResult } = require('./save');

const REPEATS = Number(process.env.BENCH_HISTORY_REPEATS || 5);
const TRACES = Number(process.env.BENCH_HISTORY_TRACES || 3000);
const SEGMENT_BYTES = 16 * 1024 * 1024;
const T0 = 1_764_028_800_000;

function bodies(kind, seed) {
  const { traces, totalSpans } = makeCorpus(TRACES, seed);
  const requests = toOtlpRequests(traces, kind === 'protobuf' ? (h) => Buffer.from(h, 'hex') : (h) => h, 5);
  const out = requests.map((r) => (kind === 'protobuf' ? Buffer.from(encodeTraceRequest(r)) : Buffer.from(JSON.stringify(r))));
  return { bodies: out, spans: totalSpans, traces: traces.length };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const stat = (xs, digits = 1) => ({ median: +median(xs).toFixed(digits), min: +Math.min(...xs).toFixed(digits), max: +Math.max(...xs).toFixed(digits) });
const dirBytes = (dir) => fs.readdirSync(dir).reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);

async function historyRound(kind, seed) {
  const { bodies: list, spans, traces } = bodies(kind, seed);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-bench-history-'));
  const history = new History({ dir: path.join(root, 'history'), maxBytes: 64 * 1024 ** 3, maxAgeMs: 365 * 86_400_000, traceWindowMs: 60_000, registry: new Registry(), log: pino({ level: 'silent' }), now: () => T0 });
  await history.open();
  const log = await IngestLog.open({ dir: path.join(root, 'ingest-log'), fsync: { mode: 'off' }, segmentBytes: SEGMENT_BYTES, maxBytes: 64 * 1024 ** 3, retire: (f) => history.retire(f) });
  await log.recover(() => undefined);
  for (let i = 0; i < list.length; i++) {
    await log.append({ tenant: 'default', receivedAt: T0 + i, protobuf: kind === 'protobuf', body: list[i], remember: [] });
  }
  await new Promise((r) => setImmediate(r));
  const rawBytes = dirBytes(path.join(root, 'ingest-log'));
  const segments = log.segments;
  // Retire everything; time the compression and watch the event loop meanwhile.
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const t0 = performance.now();
  await log.truncate(undefined);
  const retireMs = performance.now() - t0;
  await history.settled();
  const compressMs = performance.now() - t0;
  loop.disable();
  const stored = history.describe().bytes;
  // Read everything back.
  const t1 = performance.now();
  let read = 0;
  for await (const t of history.source('default', T0 - 60_000, Number.MAX_SAFE_INTEGER / 2, { redact: false })()) read += t.spans.length;
  const readMs = performance.now() - t1;
  if (read !== spans) throw new Error(`read ${read} spans back, wrote ${spans}`);
  await history.close();
  await log.close();
  fs.rmSync(root, { recursive: true, force: true });
  return {
    spans,
    traces,
    segments,
    rawBytesPerSpan: rawBytes / spans,
    historyBytesPerSpan: stored / spans,
    ratio: rawBytes / stored,
    compressMsPerSegment: compressMs / segments,
    retireMsPerSegment: retireMs / segments,
    loopMaxStallMs: loop.max / 1e6,
    readSpansPerSec: spans / (readMs / 1000),
  };
}

/** Without history: the same segments deleted at truncation. */
async function deleteRound(kind, seed) {
  const { bodies: list } = bodies(kind, seed);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-bench-history-'));
  const log = await IngestLog.open({ dir: root, fsync: { mode: 'off' }, segmentBytes: SEGMENT_BYTES, maxBytes: 64 * 1024 ** 3 });
  await log.recover(() => undefined);
  for (let i = 0; i < list.length; i++) {
    await log.append({ tenant: 'default', receivedAt: T0 + i, protobuf: kind === 'protobuf', body: list[i], remember: [] });
  }
  await new Promise((r) => setImmediate(r));
  const segments = log.segments;
  const t0 = performance.now();
  await log.truncate(undefined);
  const ms = performance.now() - t0;
  await log.close();
  fs.rmSync(root, { recursive: true, force: true });
  return { deleteMsPerSegment: ms / segments };
}

/** The alternative: a row per accepted batch in SQLite, compressed per batch, written on the HTTP thread. */
function sqliteRound(kind, seed) {
  const { bodies: list, spans } = bodies(kind, seed);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-bench-history-sqlite-'));
  const db = new Database(path.join(root, 'history.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('CREATE TABLE history (id INTEGER PRIMARY KEY, tenant TEXT NOT NULL, received_at INTEGER NOT NULL, protobuf INTEGER NOT NULL, body BLOB NOT NULL); CREATE INDEX history_time ON history (tenant, received_at)');
  const insert = db.prepare('INSERT INTO history (tenant, received_at, protobuf, body) VALUES (?, ?, ?, ?)');
  const params = { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 5 } };
  const t0 = performance.now();
  for (let i = 0; i < list.length; i++) {
    insert.run('default', T0 + i, kind === 'protobuf' ? 1 : 0, zlib.brotliCompressSync(list[i], params));
  }
  const ms = performance.now() - t0;
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  const bytes = dirBytes(root);
  fs.rmSync(root, { recursive: true, force: true });
  return { msPerBatch: ms / list.length, bytesPerSpan: bytes / spans };
}

async function main() {
  const results = { node: process.version, date: new Date().toISOString(), cpus: os.cpus().length, loadavg: os.loadavg()[0], traces: TRACES, repeats: REPEATS, segmentBytes: SEGMENT_BYTES, kinds: {} };
  console.log(`\nHistory benchmark — ${TRACES} shop traces a round, 5 a request, ${REPEATS} rounds, 16MiB segments, ${process.version}, ${os.cpus().length} CPUs, load ${os.loadavg()[0].toFixed(1)}\n`);
  for (const kind of ['protobuf', 'json']) {
    const h = [];
    const d = [];
    const s = [];
    for (let round = 0; round < REPEATS; round++) {
      h.push(await historyRound(kind, 100 + round));
      d.push(await deleteRound(kind, 100 + round));
      s.push(sqliteRound(kind, 100 + round));
    }
    const pick = (list, key, digits) => stat(list.map((x) => x[key]), digits);
    const row = {
      spansPerRound: h[0].spans,
      segmentsPerRound: h[0].segments,
      rawBytesPerSpan: pick(h, 'rawBytesPerSpan'),
      historyBytesPerSpan: pick(h, 'historyBytesPerSpan'),
      ratio: pick(h, 'ratio', 2),
      compressMsPerSegment: pick(h, 'compressMsPerSegment', 0),
      loopMaxStallMs: pick(h, 'loopMaxStallMs'),
      retireMsPerSegment: pick(h, 'retireMsPerSegment', 2),
      deleteMsPerSegment: pick(d, 'deleteMsPerSegment', 2),
      readSpansPerSec: pick(h, 'readSpansPerSec', 0),
      sqliteMsPerBatch: pick(s, 'msPerBatch', 3),
      sqliteBytesPerSpan: pick(s, 'bytesPerSpan'),
    };
    results.kinds[kind] = row;
    const f = (x, unit = '') => `${x.median}${unit} (${x.min}–${x.max})`;
    console.log(`${kind}: ${row.spansPerRound} spans, ${row.segmentsPerRound} segments a round`);
    console.log(`  on disk            log ${f(row.rawBytesPerSpan, ' B/span')}  history ${f(row.historyBytesPerSpan, ' B/span')}  ratio ${f(row.ratio)}`);
    console.log(`  compression        ${f(row.compressMsPerSegment, ' ms')} per 16MiB segment, off the event loop (longest loop stall ${f(row.loopMaxStallMs, ' ms')})`);
    console.log(`  truncation         with history (rename) ${f(row.retireMsPerSegment, ' ms')}, without (delete) ${f(row.deleteMsPerSegment, ' ms')} per segment`);
    console.log(`  reading back       ${f(row.readSpansPerSec, ' spans/s')}`);
    console.log(`  SQLite alternative ${f(row.sqliteMsPerBatch, ' ms')} per batch on the HTTP thread, ${f(row.sqliteBytesPerSpan, ' B/span')}\n`);
  }
  const out = path.join(__dirname, 'results', 'history.json');
  saveResult(out, results);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
