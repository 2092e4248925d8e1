'use strict';
// The load generator (a child process of peers.bench.js, pinned by it): posts pre-encoded OTLP
// protobuf requests over keep-alive loopback connections, `concurrency` at a time, until every
// request is accepted or `maxMs` has passed. 429/503 are retried after Retry-After (as OTLP
// exporters do); a request counts as accepted only on a 2xx.
const fs = require('fs');
const http = require('http');

/** Upper bound on one back-off, whatever Retry-After says, so a bounded run stays bounded. */
const MAX_BACKOFF_MS = 1000;
const MIN_BACKOFF_MS = 20;

function post(agent, url, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, retryAfter: res.headers['retry-after'], body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Corpus files read once per process: the same payloads are posted to every system. */
const corpora = new Map();
function corpus(file, index) {
  if (!corpora.has(file)) corpora.set(file, { data: fs.readFileSync(file), offsets: JSON.parse(fs.readFileSync(index, 'utf8')) });
  return corpora.get(file);
}

async function run({ file, index, url, concurrency, maxMs }) {
  const { data, offsets } = corpus(file, index);
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const done = new Array(offsets.length).fill(0);
  let retries = 0;
  const failures = [];
  let next = 0;
  const t0 = Date.now();
  const deadline = t0 + maxMs;
  const worker = async () => {
    while (next < offsets.length && Date.now() < deadline) {
      const i = next++;
      const [off, len] = offsets[i];
      const body = data.subarray(off, off + len);
      while (Date.now() < deadline) {
        let res;
        try {
          res = await post(agent, url, body);
        } catch (e) {
          failures.push({ request: i, error: e.message });
          break;
        }
        if (res.status >= 200 && res.status < 300) {
          done[i] = Date.now();
          break;
        }
        if (res.status === 429 || res.status === 503) {
          retries++;
          const wait = Math.min(MAX_BACKOFF_MS, Math.max(MIN_BACKOFF_MS, Number(res.retryAfter) * 1000 || 0));
          await new Promise((r) => setTimeout(r, wait));
          continue;
        }
        failures.push({ request: i, status: res.status, body: res.body.toString('utf8', 0, 300) });
        break;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  agent.destroy();
  return { t0, tEnd: Date.now(), done, retries, failures: failures.slice(0, 20), failureCount: failures.length };
}

process.on('message', (msg) => {
  run(msg).then(
    (result) => process.send(result),
    (e) => process.send({ error: e.stack }),
  );
});

// Ends with the bench that started it, even when the bench was killed.
process.on('disconnect', () => process.exit(0));
