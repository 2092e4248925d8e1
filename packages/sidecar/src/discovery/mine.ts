/**
 * Running the miner for the sidecar. Mining is CPU-heavy (two passes over up to a week of traces,
 * then candidate scoring), and the sidecar's main thread serves ingest and the API: so the miner
 * runs on a worker thread (worker.ts), fed batches of traces by the main thread, which keeps the
 * I/O (history reads, Tempo requests). Where no built worker exists (the sources run directly) it
 * runs here instead, yielding to the event loop between traces every few milliseconds.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { DiscoverAborted, discoverInvariants, DiscoverProgress, DiscoveryResult, MINING_HEAP_MB, Trace, TraceSource } from '@betrace/evaluator';
import type { DiscoveryWorkerData, FromWorker, ToWorker, WorkerOptions } from './protocol';
import { batches } from './sources';

export interface MineRequest {
  source: TraceSource;
  options: WorkerOptions;
  signal: { readonly aborted: boolean };
  onProgress: (progress: DiscoverProgress) => void;
}

export type Miner = (request: MineRequest) => Promise<DiscoveryResult>;

/** Traces per message to the worker: big enough that a message costs little, small enough to keep the main thread's turns short. */
export const BATCH_TRACES = 64;
/** How long a cancelled worker may take to notice before it is terminated. */
const CANCEL_GRACE_MS = 5_000;

/** Where the discovery worker's code is: beside this file when built; run from sources (jest), the build's. */
export function discoveryWorkerFile(): string | undefined {
  for (const file of [path.join(__dirname, 'worker.js'), path.join(__dirname, '../../dist/discovery/worker.js')]) {
    if (fs.existsSync(file)) {
      return file;
    }
  }
  return undefined;
}

/** The miner on this thread, yielding to the event loop at least every `sliceMs` of reading traces. */
export function minerHere(sliceMs = 10): Miner {
  return async ({ source, options, signal, onProgress }) => {
    const yielding: TraceSource = async function* () {
      let since = performance.now();
      for await (const t of source()) {
        yield t;
        if (performance.now() - since >= sliceMs) {
          await new Promise((resolve) => setImmediate(resolve));
          since = performance.now();
        }
      }
    };
    const { dismissed, ...rest } = options;
    return discoverInvariants(yielding, { ...rest, dismissed: new Set(dismissed ?? []), signal, onProgress });
  };
}

type Pulled = { ok: true; value: IteratorResult<Trace[]> } | { ok: false; error: Error };

/** The message of a run whose worker outgrew its heap. */
export function outOfHeapMessage(heapMb: number): string {
  return `discovery needed more than its ${heapMb} MiB heap (DISCOVER_HEAP_MB): mine a shorter time range, or raise DISCOVER_HEAP_MB`;
}

/**
 * The miner on a worker thread of `file` (one worker per run, ended when the run is), its V8 heap
 * bounded (MINING_HEAP_MB: `heapMb` for the old generation). A source that fails rejects the run
 * with its own error (a bad trace file is told from a crash by its type).
 */
export function minerOnWorker(file: string, heapMb: number = MINING_HEAP_MB.old): Miner {
  return ({ source, options, signal, onProgress }) =>
    new Promise<DiscoveryResult>((resolve, reject) => {
      const abort = new SharedArrayBuffer(4);
      const flag = new Int32Array(abort);
      const data: DiscoveryWorkerData = { options, abort };
      const worker = new Worker(file, {
        workerData: data,
        name: 'betrace-discovery',
        resourceLimits: { maxOldGenerationSizeMb: heapMb, maxYoungGenerationSizeMb: MINING_HEAP_MB.young },
      });
      let finished = false;
      let sourceError: Error | undefined;
      let cancelTimer: NodeJS.Timeout | undefined;
      // The pass the worker reads, and the next batch of it, read ahead while the worker mines the last one.
      let current: { pass: number; it: AsyncIterator<Trace[]>; ahead: Promise<Pulled> } | undefined;
      const pull = (it: AsyncIterator<Trace[]>): Promise<Pulled> =>
        it.next().then(
          (value) => ({ ok: true as const, value }),
          (error: unknown) => ({ ok: false as const, error: error instanceof Error ? error : new Error(String(error)) }),
        );
      const end = (outcome: () => void) => {
        if (finished) {
          return;
        }
        finished = true;
        clearInterval(watch);
        clearTimeout(cancelTimer);
        void current?.it.return?.();
        void worker.terminate();
        outcome();
      };
      // The job's cancel flag, passed on to the worker: its miner checks it between traces.
      const watch = setInterval(() => {
        if (signal.aborted && Atomics.load(flag, 0) === 0) {
          Atomics.store(flag, 0, 1);
          cancelTimer = setTimeout(() => end(() => reject(new DiscoverAborted())), CANCEL_GRACE_MS);
        }
      }, 50);
      const post = (m: ToWorker) => {
        if (!finished) worker.postMessage(m);
      };
      worker.on('message', (m: FromWorker) => {
        switch (m.type) {
          case 'next': {
            if (current === undefined || current.pass !== m.pass) {
              void current?.it.return?.();
              const it = batches(source, BATCH_TRACES)[Symbol.asyncIterator]();
              current = { pass: m.pass, it, ahead: pull(it) };
            }
            const reading = current;
            void reading.ahead.then((got) => {
              if (!got.ok) {
                sourceError = got.error;
                post({ type: 'source-error', pass: m.pass, message: got.error.message });
                return;
              }
              if (got.value.done) {
                post({ type: 'batch', pass: m.pass, traces: [], done: true });
                return;
              }
              reading.ahead = pull(reading.it);
              post({ type: 'batch', pass: m.pass, traces: got.value.value, done: false });
            });
            return;
          }
          case 'progress':
            onProgress(m.progress);
            return;
          case 'result':
            end(() => resolve(m.result));
            return;
          case 'error':
            end(() => reject(m.aborted ? new DiscoverAborted() : (sourceError ?? new Error(m.message))));
            return;
        }
      });
      worker.on('error', (e: Error & { code?: string }) => end(() => reject(e.code === 'ERR_WORKER_OUT_OF_MEMORY' ? new Error(outOfHeapMessage(heapMb)) : e)));
      worker.on('exit', (code) => end(() => reject(new Error(`the discovery worker exited with code ${code}`))));
    });
}
