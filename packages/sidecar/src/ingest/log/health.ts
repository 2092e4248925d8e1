/**
 * Whether the sidecar can write what it accepts: the ingest log's file system and the store.
 * A write that fails for lack of space or a broken disk (ENOSPC, EROFS, EIO, SQLITE_FULL,
 * SQLITE_IOERR, SQLITE_READONLY, …), or a PostgreSQL store that cannot take it (unreachable,
 * shutting down, disk full: POSTGRES_UNAVAILABLE), turns ingest unavailable: the receiver answers 503 with
 * Retry-After, /readyz answers 503, and a probe writes a little to both every PROBE_EVERY_MS
 * until they take it again, when ingest resumes by itself.
 */
import type { Logger } from 'pino';
import { Counter, Gauge, Registry } from 'prom-client';
import { POSTGRES_UNAVAILABLE } from '../../db/sql';

/** How often an unavailable storage is probed, and the Retry-After given meanwhile. */
export const PROBE_EVERY_MS = 1000;
export const UNAVAILABLE_RETRY_AFTER_S = 5;

const FS_CODES = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'EIO', 'EFBIG']);
const SQLITE_PREFIXES = ['SQLITE_FULL', 'SQLITE_IOERR', 'SQLITE_READONLY', 'SQLITE_CANTOPEN'];

/** The error's code when it says the disk cannot take the write (not a bug, not bad input). */
export function storageErrorCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') {
    return undefined;
  }
  if (FS_CODES.has(code)) {
    return code;
  }
  if (code === POSTGRES_UNAVAILABLE) {
    return code;
  }
  const prefix = SQLITE_PREFIXES.find((p) => code.startsWith(p));
  return prefix;
}

/** Thrown where storage is known to be unavailable, instead of trying a write that would fail. */
export class StorageUnavailable extends Error {
  readonly code = 'STORAGE_UNAVAILABLE';
}

export type StorageComponent = 'log' | 'store';

export class StorageHealth {
  private failure: { component: StorageComponent; reason: string; message: string } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private probing = false;
  private stopped = false;
  private readonly errors: Counter<'component' | 'reason'>;
  private readonly unavailable: Gauge;

  constructor(
    registry: Registry,
    private readonly log: Logger,
    /** Writes a little to the log's file system and to the store; throws when either cannot take it. */
    private readonly probe: () => Promise<void>,
  ) {
    this.errors = new Counter({
      name: 'betrace_storage_errors_total',
      help: 'Writes the ingest log or the store could not make (full, read-only or failing disk), by component and reason (the error code).',
      labelNames: ['component', 'reason'],
      registers: [registry],
    });
    this.unavailable = new Gauge({ name: 'betrace_storage_unavailable', help: '1 while ingest is refused because the disk or the store cannot be written.', registers: [registry] });
  }

  get healthy(): boolean {
    return this.failure === undefined;
  }

  /** What failed, for /readyz and logs. */
  get problem(): string | undefined {
    return this.failure && `${this.failure.component}: ${this.failure.reason}`;
  }

  /**
   * Looks at an error from a write: a storage error turns ingest unavailable (counted, logged
   * once) and returns true; anything else returns false and is the caller's to handle.
   */
  failed(component: StorageComponent, e: unknown): boolean {
    const reason = storageErrorCode(e);
    if (reason === undefined) {
      return e instanceof StorageUnavailable;
    }
    this.errors.inc({ component, reason });
    if (this.failure === undefined) {
      this.failure = { component, reason, message: (e as Error).message };
      this.unavailable.set(1);
      this.log.error({ component, reason, err: e }, 'storage cannot be written: refusing ingest (503) until a probe write succeeds');
      this.schedule();
    }
    return true;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Probes once now (tests; the loop does it on its own). */
  async probeNow(): Promise<boolean> {
    if (this.failure === undefined || this.probing) {
      return this.failure === undefined;
    }
    this.probing = true;
    try {
      await this.probe();
      this.log.info({ was: this.problem }, 'storage can be written again: accepting ingest');
      this.failure = undefined;
      this.unavailable.set(0);
      return true;
    } catch (e) {
      const reason = storageErrorCode(e);
      if (reason === undefined) {
        this.log.warn({ err: e }, 'storage probe failed');
      }
      return false;
    } finally {
      this.probing = false;
    }
  }

  private schedule(): void {
    if (this.timer !== undefined || this.stopped) {
      return;
    }
    const loop = () => {
      void this.probeNow().then((ok) => {
        this.timer = ok || this.stopped ? undefined : setTimeout(loop, PROBE_EVERY_MS);
        this.timer?.unref();
      });
    };
    this.timer = setTimeout(loop, PROBE_EVERY_MS);
    this.timer.unref();
  }
}
