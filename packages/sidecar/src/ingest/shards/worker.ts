/**
 * A shard worker thread: assembles and evaluates the traces of its shard (ShardCore), compiling
 * the rules the main thread sends. Its clock is the main thread's, as of the last message, so a
 * test's clock and the sidecar's agree. Nothing here touches the store or the disk.
 */
import { parentPort, workerData } from 'worker_threads';
import { deserialize, serialize } from 'v8';
import { compileRule, Trace } from '@betrace/evaluator';
import type { ActiveRule } from '../../rules';
import { DropReason, spanCount } from '../assembler';
import { Decision, ShardCore } from './core';
import type { FromShard, ShardWorkerData, ToShard } from './protocol';
import { decodeJsonHere, ShardPart, tracesByShard } from './shards';

const port = parentPort;
if (port === null) {
  throw new Error('ingest/shards/worker runs as a worker thread of the sidecar');
}
const data = workerData as ShardWorkerData;
let clock = data.now;
const rules = new Map<string, ActiveRule[]>();
let drops = new Map<DropReason, number>();
let duplicates = new Map<string, number>();

/** Bytes that are the whole of their ArrayBuffer (so it can be transferred), copied when they are not. */
const owned = (b: Uint8Array): Uint8Array => (b.byteOffset === 0 && b.buffer.byteLength === b.length ? b : new Uint8Array(b));

/** BETRACE_TEST_CRASH_AT=shard.evaluate:<n> (crash tests only): this worker dies as it evaluates its n-th trace. */
const crashAt = /^shard\.evaluate:(\d+)$/.exec(process.env.BETRACE_TEST_CRASH_AT ?? '');
let evaluations = 0;

const core = new ShardCore({
  decisionWaitMs: data.decisionWaitMs,
  maxTraceAgeMs: data.maxTraceAgeMs,
  maxSpans: data.maxSpans,
  maxBytes: data.maxBytes,
  holdEvaluatedMs: data.holdEvaluatedMs,
  budgetMs: data.budgetMs,
  now: () => clock,
  rulesOf: (tenant) => {
    if (crashAt !== null && ++evaluations === Number(crashAt[1])) {
      process.exit(1); // ends this thread, as a crash of the worker would
    }
    return rules.get(tenant) ?? [];
  },
  onDrop: (reason, spans) => drops.set(reason, (drops.get(reason) ?? 0) + spans),
  onDuplicate: (tenant, spans) => duplicates.set(tenant, (duplicates.get(tenant) ?? 0) + spans),
});

const reply = (id: number, decisions: Decision[], settled = 0) => {
  const m: FromShard = { type: 'reply', id, decisions, settled, state: core.state(), drops: [...drops], duplicates: [...duplicates] };
  drops = new Map();
  duplicates = new Map();
  port.postMessage(m);
};

port.on('message', (m: ToShard) => {
  try {
    switch (m.type) {
      case 'rules': {
        const compiled: ActiveRule[] = [];
        for (const spec of m.rules) {
          const r = compileRule(spec.definition).rule;
          if (r !== undefined) {
            compiled.push({ compiled: r, version: spec.version });
          }
        }
        rules.set(m.tenant, compiled);
        return;
      }
      case 'json': {
        const decoded = decodeJsonHere(m.body);
        if ('error' in decoded) {
          port.postMessage({ type: 'json', id: m.id, error: decoded.error } satisfies FromShard);
          return;
        }
        const parts: ShardPart[] = [...tracesByShard(decoded.traces, m.shards)].map(([shard, traces]) => ({ shard, bytes: owned(serialize(traces)), spans: spanCount(traces), traceIds: traces.map((t) => t.traceId) }));
        port.postMessage({ type: 'json', id: m.id, parts, spanCount: spanCount(decoded.traces) } satisfies FromShard, parts.map((p) => p.bytes.buffer as ArrayBuffer));
        return;
      }
      case 'add':
        clock = Math.max(clock, m.at);
        if (m.proto !== undefined) {
          core.addProtobuf(m.tenant, m.proto, m.bytes, m.position, m.at);
        } else if (m.serialized !== undefined) {
          core.add(m.tenant, deserialize(m.serialized) as Trace[], m.bytes, m.position, m.at);
        } else {
          core.add(m.tenant, m.traces ?? [], m.bytes, m.position, m.at);
        }
        return;
      case 'tick':
        clock = m.now;
        reply(m.id, core.tick());
        return;
      case 'drain':
        clock = m.now;
        reply(m.id, core.drain());
        return;
      case 'reopen':
        clock = m.now;
        for (const [tenant, traceId] of m.traces) {
          core.reopen(tenant, traceId);
        }
        return;
      case 'settle':
        clock = m.now;
        reply(m.id, [], core.settle(new Map(m.decided)));
        return;
    }
  } catch (e) {
    const message: FromShard = { type: 'error', message: e instanceof Error ? (e.stack ?? e.message) : String(e) };
    port.postMessage(message);
  }
});
