#!/usr/bin/env node
/**
 * One pull-mode replica in its own process, over the built sidecar (dist): its own connection to
 * a shared SQLite store, its own Tempo client and poller, for pullLeases.test.ts's
 * several-processes test. `node leaseReplica.js <db file> <tempo url> <replica id> <now ms> <start ms>`:
 * sets up, prints `ready`, waits for a line on stdin (so the replicas start together), polls once
 * with the clock fixed at <now ms>, and prints the windows it searched, the traces it fetched and
 * its poll's result as one JSON line.
 */
const path = require('path');
const readline = require('readline');
const dist = path.join(__dirname, '../../dist');
const pino = require('pino');
const { Store } = require(path.join(dist, 'store'));
const { RuleRegistry } = require(path.join(dist, 'rules'));
const { Metrics } = require(path.join(dist, 'metrics'));
const { Pipeline } = require(path.join(dist, 'pipeline'));
const { Redactor, storedHashKey } = require(path.join(dist, 'redact'));
const { DEFAULT_REDACTION } = require(path.join(dist, 'tenants'));
const { TempoClient } = require(path.join(dist, 'tempo/client'));
const { TempoPoller } = require(path.join(dist, 'tempo/poller'));

async function main() {
  const [file, url, replica, nowText, startText] = process.argv.slice(2);
  const now = () => Number(nowText);
  const log = pino({ level: 'silent' });
  const store = new Store(file);
  const rules = new RuleRegistry(store);
  const metrics = new Metrics();
  const redactor = new Redactor(DEFAULT_REDACTION, storedHashKey(store));
  const pipeline = new Pipeline(store, rules, metrics, [], log, now, () => redactor);
  const client = new TempoClient({ url });
  const windows = new Set();
  const fetched = [];
  const search = client.search.bind(client);
  client.search = async (q) => {
    windows.add(`${q.start}-${q.end}`);
    return search(q);
  };
  const trace = client.trace.bind(client);
  client.trace = async (id) => {
    fetched.push(id);
    return trace(id);
  };
  const poller = new TempoPoller({ tenant: 'default', client, store, rules, pipeline, log, lag: metrics.pollLag, now, settleMs: 120_000, startMs: Number(startText), replica, leaseMs: 30_000 });
  process.stdout.write('ready\n');
  const lines = readline.createInterface({ input: process.stdin });
  await new Promise((resolve) => lines.once('line', resolve));
  lines.close();
  const result = await poller.pollOnce();
  store.close();
  // Exit once the line is out: the Tempo client's keep-alive connections would hold the process open.
  process.stdout.write(`${JSON.stringify({ replica, windows: [...windows].map((w) => w.split('-').map(Number)), fetched, result })}\n`, () => process.exit(0));
}

main().catch((e) => {
  process.stderr.write(`${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
