import { availableParallelism } from 'os';
import { MINING_HEAP_MB } from '@betrace/evaluator';
import { isInside } from './evidence/keys';
import { defaultReplicaId } from './leases';
import type { FsyncPolicy } from './ingest/log/log';

/** The most shard workers EVAL_WORKERS may ask for. */
export const MAX_EVAL_WORKERS = 64;

/**
 * The sidecar's configuration: one typed loader over environment variables with documented
 * defaults. A wrong value fails at start with the variable's name.
 */

export interface SidecarConfig {
  /** Bearer token for /api/v1; undefined: generated once and kept in the data folder. */
  apiToken: string | undefined;
  /** Bearer token for /metrics; undefined: /metrics is open (expose the port to Prometheus only). */
  metricsToken: string | undefined;
  dataDir: string;
  /**
   * DATABASE_URL: postgres://user:password@host:port/database for state in PostgreSQL (issue 12);
   * undefined: state is the SQLite file in DATA_DIR.
   */
  databaseUrl: string | undefined;
  /** PostgreSQL (DATABASE_URL): how long connecting may take, and PostgreSQL's statement_timeout (ms). */
  databaseConnectTimeoutMs: number;
  databaseStatementTimeoutMs: number;
  /** YAML rule files provisioned read-only (into the default tenant); undefined: none. */
  rulesDir: string | undefined;
  /** The tenants file (YAML); undefined: one tenant `default` from the plain variables. */
  tenantsFile: string | undefined;
  host: string;
  otlpPort: number;
  apiPort: number;
  decisionWaitMs: number;
  maxTraceAgeMs: number;
  maxBufferSpans: number;
  maxBufferBytes: number;
  maxBodyBytes: number;
  /** OTLP/gRPC receiver port (OTLP_GRPC_PORT); undefined: off. */
  otlpGrpcPort: number | undefined;
  otlpExportUrl: string | undefined;
  /**
   * Where signal and evidence spans are POSTed: OTLP_EXPORT_URL (a base URL or the full path), or
   * the standard OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (as given) / OTEL_EXPORTER_OTLP_ENDPOINT (+ /v1/traces).
   */
  otlpExportTracesUrl: string | undefined;
  /** OTEL_EXPORTER_OTLP_HEADERS and OTEL_EXPORTER_OTLP_TRACES_HEADERS (the latter wins per key). */
  otlpExportHeaders: Record<string, string>;
  /** OTEL_EXPORTER_OTLP_TRACES_TIMEOUT / OTEL_EXPORTER_OTLP_TIMEOUT (milliseconds, as the OpenTelemetry spec says); default 10 s. */
  otlpExportTimeoutMs: number;
  /** OTEL_EXPORTER_OTLP_(TRACES_)COMPRESSION=gzip. */
  otlpExportGzip: boolean;
  grafanaUrl: string | undefined;
  grafanaToken: string | undefined;
  webhookUrl: string | undefined;
  webhookSecret: string | undefined;
  webhookFormat: 'json' | 'slack';
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** `auto` (pretty on a terminal, JSON otherwise), `json` or `pretty`. */
  logFormat: 'auto' | 'json' | 'pretty';
  /** Pull mode is on whenever this is set. */
  tempoUrl: string | undefined;
  tempoOrgId: string | undefined;
  tempoToken: string | undefined;
  /** `user:password`. */
  tempoBasicAuth: string | undefined;
  pollIntervalMs: number;
  pollSettleMs: number;
  pollStartMs: number;
  /**
   * REPLICA_ID: this replica's name in the leases replicas sharing one store take on pull-mode
   * windows and replay jobs (src/leases.ts); default host name and pid. Two live replicas must not share one.
   */
  replicaId: string;
  /** PULL_LEASE: how long a lease on a pull window or replay job lasts without renewal: a dead replica's work is taken over after it. */
  pullLeaseMs: number;
  /** Gateway mode (`betrace serve --gateway`): accepted batches are forwarded to Tempo. */
  gateway: boolean;
  /** Tempo's OTLP/HTTP endpoint for gateway mode; undefined: TEMPO_URL's host on port 4318. */
  tempoOtlpUrl: string | undefined;
  /** Bound of the gateway's spool (batches not yet forwarded to Tempo). */
  gatewaySpoolBytes: number;
  /** Evidence: summary window, sample trace ids per summary, per-trace records for failures. */
  evidenceWindowMs: number;
  evidenceSamples: number;
  evidencePerTrace: boolean;
  /** Per-trace evidence records one trace may add (EVIDENCE_MAX_RECORDS_PER_TRACE); more are not written, the summaries still count the trace. */
  evidenceMaxRecordsPerTrace: number;
  /** Where generated and rotated evidence keys are kept (EVIDENCE_KEY_DIR; default: DATA_DIR-keys beside the data folder; undefined: in memory, for DATA_DIR=:memory:). Never inside the data folder. */
  evidenceKeyDir: string | undefined;
  /** Where chain-head anchors are appended (EVIDENCE_ANCHOR_DIR; default DATA_DIR-anchors); undefined: not written (DATA_DIR=:memory:). Never inside the data folder. */
  evidenceAnchorDir: string | undefined;
  /** How often a tenant's chain head is anchored when it moved (EVIDENCE_ANCHOR_INTERVAL). */
  evidenceAnchorIntervalMs: number;
  /** EVIDENCE_KMS=transit: keys made by the Vault/OpenBao transit engine (VAULT_ADDR, VAULT_TOKEN). */
  evidenceKms: { kind: 'transit'; url: string; token: string; mount: string; keyPrefix: string; namespace: string | undefined } | undefined;
  /** The ingest log (docs/ingest.md): when accepted batches are forced to disk, its bound, its segment size. */
  ingestFsync: FsyncPolicy;
  ingestLogMaxBytes: number;
  ingestLogSegmentBytes: number;
  /** Shard worker threads for push mode's assembly and evaluation (EVAL_WORKERS; 0: on the main thread). */
  evalWorkers: number;
  /** Per-trace evaluation budget in milliseconds (EVAL_BUDGET); rules not finished within it are "not evaluated: time-budget". */
  evalBudgetMs: number;
  /**
   * RULE_SYNC_MS: how often this replica reads the store's rules revisions and reloads the rules
   * of a tenant another replica changed (sharing one database, docs/scaling.md); 0: never (one sidecar).
   */
  ruleSyncMs: number;
  /** The history of recent traces (docs/history.md): its bound in bytes (0: no history) and its age limit. */
  historyMaxBytes: number;
  historyMaxAgeMs: number;
  /** The old-generation heap of the discovery worker in MiB (DISCOVER_HEAP_MB); a run that needs more fails, naming it. */
  discoverHeapMb: number;
  /**
   * The sidecar's own traces (docs/self-observability.md): SELF_TRACING=off (default) or otlp.
   * Their endpoint is SELF_OTLP_ENDPOINT, else the standard OTEL_EXPORTER_OTLP_TRACES_ENDPOINT /
   * OTEL_EXPORTER_OTLP_ENDPOINT, read for this only when SELF_TRACING=otlp (a user who sets those
   * for signal spans does not get the sidecar's own spans unasked).
   */
  selfTracing: 'off' | 'otlp';
  selfOtlpTracesUrl: string | undefined;
  /** SELF_OTLP_HEADERS with SELF_OTLP_ENDPOINT; else the standard OTEL_EXPORTER_OTLP_(TRACES_)HEADERS. */
  selfOtlpHeaders: Record<string, string>;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    detail: string,
  ) {
    super(`${variable}: ${detail}`);
    this.name = 'ConfigError';
  }
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * `500ms`, `10s`, `2m`, `1h`, `7d` → milliseconds. The unit is required: `DECISION_WAIT=10` meaning
 * 10 milliseconds, silently, is a trap (the author meant seconds), so a bare number is refused.
 */
export function parseDuration(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(text);
  if (!m) {
    return undefined;
  }
  return Math.round(Number(m[1]) * UNITS[m[2]]);
}

/** The complaint about a duration setting: a bare number is told it lacks a unit. */
export function durationProblem(text: string): string {
  return /^\s*\d+(?:\.\d+)?\s*$/.test(text)
    ? `a duration needs a unit (ms, s, m, h or d), such as ${text.trim()}s or ${text.trim()}ms; got ${JSON.stringify(text)}`
    : `expected a duration such as 500ms, 10s or 2m, got ${JSON.stringify(text)}`;
}

/** `10MiB`, `512KiB`, `4MB`, or a plain number of bytes. */
export function parseBytes(text: string): number | undefined {
  const m = /^\s*(\d+)\s*(B|KB|KiB|MB|MiB|GB|GiB)?\s*$/i.exec(text);
  if (!m) {
    return undefined;
  }
  const unit = (m[2] ?? 'B').toLowerCase();
  const factor: Record<string, number> = { b: 1, kb: 1e3, kib: 1024, mb: 1e6, mib: 1024 ** 2, gb: 1e9, gib: 1024 ** 3 };
  return Number(m[1]) * factor[unit];
}

type Env = Record<string, string | undefined>;

/** The documented defaults (README "Configuration"). */
export const DEFAULTS = {
  DATA_DIR: './data',
  /** Loopback: reachable from this machine only until HOST says otherwise (the image sets 0.0.0.0). */
  HOST: '127.0.0.1',
  OTLP_PORT: 4318,
  /** The OTLP/gRPC port when OTLP_PORT is left at its default; with OTLP_PORT set, gRPC is off unless OTLP_GRPC_PORT is set. */
  OTLP_GRPC_PORT: 4317,
  API_PORT: 3001,
  DECISION_WAIT: '10s',
  DATABASE_CONNECT_TIMEOUT: '5s',
  DATABASE_STATEMENT_TIMEOUT: '30s',
  MAX_TRACE_AGE: '60s',
  MAX_BUFFER_SPANS: 500_000,
  MAX_BUFFER_BYTES: '256MiB',
  MAX_BODY_BYTES: '16MiB',
  WEBHOOK_FORMAT: 'json',
  LOG_LEVEL: 'info',
  LOG_FORMAT: 'auto',
  POLL_INTERVAL: '30s',
  POLL_SETTLE: '2m',
  POLL_START: '15m',
  PULL_LEASE: '30s',
  GATEWAY_SPOOL_BYTES: '512MiB',
  EVIDENCE_WINDOW: '1m',
  EVIDENCE_SAMPLES: 10,
  EVIDENCE_PER_TRACE: 'failures',
  EVIDENCE_MAX_RECORDS_PER_TRACE: 64,
  EVIDENCE_ANCHOR_INTERVAL: '1m',
  EVIDENCE_TRANSIT_MOUNT: 'transit',
  EVIDENCE_TRANSIT_KEY: 'betrace-evidence',
  INGEST_FSYNC: 'always',
  INGEST_LOG_MAX_BYTES: '1GiB',
  INGEST_LOG_SEGMENT_BYTES: '16MiB',
  /** `auto`: one shard worker per core this process may run on (os.availableParallelism()). */
  EVAL_WORKERS: 'auto',
  EVAL_BUDGET: '1s',
  /** Milliseconds between two reads of the rules revisions: a rule change on one replica is in force on the others within it (plus a reload). */
  RULE_SYNC_MS: 1000,
  HISTORY_MAX_BYTES: '256MiB',
  HISTORY_MAX_AGE: '24h',
  SELF_TRACING: 'off',
} as const;

/** `always` (group commit, the default), `interval:<duration>` or `off`. */
export function parseFsyncPolicy(text: string): FsyncPolicy | undefined {
  if (text === 'always' || text === 'off') {
    return { mode: text };
  }
  const m = /^interval:(.+)$/.exec(text);
  const everyMs = m ? parseDuration(m[1]) : undefined;
  return everyMs !== undefined && everyMs > 0 ? { mode: 'interval', everyMs } : undefined;
}

/** `k1=v1,k2=v2` with URL-encoded values (the OpenTelemetry exporter spec's header format). */
export function parseOtlpHeaders(name: string, text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(',')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    const key = eq < 0 ? '' : part.slice(0, eq).trim();
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(key)) {
      throw new ConfigError(name, `expected key=value pairs separated by commas, got ${JSON.stringify(part.trim())}`);
    }
    let value: string;
    try {
      value = decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      throw new ConfigError(name, `the value of ${key} is not URL-encoded correctly`);
    }
    out[key.toLowerCase()] = value;
  }
  return out;
}

/**
 * BeTrace's own OTLP exporter (signal and evidence spans): OTLP_EXPORT_URL, else the standard
 * OTEL_EXPORTER_OTLP_* variables every OpenTelemetry user already sets.
 */
function otlpExport(
  url: (name: string) => string | undefined,
  str: (name: string) => string | undefined,
): Pick<SidecarConfig, 'otlpExportUrl' | 'otlpExportTracesUrl' | 'otlpExportHeaders' | 'otlpExportTimeoutMs' | 'otlpExportGzip'> {
  const own = url('OTLP_EXPORT_URL');
  const traces = url('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  const base = url('OTEL_EXPORTER_OTLP_ENDPOINT');
  const otlpExportUrl = own ?? traces ?? base;
  const otlpExportTracesUrl = own !== undefined ? (/\/v1\/traces$/.test(own) ? own : `${own}/v1/traces`) : traces ?? (base !== undefined ? `${base}/v1/traces` : undefined);
  const headers = (name: string) => {
    const v = str(name);
    return v === undefined ? {} : parseOtlpHeaders(name, v);
  };
  const timeoutName = str('OTEL_EXPORTER_OTLP_TRACES_TIMEOUT') !== undefined ? 'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT' : 'OTEL_EXPORTER_OTLP_TIMEOUT';
  const timeout = str(timeoutName);
  if (timeout !== undefined && (!/^\d+$/.test(timeout) || Number(timeout) <= 0)) {
    throw new ConfigError(timeoutName, `expected a whole number of milliseconds above 0 (the OpenTelemetry spec's unit), got ${JSON.stringify(timeout)}`);
  }
  const compressionName = str('OTEL_EXPORTER_OTLP_TRACES_COMPRESSION') !== undefined ? 'OTEL_EXPORTER_OTLP_TRACES_COMPRESSION' : 'OTEL_EXPORTER_OTLP_COMPRESSION';
  const compression = str(compressionName) ?? 'none';
  if (compression !== 'gzip' && compression !== 'none') {
    throw new ConfigError(compressionName, `expected gzip or none, got ${JSON.stringify(compression)}`);
  }
  return {
    otlpExportUrl,
    otlpExportTracesUrl,
    otlpExportHeaders: { ...headers('OTEL_EXPORTER_OTLP_HEADERS'), ...headers('OTEL_EXPORTER_OTLP_TRACES_HEADERS') },
    otlpExportTimeoutMs: timeout === undefined ? 10_000 : Number(timeout),
    otlpExportGzip: compression === 'gzip',
  };
}

/** DATABASE_URL checked for its form (a postgres URL naming a host and a database); undefined stays undefined. */
export function databaseUrl(v: string | undefined): string | undefined {
  if (v === undefined) {
    return undefined;
  }
  const expected = 'expected postgres://user:password@host:port/database';
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new ConfigError('DATABASE_URL', `${expected}, got something that is not a URL`);
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') {
    throw new ConfigError('DATABASE_URL', `${expected} (only PostgreSQL is supported), got a ${u.protocol}// URL`);
  }
  if (u.hostname === '' || u.pathname.replace(/^\/+/, '') === '') {
    throw new ConfigError('DATABASE_URL', `${expected}: the ${u.hostname === '' ? 'host' : 'database name'} is missing`);
  }
  return v;
}

/** REPLICA_ID checked (letters, digits, `.`, `_`, `:`, `-`; at most 128), or the default: host name and pid. */
export function replicaId(v: string | undefined): string {
  if (v === undefined) {
    return defaultReplicaId();
  }
  if (!/^[A-Za-z0-9._:-]{1,128}$/.test(v)) {
    throw new ConfigError('REPLICA_ID', `expected at most 128 letters, digits, '.', '_', ':' or '-', got ${JSON.stringify(v)}`);
  }
  return v;
}

export function loadConfig(env: Env): SidecarConfig {
  const str = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const v = str(name);
    if (v === undefined) {
      return fallback;
    }
    if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
      throw new ConfigError(name, `expected a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`);
    }
    return Number(v);
  };
  const duration = (name: string, fallback: string): number => {
    const v = str(name) ?? fallback;
    const ms = parseDuration(v);
    if (ms === undefined || ms <= 0) {
      throw new ConfigError(name, ms === undefined ? durationProblem(v) : `expected a duration such as 500ms, 10s or 2m, got ${JSON.stringify(v)}`);
    }
    return ms;
  };
  const bytes = (name: string, fallback: string | number): number => {
    const v = str(name) ?? String(fallback);
    const n = parseBytes(v);
    if (n === undefined || n <= 0) {
      throw new ConfigError(name, `expected a size such as 16MiB or 1048576, got ${JSON.stringify(v)}`);
    }
    return n;
  };
  const url = (name: string): string | undefined => {
    const v = str(name);
    if (v === undefined) {
      return undefined;
    }
    let parsed: URL;
    try {
      parsed = new URL(v);
    } catch {
      throw new ConfigError(name, `expected an http(s) URL, got ${JSON.stringify(v)}`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new ConfigError(name, `expected an http(s) URL, got ${JSON.stringify(v)}`);
    }
    return v.replace(/\/+$/, '');
  };
  const oneOf = <T extends string>(name: string, allowed: readonly T[], fallback: T): T => {
    const v = str(name) ?? fallback;
    if (!(allowed as readonly string[]).includes(v)) {
      throw new ConfigError(name, `expected one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
    }
    return v as T;
  };

  const workers = (): number => {
    const v = str('EVAL_WORKERS') ?? DEFAULTS.EVAL_WORKERS;
    if (v === 'auto') {
      return availableParallelism();
    }
    if (!/^\d+$/.test(v) || Number(v) > MAX_EVAL_WORKERS) {
      throw new ConfigError('EVAL_WORKERS', `expected auto or a whole number from 0 to ${MAX_EVAL_WORKERS}, got ${JSON.stringify(v)}`);
    }
    return Number(v);
  };

  // `0` or `off` turns the history off.
  const historyBytes = (): number => {
    const v = str('HISTORY_MAX_BYTES') ?? DEFAULTS.HISTORY_MAX_BYTES;
    if (v.toLowerCase() === 'off') {
      return 0;
    }
    const n = parseBytes(v);
    if (n === undefined) {
      throw new ConfigError('HISTORY_MAX_BYTES', `expected a size such as 256MiB, or 0 or off for no history, got ${JSON.stringify(v)}`);
    }
    return n;
  };

  const config: SidecarConfig = {
    apiToken: str('BETRACE_API_TOKEN'),
    metricsToken: str('METRICS_TOKEN'),
    dataDir: str('DATA_DIR') ?? DEFAULTS.DATA_DIR,
    databaseUrl: databaseUrl(str('DATABASE_URL')),
    databaseConnectTimeoutMs: duration('DATABASE_CONNECT_TIMEOUT', DEFAULTS.DATABASE_CONNECT_TIMEOUT),
    databaseStatementTimeoutMs: duration('DATABASE_STATEMENT_TIMEOUT', DEFAULTS.DATABASE_STATEMENT_TIMEOUT),
    rulesDir: str('RULES_DIR'),
    tenantsFile: str('TENANTS_FILE'),
    host: str('HOST') ?? DEFAULTS.HOST,
    otlpPort: int('OTLP_PORT', DEFAULTS.OTLP_PORT, 0, 65535),
    apiPort: int('API_PORT', DEFAULTS.API_PORT, 0, 65535),
    // 4317 beside the default 4318; whoever moves OTLP_PORT says where gRPC goes (or leaves it off).
    otlpGrpcPort: str('OTLP_GRPC_PORT') === 'off' ? undefined : str('OTLP_GRPC_PORT') !== undefined ? int('OTLP_GRPC_PORT', DEFAULTS.OTLP_GRPC_PORT, 0, 65535) : str('OTLP_PORT') === undefined ? DEFAULTS.OTLP_GRPC_PORT : undefined,
    decisionWaitMs: duration('DECISION_WAIT', DEFAULTS.DECISION_WAIT),
    maxTraceAgeMs: duration('MAX_TRACE_AGE', DEFAULTS.MAX_TRACE_AGE),
    maxBufferSpans: int('MAX_BUFFER_SPANS', DEFAULTS.MAX_BUFFER_SPANS, 1, 1e9),
    maxBufferBytes: bytes('MAX_BUFFER_BYTES', DEFAULTS.MAX_BUFFER_BYTES),
    maxBodyBytes: bytes('MAX_BODY_BYTES', DEFAULTS.MAX_BODY_BYTES),
    ...otlpExport(url, str),
    grafanaUrl: url('GRAFANA_URL'),
    grafanaToken: str('GRAFANA_TOKEN'),
    webhookUrl: url('WEBHOOK_URL'),
    webhookSecret: str('WEBHOOK_SECRET'),
    webhookFormat: oneOf('WEBHOOK_FORMAT', ['json', 'slack'] as const, DEFAULTS.WEBHOOK_FORMAT),
    logLevel: oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, DEFAULTS.LOG_LEVEL),
    logFormat: oneOf('LOG_FORMAT', ['auto', 'json', 'pretty'] as const, DEFAULTS.LOG_FORMAT),
    tempoUrl: url('TEMPO_URL'),
    tempoOrgId: str('TEMPO_ORG_ID'),
    tempoToken: str('TEMPO_TOKEN'),
    tempoBasicAuth: str('TEMPO_BASIC_AUTH'),
    pollIntervalMs: duration('POLL_INTERVAL', DEFAULTS.POLL_INTERVAL),
    pollSettleMs: duration('POLL_SETTLE', DEFAULTS.POLL_SETTLE),
    pollStartMs: duration('POLL_START', DEFAULTS.POLL_START),
    replicaId: replicaId(str('REPLICA_ID')),
    pullLeaseMs: duration('PULL_LEASE', DEFAULTS.PULL_LEASE),
    gateway: false,
    tempoOtlpUrl: url('TEMPO_OTLP_URL'),
    gatewaySpoolBytes: bytes('GATEWAY_SPOOL_BYTES', DEFAULTS.GATEWAY_SPOOL_BYTES),
    evidenceWindowMs: duration('EVIDENCE_WINDOW', DEFAULTS.EVIDENCE_WINDOW),
    evidenceSamples: int('EVIDENCE_SAMPLES', DEFAULTS.EVIDENCE_SAMPLES, 0, 1000),
    evidencePerTrace: oneOf('EVIDENCE_PER_TRACE', ['failures', 'off'] as const, DEFAULTS.EVIDENCE_PER_TRACE) === 'failures',
    evidenceMaxRecordsPerTrace: int('EVIDENCE_MAX_RECORDS_PER_TRACE', DEFAULTS.EVIDENCE_MAX_RECORDS_PER_TRACE, 1, 10_000),
    evidenceKeyDir: undefined,
    evidenceAnchorDir: undefined,
    evidenceAnchorIntervalMs: duration('EVIDENCE_ANCHOR_INTERVAL', DEFAULTS.EVIDENCE_ANCHOR_INTERVAL),
    evidenceKms: undefined,
    ingestFsync: { mode: 'always' },
    ingestLogMaxBytes: bytes('INGEST_LOG_MAX_BYTES', DEFAULTS.INGEST_LOG_MAX_BYTES),
    ingestLogSegmentBytes: bytes('INGEST_LOG_SEGMENT_BYTES', DEFAULTS.INGEST_LOG_SEGMENT_BYTES),
    evalWorkers: workers(),
    evalBudgetMs: duration('EVAL_BUDGET', DEFAULTS.EVAL_BUDGET),
    ruleSyncMs: int('RULE_SYNC_MS', DEFAULTS.RULE_SYNC_MS, 0, 3_600_000),
    historyMaxBytes: historyBytes(),
    historyMaxAgeMs: duration('HISTORY_MAX_AGE', DEFAULTS.HISTORY_MAX_AGE),
    discoverHeapMb: int('DISCOVER_HEAP_MB', MINING_HEAP_MB.old, 64, 1 << 20),
    selfTracing: oneOf('SELF_TRACING', ['off', 'otlp'] as const, DEFAULTS.SELF_TRACING),
    selfOtlpTracesUrl: undefined,
    selfOtlpHeaders: {},
  };
  if (config.pullLeaseMs < 1000) {
    throw new ConfigError('PULL_LEASE', `expected at least 1s (a lease must outlast a Tempo request), got ${JSON.stringify(str('PULL_LEASE'))}`);
  }
  if (config.selfTracing === 'otlp') {
    const own = url('SELF_OTLP_ENDPOINT');
    if (own !== undefined) {
      config.selfOtlpTracesUrl = /\/v1\/traces$/.test(own) ? own : `${own}/v1/traces`;
      const headers = str('SELF_OTLP_HEADERS');
      config.selfOtlpHeaders = headers === undefined ? {} : parseOtlpHeaders('SELF_OTLP_HEADERS', headers);
    } else {
      const traces = url('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
      const base = url('OTEL_EXPORTER_OTLP_ENDPOINT');
      config.selfOtlpTracesUrl = traces ?? (base !== undefined ? `${base}/v1/traces` : undefined);
      config.selfOtlpHeaders = config.otlpExportHeaders;
    }
    if (config.selfOtlpTracesUrl === undefined) {
      throw new ConfigError('SELF_OTLP_ENDPOINT', 'is required with SELF_TRACING=otlp (an OTLP/HTTP endpoint such as http://collector:4318), unless OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set');
    }
  }
  const fsync = str('INGEST_FSYNC') ?? DEFAULTS.INGEST_FSYNC;
  const policy = parseFsyncPolicy(fsync);
  if (policy === undefined) {
    throw new ConfigError('INGEST_FSYNC', `expected always, interval:<duration> (such as interval:100ms) or off, got ${JSON.stringify(fsync)}`);
  }
  config.ingestFsync = policy;
  if (config.ingestLogMaxBytes < 2 * config.ingestLogSegmentBytes) {
    throw new ConfigError('INGEST_LOG_MAX_BYTES', `must be at least twice INGEST_LOG_SEGMENT_BYTES (${config.ingestLogSegmentBytes} bytes), got ${config.ingestLogMaxBytes} bytes`);
  }
  if (config.ingestLogMaxBytes < config.maxBodyBytes) {
    throw new ConfigError('INGEST_LOG_MAX_BYTES', `must be at least MAX_BODY_BYTES (${config.maxBodyBytes} bytes), got ${config.ingestLogMaxBytes} bytes`);
  }
  if (config.tempoBasicAuth !== undefined && !config.tempoBasicAuth.includes(':')) {
    throw new ConfigError('TEMPO_BASIC_AUTH', 'expected user:password');
  }
  if (config.maxTraceAgeMs < config.decisionWaitMs) {
    throw new ConfigError('MAX_TRACE_AGE', `must be at least DECISION_WAIT (${config.decisionWaitMs} ms), got ${config.maxTraceAgeMs} ms`);
  }
  // Evidence keys and anchors are what a copy or a writer of the data folder must not have or rewrite.
  const beside = (variable: string, suffix: string): string | undefined => {
    const given = str(variable);
    if (given === undefined) {
      return config.dataDir === ':memory:' ? undefined : `${config.dataDir.replace(/[/\\]+$/, '')}-${suffix}`;
    }
    if (config.dataDir !== ':memory:' && isInside(given, config.dataDir)) {
      throw new ConfigError(variable, `must be outside DATA_DIR (${config.dataDir}): whoever can write the data folder must not reach it`);
    }
    return given;
  };
  config.evidenceKeyDir = beside('EVIDENCE_KEY_DIR', 'keys');
  config.evidenceAnchorDir = beside('EVIDENCE_ANCHOR_DIR', 'anchors');
  const kms = oneOf('EVIDENCE_KMS', ['none', 'transit'] as const, 'none');
  if (kms === 'transit') {
    const addr = url('VAULT_ADDR');
    const vaultToken = str('VAULT_TOKEN');
    if (addr === undefined) {
      throw new ConfigError('VAULT_ADDR', 'is required with EVIDENCE_KMS=transit (the Vault or OpenBao address, e.g. https://vault.example:8200)');
    }
    if (vaultToken === undefined) {
      throw new ConfigError('VAULT_TOKEN', 'is required with EVIDENCE_KMS=transit (a token allowed to create, read, rotate and hmac with the transit keys)');
    }
    const keyPrefix = str('EVIDENCE_TRANSIT_KEY') ?? DEFAULTS.EVIDENCE_TRANSIT_KEY;
    if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,40}$/.test(keyPrefix)) {
      throw new ConfigError('EVIDENCE_TRANSIT_KEY', `expected letters, digits, '-' and '_' (at most 41), got ${JSON.stringify(keyPrefix)}`);
    }
    config.evidenceKms = {
      kind: 'transit',
      url: addr.replace(/\/+$/, ''),
      token: vaultToken,
      mount: str('EVIDENCE_TRANSIT_MOUNT') ?? DEFAULTS.EVIDENCE_TRANSIT_MOUNT,
      keyPrefix,
      namespace: str('VAULT_NAMESPACE'),
    };
  }
  if (config.grafanaUrl !== undefined && config.grafanaToken === undefined) {
    throw new ConfigError('GRAFANA_TOKEN', 'is required when GRAFANA_URL is set (a service-account token with annotations:create)');
  }
  return config;
}
