/**
 * `betrace serve` with SELF_TRACING=otlp (the built CLI, so the OpenTelemetry SDK's own OTLP/HTTP
 * exporter runs, as in production): its spans reach an OTLP sink, its JSON log lines carry the
 * ids of the span they were written in, and its own spans sent back to its receiver are dropped
 * before evaluation.
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { decodeOtlpProtobuf, Span } from '@betrace/evaluator';
import { shownUrl } from '../src/writers';
import { HttpDouble } from './support/doubles';
import { cli, freePort, requireBuiltCli, root, until } from './support/serve';

const RULE = 'soc2-cc7-2-payment-failures-audited';
const violating = fs.readFileSync(path.join(root, 'examples/traces', RULE, 'violates-1.json'), 'utf8');

describe('betrace serve with SELF_TRACING=otlp', () => {
  const doubles: HttpDouble[] = [];
  const children: ChildProcess[] = [];
  afterAll(async () => {
    children.forEach((c) => c.kill('SIGKILL'));
    await Promise.all(doubles.map((d) => d.stop()));
  });

  it('sends its spans to the OTLP sink, logs with their ids, and never evaluates them', async () => {
    requireBuiltCli();
    const sink = new HttpDouble();
    const signals = new HttpDouble();
    doubles.push(sink, signals);
    const [sinkUrl, signalsUrl] = await Promise.all([sink.start(), signals.start()]);
    const [otlpPort, apiPort] = [await freePort(), await freePort()];
    const child = spawn(process.execPath, [cli, 'serve'], {
      env: {
        ...process.env,
        DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-self-serve-')),
        RULES_DIR: path.join(root, 'examples/rules'),
        OTLP_PORT: String(otlpPort),
        API_PORT: String(apiPort),
        OTLP_GRPC_PORT: 'off',
        HOST: '127.0.0.1',
        DECISION_WAIT: '200ms',
        MAX_TRACE_AGE: '2s',
        BETRACE_API_TOKEN: 'self-token',
        LOG_FORMAT: 'json',
        OTLP_EXPORT_URL: signalsUrl,
        SELF_TRACING: 'otlp',
        SELF_OTLP_ENDPOINT: sinkUrl,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr!.resume();
    const lines = () =>
      out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    await until('the sidecar to run', () =>
      lines().some((l) => typeof l.msg === 'string' && l.msg.startsWith('BeTrace is running'))
    );
    const selfLine = lines().find((l) => typeof l.msg === 'string' && l.msg.startsWith('self tracing:'));
    expect(selfLine).toMatchObject({ endpoint: shownUrl(`${sinkUrl}/v1/traces`), service: 'betrace-sidecar' });

    const res = await fetch(`http://127.0.0.1:${otlpPort}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: violating,
    });
    expect(res.status).toBe(200);
    const received = (): Span[] => sink.requests.flatMap((r) => decodeOtlpProtobuf(r.body).flatMap((t) => t.spans));
    await until(
      'the sidecar’s spans of the whole path',
      () =>
        ['betrace.receive', 'betrace.evaluate', 'betrace.store', 'betrace.deliver'].every((n) =>
          received().some((s) => s.name === n)
        ),
      30_000
    );
    for (const r of sink.requests) {
      expect(r.url).toBe('/v1/traces');
      expect(r.headers['content-type']).toBe('application/x-protobuf');
    }
    const spans = received();
    expect(new Set(spans.map((s) => s.service))).toEqual(new Set(['betrace-sidecar']));
    const receive = spans.find((s) => s.name === 'betrace.receive')!;
    expect(receive.attrs).toMatchObject({
      'betrace.tenant': 'default',
      'betrace.outcome': 'accepted',
      'http.response.status_code': 200,
    });
    const assemble = spans.find((s) => s.name === 'betrace.assemble')!;
    expect(assemble.parentSpanId).toBe(receive.spanId);
    const evaluate = spans.find((s) => s.name === 'betrace.evaluate')!;
    expect(evaluate.links.map((l) => l.spanId)).toEqual([receive.spanId]);
    expect(evaluate.attrs['betrace.violated_rules']).toEqual([RULE]);
    const store = spans.find((s) => s.name === 'betrace.store')!;
    expect(store.parentSpanId).toBe(evaluate.spanId);
    const deliver = spans.find((s) => s.name === 'betrace.deliver' && s.attrs['betrace.writer'] === 'otlp')!;
    expect(deliver.parentSpanId).toBe(store.spanId);
    expect(deliver.traceId).toBe(evaluate.traceId);
    const signalLine = lines().find((l) => typeof l.msg === 'string' && l.msg.startsWith('signal: '))!;
    expect(signalLine).toMatchObject({ trace_id: store.traceId, span_id: store.spanId });

    // The sink's requests, byte for byte, back to the sidecar's own receiver.
    const metric = async (name: string) => {
      const text = await (await fetch(`http://127.0.0.1:${apiPort}/metrics`)).text();
      return text
        .split('\n')
        .filter((l) => l.startsWith(name))
        .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
    };
    const before = await metric('betrace_traces_evaluated_total');
    expect(before).toBe(1);
    const bodies = sink.requests.map((r) => r.body);
    const ownSpans = bodies.reduce((n, b) => n + decodeOtlpProtobuf(b).reduce((m, t) => m + t.spans.length, 0), 0);
    for (const body of bodies) {
      const back = await fetch(`http://127.0.0.1:${otlpPort}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf' },
        body,
      });
      expect(back.status).toBe(200);
    }
    await until(
      'the own spans to be counted as dropped',
      async () => (await metric('betrace_own_spans_dropped_total')) === ownSpans
    );
    await new Promise((r) => setTimeout(r, 600)); // past DECISION_WAIT: anything buffered would be evaluated by now
    expect(await metric('betrace_traces_evaluated_total')).toBe(before);
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }, 60_000);
});
