import * as fs from 'fs';
import * as path from 'path';
import { ConfigError, loadConfig, type SidecarConfig } from '../config';
import { gatewayUrl } from '../ingest/gateway';
import { createLogger } from '../logFormat';
import { createSidecar, Sidecar, VERSION } from '../sidecar';
import { SELF_SERVICE_NAME, selfTracerFor } from '../telemetry/selfTrace';
import { TenantsFileError } from '../tenants';
import { shownUrl } from '../writers';
import type { Command } from './io';
import { EXIT_BAD_INPUT } from './io';
import { checkPostgres, DatabaseStartError, describeDatabaseUrl } from '../db/postgresCheck';

export const serveUsage = 'betrace serve [--gateway]   (configured by environment variables; see the README; --gateway forwards accepted spans to Tempo)';

const PATH_PROBLEMS: Record<string, string> = {
  ENOENT: 'does not exist',
  ENOTDIR: 'is not a directory (or a part of the path is a file)',
  EEXIST: 'is a file where a directory is needed',
  EACCES: 'cannot be read or written by this user',
  EPERM: 'cannot be read or written by this user',
  EROFS: 'is on a read-only file system',
  EISDIR: 'is a directory where a file is needed',
};

/**
 * A start-up failure the operator can fix, as one line naming the setting and the cause (no
 * stack trace); undefined for anything else, which is a bug and keeps its stack.
 */
export function startupProblem(e: unknown, config: SidecarConfig): string | undefined {
  const err = e as { code?: unknown; port?: unknown; path?: unknown; address?: unknown; syscall?: unknown };
  if (typeof err !== 'object' || err === null || typeof err.code !== 'string') {
    return undefined;
  }
  if (err.syscall === 'listen' || err.syscall === 'bind') {
    const port = typeof err.port === 'number' ? err.port : undefined;
    const setting =
      port === config.otlpGrpcPort && port !== config.otlpPort && port !== config.apiPort
        ? 'OTLP_GRPC_PORT'
        : port === config.apiPort && port !== config.otlpPort
          ? 'API_PORT'
          : port === config.otlpPort
            ? 'OTLP_PORT'
            : 'OTLP_PORT or API_PORT';
    switch (err.code) {
      case 'EADDRINUSE':
        return `${setting}: port ${port} on ${config.host} is already in use (another BeTrace?); stop what holds it or set ${setting} to a free port`;
      case 'EACCES':
        return `${setting}: port ${port} needs privileges this user does not have; use a port above 1023`;
      case 'EADDRNOTAVAIL':
        return `HOST: ${config.host} is not an address of this machine`;
      default:
        return `${setting}: cannot listen on ${config.host}:${port} (${err.code})`;
    }
  }
  if (typeof err.path === 'string' && err.code in PATH_PROBLEMS) {
    const where: Array<[string, string | undefined]> = [
      ['TENANTS_FILE', config.tenantsFile],
      ['RULES_DIR', config.rulesDir],
      ['DATA_DIR', config.dataDir],
    ];
    const resolved = path.resolve(err.path);
    const setting = where.find(([, p]) => p !== undefined && p !== ':memory:' && (resolved === path.resolve(p) || resolved.startsWith(path.resolve(p) + path.sep)));
    const name = setting?.[0] ?? 'a file the sidecar needs';
    return `${name}: ${err.path} ${PATH_PROBLEMS[err.code]}`;
  }
  if (err.code === 'ENOSPC' || err.code === 'SQLITE_CANTOPEN' || err.code === 'SQLITE_READONLY' || err.code === 'SQLITE_FULL') {
    return `DATA_DIR: ${config.dataDir} cannot take the store (${err.code})`;
  }
  return undefined;
}

/** 127.0.0.0/8, ::1 and localhost: reachable from this machine only. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Runs the sidecar until SIGTERM/SIGINT, then drains. */
export const serve: Command = async (args, io) => {
  const gateway = args[0] === '--gateway';
  if (args.length > (gateway ? 1 : 0)) {
    io.stderr(`usage: ${serveUsage}\n`);
    return EXIT_BAD_INPUT;
  }
  let config;
  try {
    config = loadConfig(io.env);
    config.gateway = gateway;
    if (gateway) {
      gatewayUrl(config); // fails here, naming TEMPO_OTLP_URL, rather than at start
    }
  } catch (e) {
    if (e instanceof ConfigError) {
      io.stderr(`betrace serve: configuration error: ${e.message}\n`);
      return EXIT_BAD_INPUT;
    }
    throw e;
  }
  if (config.databaseUrl !== undefined) {
    // Checked first, so that a wrong DATABASE_URL is named before anything else starts.
    try {
      await checkPostgres(config.databaseUrl, { connectTimeoutMs: config.databaseConnectTimeoutMs });
    } catch (e) {
      if (e instanceof DatabaseStartError) {
        io.stderr(`betrace serve: ${e.message}\n`);
        return EXIT_BAD_INPUT;
      }
      throw e;
    }
  }
  const examples = path.resolve(__dirname, '../../../../examples/rules');
  if (config.rulesDir === undefined && config.tenantsFile === undefined && fs.existsSync(examples)) {
    // The embedded default in a checkout of BeTrace: its example rules.
    config.rulesDir = examples;
  }
  // The sidecar's own tracing comes first: its log lines carry the active span's ids.
  const selfTrace = selfTracerFor(config, VERSION);
  const log = createLogger(config.logLevel, config.logFormat, process.stdout, selfTrace && (() => selfTrace.logFields()));
  let sidecar: Sidecar | undefined;
  let ports: { otlpPort: number; apiPort: number; otlpGrpcPort?: number };
  try {
    sidecar = createSidecar(config, { logger: log, selfTrace: selfTrace ?? null });
    ports = await sidecar.start();
  } catch (e) {
    if (e instanceof TenantsFileError || e instanceof ConfigError) {
      io.stderr(`betrace serve: configuration error: ${e.message}\n`);
      return EXIT_BAD_INPUT;
    }
    const problem = startupProblem(e, config);
    if (problem === undefined) {
      throw e;
    }
    log.level = 'silent'; // the one line below says it all; closing what did open needs no account
    await sidecar?.stop().catch(() => undefined);
    io.stderr(`betrace serve: ${problem}\n`);
    return EXIT_BAD_INPUT;
  }
  const { otlpPort, apiPort, otlpGrpcPort } = ports;
  // What a newcomer needs first comes first: the token, the tenants, where signals go, a warning
  // when anyone on the network may send traces; "running" last, when all of it is said.
  if (sidecar.tokenGenerated) {
    log.info(`generated API token (kept in ${config.dataDir}): ${sidecar.token}`);
  }
  log.info({ tenants: sidecar.tenants.map((t) => t.id) }, config.tenantsFile ? `tenants from ${config.tenantsFile}` : 'single tenant: default');
  const writers: Record<string, string> = {};
  if (config.otlpExportTracesUrl !== undefined) writers.otlp = shownUrl(config.otlpExportTracesUrl);
  if (config.grafanaUrl !== undefined) writers.grafana = shownUrl(config.grafanaUrl);
  if (config.webhookUrl !== undefined) writers.webhook = shownUrl(config.webhookUrl);
  const names = Object.keys(writers);
  log.info(
    { writers },
    names.length === 0
      ? 'writers: none (signals are kept in the store and served by the API; set OTLP_EXPORT_URL (or OTEL_EXPORTER_OTLP_ENDPOINT), GRAFANA_URL or WEBHOOK_URL to send them on)'
      : `writers: ${names.map((n) => `${n} → ${writers[n]}`).join(', ')}`,
  );
  if (selfTrace !== undefined) {
    log.info({ endpoint: shownUrl(config.selfOtlpTracesUrl!), service: SELF_SERVICE_NAME }, `self tracing: the sidecar's own spans go to ${shownUrl(config.selfOtlpTracesUrl!)} (service.name=${SELF_SERVICE_NAME}; never evaluated)`);
  }
  if (!isLoopback(config.host) && sidecar.tenants.some((t) => t.openIngest === true)) {
    log.warn(
      { host: config.host, otlpPort },
      `ingest is open to the network without keys: anyone who reaches ${config.host}:${otlpPort} can send traces; set TENANTS_FILE with ingest keys, or HOST=127.0.0.1`,
    );
  }
  const grpcLine = otlpGrpcPort !== undefined ? ` or OTLP/gRPC to localhost:${otlpGrpcPort}` : '';
  log.info(
    { otlp: `http://localhost:${otlpPort}/v1/traces`, ...(otlpGrpcPort !== undefined ? { otlpGrpc: `localhost:${otlpGrpcPort}` } : {}), api: `http://localhost:${apiPort}/api/v1`, dataDir: config.dataDir, store: config.databaseUrl === undefined ? 'sqlite' : `postgres ${describeDatabaseUrl(config.databaseUrl)}`, host: config.host },
    `BeTrace is running: send OTLP/HTTP traces to http://localhost:${otlpPort}/v1/traces${grpcLine}; read signals at http://localhost:${apiPort}/api/v1/signals`,
  );
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'draining');
      sidecar.stop().then(
        () => {
          log.info('stopped');
          resolve();
        },
        (e: unknown) => {
          log.error({ err: e }, 'drain failed');
          resolve();
        },
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  return 0;
};
