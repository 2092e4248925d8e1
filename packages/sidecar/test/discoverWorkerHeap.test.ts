/**
 * The discovery worker's bounded heap (MINING_HEAP_MB, DISCOVER_HEAP_MB): a run that needs more
 * fails with a message naming the setting instead of taking the machine's memory, and a source
 * that fails rejects the run with its own error. The real worker (built) and the real miner.
 */
import { MINING_HEAP_MB, Trace } from '@betrace/evaluator';
import { syntheticCorpus } from '../../evaluator/src/discover/synthetic';
import { loadConfig } from '../src/config';
import { discoveryWorkerFile, minerOnWorker, outOfHeapMessage } from '../src/discovery/mine';

const workerFile = discoveryWorkerFile();
if (workerFile === undefined) {
  throw new Error('the discovery worker is not built: run npm run build:packages');
}
const run = (heapMb: number, source: () => Iterable<Trace>) =>
  minerOnWorker(workerFile, heapMb)({ source, options: {}, signal: { aborted: false }, onProgress: () => {} });

test('DISCOVER_HEAP_MB defaults to the mining heap and is checked', () => {
  expect(loadConfig({}).discoverHeapMb).toBe(MINING_HEAP_MB.old);
  expect(loadConfig({ DISCOVER_HEAP_MB: '2048' }).discoverHeapMb).toBe(2048);
  expect(() => loadConfig({ DISCOVER_HEAP_MB: '16' })).toThrow(/DISCOVER_HEAP_MB.*64/);
});

test('a run that outgrows its heap fails naming DISCOVER_HEAP_MB', async () => {
  // 5 000 span names: the miner's statistics outgrow a 64 MiB old generation within a few thousand traces.
  const corpus = syntheticCorpus({ seed: 5, traces: 40_000, vocabulary: 5000, noise: 0 });
  await expect(run(64, () => corpus.traces())).rejects.toThrow(outOfHeapMessage(64));
}, 120_000);

test('the same small corpus mines to suggestions within the default heap', async () => {
  const corpus = syntheticCorpus({ seed: 5, traces: 2_000, vocabulary: 50, noise: 0 });
  const r = await run(MINING_HEAP_MB.old, () => corpus.traces());
  expect(r.traces).toBe(2_000);
  expect(r.suggestions.length).toBeGreaterThan(0);
}, 60_000);

class SourceBroke extends Error {}

test('a failing source rejects the run with its own error', async () => {
  const corpus = syntheticCorpus({ seed: 5, traces: 500, vocabulary: 50, noise: 0 });
  function* broken(): Iterable<Trace> {
    let n = 0;
    for (const t of corpus.traces()) {
      if (++n === 300) {
        throw new SourceBroke('trace file 3 is not OTLP/JSON');
      }
      yield t;
    }
  }
  await expect(run(MINING_HEAP_MB.old, broken)).rejects.toBeInstanceOf(SourceBroke);
}, 60_000);
