/**
 * The real OpenTelemetry JS SDK and OTLP/HTTP protobuf exporter, in a second process, sending to
 * an in-process sidecar: every seeded violation of the demo shop raises exactly the signal of
 * its rule. (Needs the built package: npm test builds first.)
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import pino from 'pino';
import { loadConfig } from '../src/config';
import { createSidecar } from '../src/sidecar';
import { sendShopTraffic } from './support/shop';

const root = path.join(__dirname, '../../..');

const EXPECTED: Record<string, string> = {
  'missing-fraud-check': 'payment-fraud-check',
  'auto-approve': 'no-auto-approve',
  'retry-storm': 'bounded-retries',
  'pii-without-auth': 'pii-query-needs-auth',
  'silent-server-error': 'server-errors-explain-themselves',
  'unaudited-payment-failure': 'soc2-cc7-2-payment-failures-audited',
};

describe('the demo shop through the OpenTelemetry exporter', () => {
  it('raises exactly the seeded violations, one signal each', async () => {
    const config = loadConfig({ EVAL_WORKERS: '0', DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-shop-')), RULES_DIR: path.join(root, 'examples/rules'), OTLP_PORT: '0', API_PORT: '0', HOST: '127.0.0.1' });
    const clock = { now: Date.now() };
    const sidecar = createSidecar(config, { now: () => clock.now, logger: pino({ level: 'silent' }), tickMs: 3_600_000 });
    const { otlpPort } = await sidecar.start();
    try {
      const sent = await sendShopTraffic(`http://127.0.0.1:${otlpPort}/v1/traces`, 20, Object.keys(EXPECTED));
      expect(Object.keys(sent)).toHaveLength(26);
      clock.now += 10_001;
      await sidecar.shards.tick();
      const { signals } = sidecar.store.listSignals('default', { limit: 1000 });
      const got = signals.map((s) => [sent[s.traceId] ?? 'clean', s.ruleId]).sort();
      expect(got).toEqual(Object.entries(EXPECTED).sort());
      expect(await sidecar.metrics.registry.getSingleMetricAsString('betrace_spans_received_total')).toMatch(/source="push"\} 2\d\d/);
    } finally {
      await sidecar.stop();
    }
  });
});
