'use strict';
// Redaction benchmark: the cost of passing OTLP spans through the redaction engine (default
// policy and every detector on), against JSON.stringify of the same spans measured in the same
// run — the cheapest thing any exit does to a span anyway. Spans are realistic: HTTP/DB attributes,
// events, links, a nested kvlist; one span in five carries PII. Writes bench/results/redact.json with --save.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { performance } = require('perf_hooks');
const { Redactor } = require('../packages/sidecar/dist/redact');
const { DEFAULT_REDACTION } = require('../packages/sidecar/dist/tenants');
const { saveResult } = require('./save');

const SPANS = Number(process.env.BENCH_SPANS || 10000);
const RUNS = Number(process.env.BENCH_RUNS || 7);
const PER_BATCH = 100;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const hex = (n, i) => (i.toString(16).padStart(n, '0') + 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6').slice(0, n);
const str = (key, v) => ({ key, value: { stringValue: v } });

const PII = ['alice.smith@example.com', '4111 1111 1111 1111', '+44 20 7946 0958', '536-22-1234', 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig-abc123', 'sk_live_4eC39HqLyjWDarjtT1zdp7dc'];

function span(i) {
  const pii = i % 5 === 0 ? PII[i % PII.length] : undefined;
  return {
    traceId: hex(32, Math.floor(i / 20)),
    spanId: hex(16, i),
    parentSpanId: i % 20 === 0 ? undefined : hex(16, i - 1),
    name: i % 3 === 0 ? 'GET /api/v1/orders/{id}' : i % 3 === 1 ? 'SELECT orders' : 'payment.charge',
    kind: 2,
    startTimeUnixNano: String(1705314600000000000n + BigInt(i) * 1000000n),
    endTimeUnixNano: String(1705314600000000000n + BigInt(i) * 1000000n + 420000n),
    attributes: [
      str('http.request.method', 'GET'),
      str('http.route', '/api/v1/orders/{id}'),
      { key: 'http.response.status_code', value: { intValue: '200' } },
      str('url.full', `https://shop.example.com/api/v1/orders/${100000 + i}?page=2`),
      str('user_agent.original', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0.6099.129'),
      str('db.statement', `SELECT * FROM orders WHERE id = ${i} AND status = 'open'`),
      str('order.note', pii ? `customer asked to call ${pii}` : 'leave at the door'),
      { key: 'order.amount', value: { doubleValue: 99.95 } },
      { key: 'tags', value: { arrayValue: { values: [{ stringValue: 'web' }, { stringValue: 'eu-west-1' }] } } },
      { key: 'customer', value: { kvlistValue: { values: [str('id', `c-${i}`), str('tier', 'gold')] } } },
    ],
    events: [{ timeUnixNano: String(1705314600000000000n + BigInt(i) * 1000000n + 1000n), name: 'log', attributes: [str('message', `order ${i} accepted at 2024-01-15T10:30:00Z`)] }],
    links: i % 10 === 0 ? [{ traceId: hex(32, i), spanId: hex(16, i + 1), attributes: [str('reason', 'retry')] }] : [],
    status: { code: i % 50 === 0 ? 2 : 0, message: i % 50 === 0 ? 'upstream timeout after 3 retries' : '' },
  };
}

function batches() {
  const out = [];
  for (let b = 0; b < SPANS / PER_BATCH; b++) {
    const spans = Array.from({ length: PER_BATCH }, (_v, j) => span(b * PER_BATCH + j));
    out.push([{ resource: { attributes: [str('service.name', 'shop'), str('service.version', '1.2.3'), str('deployment.environment', 'prod')] }, scopeSpans: [{ scope: { name: 'manual', version: '0.1.0' }, spans }] }]);
  }
  return out;
}

function measure(fn) {
  const times = [];
  let out;
  for (let run = 0; run < RUNS + 1; run++) {
    const t0 = performance.now();
    out = fn();
    if (run > 0) {
      times.push(performance.now() - t0); // run 0 warms up the JIT
    }
  }
  return { ms: median(times), out };
}

function main() {
  const data = batches();
  const bytes = data.reduce((n, b) => n + JSON.stringify(b).length, 0);
  const defaults = new Redactor(DEFAULT_REDACTION, 'bench-key');
  const everything = new Redactor({ ...DEFAULT_REDACTION, detectors: [...DEFAULT_REDACTION.detectors, 'ip'], action: 'hash' }, 'bench-key');

  // The engine must have done its job for the timing to mean anything.
  const sample = JSON.stringify(defaults.resourceSpans(data[0]));
  for (const v of PII) {
    if (sample.includes(v.split(' ').pop())) {
      throw new Error(`the benchmark's redaction left ${v} in place`);
    }
  }

  const stringify = measure(() => data.reduce((n, b) => n + JSON.stringify(b).length, 0));
  const redactDefault = measure(() => data.map((b) => defaults.resourceSpans(b)));
  const redactAll = measure(() => data.map((b) => everything.resourceSpans(b)));
  const clean = data.map((b) => defaults.resourceSpans(b));
  const redactClean = measure(() => clean.map((b) => defaults.resourceSpans(b)));
  const message = `order 12345 for alice.smith@example.com paid with 4111 1111 1111 1111; ${'lorem ipsum dolor sit amet '.repeat(36)}`;
  const text = measure(() => {
    let n = 0;
    for (let i = 0; i < 2000; i++) {
      n += defaults.text(message).length;
    }
    return n;
  });

  const perSec = (ms) => Math.round(SPANS / (ms / 1000));
  const results = {
    node: process.version,
    date: new Date().toISOString(),
    cpu: os.cpus()[0] ? os.cpus()[0].model : 'unknown',
    corpus: { spans: SPANS, jsonBytes: bytes, meanBytesPerSpan: Math.round(bytes / SPANS), piiShare: 0.2, runs: RUNS },
    baseline: { what: 'JSON.stringify of the same resourceSpans', medianMs: +stringify.ms.toFixed(2), spansPerSec: perSec(stringify.ms) },
    redactDefaultPolicy: { medianMs: +redactDefault.ms.toFixed(2), spansPerSec: perSec(redactDefault.ms), mbPerSec: +(bytes / 1e6 / (redactDefault.ms / 1000)).toFixed(1), ratioToStringify: +(redactDefault.ms / stringify.ms).toFixed(2) },
    redactAllDetectorsHash: { medianMs: +redactAll.ms.toFixed(2), spansPerSec: perSec(redactAll.ms), ratioToStringify: +(redactAll.ms / stringify.ms).toFixed(2) },
    redactAlreadyClean: { medianMs: +redactClean.ms.toFixed(2), spansPerSec: perSec(redactClean.ms), ratioToStringify: +(redactClean.ms / stringify.ms).toFixed(2) },
    text1kB: { chars: message.length, microsPerCall: +((text.ms * 1000) / 2000).toFixed(2) },
  };

  const rows = [
    ['JSON.stringify (baseline)', `${(results.baseline.spansPerSec / 1e3).toFixed(0)} k spans/s`, ''],
    ['redact, default policy', `${(results.redactDefaultPolicy.spansPerSec / 1e3).toFixed(0)} k spans/s (${results.redactDefaultPolicy.mbPerSec} MB/s)`, `${results.redactDefaultPolicy.ratioToStringify}x stringify`],
    ['redact, all detectors, hash', `${(results.redactAllDetectorsHash.spansPerSec / 1e3).toFixed(0)} k spans/s`, `${results.redactAllDetectorsHash.ratioToStringify}x stringify`],
    ['redact, already clean', `${(results.redactAlreadyClean.spansPerSec / 1e3).toFixed(0)} k spans/s`, `${results.redactAlreadyClean.ratioToStringify}x stringify`],
    ['text, 1 kB message', `${results.text1kB.microsPerCall} µs/call`, ''],
  ];
  console.log(`\nRedaction benchmark — ${SPANS} spans (${results.corpus.meanBytesPerSpan} B/span as JSON, 20% with PII), median of ${RUNS} runs, ${process.version}\n`);
  const w = [30, 40, 20];
  console.log(['measure', 'result', 'vs baseline'].map((c, i) => c.padEnd(w[i])).join(' '));
  for (const r of rows) {
    console.log(r.map((c, i) => String(c).padEnd(w[i])).join(' '));
  }
  const out = path.join(__dirname, 'results', 'redact.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  saveResult(out, results);
}

main();
