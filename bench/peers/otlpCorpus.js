'use strict';
// The peers benchmark's load, encoded once: shop traces of 10 to 40 spans (bench/corpus.js),
// each cut into 1 to 3 pieces that land in consecutive OTLP/HTTP protobuf requests of ~512 spans,
// as spans of one trace reach a backend from several services' exporters at slightly different
// times. Encoded with protobufjs over the OTLP proto (packages/sidecar otlpProto).
const fs = require('fs');
const path = require('path');
const { makeCorpus, rng } = require('../corpus');

/** The sidecar's built OTLP encoder (`npm run bench` builds the packages first). */
const builtEncoder = (request) => require('../../packages/sidecar/dist/ingest/otlpProto').encodeTraceRequest(request);

const BATCH_SPANS = 512;
const MIN_SPANS = 10;
const MAX_SPANS = 40;
/** Traces generated per makeCorpus call: bounds the normalized spans held at once. */
const ROUND = 2000;
/** How many traces apart the pieces of one trace are queued: about one request's worth. */
const PIECE_GAP = 24;

const KIND = { unspecified: 0, internal: 1, server: 2, client: 3, producer: 4, consumer: 5 };
const STATUS = { unset: 0, ok: 1, error: 2 };

function anyValue(v) {
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (Number.isInteger(v)) return { intValue: String(v) };
  return { doubleValue: v };
}

const attributes = (obj) => Object.entries(obj).map(([key, v]) => ({ key, value: anyValue(v) }));

function otlpSpan(s) {
  return {
    traceId: Buffer.from(s.traceId, 'hex'),
    spanId: Buffer.from(s.spanId, 'hex'),
    ...(s.parentSpanId ? { parentSpanId: Buffer.from(s.parentSpanId, 'hex') } : {}),
    name: s.name,
    kind: KIND[s.kind],
    startTimeUnixNano: s.startNs.toString(),
    endTimeUnixNano: s.endNs.toString(),
    attributes: attributes(s.attrs),
    status: { code: STATUS[s.status], ...(s.statusMessage ? { message: s.statusMessage } : {}) },
  };
}

/** One request: the spans grouped by service (one resource each), as SDK exporters send them. */
function encode(spans, encodeTraceRequest) {
  const byService = new Map();
  for (const s of spans) {
    if (!byService.has(s.service)) byService.set(s.service, { resource: s.resource, spans: [] });
    byService.get(s.service).spans.push(otlpSpan(s));
  }
  return Buffer.from(
    encodeTraceRequest({
      resourceSpans: [...byService.values()].map((g) => ({ resource: { attributes: attributes(g.resource) }, scopeSpans: [{ scope: { name: 'bench' }, spans: g.spans }] })),
    }),
  );
}

/**
 * About `targetSpans` spans in requests of ~BATCH_SPANS. Returns the payloads, the trace ids and
 * the number of spans each request carries, and the number of spans per trace. `encodeTraceRequest`
 * is the sidecar's protobufjs OTLP encoder (tests pass its TypeScript source).
 */
function buildOtlpCorpus(targetSpans, seed, encodeTraceRequest = builtEncoder) {
  const r = rng(seed ^ 0x5eed);
  const payloads = [];
  const tracesOf = [];
  const spansIn = [];
  const spansOf = new Map();
  let batch = [];
  let batchTraces = new Set();
  let total = 0;
  const flush = () => {
    if (batch.length === 0) return;
    payloads.push(encode(batch, encodeTraceRequest));
    tracesOf.push([...batchTraces]);
    spansIn.push(batch.length);
    batch = [];
    batchTraces = new Set();
  };
  // slot → pieces queued there; slot i is complete once trace i has been cut.
  const slots = new Map();
  const take = (slot) => {
    for (const piece of slots.get(slot) || []) {
      batch.push(...piece);
      batchTraces.add(piece[0].traceId);
      if (batch.length >= BATCH_SPANS) flush();
    }
    slots.delete(slot);
  };
  let index = 0;
  for (let round = 0; total < targetSpans; round++) {
    for (const t of makeCorpus(ROUND, seed * 1000 + round).traces) {
      if (t.spans.length < MIN_SPANS || t.spans.length > MAX_SPANS || total >= targetSpans) continue;
      spansOf.set(t.traceId, t.spans.length);
      total += t.spans.length;
      const pieces = 1 + Math.floor(r() * 3);
      const size = Math.ceil(t.spans.length / pieces);
      for (let p = 0; p * size < t.spans.length; p++) {
        const slot = index + p * PIECE_GAP;
        if (!slots.has(slot)) slots.set(slot, []);
        slots.get(slot).push(t.spans.slice(p * size, (p + 1) * size));
      }
      take(index);
      index++;
    }
  }
  for (const slot of [...slots.keys()].sort((a, b) => a - b)) take(slot);
  flush();
  return { payloads, tracesOf, spansIn, spansOf, spans: total };
}

/** Writes a corpus as one file of payloads and an index of [offset, length], for the load generator (load.js) to read. */
function writeCorpus(dir, name, corpus) {
  const file = path.join(dir, `${name}.bin`);
  const index = path.join(dir, `${name}.json`);
  const offsets = [];
  let off = 0;
  for (const p of corpus.payloads) {
    offsets.push([off, p.length]);
    off += p.length;
  }
  fs.writeFileSync(file, Buffer.concat(corpus.payloads));
  fs.writeFileSync(index, JSON.stringify(offsets));
  return {
    file,
    index,
    tracesOf: corpus.tracesOf,
    spansIn: corpus.spansIn,
    spansOf: corpus.spansOf,
    spans: corpus.spans,
    traces: corpus.spansOf.size,
    requests: corpus.payloads.length,
    bytes: off,
  };
}

module.exports = { buildOtlpCorpus, writeCorpus, BATCH_SPANS, MIN_SPANS, MAX_SPANS };
