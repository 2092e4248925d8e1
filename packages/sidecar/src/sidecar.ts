/**
 * Wiring in one place: createSidecar(config) builds the store, rules, trace assembly, pipeline,
 * OTLP receiver and API, and returns something to start and stop. No singletons, no module
 * state: tests build whole sidecars in-process on random ports.
 */
import { randomBytes } from 'crypto';
import * as path from 'path';
import type { FastifyInstance } from 'fastify';
import pino, { Logger } from 'pino';
import { buildApi } from './api';
import type { SidecarConfig } from './config';
import { TraceAssembler } from './ingest/assembler';
import { buildReceiver } from './ingest/receiver';
import { Metrics } from './metrics';
import { Pipeline } from './pipeline';
import { Redactor, storedHashKey } from './redact';
import { RuleRegistry } from './rules';
import { Store } from './store';
import { TempoClient, TempoMetrics } from './tempo/client';
import { TempoPoller } from './tempo/poller';
import { DEFAULT_REDACTION } from './tenants';
import { ReplayRunner } from './replay';
import { GrafanaAnnotationWriter, OtlpSignalWriter, OutboxDispatcher, SignalWriter, WebhookWriter } from './writers';

export const DEFAULT_TENANT = 'default';
export const VERSION = '0.1.0';

export interface SidecarDeps {
  now?: () => number;
  logger?: Logger;
  /** How often trace assembly looks for traces that are due (default: a quarter of decision_wait, at most 1 s). */
  tickMs?: number;
  /** How often writers look at their outbox (default 1 s), and their first retry delay (default 1 s). */
  writerIntervalMs?: number;
  writerBaseDelayMs?: number;
  /** How often pull mode polls Tempo (default POLL_INTERVAL); 0: never on its own (tests call pollOnce). */
  pollIntervalMs?: number;
}

export interface Sidecar {
  readonly store: Store;
  readonly metrics: Metrics;
  readonly assembler: TraceAssembler;
  readonly pipeline: Pipeline;
  readonly rules: RuleRegistry;
  readonly token: string;
  /** One per configured writer; tests drive them with runOnce(). */
  readonly dispatchers: readonly OutboxDispatcher[];
  /** Pull mode (when TEMPO_URL is set); tests drive it with pollOnce(). */
  readonly poller: TempoPoller | undefined;
  readonly tempo: TempoClient | undefined;
  readonly replay: ReplayRunner | undefined;
  /** Whether the token was generated now (first start on this data folder). */
  readonly tokenGenerated: boolean;
  start(): Promise<{ otlpPort: number; apiPort: number }>;
  /** Drains: stops accepting, evaluates what is buffered, closes the servers and the store. */
  stop(): Promise<void>;
}

export function createSidecar(config: SidecarConfig, deps: SidecarDeps = {}): Sidecar {
  const now = deps.now ?? Date.now;
  const log = deps.logger ?? pino({ level: config.logLevel, name: 'betrace' });
  const store = new Store(config.dataDir === ':memory:' ? ':memory:' : path.join(config.dataDir, 'betrace.db'));
  const metrics = new Metrics();
  const rules = new RuleRegistry(store);
  const tenant = DEFAULT_TENANT;

  let token = config.apiToken ?? store.getSetting('api_token');
  let tokenGenerated = false;
  if (token === undefined) {
    token = randomBytes(24).toString('base64url');
    store.setSetting('api_token', token);
    tokenGenerated = true;
  }

  // One redaction policy per tenant, applied by the pipeline and every writer (the default tenant's for now).
  const redactor = new Redactor(DEFAULT_REDACTION, storedHashKey(store));
  const redactorOf = (_tenant: string) => redactor;

  // Writers (OTLP signal spans, Grafana annotations, webhooks) each get an outbox row per signal.
  const writerList: SignalWriter[] = [];
  if (config.otlpExportUrl) {
    writerList.push(new OtlpSignalWriter(config.otlpExportUrl, VERSION, (t, ruleId) => store.getRule(t, ruleId)?.definition.compliance ?? [], redactorOf));
  }
  if (config.grafanaUrl && config.grafanaToken) {
    writerList.push(new GrafanaAnnotationWriter(config.grafanaUrl, config.grafanaToken, store, redactorOf));
  }
  if (config.webhookUrl) {
    writerList.push(new WebhookWriter(config.webhookUrl, config.webhookFormat, config.webhookSecret, redactorOf));
  }
  const dispatchers = writerList.map((w) => new OutboxDispatcher(store, w, { now, log, metrics, baseDelayMs: deps.writerBaseDelayMs }));

  const pipeline = new Pipeline(store, rules, metrics, writerList.map((w) => w.name), log, now, redactorOf);

  let tempo: TempoClient | undefined;
  let poller: TempoPoller | undefined;
  let replay: ReplayRunner | undefined;
  if (config.tempoUrl) {
    const tempoMetrics = new TempoMetrics(metrics.registry);
    tempo = new TempoClient({
      url: config.tempoUrl,
      orgId: config.tempoOrgId,
      bearerToken: config.tempoToken,
      basicAuth: config.tempoBasicAuth,
      metrics: tempoMetrics,
    });
    poller = new TempoPoller({
      tenant,
      client: tempo,
      store,
      rules,
      pipeline,
      log,
      lag: metrics.pollLag,
      now,
      settleMs: config.pollSettleMs,
      startMs: config.pollStartMs,
    });
    // Replay gets its own low-concurrency client: a long replay never starves the live poller.
    const replayClient = new TempoClient({
      url: config.tempoUrl,
      orgId: config.tempoOrgId,
      bearerToken: config.tempoToken,
      basicAuth: config.tempoBasicAuth,
      concurrency: 1,
      metrics: tempoMetrics,
    });
    replay = new ReplayRunner(replayClient, pipeline, log, now);
  }
  const assembler = new TraceAssembler({
    decisionWaitMs: config.decisionWaitMs,
    maxTraceAgeMs: config.maxTraceAgeMs,
    maxSpans: config.maxBufferSpans,
    maxBytes: config.maxBufferBytes,
    now,
    onReady: (t, trace) => {
      try {
        pipeline.evaluate(t, trace, 'push');
      } catch (e) {
        log.error({ err: e, traceId: trace.traceId }, 'evaluating a trace failed');
      }
    },
    onDrop: (reason, spans) => metrics.tracesDropped.inc({ reason }, spans),
  });

  let accepting = true;
  let rulesLoaded = false;
  let receiver: FastifyInstance | undefined;
  let api: FastifyInstance | undefined;
  let timer: NodeJS.Timeout | undefined;

  return {
    store,
    metrics,
    assembler,
    pipeline,
    rules,
    token,
    tokenGenerated,
    dispatchers,
    poller,
    tempo,
    replay,
    async start() {
      if (config.rulesDir) {
        const { rules: n, files } = rules.provision(tenant, config.rulesDir, now());
        log.info({ rulesDir: config.rulesDir, rules: n, files }, 'rules provisioned');
      }
      rules.active(tenant);
      rulesLoaded = true;
      receiver = buildReceiver({ maxBodyBytes: config.maxBodyBytes, tenant, assembler, metrics, log, accepting: () => accepting });
      api = buildApi({ token: token!, tenant, store, rules, metrics, log, now, ready: () => rulesLoaded && store.db.open && accepting, version: VERSION, tempo, replay, redactor });
      await receiver.listen({ port: config.otlpPort, host: config.host });
      await api.listen({ port: config.apiPort, host: config.host });
      const tickMs = deps.tickMs ?? Math.min(1000, Math.max(10, Math.floor(config.decisionWaitMs / 4)));
      timer = setInterval(() => {
        assembler.tick();
        metrics.bufferSpans.set(assembler.bufferedSpans);
      }, tickMs);
      timer.unref();
      for (const d of dispatchers) {
        d.start(deps.writerIntervalMs ?? 1000);
      }
      if (poller && deps.pollIntervalMs !== 0) {
        poller.start(deps.pollIntervalMs ?? config.pollIntervalMs);
        log.info({ tempo: config.tempoUrl, orgId: config.tempoOrgId }, 'pull mode: polling Tempo');
      }
      const otlpPort = (receiver.server.address() as { port: number }).port;
      const apiPort = (api.server.address() as { port: number }).port;
      return { otlpPort, apiPort };
    },
    async stop() {
      accepting = false;
      if (timer) clearInterval(timer);
      await poller?.stop();
      await receiver?.close();
      const drained = assembler.drain();
      log.info({ traces: drained }, 'drained trace assembly');
      await Promise.all(dispatchers.map((d) => d.stop()));
      await api?.close();
      store.close();
    },
  };
}
