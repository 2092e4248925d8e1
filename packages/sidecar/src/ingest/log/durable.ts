/**
 * Durable ingest, wired: the ingest log, storage health, recovery at start, the evaluation of a
 * trace as one unit with its decision, and log truncation. The receiver appends each batch here
 * before it answers 2xx; the shards' decisions come back through commit(); a timer
 * deletes segments no held trace needs any more.
 */
import { promises as fsp } from 'fs';
import * as path from 'path';
import type { Logger } from 'pino';
import { Counter, Gauge, Registry } from 'prom-client';
import type { Decision } from '../shards/core';
import type { Shards } from '../shards/shards';
import type { Store } from '../../store';
import { StorageHealth, UNAVAILABLE_RETRY_AFTER_S } from './health';
import { CrashHook, FsyncPolicy, IngestLog } from './log';
import type { BatchRecord } from './record';

/** How often segments no held trace needs are deleted (and the log's gauges refreshed). */
export const TRUNCATE_EVERY_MS = 1000;
/** What a storage probe writes, to each of the log's file system and the store: room for more than a byte. */
export const PROBE_BYTES = 64 * 1024;

export interface DurableIngestOptions {
  /** The log's directory; undefined: no log (DATA_DIR=:memory:, nothing survives a restart anyway). */
  dir: string | undefined;
  fsync: FsyncPolicy;
  segmentBytes: number;
  maxBytes: number;
  store: Store;
  /** Evidence observations collect in memory: flushed inside each evaluation's transaction. */
  evidence: { flush(): void };
  registry: Registry;
  log: Logger;
  now: () => number;
  crash?: CrashHook;
  /** The history of recent traces: takes the segments the log lets go, and wants them closed after rollAfterMs. */
  history?: { retire(file: string): Promise<void>; rollAfterMs: number };
}

/** BETRACE_TEST_CRASH_AT=<point>:<n>: SIGKILL the process the n-th time it reaches <point> (crash tests only). */
export function crashHookFrom(env: Record<string, string | undefined>): CrashHook | undefined {
  const spec = env.BETRACE_TEST_CRASH_AT;
  const m = spec === undefined ? null : /^([a-z.-]+):(\d+)$/.exec(spec);
  if (m === null) {
    return undefined;
  }
  const [, point, nth] = m;
  let hits = 0;
  return {
    at: (p) => p === point && ++hits === Number(nth),
    die: () => {
      process.kill(process.pid, 'SIGKILL');
      throw new Error('unreachable: SIGKILL');
    },
  };
}

export class DurableIngest {
  readonly health: StorageHealth;
  private log: IngestLog | undefined;
  private timer: NodeJS.Timeout | undefined;
  private truncating = false;
  private readonly logBytes: Gauge;
  private readonly logSegments: Gauge;
  private readonly recovered: Counter;
  private readonly tornBytes: Counter;

  constructor(private readonly options: DurableIngestOptions) {
    const registers = [options.registry];
    this.health = new StorageHealth(options.registry, options.log, () => this.probe());
    this.logBytes = new Gauge({ name: 'betrace_ingest_log_bytes', help: 'Bytes in the ingest log (accepted batches whose traces are still held).', registers });
    this.logSegments = new Gauge({ name: 'betrace_ingest_log_segments', help: 'Segment files of the ingest log.', registers });
    this.recovered = new Counter({ name: 'betrace_ingest_log_recovered_batches_total', help: 'Batches read back from the ingest log at start and buffered again.', registers });
    this.tornBytes = new Counter({ name: 'betrace_ingest_log_torn_bytes_total', help: 'Bytes of torn (incomplete) records cut off the ingest log at start.', registers });
  }

  /** Whether 2xx answers are backed by the log (false with DATA_DIR=:memory:). */
  get durable(): boolean {
    return this.options.dir !== undefined;
  }

  /**
   * Opens the log and hands every batch it holds to the shards again (`dispatch`), with its
   * idempotency keys and signatures; traces decided before the crash are held as evaluated, the
   * rest are evaluated anew. Runs before the receiver listens.
   */
  async recover(shards: Shards, dispatch: (batch: BatchRecord, position: number, at: number) => void, knownTenant: (id: string) => boolean): Promise<void> {
    if (this.options.dir === undefined) {
      return;
    }
    const { log: logger, store } = this.options;
    const history = this.options.history;
    this.log = await IngestLog.open({
      dir: this.options.dir,
      fsync: this.options.fsync,
      segmentBytes: this.options.segmentBytes,
      maxBytes: this.options.maxBytes,
      crash: this.options.crash,
      retire: history && ((file) => history.retire(file)),
      rollAfterMs: history?.rollAfterMs,
      now: this.options.now,
    });
    const now = this.options.now();
    let skipped = 0;
    const { batches, cutBytes } = await this.log.recover((batch, position) => {
      if (!knownTenant(batch.tenant)) {
        skipped++;
        return;
      }
      const live = batch.remember.filter((k) => k.expiresAt > now);
      if (live.length > 0) {
        store.rememberIngest(batch.tenant, live, batch.receivedAt);
      }
      dispatch(batch, position, Math.min(batch.receivedAt, now));
    });
    const decided = new Map(store.decidedTraces().map((d) => [`${d.tenant}\u0000${d.traceId}`, d.position]));
    const settled = await shards.settle(decided);
    this.recovered.inc(batches - skipped);
    this.tornBytes.inc(cutBytes);
    if (batches > 0 || cutBytes > 0) {
      logger.info({ batches, skipped, decided: settled, tornBytes: cutBytes }, 'ingest log read back: accepted batches are buffered again; undecided traces will be evaluated');
    }
    if (skipped > 0) {
      logger.warn({ batches: skipped }, 'ingest log: batches of tenants no longer configured were not buffered again');
    }
    this.refreshGauges();
  }

  /** Starts deleting segments no held trace needs. */
  start(shards: Shards): void {
    this.timer = setInterval(() => void this.truncate(shards), TRUNCATE_EVERY_MS);
    this.timer.unref();
  }

  /** Refusal details when nothing more can be accepted now (storage unavailable, log full), else undefined. */
  unavailable(bytes: number): { reason: 'storage_unavailable' | 'log_full'; message: string; retryAfterSeconds: number } | undefined {
    if (!this.health.healthy) {
      return { reason: 'storage_unavailable', message: `the disk or the store cannot be written (${this.health.problem}); retry later`, retryAfterSeconds: UNAVAILABLE_RETRY_AFTER_S };
    }
    if (this.log !== undefined && !this.log.hasRoom(bytes)) {
      return { reason: 'log_full', message: 'the ingest log is full (traces are still buffered for evaluation); retry later', retryAfterSeconds: Math.max(1, Math.ceil(TRUNCATE_EVERY_MS / 1000)) };
    }
    return undefined;
  }

  /** Makes a batch durable; resolves with its log position (undefined without a log). Rejects as IngestLog.append does. */
  async append(batch: BatchRecord): Promise<number | undefined> {
    if (this.log === undefined) {
      return undefined;
    }
    try {
      const position = await this.log.append(batch);
      this.refreshGauges();
      return position;
    } catch (e) {
      this.health.failed('log', e);
      throw e;
    }
  }

  /**
   * Records evaluated traces (`record`: the pipeline) as one transaction with their evidence
   * counts and the record that each was decided up to its position. When the store cannot take
   * them, nothing of them stays: all are returned, to be evaluated again (the log keeps their
   * spans). A failure that is not the store's (a bug) is logged per trace and not retried.
   */
  commit(decisions: readonly Decision[], record: (d: Decision) => void): readonly Decision[] {
    if (!this.health.healthy) {
      return decisions;
    }
    const { store, crash } = this.options;
    try {
      store.db.transaction(() => {
        for (const d of decisions) {
          record(d);
          if (d.position !== undefined) {
            store.markDecided(d.tenant, d.outcome.traceId, d.position);
          }
        }
        this.options.evidence.flush();
        // Crash tests count traces, not transactions (how many share one depends on timing).
        if (crash !== undefined && decisions.some(() => crash.at('evaluate.before-commit'))) {
          crash.die();
        }
      })();
    } catch (e) {
      if (this.health.failed('store', e)) {
        return decisions;
      }
      if (decisions.length > 1) {
        // One bad trace must not hold up the others: one transaction each.
        return decisions.flatMap((d) => this.commit([d], record));
      }
      // A bug or a bad rule, not the disk: trying again would fail the same way forever.
      this.options.log.error({ err: e, tenant: decisions[0]?.tenant, traceId: decisions[0]?.outcome.traceId }, 'recording an evaluated trace failed');
      return [];
    }
    if (crash !== undefined && decisions.some(() => crash.at('evaluate.after-commit'))) {
      crash.die();
    }
    return [];
  }

  /** Deletes segments below the oldest position any held trace needs, and decisions about them. */
  async truncate(shards: Shards): Promise<void> {
    if (this.log === undefined || this.truncating) {
      return;
    }
    this.truncating = true;
    try {
      const deleted = await this.log.truncate(shards.oldestPosition());
      if (deleted > 0 && this.health.healthy) {
        this.options.store.pruneDecided(this.log.firstPosition);
      }
    } catch (e) {
      if (!this.health.failed('store', e)) {
        this.options.log.warn({ err: e }, 'truncating the ingest log failed; the next round tries again');
      }
    } finally {
      this.truncating = false;
      this.refreshGauges();
    }
  }

  /** After the drain: deletes what is no longer needed and closes the log. */
  async close(shards: Shards): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.health.stop();
    if (this.log !== undefined) {
      await this.truncate(shards);
      await this.log.close();
    }
  }

  private refreshGauges(): void {
    this.logBytes.set(this.log?.bytes ?? 0);
    this.logSegments.set(this.log?.segments ?? 0);
  }

  /** Writes (and forces to disk) a little to the log's directory and to the store; throws when either cannot. */
  private async probe(): Promise<void> {
    if (this.options.dir !== undefined) {
      const file = path.join(this.options.dir, 'probe.tmp');
      try {
        const fh = await fsp.open(file, 'w');
        try {
          await fh.write(Buffer.alloc(PROBE_BYTES));
          await fh.datasync();
        } finally {
          await fh.close();
        }
      } finally {
        await fsp.rm(file, { force: true });
      }
    }
    this.options.store.probeWrite(this.options.now(), PROBE_BYTES);
  }
}
