import { availableParallelism } from 'os';
import { ConfigError, loadConfig, parseDuration } from '../src/config';
import { defaultReplicaId } from '../src/leases';

describe('loadConfig', () => {
  it('has documented defaults', () => {
    expect(loadConfig({})).toEqual({
      apiToken: undefined,
      metricsToken: undefined,
      dataDir: './data',
      discoverHeapMb: 512,
      databaseUrl: undefined,
      databaseConnectTimeoutMs: 5_000,
      databaseStatementTimeoutMs: 30_000,
      rulesDir: undefined,
      tenantsFile: undefined,
      host: '127.0.0.1',
      otlpPort: 4318,
      apiPort: 3001,
      decisionWaitMs: 10_000,
      maxTraceAgeMs: 60_000,
      maxBufferSpans: 500_000,
      maxBufferBytes: 256 * 1024 * 1024,
      maxBodyBytes: 16 * 1024 * 1024,
      otlpGrpcPort: 4317,
      otlpExportUrl: undefined,
      otlpExportTracesUrl: undefined,
      otlpExportHeaders: {},
      otlpExportTimeoutMs: 10_000,
      otlpExportGzip: false,
      grafanaUrl: undefined,
      grafanaToken: undefined,
      webhookUrl: undefined,
      webhookSecret: undefined,
      webhookFormat: 'json',
      logLevel: 'info',
      logFormat: 'auto',
      tempoUrl: undefined,
      tempoOrgId: undefined,
      tempoToken: undefined,
      tempoBasicAuth: undefined,
      pollIntervalMs: 30_000,
      pollSettleMs: 120_000,
      pollStartMs: 900_000,
      pullLeaseMs: 30_000,
      replicaId: defaultReplicaId(),
      gateway: false,
      tempoOtlpUrl: undefined,
      gatewaySpoolBytes: 512 * 1024 * 1024,
      evidenceWindowMs: 60_000,
      evidenceSamples: 10,
      evidencePerTrace: true,
      evidenceMaxRecordsPerTrace: 64,
      evidenceKeyDir: './data-keys',
      evidenceAnchorDir: './data-anchors',
      evidenceAnchorIntervalMs: 60_000,
      evidenceKms: undefined,
      ingestFsync: { mode: 'always' },
      ingestLogMaxBytes: 1024 ** 3,
      ingestLogSegmentBytes: 16 * 1024 * 1024,
      evalWorkers: availableParallelism(),
      evalBudgetMs: 1000,
      ruleSyncMs: 1000,
      historyMaxBytes: 256 * 1024 * 1024,
      historyMaxAgeMs: 24 * 3_600_000,
      selfTracing: 'off',
      selfOtlpTracesUrl: undefined,
      selfOtlpHeaders: {},
    });
  });

  it('reads the history bounds: a size, 0 or off for no history, and an age in up to days', () => {
    expect(loadConfig({ HISTORY_MAX_BYTES: '1GiB', HISTORY_MAX_AGE: '7d' })).toMatchObject({ historyMaxBytes: 1024 ** 3, historyMaxAgeMs: 7 * 86_400_000 });
    expect(loadConfig({ HISTORY_MAX_BYTES: '0' }).historyMaxBytes).toBe(0);
    expect(loadConfig({ HISTORY_MAX_BYTES: 'off' }).historyMaxBytes).toBe(0);
    expect(loadConfig({ HISTORY_MAX_BYTES: 'OFF' }).historyMaxBytes).toBe(0);
    expect(loadConfig({ HISTORY_MAX_AGE: '90m' }).historyMaxAgeMs).toBe(90 * 60_000);
    expect(() => loadConfig({ HISTORY_MAX_BYTES: 'lots' })).toThrow('HISTORY_MAX_BYTES: expected a size such as 256MiB, or 0 or off for no history, got "lots"');
    expect(() => loadConfig({ HISTORY_MAX_BYTES: '-1MiB' })).toThrow(ConfigError);
    expect(() => loadConfig({ HISTORY_MAX_AGE: '0' })).toThrow('HISTORY_MAX_AGE: a duration needs a unit (ms, s, m, h or d), such as 0s or 0ms; got "0"');
    expect(() => loadConfig({ HISTORY_MAX_AGE: 'a week' })).toThrow(ConfigError);
  });

  it('takes EVAL_WORKERS as auto (one per core) or a count, 0 meaning the main thread, and EVAL_BUDGET as a duration', () => {
    expect(loadConfig({ EVAL_WORKERS: 'auto' }).evalWorkers).toBe(availableParallelism());
    expect(loadConfig({ EVAL_WORKERS: '0' }).evalWorkers).toBe(0);
    expect(loadConfig({ EVAL_WORKERS: '3' }).evalWorkers).toBe(3);
    expect(() => loadConfig({ EVAL_WORKERS: '65' })).toThrow('EVAL_WORKERS: expected auto or a whole number from 0 to 64, got "65"');
    expect(() => loadConfig({ EVAL_WORKERS: 'many' })).toThrow(ConfigError);
    expect(loadConfig({ EVAL_BUDGET: '250ms' }).evalBudgetMs).toBe(250);
    expect(() => loadConfig({ EVAL_BUDGET: '0s' })).toThrow('EVAL_BUDGET: expected a duration');
  });

  it('takes REPLICA_ID as a name (default host name and pid) and PULL_LEASE as a duration of at least a second', () => {
    expect(defaultReplicaId()).toMatch(new RegExp(`-${process.pid}$`));
    expect(loadConfig({ REPLICA_ID: 'betrace-0', PULL_LEASE: '1m' })).toMatchObject({ replicaId: 'betrace-0', pullLeaseMs: 60_000 });
    expect(() => loadConfig({ REPLICA_ID: 'two words' })).toThrow(`REPLICA_ID: expected at most 128 letters, digits, '.', '_', ':' or '-', got "two words"`);
    expect(() => loadConfig({ REPLICA_ID: 'x'.repeat(129) })).toThrow(ConfigError);
    expect(() => loadConfig({ PULL_LEASE: '500ms' })).toThrow('PULL_LEASE: expected at least 1s (a lease must outlast a Tempo request), got "500ms"');
  });

  it('takes RULE_SYNC_MS as whole milliseconds, 0 meaning no rule sync, and refuses anything else naming it', () => {
    expect(loadConfig({ RULE_SYNC_MS: '250' }).ruleSyncMs).toBe(250);
    expect(loadConfig({ RULE_SYNC_MS: '0' }).ruleSyncMs).toBe(0);
    expect(() => loadConfig({ RULE_SYNC_MS: '1s' })).toThrow('RULE_SYNC_MS: expected a whole number from 0 to 3600000, got "1s"');
    expect(() => loadConfig({ RULE_SYNC_MS: '3600001' })).toThrow(ConfigError);
  });

  it('reads the ingest log policy and refuses a bad one, naming the variable', () => {
    expect(loadConfig({ INGEST_FSYNC: 'interval:100ms' }).ingestFsync).toEqual({ mode: 'interval', everyMs: 100 });
    expect(loadConfig({ INGEST_FSYNC: 'off' }).ingestFsync).toEqual({ mode: 'off' });
    expect(() => loadConfig({ INGEST_FSYNC: 'sometimes' })).toThrow('INGEST_FSYNC: expected always, interval:<duration> (such as interval:100ms) or off, got "sometimes"');
    expect(() => loadConfig({ INGEST_FSYNC: 'interval:0' })).toThrow(ConfigError);
    expect(() => loadConfig({ INGEST_LOG_MAX_BYTES: '20MiB', INGEST_LOG_SEGMENT_BYTES: '16MiB' })).toThrow(/^INGEST_LOG_MAX_BYTES: must be at least twice INGEST_LOG_SEGMENT_BYTES/);
    expect(() => loadConfig({ INGEST_LOG_MAX_BYTES: '8MiB', INGEST_LOG_SEGMENT_BYTES: '1MiB' })).toThrow(/^INGEST_LOG_MAX_BYTES: must be at least MAX_BODY_BYTES/);
  });

  it('reads durations, sizes and URLs', () => {
    const c = loadConfig({ DECISION_WAIT: '500ms', MAX_TRACE_AGE: '2m', MAX_BODY_BYTES: '4MiB', GRAFANA_URL: 'http://grafana:3000/', GRAFANA_TOKEN: 'glsa_x' });
    expect([c.decisionWaitMs, c.maxTraceAgeMs, c.maxBodyBytes, c.grafanaUrl]).toEqual([500, 120_000, 4 * 1024 * 1024, 'http://grafana:3000']);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('10 s')).toBe(10_000);
    expect(parseDuration('ten')).toBeUndefined();
    expect(parseDuration('10')).toBeUndefined();
  });

  it('reads the standard OTEL_EXPORTER_OTLP_* variables for its own exporter, OTLP_EXPORT_URL first', () => {
    const base = loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' });
    expect([base.otlpExportUrl, base.otlpExportTracesUrl, base.otlpExportTimeoutMs, base.otlpExportGzip]).toEqual(['http://collector:4318', 'http://collector:4318/v1/traces', 10_000, false]);
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://tempo:4318/custom/traces' }).otlpExportTracesUrl).toBe('http://tempo:4318/custom/traces');
    expect(loadConfig({ OTLP_EXPORT_URL: 'http://tempo:4318', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).otlpExportTracesUrl).toBe('http://tempo:4318/v1/traces');
    expect(loadConfig({}).otlpExportTracesUrl).toBeUndefined();
    const tuned = loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Basic%20eDp5, x-a=1', OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-a=2', OTEL_EXPORTER_OTLP_TIMEOUT: '2500', OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: 'gzip' });
    expect([tuned.otlpExportHeaders, tuned.otlpExportTimeoutMs, tuned.otlpExportGzip]).toEqual([{ authorization: 'Basic eDp5', 'x-a': '2' }, 2500, true]);
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_HEADERS: 'no-equals-sign' })).toThrow('OTEL_EXPORTER_OTLP_HEADERS: expected key=value pairs separated by commas, got "no-equals-sign"');
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_TIMEOUT: '10s' })).toThrow('OTEL_EXPORTER_OTLP_TIMEOUT: expected a whole number of milliseconds above 0');
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_COMPRESSION: 'zstd' })).toThrow('OTEL_EXPORTER_OTLP_COMPRESSION: expected gzip or none, got "zstd"');
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toThrow('OTEL_EXPORTER_OTLP_ENDPOINT: expected an http(s) URL');
  });

  it('refuses a duration without a unit, saying it needs one', () => {
    expect(() => loadConfig({ DECISION_WAIT: '10' })).toThrow('DECISION_WAIT: a duration needs a unit (ms, s, m, h or d), such as 10s or 10ms; got "10"');
    expect(() => loadConfig({ EVAL_BUDGET: '1.5' })).toThrow('EVAL_BUDGET: a duration needs a unit');
    expect(() => loadConfig({ INGEST_FSYNC: 'interval:100' })).toThrow(/^INGEST_FSYNC: /);
    expect(loadConfig({ DECISION_WAIT: '10s' }).decisionWaitMs).toBe(10_000);
    expect(loadConfig({ DATABASE_CONNECT_TIMEOUT: '2s', DATABASE_STATEMENT_TIMEOUT: '1m' })).toMatchObject({ databaseConnectTimeoutMs: 2_000, databaseStatementTimeoutMs: 60_000 });
    expect(() => loadConfig({ DATABASE_STATEMENT_TIMEOUT: '30' })).toThrow('DATABASE_STATEMENT_TIMEOUT: a duration needs a unit');
  });

  it.each<[Record<string, string>, string]>([
    [{ OTLP_PORT: 'abc' }, 'OTLP_PORT: expected a whole number from 0 to 65535, got "abc"'],
    [{ API_PORT: '70000' }, 'API_PORT: expected a whole number from 0 to 65535, got "70000"'],
    [{ DECISION_WAIT: '10 parsecs' }, 'DECISION_WAIT: expected a duration such as 500ms, 10s or 2m, got "10 parsecs"'],
    [{ DECISION_WAIT: '2m', MAX_TRACE_AGE: '1m' }, 'MAX_TRACE_AGE: must be at least DECISION_WAIT (120000 ms), got 60000 ms'],
    [{ OTLP_EXPORT_URL: 'tempo:4318' }, 'OTLP_EXPORT_URL: expected an http(s) URL, got "tempo:4318"'],
    [{ GRAFANA_URL: 'http://g' }, 'GRAFANA_TOKEN: is required when GRAFANA_URL is set (a service-account token with annotations:create)'],
    [{ WEBHOOK_FORMAT: 'teams' }, 'WEBHOOK_FORMAT: expected one of json, slack, got "teams"'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent, got "loud"'],
    [{ TEMPO_URL: 'tempo' }, 'TEMPO_URL: expected an http(s) URL, got "tempo"'],
    [{ TEMPO_URL: 'http://tempo:3200', TEMPO_BASIC_AUTH: 'nopassword' }, 'TEMPO_BASIC_AUTH: expected user:password'],
    [{ POLL_SETTLE: 'soon' }, 'POLL_SETTLE: expected a duration such as 500ms, 10s or 2m, got "soon"'],
    [{ MAX_BUFFER_BYTES: 'lots' }, 'MAX_BUFFER_BYTES: expected a size such as 16MiB or 1048576, got "lots"'],
    [{ EVIDENCE_WINDOW: '0s' }, 'EVIDENCE_WINDOW: expected a duration such as 500ms, 10s or 2m, got "0s"'],
    [{ EVIDENCE_PER_TRACE: 'all' }, 'EVIDENCE_PER_TRACE: expected one of failures, off, got "all"'],
  ])('fails on %j naming the variable', (env, message) => {
    let error: unknown;
    try {
      loadConfig(env);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(message);
  });
});
