/**
 * End to end: a trace full of PII (every attribute type, resource attributes, events, links)
 * violates a rule whose message template renders those attributes. Recording doubles stand in
 * for every writer (OTLP sink, Grafana, JSON and Slack webhooks); every detector is then run over
 * exactly the bytes that left, and over the API responses that echo span data. Nothing may match,
 * and no planted value (including those only their attribute's name marks as secret) may appear.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import pino from 'pino';
import { decodeOtlpJsonText } from '@betrace/evaluator';
import { TempoDouble } from '../../../tests/support/tempoDouble';
import { loadConfig } from '../src/config';
import { ExportTraceServiceRequest } from '../src/ingest/otlpProto';
import { DETECTOR_NAMES, Redactor } from '../src/redact';
import { createSidecar, Sidecar } from '../src/sidecar';
import { grafanaDouble, HttpDouble, Recorded } from './support/doubles';

const scanner = new Redactor({ detectors: [...DETECTOR_NAMES], action: 'redact', keys: [], allowKeys: [] });
const leaks = (text: string) => scanner.findings(text).map((f) => `${f.detector}: ${text.slice(f.start, f.end)}`);

const PII = {
  email: 'alice.smith@example.com',
  card: '4111 1111 1111 1111',
  cardInt: '5555555555554444',
  ssn: '536-22-1234',
  phone: '+44 20 7946 0958',
  password: 'correct-horse-battery',
  jwt: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
  stripe: 'sk_live_4eC39HqLyjWDarjtT1zdp7dc',
  github: 'ghp_R2d2C3poBb8Ee1Kk9Ll7Mm6Nn5Oo4Pp3Qq2Rr',
  bytes: 'raw alice.smith@example.com',
};

const str = (key: string, v: string) => ({ key, value: { stringValue: v } });
const TRACE = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
const ROOT = 'b7ad6b7169203331';
const CHILD = '0af7651916cd43dd';

function piiTrace(): string {
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [str('service.name', 'shop'), str('owner.contact', PII.email), str('deployment.environment', 'prod')] },
        scopeSpans: [
          {
            scope: { name: 'manual', version: '1.0.0' },
            spans: [
              {
                traceId: TRACE,
                spanId: ROOT,
                name: 'checkout.place_order',
                kind: 2,
                startTimeUnixNano: '1764028800000000000',
                endTimeUnixNano: '1764028800420000000',
                attributes: [
                  str('user.email', PII.email),
                  str('payment.card', PII.card),
                  { key: 'payment.card_int', value: { intValue: PII.cardInt } },
                  str('customer.ssn', PII.ssn),
                  str('customer.phone', PII.phone),
                  str('db.password', PII.password),
                  str('http.request.header.authorization', `Bearer ${PII.jwt}`),
                  str('config.stripe', PII.stripe),
                  { key: 'tags', value: { arrayValue: { values: [{ stringValue: 'vip' }, { stringValue: PII.phone }] } } },
                  { key: 'ctx', value: { kvlistValue: { values: [str('token', PII.github), { key: 'nested', value: { kvlistValue: { values: [str('note', `call ${PII.phone}`)] } } }] } } },
                  { key: 'blob', value: { bytesValue: Buffer.from(PII.bytes).toString('base64') } },
                ],
                events: [{ timeUnixNano: '1764028800100000000', name: 'exception', attributes: [str('exception.message', `card ${PII.card} declined for ${PII.email}`)] }],
                links: [{ traceId: TRACE, spanId: CHILD, attributes: [str('link.reason', PII.ssn)] }],
                status: { code: 2, message: `declined: ${PII.card}` },
              },
              {
                traceId: TRACE,
                spanId: CHILD,
                parentSpanId: ROOT,
                name: 'checkout.charge',
                kind: 3,
                startTimeUnixNano: '1764028800010000000',
                endTimeUnixNano: '1764028800300000000',
                attributes: [str('payment.card', PII.card)],
              },
            ],
          },
        ],
      },
    ],
  });
}

const RULES = `rules:
  - id: pii-everywhere
    name: Orders need a fraud check (escalate to oncall@example.com)
    severity: critical
    message: "order by {p.user.email} card {p.payment.card} ({p.payment.card_int}) ssn {p.customer.ssn} phone {p.customer.phone} pwd {p.db.password} auth {p.http.request.header.authorization} stripe {p.config.stripe} tags {p.tags} ctx {p.ctx} contact {p.resource.owner.contact} status {p.status_message}"
    condition: |
      when   { p: checkout.place_order }
      always { checkout.fraud_check }
`;

interface Setup {
  sidecar: Sidecar;
  otlp: string;
  api: string;
  clock: { now: number };
  doubles: HttpDouble[];
  sink: HttpDouble;
  grafana: HttpDouble;
  webhook: HttpDouble;
}

const setups: Setup[] = [];
afterEach(async () => {
  for (const s of setups.splice(0)) {
    await s.sidecar.stop();
    await Promise.all(s.doubles.map((d) => d.stop()));
  }
});

async function setup(format: 'json' | 'slack'): Promise<Setup> {
  const grafana = grafanaDouble();
  const sink = new HttpDouble();
  const webhook = new HttpDouble();
  const [g, o, w] = await Promise.all([grafana.start(), sink.start(), webhook.start()]);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-redact-'));
  const rulesDir = path.join(dataDir, 'rules');
  fs.mkdirSync(rulesDir);
  fs.writeFileSync(path.join(rulesDir, 'pii.yaml'), RULES);
  const config = loadConfig({ EVAL_WORKERS: '0',
    DATA_DIR: dataDir,
    RULES_DIR: rulesDir,
    OTLP_PORT: '0',
    API_PORT: '0',
    HOST: '127.0.0.1',
    GRAFANA_URL: g,
    GRAFANA_TOKEN: 'glsa_test',
    OTLP_EXPORT_URL: o,
    WEBHOOK_URL: `${w}/hook`,
    WEBHOOK_FORMAT: format,
  });
  const clock = { now: Date.UTC(2026, 10, 25, 12, 0, 0) };
  const sidecar = createSidecar(config, { now: () => clock.now, logger: pino({ level: 'silent' }), tickMs: 3_600_000, writerIntervalMs: 3_600_000 });
  const { otlpPort, apiPort } = await sidecar.start();
  const s = { sidecar, otlp: `http://127.0.0.1:${otlpPort}/v1/traces`, api: `http://127.0.0.1:${apiPort}`, clock, doubles: [grafana, sink, webhook], sink, grafana, webhook };
  setups.push(s);
  return s;
}

async function raiseAndDeliver(s: Setup): Promise<void> {
  const res = await fetch(s.otlp, { method: 'POST', headers: { 'content-type': 'application/json' }, body: piiTrace() });
  expect(res.status).toBe(200);
  s.clock.now += 10_001;
  await s.sidecar.shards.tick();
  for (const d of s.sidecar.dispatchers) {
    await d.runOnce();
  }
}

/** What left, as text: JSON bodies as sent; protobuf bodies decoded (and their raw bytes too). */
function leftText(r: Recorded): string[] {
  if (r.headers['content-type'] === 'application/x-protobuf') {
    const decoded = ExportTraceServiceRequest.toObject(ExportTraceServiceRequest.decode(r.body), { longs: String, bytes: String });
    return [JSON.stringify(decoded), r.body.toString('latin1')];
  }
  return [r.body.toString('utf8')];
}

function expectNothingLeaks(texts: string[]): void {
  for (const text of texts) {
    expect(leaks(text)).toEqual([]);
    for (const planted of [...Object.values(PII), PII.card.replace(/ /g, ''), 'oncall@example.com']) {
      expect(text).not.toContain(planted);
    }
  }
}

describe('nothing matching a detector reaches any writer', () => {
  it('OTLP signal spans, Grafana annotations and JSON webhooks carry the redacted message only', async () => {
    const s = await setup('json');
    await raiseAndDeliver(s);
    expect(s.sink.requests).toHaveLength(1);
    expect(s.grafana.requests).toHaveLength(1);
    expect(s.webhook.requests).toHaveLength(1);
    const all = [...s.sink.requests, ...s.grafana.requests, ...s.webhook.requests].flatMap(leftText);
    expectNothingLeaks(all);

    // The message did render the planted values: they were redacted, not absent.
    const hook = JSON.parse(s.webhook.requests[0].body.toString()) as { signal: { message: string; ruleName: string; traceId: string } };
    // A sensitive attribute whose whole value one detector finds keeps that detector's name; one
    // that no detector recognizes (the password, the bearer header) is withheld by its name.
    expect(hook.signal.message).toBe(
      'order by [REDACTED:email] card [REDACTED:card] ([REDACTED:card]) ssn [REDACTED:ssn] phone [REDACTED:phone] pwd [REDACTED:key] auth [REDACTED:key] ' +
        'stripe [REDACTED:apikey] tags [vip, [REDACTED:phone]] ctx {"token":"[REDACTED:apikey]","nested":{"note":"call [REDACTED:phone]"}} contact [REDACTED:email] status declined: [REDACTED:card]',
    );
    expect(hook.signal.ruleName).toBe('Orders need a fraud check (escalate to [REDACTED:email])');
    expect(hook.signal.traceId).toBe(TRACE);
    const annotation = JSON.parse(s.grafana.requests[0].body.toString()) as { text: string; tags: string[] };
    expect(annotation.text).toContain(`— trace ${TRACE}`);
    expect(annotation.tags).toEqual(['betrace', 'rule:pii-everywhere', 'severity:critical', 'service:shop']);
    // The signal span keeps its ids: its parent is the bound span.
    const span = (ExportTraceServiceRequest.toObject(ExportTraceServiceRequest.decode(s.sink.requests[0].body), { bytes: String }) as {
      resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<{ parentSpanId: string }> }> }>;
    }).resourceSpans[0].scopeSpans[0].spans[0];
    expect(Buffer.from(span.parentSpanId, 'base64').toString('hex')).toBe(ROOT);
  });

  it('writers redact on their own: a signal stored unredacted (before this version) leaves redacted', async () => {
    for (const format of ['json', 'slack'] as const) {
      const s = await setup(format);
      const legacy = `legacy: ${PII.email} paid with ${PII.card}, call ${PII.phone}`;
      s.sidecar.store.addSignals(
        'default',
        [{ violation: { ruleId: 'pii-everywhere', traceId: TRACE, boundSpanId: ROOT, matchedSpanIds: [ROOT], message: legacy, severity: 'critical' }, ruleVersion: 1, ruleName: `ask ${PII.email}`, source: 'push', service: 'shop' }],
        ['otlp', 'grafana', 'webhook'],
        s.clock.now,
      );
      for (const d of s.sidecar.dispatchers) {
        await d.runOnce();
      }
      const sent = [...s.sink.requests, ...s.grafana.requests, ...s.webhook.requests];
      expect(sent).toHaveLength(3);
      expectNothingLeaks(sent.flatMap(leftText));
      expect(s.webhook.requests[0].body.toString()).toContain('legacy: [REDACTED:email] paid with [REDACTED:card], call [REDACTED:phone]');
    }
  });

  it('Slack webhooks too', async () => {
    const s = await setup('slack');
    await raiseAndDeliver(s);
    expect(s.webhook.requests).toHaveLength(1);
    expectNothingLeaks(leftText(s.webhook.requests[0]));
    expect(JSON.parse(s.webhook.requests[0].body.toString()).text).toContain('[REDACTED:');
  });

  it('API responses that echo span data: stored signals and rule tests', async () => {
    const s = await setup('json');
    await raiseAndDeliver(s);
    const auth = { authorization: `Bearer ${s.sidecar.token}`, 'content-type': 'application/json' };
    const signals = await (await fetch(`${s.api}/api/v1/signals`, { headers: auth })).text();
    expect(signals).toContain('[REDACTED:');
    expectNothingLeaks([signals]);
    const test = await fetch(`${s.api}/api/v1/rules/test`, { method: 'POST', headers: auth, body: JSON.stringify({ ruleId: 'pii-everywhere', traces: [JSON.parse(piiTrace())] }) });
    expect(test.status).toBe(200);
    const body = await test.text();
    expect(body).toContain('[REDACTED:');
    expectNothingLeaks([body]);
  });

  it('dry-run replay results (violations found in Tempo, returned by the API)', async () => {
    const clock = { now: Date.UTC(2026, 10, 25, 12, 0, 0) };
    const tempo = new TempoDouble({ now: () => clock.now });
    const url = await tempo.start();
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-redact-replay-'));
    fs.mkdirSync(path.join(dataDir, 'rules'));
    fs.writeFileSync(path.join(dataDir, 'rules', 'pii.yaml'), RULES);
    const config = loadConfig({ EVAL_WORKERS: '0', DATA_DIR: dataDir, RULES_DIR: path.join(dataDir, 'rules'), OTLP_PORT: '0', API_PORT: '0', HOST: '127.0.0.1', TEMPO_URL: url, POLL_START: '15m' });
    const sidecar = createSidecar(config, { now: () => clock.now, logger: pino({ level: 'silent' }), tickMs: 3_600_000, pollIntervalMs: 0 });
    const { apiPort } = await sidecar.start();
    try {
      const [trace] = decodeOtlpJsonText(piiTrace());
      const shift = BigInt(clock.now - 30 * 60_000) * 1_000_000n - trace.startNs;
      tempo.ingest('single-tenant', trace.spans.map((x) => ({ ...x, startNs: x.startNs + shift, endNs: x.endNs + shift })));
      const auth = { authorization: `Bearer ${sidecar.token}`, 'content-type': 'application/json' };
      const api = `http://127.0.0.1:${apiPort}`;
      const res = await fetch(`${api}/api/v1/replay`, { method: 'POST', headers: auth, body: JSON.stringify({ ruleIds: ['pii-everywhere'], from: String(clock.now - 60 * 60_000), to: String(clock.now), dryRun: true }) });
      expect(res.status).toBe(202);
      const job = (await res.json()) as { id: string };
      await sidecar.replay!.idle();
      const body = await (await fetch(`${api}/api/v1/replay/${job.id}`, { headers: auth })).text();
      expect((JSON.parse(body) as { violations: unknown[] }).violations).toHaveLength(1);
      expect(body).toContain('pwd [REDACTED:key]');
      expectNothingLeaks([body]);
    } finally {
      await sidecar.stop();
      await tempo.stop();
    }
  });

  it('compliance evidence (spans and every export format) and spans forwarded in gateway mode', async () => {
    const clock = { now: Date.UTC(2026, 10, 25, 12, 0, 0) };
    const tempo = new TempoDouble({ now: () => clock.now });
    const tempoUrl = await tempo.start();
    const sink = new HttpDouble();
    const sinkUrl = await sink.start();
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-redact-evidence-'));
    fs.mkdirSync(path.join(dataDir, 'rules'));
    // A compliance mapping is free text from a rule file: here it carries an e-mail address.
    fs.writeFileSync(
      path.join(dataDir, 'rules', 'pii.yaml'),
      RULES.replace('    severity: critical\n', '    severity: critical\n    compliance:\n      - { framework: soc2, control: "CC7.2 owner oncall@example.com" }\n'),
    );
    const config = loadConfig({ EVAL_WORKERS: '0', DATA_DIR: dataDir, RULES_DIR: path.join(dataDir, 'rules'), OTLP_PORT: '0', API_PORT: '0', HOST: '127.0.0.1', OTLP_EXPORT_URL: sinkUrl, TEMPO_OTLP_URL: `${tempoUrl}/v1/traces` });
    config.gateway = true;
    const sidecar = createSidecar(config, { now: () => clock.now, logger: pino({ level: 'silent' }), tickMs: 3_600_000, writerIntervalMs: 3_600_000, gatewayIntervalMs: 0 });
    const { otlpPort, apiPort } = await sidecar.start();
    try {
      expect((await fetch(`http://127.0.0.1:${otlpPort}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: piiTrace() })).status).toBe(200);
      // Gateway: what Tempo stores is the redacted trace.
      await sidecar.gateway!.runOnce();
      const stored = await (await fetch(`${tempoUrl}/api/v2/traces/${TRACE}`)).text();
      expect(stored).toContain('checkout.place_order');
      expect(stored).toContain('[REDACTED:');
      expectNothingLeaks([stored]);
      // Evidence: the per-trace record of the failure and the window's summary, as spans and exports.
      clock.now += 10_001;
      await sidecar.shards.tick();
      clock.now += 120_000;
      expect(sidecar.evidence.seal()).toBeGreaterThan(0);
      for (const d of sidecar.dispatchers) {
        await d.runOnce();
      }
      const evidenceSpans = sink.requests.flatMap(leftText).filter((t) => t.includes('compliance.evidence'));
      expect(evidenceSpans.length).toBeGreaterThan(0);
      expectNothingLeaks(sink.requests.flatMap(leftText));
      const auth = { authorization: `Bearer ${sidecar.token}` };
      // The PDF renders the same stored (redacted) records; its text is compressed, so JSON and CSV are read.
      for (const format of ['json', 'csv']) {
        const res = await fetch(`http://127.0.0.1:${apiPort}/api/v1/evidence/export?format=${format}`, { headers: auth });
        expect(res.status).toBe(200);
        const text = await res.text();
        expect(text).toContain('CC7.2 owner [REDACTED:email]');
        expectNothingLeaks([text]);
      }
      // Redaction happens before signing: the chain still verifies.
      const report = (await (await fetch(`http://127.0.0.1:${apiPort}/api/v1/evidence`, { headers: auth })).json()) as { verification: { altered: unknown[]; missing: unknown[]; reordered: unknown[] } };
      expect(report.verification).toMatchObject({ altered: [], missing: [], reordered: [] });
    } finally {
      await sidecar.stop();
      await tempo.stop();
      await sink.stop();
    }
  });
});
