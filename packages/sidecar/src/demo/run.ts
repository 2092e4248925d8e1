#!/usr/bin/env node
/**
 * `npm run demo`: a sidecar on its embedded defaults plus the simulated shop sending it traffic
 * through the real OpenTelemetry SDK, printing signals as they are raised.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import pino from 'pino';
import { startupProblem } from '../commands/serve';
import { loadConfig } from '../config';
import { createSidecar } from '../sidecar';
import { Shop, VIOLATIONS } from './shop';

/** Traffic: CHECKOUTS_PER_TICK checkouts every TICK_MS; one in VIOLATION_EVERY carries a seeded violation. */
const TICK_MS = 400;
const CHECKOUTS_PER_TICK = 2;
const VIOLATION_EVERY = 12;
/** What the demo says it sends, computed from the constants above so it cannot drift from them. */
const CHECKOUTS_PER_MINUTE = (60_000 / TICK_MS) * CHECKOUTS_PER_TICK;
const VIOLATIONS_PER_MINUTE = CHECKOUTS_PER_MINUTE / VIOLATION_EVERY;

async function main(): Promise<void> {
  // A folder of its own (the data folder, and the evidence keys and anchors beside it), removed
  // on exit, unless DATA_DIR names one to keep.
  const ownRoot = process.env.DATA_DIR === undefined || process.env.DATA_DIR.trim() === '' ? fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-demo-')) : undefined;
  const removeDataDir = () => {
    if (ownRoot !== undefined) fs.rmSync(ownRoot, { recursive: true, force: true });
  };
  const own =
    ownRoot === undefined
      ? {}
      : { DATA_DIR: path.join(ownRoot, 'data'), EVIDENCE_KEY_DIR: path.join(ownRoot, 'keys'), EVIDENCE_ANCHOR_DIR: path.join(ownRoot, 'anchors') };
  let config;
  try {
    config = loadConfig({ DECISION_WAIT: '2s', MAX_TRACE_AGE: '10s', LOG_LEVEL: 'warn', ...process.env, ...own });
  } catch (e) {
    removeDataDir();
    throw e;
  }
  config.rulesDir ??= path.resolve(__dirname, '../../../../examples/rules');
  const log = pino({ level: config.logLevel, name: 'betrace' });
  const sidecar = createSidecar(config, { logger: log });
  let ports: { otlpPort: number; apiPort: number };
  try {
    ports = await sidecar.start();
  } catch (e) {
    log.level = 'silent';
    await sidecar.stop().catch(() => undefined);
    removeDataDir();
    const problem = startupProblem(e, config);
    if (problem !== undefined) {
      // The ports a demo wants are often taken by a sidecar already running (npm start).
      throw new Error(`${problem}${/_PORT: port/.test(problem) ? ' (the demo uses OTLP_PORT and API_PORT too: stop `npm start`, or run e.g. OTLP_PORT=14318 API_PORT=13001 npm run demo)' : ''}`);
    }
    throw e;
  }
  const { otlpPort, apiPort } = ports;
  const shop = new Shop({ url: `http://127.0.0.1:${otlpPort}/v1/traces` });
  const seconds = Number(process.env.DEMO_SECONDS ?? 0);
  process.stdout.write(
    `BeTrace demo: a shop sends ${CHECKOUTS_PER_MINUTE} checkouts a minute to http://localhost:${otlpPort}/v1/traces, ` +
      `${VIOLATIONS_PER_MINUTE} of them with a seeded violation (one in ${VIOLATION_EVERY}, ${VIOLATIONS.length} kinds in turn); ` +
      `signals at http://localhost:${apiPort}/api/v1/signals (Authorization: Bearer ${sidecar.token}). ` +
      `${seconds > 0 ? `Stops after ${seconds}s (DEMO_SECONDS).` : 'Ctrl-C stops (or set DEMO_SECONDS).'}\n\n`,
  );
  let seen = 0;
  let n = 0;
  const traffic = setInterval(() => {
    for (let i = 0; i < CHECKOUTS_PER_TICK; i++) {
      n++;
      shop.checkout(n % VIOLATION_EVERY === 0 ? VIOLATIONS[(n / VIOLATION_EVERY) % VIOLATIONS.length] : undefined);
    }
  }, TICK_MS);
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
    removeDataDir();
    process.stdout.write(`\n${n} checkouts sent, ${seen} signals raised.\n`);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
  if (seconds > 0) {
    setTimeout(() => void stop(), seconds * 1000);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`demo failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
