'use strict';
// A loopback OTLP/HTTP sink (a child process of peers.bench.js): the Collector's otlphttp
// exporter sends the spans of sampled traces here, and the sink notes when it first saw each
// trace id, which is when that trace's sampling decision became observable.
const http = require('http');
const { decodeTraceRequest } = require('../../packages/sidecar/dist/ingest/otlpProto');

const firstSeen = new Map();
let spans = 0;

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const now = Date.now();
    try {
      const body = decodeTraceRequest(Buffer.concat(chunks));
      for (const rs of body.resourceSpans || []) {
        for (const ss of rs.scopeSpans || []) {
          for (const s of ss.spans || []) {
            spans++;
            const id = Buffer.from(s.traceId).toString('hex');
            if (!firstSeen.has(id)) firstSeen.set(id, now);
          }
        }
      }
    } catch (e) {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end(String(e.message));
      return;
    }
    // An empty ExportTraceServiceResponse is zero bytes of protobuf.
    res.writeHead(200, { 'content-type': 'application/x-protobuf' });
    res.end();
  });
});

process.on('message', (msg) => {
  if (msg.type === 'reset') {
    firstSeen.clear();
    spans = 0;
    process.send({ type: 'reset' });
  } else if (msg.type === 'count') {
    process.send({ type: 'count', spans });
  } else if (msg.type === 'report') {
    process.send({ type: 'report', spans, firstSeen: [...firstSeen] });
  }
});

server.listen(0, '127.0.0.1', () => process.send({ type: 'listening', port: server.address().port }));

// Ends with the bench that started it, even when the bench was killed.
process.on('disconnect', () => process.exit(0));
