/**
 * Crash test: a sidecar process is SIGKILLed while signals wait in its outbox (its targets are
 * down), then restarted on the same data folder with the targets up. Every stored signal reaches
 * every writer once, and none twice. Runs the built binary (npm test builds first).
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { EvidenceStore } from '../src/evidence/store';
import { ExportTraceServiceRequest } from '../src/ingest/otlpProto';
import { Store } from '../src/store';
import { grafanaDouble, HttpDouble } from './support/doubles';
import { sendShopTraffic } from './support/shop';

const root = path.join(__dirname, '../../..');
const cli = path.join(root, 'packages/sidecar/dist/cli.js');

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) {
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function serve(env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, [cli, 'serve'], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.resume();
  return child;
}

describe('a sidecar killed with signals in flight', () => {
  const doubles: HttpDouble[] = [];
  const children: ChildProcess[] = [];
  afterAll(async () => {
    children.forEach((c) => c.kill('SIGKILL'));
    await Promise.all(doubles.map((d) => d.stop()));
  });

  it('delivers every stored signal once to each writer after a restart, and none twice', async () => {
    if (!fs.existsSync(cli)) {
      throw new Error(`${cli} is missing: run \`npm run build:packages\` first (npm test does)`);
    }
    const grafana = grafanaDouble();
    const sink = new HttpDouble();
    const webhook = new HttpDouble();
    doubles.push(grafana, sink, webhook);
    const [g, o, w] = await Promise.all([grafana.start(), sink.start(), webhook.start()]);
    grafana.down = sink.down = webhook.down = true;
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-crash-'));
    const [otlpPort, apiPort] = [await freePort(), await freePort()];
    const env = {
      DATA_DIR: dataDir,
      RULES_DIR: path.join(root, 'examples/rules'),
      OTLP_PORT: String(otlpPort),
      API_PORT: String(apiPort),
      HOST: '127.0.0.1',
      DECISION_WAIT: '200ms',
      MAX_TRACE_AGE: '2s',
      BETRACE_API_TOKEN: 'crash-test-token',
      GRAFANA_URL: g,
      GRAFANA_TOKEN: 'glsa_test',
      OTLP_EXPORT_URL: o,
      WEBHOOK_URL: w,
      LOG_LEVEL: 'warn',
    };
    const first = serve(env);
    children.push(first);
    await until('the sidecar to be ready', async () => (await fetch(`http://127.0.0.1:${apiPort}/readyz`).catch(() => undefined))?.status === 200);

    const violations = ['missing-fraud-check', 'auto-approve', 'retry-storm', 'pii-without-auth', 'silent-server-error', 'unaudited-payment-failure'];
    await sendShopTraffic(`http://127.0.0.1:${otlpPort}/v1/traces`, 10, [...violations, ...violations]);
    const count = async () => {
      const res = await fetch(`http://127.0.0.1:${apiPort}/api/v1/signals?limit=1000`, { headers: { authorization: 'Bearer crash-test-token' } });
      return ((await res.json()) as { total: number }).total;
    };
    await until('12 signals to be stored', async () => (await count()) === 12);
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    expect(webhook.requests).toHaveLength(0);

    grafana.down = sink.down = webhook.down = false;
    const second = serve(env);
    children.push(second);
    const store = () => new Store(path.join(dataDir, 'betrace.db'));
    await until('every outbox to drain', () => {
      const s = store();
      const depth = ['grafana', 'otlp', 'webhook', 'evidence'].map((x) => s.outboxDepth(x));
      s.close();
      return depth.every((d) => d === 0);
    });
    second.kill('SIGTERM');
    await new Promise((r) => second.once('exit', r));

    const s = store();
    const signals = s.listSignals('default', { limit: 1000 }).signals;
    expect(signals).toHaveLength(12);
    const ids = signals.map((x) => x.id).sort();
    // Webhook: each signal exactly once.
    expect(webhook.requests.map((r) => String(r.headers['x-betrace-signal-id'])).sort()).toEqual(ids);
    // Signal spans: each signal exactly once. Evidence spans (rules with compliance mappings): each record exactly once.
    const spans = sink.requests.map((r) => {
      const req = ExportTraceServiceRequest.toObject(ExportTraceServiceRequest.decode(r.body)) as {
        resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<{ name: string; attributes: Array<{ key: string; value: { stringValue?: string; intValue?: unknown } }> }> }> }>;
      };
      return req.resourceSpans[0].scopeSpans[0].spans[0];
    });
    const attr = (span: (typeof spans)[number], key: string) => span.attributes.find((a) => a.key === key)!.value;
    const spanned = spans.filter((x) => x.name === 'betrace.signal').map((x) => attr(x, 'betrace.signal.id').stringValue);
    expect(spanned.sort()).toEqual(ids);
    const evidence = spans.filter((x) => x.name === 'compliance.evidence' && x.attributes.some((a) => a.key === 'betrace.evidence.seq')).map((x) => Number(String(attr(x, 'betrace.evidence.seq').intValue)));
    const records = new EvidenceStore(s.db).all('default').map((r) => r.seq);
    expect(records.length).toBeGreaterThan(0);
    expect(evidence.sort((a, b) => a - b)).toEqual(records);
    // Besides the records, the chain-head anchors (docs/evidence.md, Anchors): each names a head that exists.
    const anchors = spans.filter((x) => x.name === 'compliance.evidence' && !x.attributes.some((a) => a.key === 'betrace.evidence.seq'));
    for (const a of anchors) {
      expect(records).toContain(Number(String(attr(a, 'betrace.evidence.head_seq').intValue)));
    }
    expect(spans).toHaveLength(spanned.length + evidence.length + anchors.length);
    // Annotations: every signal has one; one POST per (rule, minute), the rest folded in by PATCH.
    for (const x of signals) {
      expect(s.annotationOf('default', x.id)).toBeDefined();
    }
    const posts = grafana.requests.filter((r) => r.method === 'POST');
    const storms = new Set(signals.map((x) => `${x.ruleId}/${Math.floor(x.createdAt / 60_000)}`));
    expect(posts).toHaveLength(storms.size);
    expect(grafana.requests).toHaveLength(12);
    s.close();
  }, 60_000);
});
