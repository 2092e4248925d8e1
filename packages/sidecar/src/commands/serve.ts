import * as fs from 'fs';
import * as path from 'path';
import pino from 'pino';
import { ConfigError, loadConfig } from '../config';
import { gatewayUrl } from '../ingest/gateway';
import { createSidecar, Sidecar } from '../sidecar';
import { TenantsFileError } from '../tenants';
import type { Command } from './io';
import { EXIT_BAD_INPUT } from './io';

export const serveUsage = 'betrace serve [--gateway]   (configured by environment variables; see the README; --gateway forwards accepted spans to Tempo)';

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
  const examples = path.resolve(__dirname, '../../../../examples/rules');
  if (config.rulesDir === undefined && config.tenantsFile === undefined && fs.existsSync(examples)) {
    // The embedded default in a checkout of BeTrace: its example rules.
    config.rulesDir = examples;
  }
  const log = pino({ level: config.logLevel, name: 'betrace' });
  let sidecar: Sidecar;
  try {
    sidecar = createSidecar(config, { logger: log });
  } catch (e) {
    if (e instanceof TenantsFileError || e instanceof ConfigError) {
      io.stderr(`betrace serve: configuration error: ${e.message}\n`);
      return EXIT_BAD_INPUT;
    }
    throw e;
  }
  const { otlpPort, apiPort } = await sidecar.start();
  sidecar.pool.warm();
  log.info(
    { otlp: `http://localhost:${otlpPort}/v1/traces`, api: `http://localhost:${apiPort}/api/v1`, dataDir: config.dataDir },
    `BeTrace is running: send OTLP/HTTP traces to http://localhost:${otlpPort}/v1/traces; read signals at http://localhost:${apiPort}/api/v1/signals`,
  );
  log.info({ tenants: sidecar.tenants.map((t) => t.id) }, config.tenantsFile ? `tenants from ${config.tenantsFile}` : 'single tenant: default');
  if (sidecar.tokenGenerated) {
    log.info(`generated API token (kept in ${config.dataDir}): ${sidecar.token}`);
  }
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'draining');
      sidecar.stop().then(resolve, (e: unknown) => {
        log.error({ err: e }, 'drain failed');
        resolve();
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  return 0;
};
