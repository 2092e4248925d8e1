import * as net from 'net';
/**
 * Pull mode against the Tempo double (tests/support/tempoDouble.ts): windows, saturated searches,
 * fetch-once, outages, restarts, tenants, late spans. Time is an injected clock.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import pino from 'pino';
import { decodeOtlpJsonText, Span } from '@betrace/evaluator';
import { TempoDouble } from '../../../tests/support/tempoDouble';
import { loadConfig } from '../src/config';
import { createSidecar, Sidecar } from '../src/sidecar';
import { TempoPoller } from '../src/tempo/poller';
import { main } from '../src/cli';
import { Store } from '../src/store';
import { storeEnv } from './support/engine';

const root = path.join(__dirname, '../../..');
const MINUTE = 60_000;

/** An example trace under a new id, its spans starting `atMs`. */
function exampleSpans(rule: string, verdict: 'violates' | 'satisfies', n: number, atMs: number): Span[] {
  const [trace] = decodeOtlpJsonText(fs.readFileSync(path.join(root, 'examples/traces', rule, `${verdict}-1.json`), 'utf8'));
  const traceId = `${rule.length.toString(16).padStart(2, '0')}${verdict === 'violates' ? 'aa' : 'bb'}${n.toString(16).padStart(28, '0')}`;
  const shift = BigInt(atMs) * 1_000_000n - trace.startNs;
  return trace.spans.map((s) => ({ ...s, traceId, startNs: s.startNs + shift, endNs: s.endNs + shift }));
}

interface Pull {
  api: string;
  sidecar: Sidecar;
  tempo: TempoDouble;
  clock: { now: number };
  dataDir: string;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) {
    await c();
  }
});

async function pull(options: { tempo?: TempoDouble; dataDir?: string; clock?: { now: number }; env?: Record<string, string> } = {}): Promise<Pull> {
  const clock = options.clock ?? { now: Date.UTC(2026, 10, 25, 12, 0, 0) };
  let tempo = options.tempo;
  if (!tempo) {
    tempo = new TempoDouble({ now: () => clock.now });
    cleanups.push(() => tempo!.stop());
  }
  const url = await tempo.start();
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-pull-'));
  const config = loadConfig({ EVAL_WORKERS: '0',
    DATA_DIR: dataDir,
    RULES_DIR: path.join(root, 'examples/rules'),
    OTLP_PORT: '0',
    API_PORT: '0',
    HOST: '127.0.0.1',
    TEMPO_URL: url,
    POLL_START: '15m',
    POLL_SETTLE: '2m',
    ...options.env,
  });
  const sidecar = createSidecar(config, { now: () => clock.now, logger: pino({ level: 'silent' }), tickMs: 3_600_000, pollIntervalMs: 0 });
  const { apiPort } = await sidecar.start();
  cleanups.push(() => sidecar.stop());
  return { api: `http://127.0.0.1:${apiPort}`, sidecar, tempo, clock, dataDir };
}

const ruleIds = (s: Sidecar) => s.store.listSignals('default', { limit: 1000 }).signals.map((x) => x.ruleId).sort();

describe('pull mode', () => {
  it('evaluates the settled windows since the watermark, fetching each candidate trace once', async () => {
    const p = await pull();
    const t = p.clock.now;
    // Away from window boundaries (t-15, t-10, t-5 minutes): a trace straddling one is fetched in both windows.
    p.tempo.ingest('single-tenant', exampleSpans('payment-fraud-check', 'violates', 1, t - 9.5 * MINUTE));
    p.tempo.ingest('single-tenant', exampleSpans('payment-fraud-check', 'satisfies', 2, t - 8.5 * MINUTE));
    p.tempo.ingest('single-tenant', exampleSpans('no-auto-approve', 'violates', 3, t - 4.5 * MINUTE));
    // Inside the settle time: not evaluated yet.
    p.tempo.ingest('single-tenant', exampleSpans('bounded-retries', 'violates', 4, t - 1 * MINUTE));
    const result = await p.sidecar.poller!.pollOnce();
    expect(ruleIds(p.sidecar)).toEqual(['no-auto-approve', 'payment-fraud-check']);
    expect(p.sidecar.store.getWatermark('default')).toBe(t - 2 * MINUTE);
    expect(result.windows).toBe(3); // 13 minutes in windows of at most 5
    const fetched = p.tempo.requests.filter((r) => r.url.startsWith('/api/v2/traces/')).map((r) => r.url);
    expect(fetched).toHaveLength(3); // three candidates (both rules' searches found the shop traces), each once
    expect(new Set(fetched).size).toBe(fetched.length);
    expect(p.sidecar.store.listSignals('default').signals.every((s) => s.source === 'pull')).toBe(true);

    p.clock.now += 2 * MINUTE;
    await p.sidecar.poller!.pollOnce();
    expect(ruleIds(p.sidecar)).toEqual(['bounded-retries', 'no-auto-approve', 'payment-fraud-check']);
    const lag = await p.sidecar.metrics.registry.getSingleMetricAsString('betrace_poll_lag_seconds');
    expect(lag).toMatch(/betrace_poll_lag_seconds\{tenant="default"\} 120/);
  });

  it('splits windows whose searches are saturated: nothing is missed', async () => {
    const p = await pull();
    const t = p.clock.now;
    for (let i = 0; i < 23; i++) {
      p.tempo.ingest('single-tenant', exampleSpans('no-auto-approve', 'violates', 100 + i, t - 12 * MINUTE + i * 20_000));
    }
    const poller = new TempoPoller({
      tenant: 'default',
      client: p.sidecar.tempo!,
      store: p.sidecar.store,
      rules: p.sidecar.rules,
      pipeline: p.sidecar.pipeline,
      log: pino({ level: 'silent' }),
      lag: p.sidecar.metrics.pollLag,
      now: () => p.clock.now,
      settleMs: 2 * MINUTE,
      startMs: 15 * MINUTE,
      limit: 4,
    });
    const result = await poller.pollOnce();
    expect(p.sidecar.store.listSignals('default', { limit: 100 }).total).toBe(23);
    expect(result.searches).toBeGreaterThan(13);
  });

  it('stands still through a Tempo outage and catches up without skipping or doubling', async () => {
    const p = await pull();
    const t = p.clock.now;
    p.tempo.ingest('single-tenant', exampleSpans('payment-fraud-check', 'violates', 1, t - 10 * MINUTE));
    p.tempo.fault = { status: 503, path: '/api/search' };
    for (let i = 0; i < 3; i++) {
      await expect(p.sidecar.poller!.pollOnce()).rejects.toThrow(/Tempo search answered 503: injected fault: 503/);
      p.clock.now += MINUTE;
    }
    expect(p.sidecar.store.getWatermark('default')).toBeUndefined();
    expect(ruleIds(p.sidecar)).toEqual([]);
    p.tempo.ingest('single-tenant', exampleSpans('no-auto-approve', 'violates', 2, t - 4 * MINUTE));
    p.tempo.fault = undefined;
    await p.sidecar.poller!.pollOnce();
    expect(ruleIds(p.sidecar)).toEqual(['no-auto-approve', 'payment-fraud-check']);
    // Overlapping windows (the watermark set back) never make a second signal.
    p.sidecar.store.setWatermark('default', t - 15 * MINUTE, p.clock.now);
    await p.sidecar.poller!.pollOnce();
    expect(ruleIds(p.sidecar)).toEqual(['no-auto-approve', 'payment-fraud-check']);
  }, 30_000);

  it('reports Tempo in /readyz without becoming unready when Tempo is down', async () => {
    const p = await pull();
    const ready = async () => {
      const r = await fetch(`${p.api}/readyz`);
      return { status: r.status, body: (await r.json()) as { ready: boolean; tempo?: unknown } };
    };
    expect(await ready()).toEqual({ status: 200, body: { ready: true, tempo: { ready: true, version: '2.9.0' } } });
    p.tempo.fault = { status: 503 };
    expect((await ready()).body.tempo).toEqual({ ready: true, version: '2.9.0' }); // checked at most every 10 s
    p.clock.now += 11_000;
    expect(await ready()).toEqual({ status: 200, body: { ready: true, tempo: { ready: false } } });
  });

  it('scans a window again while a trace search lists cannot be fetched yet, and moves on after the last retry', async () => {
    const p = await pull();
    const t = p.clock.now;
    p.tempo.ingest('single-tenant', exampleSpans('payment-fraud-check', 'violates', 1, t - 9.5 * MINUTE));
    const client = p.sidecar.tempo!;
    const realTrace = client.trace.bind(client);
    let refusals = 2; // Tempo answers 200 with an empty trace while it is still flushing it
    client.trace = async (id: string) => (refusals-- > 0 ? undefined : realTrace(id));
    await p.sidecar.poller!.pollOnce();
    expect(ruleIds(p.sidecar)).toEqual([]);
    expect(p.sidecar.store.getWatermark('default')).toBe(t - 10 * MINUTE); // the window before it only
    await p.sidecar.poller!.pollOnce();
    expect(p.sidecar.store.getWatermark('default')).toBe(t - 10 * MINUTE);
    await p.sidecar.poller!.pollOnce();
    expect(ruleIds(p.sidecar)).toEqual(['payment-fraud-check']);
    expect(p.sidecar.store.getWatermark('default')).toBe(t - 2 * MINUTE);

    // A trace that never becomes retrievable holds its window for five polls, then is counted.
    p.tempo.ingest('single-tenant', exampleSpans('no-auto-approve', 'violates', 2, t + 30_000));
    client.trace = async () => undefined;
    p.clock.now += 5 * MINUTE;
    for (let i = 0; i < 4; i++) {
      await p.sidecar.poller!.pollOnce();
      expect(p.sidecar.store.getWatermark('default')).toBe(t - 2 * MINUTE);
    }
    await p.sidecar.poller!.pollOnce();
    expect(p.sidecar.store.getWatermark('default')).toBe(p.clock.now - 2 * MINUTE);
    expect(await p.sidecar.metrics.registry.getSingleMetricAsString('betrace_poll_unavailable_traces_total')).toContain('betrace_poll_unavailable_traces_total{tenant="default"} 1');
  });

  it('shows at GET /api/v1/cluster/leases which replica holds the window it is scanning', async () => {
    const p = await pull({ env: { REPLICA_ID: 'pull-test-1' } });
    const t = p.clock.now;
    p.tempo.ingest('single-tenant', exampleSpans('payment-fraud-check', 'violates', 1, t - 9.5 * MINUTE));
    const client = p.sidecar.tempo!;
    const realTrace = client.trace.bind(client);
    let open = () => undefined as void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let waiting = false;
    client.trace = async (id: string) => {
      waiting = true;
      await gate;
      return realTrace(id);
    };
    const polling = p.sidecar.poller!.pollOnce();
    while (!waiting) await new Promise((resolve) => setTimeout(resolve, 5));
    const leases = async () => (await fetch(`${p.api}/api/v1/cluster/leases`, { headers: { authorization: `Bearer ${p.sidecar.token}` } })).json();
    // The first window (nothing in it) is done; the second is held while its trace is fetched.
    expect(await leases()).toEqual({
      replica: 'pull-test-1',
      watermark: t - 10 * MINUTE,
      leases: [{ key: `pull:default:${t - 10 * MINUTE}`, holder: 'pull-test-1', since: t, expiresAt: t + 30_000, expired: false }],
      windows: [{ startMs: t - 10 * MINUTE, endMs: t - 5 * MINUTE, attempts: 0, done: false }],
    });
    open();
    await polling;
    expect(await leases()).toEqual({ replica: 'pull-test-1', watermark: t - 2 * MINUTE, leases: [], windows: [] });
    expect((await fetch(`${p.api}/api/v1/cluster/leases`)).status).toBe(401);
  });

  it('resumes from the stored watermark after a restart', async () => {
    const first = await pull();
    const t = first.clock.now;
    first.tempo.ingest('single-tenant', exampleSpans('payment-fraud-check', 'violates', 1, t - 10 * MINUTE));
    await first.sidecar.poller!.pollOnce();
    await first.sidecar.stop();
    cleanups.splice(cleanups.length - 1, 1);
    first.clock.now += 10 * MINUTE;
    first.tempo.ingest('single-tenant', exampleSpans('no-auto-approve', 'violates', 2, t + 3 * MINUTE));
    const before = first.tempo.requests.length;
    const second = await pull({ tempo: first.tempo, dataDir: first.dataDir, clock: first.clock });
    await second.sidecar.poller!.pollOnce();
    expect(ruleIds(second.sidecar)).toEqual(['no-auto-approve', 'payment-fraud-check']);
    const starts = first.tempo.requests.slice(before).filter((r) => r.url.startsWith('/api/search')).map((r) => Number(new URL(r.url, 'http://x').searchParams.get('start')));
    expect(Math.min(...starts)).toBe(Math.floor((t - 2 * MINUTE) / 1000));
  });

  it('keeps tenants apart by org id', async () => {
    const clock = { now: Date.UTC(2026, 10, 25, 12, 0, 0) };
    const tempo = new TempoDouble({ multiTenant: true, now: () => clock.now });
    cleanups.push(() => tempo.stop());
    tempo.ingest('team-a', exampleSpans('payment-fraud-check', 'violates', 1, clock.now - 10 * MINUTE));
    tempo.ingest('team-b', exampleSpans('no-auto-approve', 'violates', 2, clock.now - 10 * MINUTE));
    const a = await pull({ tempo, clock, env: { TEMPO_ORG_ID: 'team-a' } });
    const b = await pull({ tempo, clock, env: { TEMPO_ORG_ID: 'team-b' } });
    await a.sidecar.poller!.pollOnce();
    await b.sidecar.poller!.pollOnce();
    expect(ruleIds(a.sidecar)).toEqual(['payment-fraud-check']);
    expect(ruleIds(b.sidecar)).toEqual(['no-auto-approve']);
    expect(tempo.requests.every((r) => r.tenant === 'team-a' || r.tenant === 'team-b' || r.url === '/ready')).toBe(true);
  });

  it('waits out the settle time, so late spans are evaluated with their trace', async () => {
    const p = await pull();
    const t = p.clock.now;
    // The satisfying trace arrives in two parts: without its fraud check first, which alone would violate.
    const spans = exampleSpans('payment-fraud-check', 'satisfies', 7, t - 90_000);
    const fraud = spans.filter((s) => s.name === 'payment.fraud_check');
    p.tempo.ingest('single-tenant', spans.filter((s) => s.name !== 'payment.fraud_check'));
    await p.sidecar.poller!.pollOnce();
    p.clock.now += 30_000;
    p.tempo.ingest('single-tenant', fraud);
    p.clock.now += 2 * MINUTE;
    await p.sidecar.poller!.pollOnce();
    expect(ruleIds(p.sidecar)).toEqual([]);
  });
});

describe('replay', () => {
  const call = async (p: Pull, method: string, url: string, body?: unknown) => {
    return fetch(`${p.api}${url}`, {
      method,
      headers: { authorization: `Bearer ${p.sidecar.token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  };

  it('over a day of traffic finds the same violations as push mode does on the same traces', async () => {
    const p = await pull();
    const t = p.clock.now;
    const day = 24 * 60 * MINUTE;
    const rules = ['payment-fraud-check', 'no-auto-approve', 'bounded-retries', 'pii-query-needs-auth'];
    const all: Span[][] = [];
    for (let i = 0; i < 48; i++) {
      const rule = rules[i % rules.length];
      const spans = exampleSpans(rule, i % 3 === 0 ? 'satisfies' : 'violates', 500 + i, t - day + i * 30 * MINUTE + 7_000);
      all.push(spans);
      p.tempo.ingest('single-tenant', spans);
    }
    // Push mode's answer on the same traces: the evaluator over each trace with every enabled rule.
    const { evaluateTrace, buildTrace } = await import('@betrace/evaluator');
    const active = p.sidecar.rules.active('default').map((r) => r.compiled);
    const expected = all.flatMap((spans) => evaluateTrace(active, buildTrace(spans[0].traceId, spans)).map((v) => `${v.ruleId}/${v.traceId}`)).sort();

    const res = await call(p, 'POST', '/api/v1/replay', { from: new Date(t - day).toISOString(), to: new Date(t).toISOString(), dryRun: true });
    expect(res.status).toBe(202);
    const job = (await res.json()) as { id: string; windowsTotal: number };
    expect(job.windowsTotal).toBe(288);
    await p.sidecar.replay!.idle();
    const done = (await (await call(p, 'GET', `/api/v1/replay/${job.id}`)).json()) as { status: string; windowsDone: number; violations: Array<{ ruleId: string; traceId: string }>; tracesFetched: number };
    expect(done.status).toBe('done');
    expect(done.windowsDone).toBe(288);
    expect(done.violations.map((v) => `${v.ruleId}/${v.traceId}`).sort()).toEqual(expected);
    expect(p.sidecar.store.listSignals('default').total).toBe(0); // a dry run stores nothing

    const real = (await (await call(p, 'POST', '/api/v1/replay', { ruleIds: ['no-auto-approve'], from: String(t - day), to: String(t) })).json()) as { id: string };
    await p.sidecar.replay!.idle();
    const signals = p.sidecar.store.listSignals('default', { limit: 100 }).signals;
    expect(signals.map((s) => `${s.ruleId}/${s.traceId}`).sort()).toEqual(expected.filter((e) => e.startsWith('no-auto-approve/')));
    expect(signals.every((s) => s.source === 'replay')).toBe(true);
    expect(((await (await call(p, 'GET', `/api/v1/replay/${real.id}`)).json()) as { status: string }).status).toBe('done');
  }, 60_000);

  it('replays an unsaved rule, can be cancelled, and tests a rule on Tempo trace ids', async () => {
    const p = await pull();
    const t = p.clock.now;
    p.tempo.ingest('single-tenant', exampleSpans('no-auto-approve', 'violates', 9, t - 30 * MINUTE));
    const draft = (await (await call(p, 'POST', '/api/v1/replay', { rule: { condition: 'payment.auto_approve' }, from: String(t - 60 * MINUTE), to: String(t), dryRun: true })).json()) as { id: string };
    await p.sidecar.replay!.idle();
    const result = (await (await call(p, 'GET', `/api/v1/replay/${draft.id}`)).json()) as { violations: Array<{ ruleId: string }> };
    expect(result.violations.map((v) => v.ruleId)).toEqual(['unsaved']);

    p.tempo.fault = { latencyMs: 50 };
    const long = (await (await call(p, 'POST', '/api/v1/replay', { from: String(t - 7 * 24 * 60 * MINUTE), to: String(t), dryRun: true })).json()) as { id: string };
    const cancelled = (await (await call(p, 'DELETE', `/api/v1/replay/${long.id}`)).json()) as { status: string };
    expect(cancelled.status).toBe('cancelled');
    await p.sidecar.replay!.idle();
    p.tempo.fault = undefined;
    const after = (await (await call(p, 'GET', `/api/v1/replay/${long.id}`)).json()) as { status: string; windowsDone: number; windowsTotal: number };
    expect(after.status).toBe('cancelled');
    expect(after.windowsDone).toBeLessThan(after.windowsTotal);

    const traceId = exampleSpans('no-auto-approve', 'violates', 9, 0)[0].traceId;
    const tested = (await (await call(p, 'POST', '/api/v1/rules/test', { ruleId: 'no-auto-approve', traceIds: [traceId] })).json()) as { fired: number };
    expect(tested.fired).toBe(1);
    expect((await call(p, 'POST', '/api/v1/rules/test', { ruleId: 'no-auto-approve', traceIds: ['ab'.repeat(16)] })).status).toBe(404);
    expect((await call(p, 'POST', '/api/v1/replay', { from: 'later', to: 'sooner' })).status).toBe(400);
  }, 60_000);

  it('bounds replays: ranges of at most 31 days, unsaved rules as dry runs only, five jobs at a time per tenant', async () => {
    const p = await pull();
    const t = p.clock.now;
    const post = async (body: object) => {
      const res = await call(p, 'POST', '/api/v1/replay', body);
      return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as { message?: string; id?: string } };
    };
    const tooLong = await post({ from: String(t - 32 * 24 * 60 * MINUTE), to: String(t), dryRun: true });
    expect([tooLong.status, tooLong.body.message]).toEqual([400, 'a replay covers at most 31 days; split longer ranges']);
    const unsavedForReal = await post({ rule: { condition: 'payment.auto_approve' }, from: String(t - 60 * MINUTE), to: String(t) });
    expect(unsavedForReal.status).toBe(400);
    expect(unsavedForReal.body.message).toMatch(/dry run only/);

    p.tempo.fault = { latencyMs: 200 };
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await post({ from: String(t - 24 * 60 * MINUTE), to: String(t), dryRun: true });
      expect(r.status).toBe(202);
      ids.push(r.body.id!);
    }
    const sixth = await post({ from: String(t - 24 * 60 * MINUTE), to: String(t), dryRun: true });
    expect([sixth.status, sixth.retryAfter]).toEqual([429, '30']);
    for (const id of ids) {
      await call(p, 'DELETE', `/api/v1/replay/${id}`);
    }
    p.tempo.fault = undefined;
    await p.sidecar.replay!.idle();
    expect((await post({ from: String(t - 60 * MINUTE), to: String(t), dryRun: true })).status).toBe(202);
  }, 60_000);
});

describe('betrace replay', () => {
  it('replays rule files over a range in Tempo: --dry-run --json prints the violations; without it, signals are stored', async () => {
    const clock = { now: Date.now() };
    const tempo = new TempoDouble({ now: () => clock.now });
    cleanups.push(() => tempo.stop());
    const url = await tempo.start();
    tempo.ingest('single-tenant', exampleSpans('no-auto-approve', 'violates', 1, clock.now - 50 * MINUTE));
    tempo.ingest('single-tenant', exampleSpans('payment-fraud-check', 'satisfies', 2, clock.now - 40 * MINUTE));
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-replay-cli-'));
    const run = async (args: string[]) => {
      let out = '';
      let err = '';
      const code = await main(args, { stdout: (t) => (out += t), stderr: (t) => (err += t), cwd: root, env: { TEMPO_URL: url, DATA_DIR: dataDir, ...storeEnv(dataDir) } });
      return { code, out, err };
    };
    const dry = await run(['replay', '--rules', 'examples/rules', '--from', '-1h', '--to', 'now', '--dry-run', '--json']);
    expect(dry.code).toBe(0);
    expect((JSON.parse(dry.out) as Array<{ ruleId: string }>).map((v) => v.ruleId)).toEqual(['no-auto-approve']);
    expect(dry.err).toMatch(/1 violation\(s\) \(dry run\)/);
    const real = await run(['replay', '--rules', 'examples/rules/api-contracts.yaml', '--from', String(clock.now - 60 * MINUTE), '--to', new Date(clock.now).toISOString()]);
    expect(real.code).toBe(0);
    expect(real.err).toMatch(/1 new signal\(s\) stored/);
    const store = new Store(path.join(dataDir, 'betrace.db'));
    expect(store.listSignals('default').signals.map((s) => [s.ruleId, s.source])).toEqual([['no-auto-approve', 'replay']]);
    store.close();
    expect((await run(['replay', '--rules', 'examples/rules', '--from', 'later'])).code).toBe(2);
    tempo.fault = { status: 500 };
    const down = await run(['replay', '--rules', 'examples/rules', '--from', '-10m', '--to', 'now', '--dry-run']);
    expect(down.code).toBe(1);
    expect(down.err).toMatch(/Tempo search answered 500/);
    // Nothing listening: the error names the URL and the system's reason, not "fetch failed".
    const closed = await new Promise<number>((resolve) => {
      const server = net.createServer().listen(0, '127.0.0.1', () => {
        const port = (server.address() as net.AddressInfo).port;
        server.close(() => resolve(port));
      });
    });
    let err = '';
    const refused = await main(['replay', '--rules', 'examples/rules', '--from', '-10m', '--to', 'now', '--dry-run'], {
      stdout: () => undefined,
      stderr: (t) => (err += t),
      cwd: root,
      env: { TEMPO_URL: `http://127.0.0.1:${closed}`, DATA_DIR: dataDir },
    });
    expect(refused).toBe(1);
    expect(err).toContain(`Tempo search unreachable at http://127.0.0.1:${closed}/api/search: connect ECONNREFUSED 127.0.0.1:${closed}`);
    expect(err).toContain(`127.0.0.1:${closed}`);
    expect(err).not.toContain('fetch failed');
  }, 30_000);
});
