import { availableParallelism } from 'os';
import { ConfigError, loadConfig, MAX_EVAL_WORKERS, parseDuration } from '../src/config';

describe('loadConfig', () => {
  it('has documented defaults', () => {
    expect(loadConfig({})).toEqual({
      apiToken: undefined,
      metricsToken: undefined,
      dataDir: './data',
      rulesDir: undefined,
      tenantsFile: undefined,
      host: '0.0.0.0',
      otlpPort: 4318,
      apiPort: 3001,
      decisionWaitMs: 10_000,
      maxTraceAgeMs: 60_000,
      maxBufferSpans: 500_000,
      maxBufferBytes: 256 * 1024 * 1024,
      maxBodyBytes: 16 * 1024 * 1024,
      otlpExportUrl: undefined,
      grafanaUrl: undefined,
      grafanaToken: undefined,
      webhookUrl: undefined,
      webhookSecret: undefined,
      webhookFormat: 'json',
      logLevel: 'info',
      tempoUrl: undefined,
      tempoOrgId: undefined,
      tempoToken: undefined,
      tempoBasicAuth: undefined,
      pollIntervalMs: 30_000,
      pollSettleMs: 120_000,
      pollStartMs: 900_000,
      gateway: false,
      tempoOtlpUrl: undefined,
      gatewaySpoolBytes: 512 * 1024 * 1024,
      evidenceWindowMs: 60_000,
      evidenceSamples: 10,
      evidencePerTrace: true,
      evalWorkers: Math.min(64, availableParallelism()),
      maxSpansPerTrace: 50_000,
      evalBudgetMs: 2_000,
      evalHardLimitMs: 10_000,
    });
  });

  it('takes EVAL_WORKERS from 0 (on the main thread) up to the limit, and no more', () => {
    expect(loadConfig({ EVAL_WORKERS: '0' }).evalWorkers).toBe(0);
    expect(loadConfig({ EVAL_WORKERS: String(MAX_EVAL_WORKERS) }).evalWorkers).toBe(MAX_EVAL_WORKERS);
    expect(() => loadConfig({ EVAL_WORKERS: String(MAX_EVAL_WORKERS + 1) })).toThrow(`EVAL_WORKERS: expected a whole number from 0 to ${MAX_EVAL_WORKERS}, got "${MAX_EVAL_WORKERS + 1}"`);
    expect(loadConfig({ MAX_SPANS_PER_TRACE: '1', EVAL_BUDGET: '10s', EVAL_HARD_LIMIT: '10s' })).toMatchObject({ maxSpansPerTrace: 1, evalBudgetMs: 10_000, evalHardLimitMs: 10_000 });
  });

  it('reads durations, sizes and URLs', () => {
    const c = loadConfig({ DECISION_WAIT: '500ms', MAX_TRACE_AGE: '2m', MAX_BODY_BYTES: '4MiB', GRAFANA_URL: 'http://grafana:3000/', GRAFANA_TOKEN: 'glsa_x' });
    expect([c.decisionWaitMs, c.maxTraceAgeMs, c.maxBodyBytes, c.grafanaUrl]).toEqual([500, 120_000, 4 * 1024 * 1024, 'http://grafana:3000']);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('10 s')).toBe(10_000);
    expect(parseDuration('ten')).toBeUndefined();
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
    [{ MAX_SPANS_PER_TRACE: '0' }, 'MAX_SPANS_PER_TRACE: expected a whole number from 1 to 1000000000, got "0"'],
    [{ EVAL_BUDGET: '0ms' }, 'EVAL_BUDGET: expected a duration such as 500ms, 10s or 2m, got "0ms"'],
    [{ EVAL_BUDGET: '5s', EVAL_HARD_LIMIT: '4s' }, 'EVAL_HARD_LIMIT: must be at least EVAL_BUDGET (5000 ms), got 4000 ms'],
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
