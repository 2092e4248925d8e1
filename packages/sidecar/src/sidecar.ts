/**
 * Wiring in one place: createSidecar(config) builds the store, rules, trace assembly, pipeline,
 * OTLP receiver and API, and returns something to start and stop. No singletons, no module
 * state: tests build whole sidecars in-process on random ports.
 */
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import type { FastifyInstance } from 'fastify';
import pino, { Logger } from 'pino';
import { buildApi } from './api';
import { ConfigError, SidecarConfig } from './config';
import { DiscoveryJobs } from './discovery/jobs';
import { discoveryWorkerFile, minerHere, minerOnWorker } from './discovery/mine';
import type { TraceHistory } from './discovery/sources';
import { DiscoveryStore } from './discovery/store';
import { EvidenceRecorder } from './evidence/recorder';
import { EvidenceStore } from './evidence/store';
import { AnchorLog } from './evidence/anchor';
import { EvidenceSecrets, keyBackendFor } from './evidence/keys';
import { OtlpAnchorWriter, OtlpEvidenceWriter } from './evidence/writer';
import { gatewayUrl, RedactHook, TempoForwarder } from './ingest/gateway';
import { crashHookFrom, DurableIngest } from './ingest/log/durable';
import { startGrpcReceiver, type GrpcReceiver } from './ingest/grpc';
import { createShards, Shards } from './ingest/shards/shards';
import { buildReceiver, decodeBody } from './ingest/receiver';
import { RuleHealthStore } from './health/store';
import { History, HISTORY_ROLL_MS } from './history';
import { Metrics } from './metrics';
import { Pipeline } from './pipeline';
import { Redactor, redactorFor, storedHashKey } from './redact';
import { RuleRegistry } from './rules';
import { RULE_SKIP_REASONS, RuleSkips } from './ruleSkips';
import { openStore, Store, StoreError } from './store';
import { dropOwnSpans } from './telemetry/ownSpans';
import { SelfTracer, selfTracerFor } from './telemetry/selfTrace';
import { TempoClient, TempoMetrics } from './tempo/client';
import { TempoPoller } from './tempo/poller';
import { ReplayRunner } from './replay';
import { defaultTenant, loadTenantsFile, sha256Hex, Tenant } from './tenants';
import { UsageMeter } from './usage';
import { GrafanaAnnotationWriter, OtlpExportTarget, OtlpSignalWriter, OutboxDispatcher, QueuedItem, SignalWriter, WebhookWriter } from './writers';

/**
 * The id of this data folder's ingest log (made once, kept in DATA_DIR/log-id): with PostgreSQL
 * shared by several replicas, each replica's decided-trace records are kept under its own log.
 */
export function replicaLogId(dataDir: string): string {
  if (dataDir === ':memory:') {
    return randomBytes(8).toString('hex');
  }
  const file = path.join(dataDir, 'log-id');
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw e;
    }
  }
  const id = randomBytes(8).toString('hex');
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(file, `${id}\n`, { flag: 'wx' });
  return id;
}

/** The settings row holding the SHA-256 of the generated API token (never the token). */
export const API_TOKEN_HASH_SETTING = 'api_token_sha256';
/** Where data folders from before hashing kept the generated token in plaintext. */
const LEGACY_API_TOKEN_SETTING = 'api_token';

/** A new API token: 24 random bytes, base64url. */
export function generateApiToken(): string {
  return randomBytes(24).toString('base64url');
}
import type { OutboxItem } from './store';

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
  /** The tenants, instead of TENANTS_FILE or the default tenant (tests). */
  tenants?: readonly Tenant[];
  /** Gateway mode: applied to every batch before it is forwarded to Tempo (default: identity). */
  redact?: RedactHook;
  /** How often gateway mode forwards its spool (default 1 s); 0: never on its own (tests call runOnce). */
  gatewayIntervalMs?: number;
  gatewayBaseDelayMs?: number;
  /** Where `env:VAR` secrets of the tenants file are read (default process.env). */
  env?: Record<string, string | undefined>;
  /** How often ended evidence windows are sealed into records (default: a quarter of EVIDENCE_WINDOW, at most 1 s). */
  evidenceIntervalMs?: number;
  /** What happens when a shard worker dies (default: log and exit 70, so a supervisor restarts and recovery runs). */
  onShardFailure?: (e: Error) => void;
  /** False: no ingest log, a 2xx is not durable (only `npm run bench ingest-log`'s baseline). */
  ingestLog?: boolean;
  /** Where discovery mines: a worker thread (the default when the build has one), or this thread. */
  discoveryMiner?: 'worker' | 'here';
  /** A trace history for discovery instead of the sidecar's own (tests). */
  history?: TraceHistory;
  /**
   * The sidecar's own tracing (SELF_TRACING): given by `betrace serve`, whose logger reads its
   * active span; null: none, whatever the config says; default: made here from the config.
   */
  selfTrace?: SelfTracer | null;
  /**
   * Opens the sidecar's store instead of DATA_DIR's betrace.db; the sidecar closes it at stop.
   * Tests give several sidecars their own connection to one shared store (replicas, ruleSync.test.ts).
   */
  openStore?: () => Store;
}

export interface Sidecar {
  readonly store: Store;
  readonly metrics: Metrics;
  /** Push mode's trace assembly and evaluation, sharded by trace id (tests drive it with tick() and drain()). */
  readonly shards: Shards;
  readonly pipeline: Pipeline;
  readonly rules: RuleRegistry;
  /** Rule evaluations not completed on a trace (budget or error); record() inside the evaluation's transaction. */
  readonly ruleSkips: RuleSkips;
  /** Rule health over time (hourly counts per rule); flushed on the tick, before the health API reads and at stop. */
  readonly health: RuleHealthStore;
  /**
   * The default tenant's plaintext API token when this start knows it: BETRACE_API_TOKEN, or
   * generated now. Empty otherwise: with TENANTS_FILE, and on later starts of a data folder whose
   * token was generated (the folder keeps its hash only).
   */
  readonly token: string;
  /** The tenants: the file's, or the single default tenant. */
  readonly tenants: readonly Tenant[];
  /** Per-tenant daily usage; flushed on the tick, before the usage API reads and at stop. */
  readonly usage: UsageMeter;
  /** One per configured writer; tests drive them with runOnce(). */
  readonly dispatchers: ReadonlyArray<OutboxDispatcher<QueuedItem>>;
  /** Compliance evidence; tests seal windows with evidence.seal(). */
  readonly evidence: EvidenceRecorder;
  /** Pull mode (when TEMPO_URL is set): the first tenant's poller; tests drive it with pollOnce(). */
  readonly poller: TempoPoller | undefined;
  readonly tempo: TempoClient | undefined;
  readonly replay: ReplayRunner | undefined;
  /** Gateway mode's forwarder to Tempo; tests drive it with runOnce(). */
  readonly gateway: TempoForwarder | undefined;
  /** Pull mode, per tenant: each with its own Tempo org id (X-Scope-OrgID). */
  readonly pollers: ReadonlyMap<string, TempoPoller>;
  readonly tempoClients: ReadonlyMap<string, TempoClient>;
  readonly replays: ReadonlyMap<string, ReplayRunner>;
  /** Invariant discovery jobs (tests wait for them with discovery.idle()). */
  readonly discovery: DiscoveryJobs;
  /** The history of recent traces (docs/history.md), read by discovery and by replay without Tempo; undefined when off. */
  readonly history: History | undefined;
  /** Whether the token was generated now (first start on this data folder). */
  readonly tokenGenerated: boolean;
  /** The sidecar's own tracing (SELF_TRACING=otlp); undefined when off. */
  readonly selfTrace: SelfTracer | undefined;
  /** The ports it listens on; `otlpGrpcPort` when the OTLP/gRPC receiver is on. */
  start(): Promise<{ otlpPort: number; apiPort: number; otlpGrpcPort?: number }>;
  /** Drains: stops accepting, evaluates what is buffered, closes the servers and the store. */
  stop(): Promise<void>;
}

export function createSidecar(config: SidecarConfig, deps: SidecarDeps = {}): Sidecar {
  const now = deps.now ?? Date.now;
  const selfTrace = deps.selfTrace === null ? undefined : (deps.selfTrace ?? selfTracerFor(config, VERSION));
  // Log lines carry the active span's trace_id and span_id when the sidecar traces itself.
  const log = deps.logger ?? pino({ level: config.logLevel, name: 'betrace', ...(selfTrace ? { mixin: () => selfTrace.logFields() } : {}) });
  // The tenants file is read (and fully checked) before anything is opened.
  const fileTenants = config.tenantsFile !== undefined ? loadTenantsFile(config.tenantsFile, deps.env ?? process.env) : undefined;
  // Several tenants sharing Tempo (reading it, forwarding to it, or writing signal and evidence
  // spans into it) need an org id each, or their traces would mix in one Tempo tenant.
  const touchesTempo = config.tempoUrl !== undefined || config.gateway || config.otlpExportUrl !== undefined;
  if (touchesTempo && fileTenants && fileTenants.length > 1) {
    const without = fileTenants.filter((t) => t.tempoOrgId === undefined).map((t) => t.id);
    if (without.length > 0) {
      throw new ConfigError('TENANTS_FILE', `with several tenants and TEMPO_URL, OTLP_EXPORT_URL or gateway mode, each tenant needs its own tempoOrgId (X-Scope-OrgID); missing for ${without.join(', ')}`);
    }
  }
  // SQLite in the data folder, or PostgreSQL (DATABASE_URL) shared with other replicas; the
  // ingest log stays in the data folder either way, and its decisions are kept under its id.
  const store = deps.openStore?.() ?? openStore(config, { logId: config.databaseUrl === undefined ? undefined : replicaLogId(config.dataDir) });
  const metrics = new Metrics();
  const ruleSkips = new RuleSkips(store.db, metrics.ruleSkipped);
  const health = new RuleHealthStore(store.db);
  // A counter series appears at its first increment; Prometheus' increase() and rate() see that
  // first sample as the start, not as a change. Zero every enabled rule's series when its rules
  // compile, so the first signal of a rule counts (and fires an alert on increase()).
  const rules = new RuleRegistry(
    store,
    (tenant, active, info) => {
      metrics.rulesRevision.set({ tenant }, info.revision);
      metrics.ruleCompileFailures.set({ tenant }, info.failures.length);
      for (const r of active) {
        const rule = r.compiled.definition.id;
        metrics.signals.inc({ tenant, rule, severity: r.compiled.definition.severity }, 0);
        metrics.ruleEvaluations.inc({ tenant, rule }, 0);
        metrics.ruleTriggered.inc({ tenant, rule }, 0);
        metrics.ruleViolations.inc({ tenant, rule }, 0);
        metrics.ruleCostSeconds.inc({ tenant, rule }, 0);
        metrics.ruleCostSamples.inc({ tenant, rule }, 0);
        for (const reason of RULE_SKIP_REASONS) {
          metrics.ruleSkipped.inc({ tenant, rule, reason }, 0);
        }
      }
    },
    {
      log,
      onReloadFailed: (tenant, e) => {
        metrics.ruleSync.inc({ tenant, result: 'failed' });
        log.error({ err: e, tenant }, 'the rules could not be reloaded from the store: the rules in force stay, the next rule sync tries again');
      },
    },
  );
  const usage = new UsageMeter(store, now);

  // Tenants: the file's, or one `default` tenant from the plain variables, its token as before.
  let token = '';
  let tokenGenerated = false;
  let tenants: Tenant[];
  if (fileTenants !== undefined) {
    tenants = fileTenants;
  } else {
    // The data folder keeps the generated token's SHA-256 only (as the tenants file does): the
    // token is printed once, when generated, and a copy of the folder does not give it away.
    let hash: string;
    if (config.apiToken !== undefined) {
      token = config.apiToken;
      hash = sha256Hex(token);
    } else {
      const plain = store.getSetting(LEGACY_API_TOKEN_SETTING);
      if (plain !== undefined) {
        // A data folder from before hashing: keep its token working, forget the plaintext.
        store.setSetting(API_TOKEN_HASH_SETTING, sha256Hex(plain));
        store.deleteSetting(LEGACY_API_TOKEN_SETTING);
        token = plain;
      }
      let stored = store.getSetting(API_TOKEN_HASH_SETTING);
      if (stored === undefined) {
        token = generateApiToken();
        stored = sha256Hex(token);
        store.setSetting(API_TOKEN_HASH_SETTING, stored);
        tokenGenerated = true;
      }
      hash = stored;
    }
    tenants = [defaultTenant(config, hash)];
  }
  if (deps.tenants !== undefined) {
    tenants = deps.tenants.map((t) => ({ ...t })); // tests build tenants in code instead of a file
  }

  // One redaction policy per tenant, applied by the pipeline, every writer, the API's echoes of span
  // data and the gateway. `hash` uses the policy's hashKey, else a key made once per tenant and kept
  // (not the evidence key: rotating that would change every hash and break joins).
  const redactors = new Map(tenants.map((t) => [t.id, redactorFor(t, storedHashKey(store, t.id))]));
  const redactorOf = (tenant: string): Redactor => {
    const r = redactors.get(tenant);
    if (r === undefined) {
      throw new Error(`no redaction policy for tenant ${tenant}`);
    }
    return r;
  };

  // Signal and evidence spans go into each tenant's own Tempo org, where its traces are.
  const orgIdOf = (tenant: string): string | undefined => tenants.find((t) => t.id === tenant)?.tempoOrgId;
  // Writers (OTLP signal spans, Grafana annotations, webhooks) each get an outbox row per signal.
  const writerList: SignalWriter[] = [];
  const otlpExport: OtlpExportTarget | undefined =
    config.otlpExportTracesUrl === undefined ? undefined : { url: config.otlpExportTracesUrl, headers: config.otlpExportHeaders, timeoutMs: config.otlpExportTimeoutMs, gzip: config.otlpExportGzip };
  if (otlpExport) {
    writerList.push(new OtlpSignalWriter(otlpExport, VERSION, (t, ruleId) => store.getRule(t, ruleId)?.definition.compliance ?? [], redactorOf, orgIdOf));
  }
  // Annotations go to each tenant's Grafana target (the sidecar-wide GRAFANA_URL when it has none).
  const grafanaOf = new Map<string, GrafanaAnnotationWriter>();
  for (const t of tenants) {
    const target = t.grafana ?? (config.grafanaUrl && config.grafanaToken ? { url: config.grafanaUrl, token: config.grafanaToken } : undefined);
    if (target) {
      grafanaOf.set(t.id, new GrafanaAnnotationWriter(target.url, target.token, store, redactorOf));
    }
  }
  if (grafanaOf.size > 0) {
    writerList.push({
      name: 'grafana',
      deliver: async (item: OutboxItem) => {
        const writer = grafanaOf.get(item.tenant);
        if (writer) {
          await writer.deliver(item);
        } else {
          store.completeOutbox(item.id); // this tenant has no Grafana target
        }
      },
    });
  }
  if (config.webhookUrl) {
    writerList.push(new WebhookWriter(config.webhookUrl, config.webhookFormat, config.webhookSecret, redactorOf));
  }
  const dispatchers: Array<OutboxDispatcher<QueuedItem>> = writerList.map((w) => new OutboxDispatcher(store, w, { now, log, metrics, baseDelayMs: deps.writerBaseDelayMs, selfTrace }));

  // Evidence is always recorded; with OTLP_EXPORT_URL it also leaves as compliance.evidence spans, through the same outbox.
  // Evidence secrets never sit in the data folder (evidence/keys.ts): the tenants file's come from
  // env:/file: references, generated and rotated ones from EVIDENCE_KEY_DIR or the KMS.
  const keyBackend = keyBackendFor(config);
  const evidenceStore = new EvidenceStore(store.db, new EvidenceSecrets(keyBackend));
  const anchorLog = config.evidenceAnchorDir === undefined ? undefined : new AnchorLog(config.evidenceAnchorDir);
  // Frameworks and controls are free text from rule files: redacted like everything else that leaves.
  evidenceStore.redact = (t, d) => ({ ...d, framework: redactorOf(t).text(d.framework), control: redactorOf(t).text(d.control) });
  evidenceStore.onAppend = (t, n) => {
    usage.count(t, { evidence: n });
    metrics.evidenceRecords.inc({ tenant: t }, n);
  };
  // Secrets an older version kept in the data folder move out first; then the tenants file's keys
  // are seeded (a key id reused with another secret stops the start), then every stored key's
  // secret is loaded and each tenant gets a current key (with a KMS: in start(), it is a network call).
  const movedOut = evidenceStore.moveSecretsOut();
  if (movedOut > 0) {
    log.warn({ keys: movedOut, to: keyBackend.where }, 'evidence secrets moved out of the data folder');
  }
  for (const t of tenants) {
    evidenceStore.seedKeys(t.id, t.evidenceKeys, now());
  }
  const reportLostKeys = (lost: ReadonlyMap<string, readonly string[]>) => {
    for (const [tenant, ids] of lost) {
      log.warn({ tenant, keys: ids, where: keyBackend.where }, 'evidence keys not found where they are kept: the records they signed verify as unknown_key');
    }
  };
  if (keyBackend.secretsSync !== undefined) {
    try {
      reportLostKeys(evidenceStore.prepareSync(tenants.map((t) => t.id), now()));
    } catch (e) {
      // Replicas sharing DATABASE_URL with keys this one cannot read: a setting to fix, said in one line.
      if (e instanceof StoreError && e.code === 'unavailable') {
        store.close();
        throw new ConfigError('EVIDENCE_KEY_DIR', e.message);
      }
      throw e;
    }
  }
  const evidenceWriters: string[] = [];
  if (otlpExport) {
    const writer = new OtlpEvidenceWriter(otlpExport, VERSION, orgIdOf);
    evidenceWriters.push(writer.name);
    dispatchers.push(new OutboxDispatcher(store, writer, { now, log, metrics, baseDelayMs: deps.writerBaseDelayMs, selfTrace }, (w, at, limit) => evidenceStore.dueOutbox(w, at, limit)));
  }
  const anchorWriters: string[] = [];
  if (otlpExport) {
    const writer = new OtlpAnchorWriter(otlpExport, VERSION, orgIdOf);
    anchorWriters.push(writer.name);
    dispatchers.push(new OutboxDispatcher(store, writer, { now, log, metrics, baseDelayMs: deps.writerBaseDelayMs, selfTrace }, (w, at, limit) => evidenceStore.dueAnchors(w, at, limit)));
  }
  const evidence = new EvidenceRecorder(
    evidenceStore,
    evidenceWriters,
    {
      windowMs: config.evidenceWindowMs,
      samples: config.evidenceSamples,
      perTraceFailures: config.evidencePerTrace,
      maxRecordsPerTrace: config.evidenceMaxRecordsPerTrace,
      anchorIntervalMs: config.evidenceAnchorIntervalMs,
    },
    log,
    now,
    { log: anchorLog, writers: anchorWriters, onAnchor: (a) => metrics.evidenceAnchors.inc({ tenant: a.tenant }) },
  );
  evidence.onCut = (t, n) => metrics.evidenceRecordsCut.inc({ tenant: t }, n);

  const pipeline = new Pipeline(store, rules, metrics, writerList.map((w) => w.name), log, now, redactorOf, usage, evidence, config.evalBudgetMs, (tenant, skip, traceId) =>
    ruleSkips.record(tenant, skip.ruleId, skip.reason, traceId, now()),
    health,
  );
  // The history keeps the ingest log's segments once the log lets them go: no log, no history.
  const logDir = config.dataDir === ':memory:' || deps.ingestLog === false ? undefined : path.join(config.dataDir, 'ingest-log');
  const history =
    logDir !== undefined && config.historyMaxBytes > 0
      ? new History({
          dir: path.join(config.dataDir, 'history'),
          maxBytes: config.historyMaxBytes,
          maxAgeMs: config.historyMaxAgeMs,
          traceWindowMs: config.maxTraceAgeMs,
          maxWindowSpans: config.maxBufferSpans,
          registry: metrics.registry,
          log,
          now,
          redactorOf,
        })
      : undefined;
  // The ingest log: a 2xx means the batch is on disk; a restart reads back what was not yet evaluated.
  const ingest = new DurableIngest({
    dir: logDir,
    fsync: config.ingestFsync,
    segmentBytes: config.ingestLogSegmentBytes,
    maxBytes: config.ingestLogMaxBytes,
    store,
    evidence,
    registry: metrics.registry,
    log,
    now,
    crash: crashHookFrom(deps.env ?? process.env),
    history: history && { retire: (file) => history.retire(file), rollAfterMs: HISTORY_ROLL_MS },
  });

  const gateway = config.gateway
    ? new TempoForwarder({
        url: gatewayUrl(config),
        store,
        registry: metrics.registry,
        log,
        now,
        redact: deps.redact ?? ((t, resourceSpans) => redactorOf(t.id).resourceSpans(resourceSpans)),
        maxSpoolBytes: config.gatewaySpoolBytes,
        bearerToken: config.tempoToken,
        basicAuth: config.tempoBasicAuth,
        baseDelayMs: deps.gatewayBaseDelayMs,
      })
    : undefined;

  const pollers = new Map<string, TempoPoller>();
  // Replay jobs are in the store and leased: a job outlives the replica that started it.
  const replaySharing = { store, replica: config.replicaId, leaseMs: config.pullLeaseMs };
  const tempoClients = new Map<string, TempoClient>();
  const replays = new Map<string, ReplayRunner>();
  const discoveryClients = new Map<string, TempoClient>();
  const tempoMetrics = config.tempoUrl ? new TempoMetrics(metrics.registry) : undefined;
  for (const { id: tenant, tempoOrgId } of config.tempoUrl ? tenants : []) {
    const tempo = new TempoClient({
      url: config.tempoUrl!,
      orgId: tempoOrgId,
      bearerToken: config.tempoToken,
      basicAuth: config.tempoBasicAuth,
      metrics: tempoMetrics,
    });
    tempoClients.set(tenant, tempo);
    // In gateway mode every trace reaches Tempo through the receiver and is evaluated there: no polling.
    const poller = config.gateway ? undefined : new TempoPoller({
      tenant,
      client: tempo,
      store,
      rules,
      pipeline,
      log,
      lag: metrics.pollLag,
      unavailable: metrics.pollUnavailable,
      now,
      settleMs: config.pollSettleMs,
      startMs: config.pollStartMs,
      replica: config.replicaId,
      leaseMs: config.pullLeaseMs,
    });
    if (poller) {
      pollers.set(tenant, poller);
    }
    // Replay gets its own low-concurrency client: a long replay never starves the live poller.
    const replayClient = new TempoClient({
      url: config.tempoUrl!,
      orgId: tempoOrgId,
      bearerToken: config.tempoToken,
      basicAuth: config.tempoBasicAuth,
      concurrency: 1,
      metrics: tempoMetrics,
    });
    replays.set(tenant, new ReplayRunner({ kind: 'tempo', client: replayClient }, pipeline, log, now, replaySharing));
    // Discovery reads every trace of its range: its own client of one request at a time, like replay's.
    discoveryClients.set(
      tenant,
      new TempoClient({ url: config.tempoUrl!, orgId: tempoOrgId, bearerToken: config.tempoToken, basicAuth: config.tempoBasicAuth, concurrency: 1, metrics: tempoMetrics }),
    );
  }
  // Without Tempo, replay reads the history.
  if (!config.tempoUrl && history !== undefined) {
    for (const { id: tenant } of tenants) {
      replays.set(tenant, new ReplayRunner({ kind: 'history', history }, pipeline, log, now, replaySharing));
    }
  }
  // What to set when there is neither Tempo nor a history (replay's and discovery's 409).
  const historyMissing =
    logDir === undefined
      ? 'give DATA_DIR a directory so that the sidecar keeps a history of recent traces (DATA_DIR=:memory: keeps none)'
      : 'turn the history of recent traces on (HISTORY_MAX_BYTES is off)';
  const replayMissing = `replay needs traces to read: set TEMPO_URL (pull mode), or ${historyMissing}`;
  // Discovery mines on a worker thread: it is CPU-heavy, and this thread serves ingest and the API.
  const workerFile = deps.discoveryMiner === 'here' ? undefined : discoveryWorkerFile();
  if (workerFile === undefined && deps.discoveryMiner !== 'here') {
    log.warn('no built discovery worker (dist/discovery/worker.js): discovery mines on the main thread');
  }
  const discovery = new DiscoveryJobs({
    store,
    discovery: new DiscoveryStore(store.db),
    miner: workerFile === undefined ? minerHere() : minerOnWorker(workerFile, config.discoverHeapMb),
    tempoOf: (tenant) => discoveryClients.get(tenant),
    history: deps.history ?? history,
    historyMissing,
    redactorOf,
    log,
    now,
  });
  const shards = createShards(
    config.evalWorkers,
    {
      decisionWaitMs: config.decisionWaitMs,
      maxTraceAgeMs: config.maxTraceAgeMs,
      maxSpans: config.maxBufferSpans,
      maxBytes: config.maxBufferBytes,
      budgetMs: config.evalBudgetMs,
      now,
      rules,
      commit: (decisions) =>
        selfTrace === undefined
          ? ingest.commit(decisions, (d) => pipeline.record(d.tenant, d.outcome, 'push'))
          : selfTrace.commit(
              decisions,
              (record) => ingest.commit(decisions, record),
              (d) => pipeline.record(d.tenant, d.outcome, 'push'),
            ),
      onDrop: (reason, spans) => metrics.tracesDropped.inc({ reason }, spans),
      onDuplicate: (tenant, spans) => metrics.spansDuplicate.inc({ tenant }, spans),
      log,
    },
    deps.onShardFailure ??
      ((e) => {
        // Its memory is lost, never data (the ingest log holds every span); a restart recovers it.
        log.fatal({ err: e }, 'a shard worker died: stopping so that a restart recovers its traces from the ingest log');
        process.exit(70);
      }),
  );

  let accepting = true;
  let rulesLoaded = false;
  let receiver: FastifyInstance | undefined;
  let grpcReceiver: GrpcReceiver | undefined;
  let api: FastifyInstance | undefined;
  let timer: NodeJS.Timeout | undefined;
  let replayTimer: NodeJS.Timeout | undefined;
  let ruleSyncTimer: NodeJS.Timeout | undefined;
  let healthFlushedAt = 0;

  return {
    store,
    metrics,
    shards,
    pipeline,
    rules,
    ruleSkips,
    health,
    token,
    tenants,
    usage,
    tokenGenerated,
    selfTrace,
    dispatchers,
    poller: pollers.get(tenants[0].id),
    tempo: tempoClients.get(tenants[0].id),
    replay: replays.get(tenants[0].id),
    pollers,
    tempoClients,
    replays,
    discovery,
    gateway,
    evidence,
    history,
    async start() {
      // RULES_DIR provisions the default tenant (with a tenants file: the tenant `default`, when it
      // is listed without a rulesDir of its own); each tenant's `rulesDir` provisions that tenant.
      for (const t of tenants) {
        const dir = t.rulesDir ?? (t.id === DEFAULT_TENANT ? config.rulesDir : undefined);
        if (dir) {
          const { rules: n, files } = rules.provision(t.id, dir, now());
          log.info({ tenant: t.id, rulesDir: dir, rules: n, files }, 'rules provisioned');
        }
        rules.active(t.id);
        metrics.ruleSync.inc({ tenant: t.id, result: 'reloaded' }, 0);
      }
      if (config.rulesDir && !tenants.some((t) => t.id === DEFAULT_TENANT)) {
        log.warn({ rulesDir: config.rulesDir }, 'RULES_DIR is ignored: the tenants file lists no tenant `default`; give each tenant a rulesDir');
      }
      rulesLoaded = true;
      if (keyBackend.secretsSync === undefined) {
        reportLostKeys(await evidenceStore.prepare(tenants.map((t) => t.id), now()));
      }
      await history?.open();
      history?.start();
      await ingest.recover(
        shards,
        (b, position, at) => {
          const { body, batch } = decodeBody(b.body, undefined, b.protobuf, Number.MAX_SAFE_INTEGER);
          shards.add(b.tenant, dropOwnSpans(body, batch, b.protobuf).batch, b.body.length, position, at);
        },
        (id) => tenants.some((t) => t.id === id),
      );
      ingest.start(shards);
      receiver = buildReceiver({
        maxBodyBytes: config.maxBodyBytes,
        tenants,
        shards,
        metrics,
        log,
        store,
        now,
        gateway,
        ingest,
        decisionWaitMs: config.decisionWaitMs,
        accepting: () => accepting,
        onAccepted: (t, spans, bytes) => usage.count(t, { spans, bytes }),
        selfTrace,
      });
      api = buildApi({
        metricsToken: config.metricsToken,
        tenants,
        store,
        rules,
        ruleSkips,
        health,
        metrics,
        writers: writerList.map((w) => w.name),
        log,
        now,
        ready: () => rulesLoaded && store.db.open && accepting && ingest.health.healthy,
        version: VERSION,
        tempo: tempoClients,
        replay: replays,
        discovery,
        replayMissing,
        replica: config.replicaId,
        beforeScrape: () => pollers.forEach((p) => p.refreshLag()),
        usage,
        redactorOf,
        evidence: evidenceStore,
        anchorLog,
      });
      await receiver.listen({ port: config.otlpPort, host: config.host });
      if (config.otlpGrpcPort !== undefined) {
        grpcReceiver = await startGrpcReceiver(receiver, config.host, config.otlpGrpcPort, config.maxBodyBytes, log);
      }
      await api.listen({ port: config.apiPort, host: config.host });
      const tickMs = deps.tickMs ?? Math.min(1000, Math.max(10, Math.floor(config.decisionWaitMs / 4)));
      // An exception here would be uncaught (a timer callback) and end the process: a failing
      // store is logged, and the next tick tries again.
      const failed = (e: unknown) => log.error({ err: e }, 'the periodic tick failed; it runs again on the next one');
      timer = setInterval(() => {
        try {
          shards
            .tick()
            .then(() => {
              metrics.bufferSpans.set(shards.bufferedSpans);
              metrics.bufferBytes.set(shards.bufferedBytes);
            })
            .catch(failed);
          usage.flush();
          // Rule health's counts are written about once a second, whatever the tick.
          if (now() - healthFlushedAt >= 1000) {
            healthFlushedAt = now();
            health.flush();
          }
        } catch (e) {
          failed(e);
        }
      }, tickMs);
      timer.unref();
      // Replicas sharing the store: a rule changed through another replica's API (or provisioned by
      // its start) is in force here within RULE_SYNC_MS and a reload (docs/scaling.md).
      if (config.ruleSyncMs > 0) {
        ruleSyncTimer = setInterval(() => {
          try {
            for (const tenant of rules.sync()) {
              metrics.ruleSync.inc({ tenant, result: 'reloaded' });
              log.info({ tenant, revision: rules.revision(tenant) }, 'rules changed in the store: reloaded');
            }
          } catch (e) {
            // The revisions could not be read (the store is down): the rules in force stay.
            log.error({ err: e }, 'the rule sync could not read the store; it runs again on the next one');
          }
        }, config.ruleSyncMs);
        ruleSyncTimer.unref();
      }
      evidence.start(deps.evidenceIntervalMs ?? Math.min(1000, Math.max(10, Math.floor(config.evidenceWindowMs / 4))));
      for (const d of dispatchers) {
        d.start(deps.writerIntervalMs ?? 1000);
      }
      if (gateway && deps.gatewayIntervalMs !== 0) {
        gateway.start(deps.gatewayIntervalMs ?? 1000);
        log.info({ tempo: gatewayUrl(config) }, 'gateway mode: forwarding accepted spans to Tempo');
      }
      // Replays no replica holds (their replica died, or this one before a restart) are taken
      // over a few times per lease period, so within about one period of the lease lapsing.
      const resumeReplays = () => {
        for (const [tenant, replay] of replays) {
          try {
            replay.resume(tenant);
          } catch (e) {
            log.warn({ err: e, tenant }, 'looking for replays to take over failed; the next look tries again');
          }
        }
      };
      resumeReplays();
      replayTimer = setInterval(resumeReplays, Math.max(1000, Math.floor(config.pullLeaseMs / 3)));
      replayTimer.unref();
      if (deps.pollIntervalMs !== 0) {
        for (const [tenant, poller] of pollers) {
          poller.start(deps.pollIntervalMs ?? config.pollIntervalMs);
          log.info({ tempo: config.tempoUrl, tenant, orgId: tenants.find((t) => t.id === tenant)?.tempoOrgId }, 'pull mode: polling Tempo');
        }
      }
      const otlpPort = (receiver.server.address() as { port: number }).port;
      const apiPort = (api.server.address() as { port: number }).port;
      return grpcReceiver === undefined ? { otlpPort, apiPort } : { otlpPort, apiPort, otlpGrpcPort: grpcReceiver.port };
    },
    async stop() {
      accepting = false;
      if (timer) clearInterval(timer);
      if (replayTimer) clearInterval(replayTimer);
      if (ruleSyncTimer) clearInterval(ruleSyncTimer);
      await Promise.all([...pollers.values()].map((p) => p.stop()));
      await Promise.all([...replays.values()].map((r) => r.stop()));
      await discovery.stop();
      await grpcReceiver?.close();
      await receiver?.close();
      const drained = await shards.drain();
      log.info({ traces: drained }, 'drained trace assembly');
      await ingest.close(shards);
      await history?.close();
      await shards.close();
      evidence.stop();
      await Promise.all(dispatchers.map((d) => d.stop()));
      await gateway?.stop();
      await api?.close();
      usage.flush();
      health.flush();
      store.close();
      await selfTrace?.shutdown().catch((e: unknown) => log.warn({ err: e }, 'the last of the sidecar’s own spans could not be sent'));
    },
  };
}

/** A tenant's generated evidence key: made once, kept in the data folder's settings. */
