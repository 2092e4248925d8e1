#!/usr/bin/env node
/**
 * `npm run demo`: a sidecar on its embedded defaults plus the simulated shop sending it traffic
 * through the real OpenTelemetry SDK, printing signals as they are raised.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import pino from 'pino';
import { loadConfig } from '../config';
import { createSidecar } from '../sidecar';
import { Shop, VIOLATIONS } from './shop';

async function main(): Promise<void> {
  const config = loadConfig({ DECISION_WAIT: '2s', MAX_TRACE_AGE: '10s', DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-demo-')), LOG_LEVEL: 'warn', ...process.env });
  config.rulesDir ??= path.resolve(__dirname, '../../../../examples/rules');
  const log = pino({ level: config.logLevel, name: 'betrace' });
  const sidecar = createSidecar(config, { logger: log });
  const { otlpPort, apiPort } = await sidecar.start();
  const shop = new Shop({ url: `http://127.0.0.1:${otlpPort}/v1/traces` });
  process.stdout.write(
    `BeTrace demo: a shop sends traces to http://localhost:${otlpPort}/v1/traces; signals at http://localhost:${apiPort}/api/v1/signals ` +
      `(Authorization: Bearer ${sidecar.token}). Ctrl-C stops.\n\n`,
  );
  let seen = 0;
  let n = 0;
  const traffic = setInterval(() => {
    // About 5 checkouts a second; one in twelve carries a seeded violation.
    for (let i = 0; i < 2; i++) {
      n++;
      shop.checkout(n % 12 === 0 ? VIOLATIONS[(n / 12) % VIOLATIONS.length] : undefined);
    }
  }, 400);
  const printer = setInterval(() => {
    const { signals, total } = sidecar.store.listSignals('default', { limit: 50 });
    for (const s of signals.slice(0, total - seen).reverse()) {
      process.stdout.write(`${new Date(s.createdAt).toISOString()}  ${s.severity.toUpperCase().padEnd(8)} ${s.ruleId.padEnd(36)} trace ${s.traceId}  ${s.message}\n`);
    }
    seen = total;
  }, 1000);
  const stop = async () => {
    clearInterval(traffic);
    clearInterval(printer);
    await shop.shutdown();
    await sidecar.stop();
    process.stdout.write(`\n${n} checkouts sent, ${seen} signals raised.\n`);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
  const seconds = Number(process.env.DEMO_SECONDS ?? 0);
  if (seconds > 0) {
    setTimeout(() => void stop(), seconds * 1000);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`demo failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
