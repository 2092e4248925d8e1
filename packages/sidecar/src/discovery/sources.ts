/**
 * Where discovery reads its traces: OTLP/JSON files (the CLI), a time range of Tempo (the CLI and
 * the API), or the sidecar's own trace history (the API, without Tempo). Each is a TraceSource:
 * the miner calls it once per pass and reads the traces again, so none of them keeps the traces
 * of a pass in memory.
 */
import type { Trace, TraceSource } from '@betrace/evaluator';
import type { Logger } from 'pino';
import { readTraceFile } from '../commands/test';
import type { TempoClient } from '../tempo/client';
import { searchAll } from '../tempo/scan';

/** The sidecar's on-disk trace history, as discovery reads it (src/history). */
export interface TraceHistory {
  /**
   * The tenant's traces of [fromMs, toMs), read again on each call of the source (one pass each),
   * redacted by the tenant's policy; reading stops once `cancelled` says so.
   */
  source(tenant: string, fromMs: number, toMs: number, options?: { cancelled?: () => boolean }): TraceSource;
  /** One trace by id, when the history can look it up directly (else discovery scans the range). */
  trace?(tenant: string, traceId: string): Trace | undefined | Promise<Trace | undefined>;
}

/** A file that is not OTLP/JSON: which file, and the decoder's message. */
export class TraceFileError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'TraceFileError';
  }
}

/**
 * The traces of OTLP/JSON files, read again on every pass, one file in memory at a time.
 * `shown(file)` names a file in errors.
 */
export function fileSource(files: readonly string[], shown: (file: string) => string = (f) => f): TraceSource {
  return function* () {
    for (const file of files) {
      let traces: Trace[];
      try {
        traces = readTraceFile(file);
      } catch (e) {
        throw new TraceFileError(shown(file), (e as Error).message);
      }
      yield* traces;
    }
  };
}

export interface TempoSourceOptions {
  /** Search windows (default 5 minutes), split further while a search is saturated. */
  windowMs?: number;
  /** Hits per search (default 200). */
  limit?: number;
  log: Logger;
  /** Counted as the source works (searches on the first pass, traces fetched on every pass). */
  counters?: { searches: number; tracesFetched: number };
  /** Checked between traces: a cancelled job stops fetching. */
  cancelled?: () => boolean;
}

/**
 * Every trace of [fromMs, toMs) in Tempo: the ids are listed once (TraceQL `{}` per window,
 * saturated windows split as replay splits them) and each trace is fetched by id on every pass.
 * A trace Tempo lists but cannot return is skipped.
 */
export function tempoSource(client: TempoClient, fromMs: number, toMs: number, options: TempoSourceOptions): TraceSource & { ids(): Promise<string[]> } {
  const windowMs = options.windowMs ?? 5 * 60_000;
  const limit = options.limit ?? 200;
  const counters = options.counters ?? { searches: 0, tracesFetched: 0 };
  let listed: Promise<string[]> | undefined;
  const ids = (): Promise<string[]> => {
    listed ??= (async () => {
      const seen = new Set<string>();
      for (let w = fromMs; w < toMs; w += windowMs) {
        if (options.cancelled?.()) {
          break;
        }
        for (const id of await searchAll(client, '{}', w, Math.min(w + windowMs, toMs), limit, options.log, counters)) {
          seen.add(id);
        }
      }
      return [...seen].sort();
    })();
    return listed;
  };
  const source = async function* (): AsyncIterable<Trace> {
    for (const id of await ids()) {
      if (options.cancelled?.()) {
        return;
      }
      const trace = await client.trace(id);
      counters.tracesFetched++;
      if (trace !== undefined) {
        yield trace;
      }
    }
  };
  return Object.assign(source, { ids });
}

/** A source in batches of up to `size` traces: what crosses to the mining worker in one message. */
export async function* batches(source: TraceSource, size: number): AsyncIterable<Trace[]> {
  let batch: Trace[] = [];
  for await (const t of source()) {
    batch.push(t);
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) {
    yield batch;
  }
}
