/**
 * A discovery worker thread: runs the miner (discoverInvariants, CPU-heavy) off the main thread,
 * so a discovery over a day of traces never stalls ingest or the API. Its traces come from the
 * main thread in batches (protocol.ts); nothing here touches the store, the disk or the network.
 */
import { parentPort, workerData } from 'worker_threads';
import { DiscoverAborted, discoverInvariants, Trace } from '@betrace/evaluator';
import type { DiscoveryWorkerData, FromWorker, ToWorker } from './protocol';

const port = parentPort;
if (port === null) {
  throw new Error('discovery/worker runs as a worker thread of the sidecar');
}
const data = workerData as DiscoveryWorkerData;
const abort = new Int32Array(data.abort);
const signal = {
  get aborted(): boolean {
    return Atomics.load(abort, 0) === 1;
  },
};
const send = (m: FromWorker) => port.postMessage(m);

/** Replies of the main thread, by pass, waited for in order. */
let waiting: ((m: ToWorker) => void) | undefined;
port.on('message', (m: ToWorker) => {
  const w = waiting;
  waiting = undefined;
  w?.(m);
});
const ask = (pass: number): Promise<ToWorker> =>
  new Promise((resolve) => {
    waiting = resolve;
    send({ type: 'next', pass });
  });

let passes = 0;
async function* pass(): AsyncIterable<Trace> {
  const n = ++passes;
  for (;;) {
    const m = await ask(n);
    if (m.type === 'source-error') {
      throw new Error(m.message);
    }
    yield* m.traces;
    if (m.done) {
      return;
    }
  }
}

const { dismissed, ...options } = data.options;
discoverInvariants(pass, {
  ...options,
  dismissed: new Set(dismissed ?? []),
  signal,
  onProgress: (progress) => send({ type: 'progress', progress }),
}).then(
  (result) => send({ type: 'result', result }),
  (e: unknown) => send({ type: 'error', message: e instanceof Error ? e.message : String(e), aborted: e instanceof DiscoverAborted || signal.aborted }),
);
