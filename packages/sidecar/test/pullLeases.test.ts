/**
 * Replicas sharing one store share pull mode through leases (issue 12, src/leases.ts): several
 * pollers work through one tenant's backlog with every window scanned once and the watermark
 * contiguous; a replica that dies mid-window loses the window to another one lease period later
 * and records nothing when it wakes; a replay started on one replica is finished by another from
 * its stored progress. Each replica is its own Store (its own connection) on ONE database, its own
 * Tempo client, poller and replay runner, against the Tempo double; time is an injected clock.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import pino from 'pino';
import { decodeOtlpJsonText, Span } from '@betrace/evaluator';
import { TempoDouble } from '../../../tests/support/tempoDouble';
import { loadRules } from '../src/commands/rules';
import { Leases, pullWindowKey, PullWindows, replayKey } from '../src/leases';
import { Metrics } from '../src/metrics';
import { Pipeline } from '../src/pipeline';
import { Redactor, storedHashKey } from '../src/redact';
import { ReplayRunner } from '../src/replay';
import { RuleRegistry } from '../src/rules';
import { Store } from '../src/store';
import { TempoClient } from '../src/tempo/client';
import { TempoPoller } from '../src/tempo/poller';
import { DEFAULT_REDACTION } from '../src/tenants';
import { requireBuiltCli } from './support/serve';
import { storeTarget } from './support/engine';

const root = path.join(__dirname, '../../..');
const MINUTE = 60_000;
const LEASE_MS = 30_000;
const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);

/**
 * The one place these tests make stores: each call of `connect` is another replica's connection
 * to the same database (a SQLite file in WAL mode here; PostgreSQL when the store has it), and
 * `location` is what a replica in another process opens (`new Store(location)`).
 */
function sharedDatabase(): { connect(): Store; location: string; close(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-leases-'));
  // On the PostgreSQL run, a schema of the test database (a URL the child processes open as it is).
  const file = storeTarget(path.join(dir, 'betrace.db'));
  return { connect: () => new Store(file), location: file, close: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** An example trace under a new id, its spans starting `atMs`. */
function exampleSpans(rule: string, verdict: 'violates' | 'satisfies', n: number, atMs: number): Span[] {
  const [trace] = decodeOtlpJsonText(fs.readFileSync(path.join(root, 'examples/traces', rule, `${verdict}-1.json`), 'utf8'));
  const traceId = `${rule.length.toString(16).padStart(2, '0')}${verdict === 'violates' ? 'aa' : 'bb'}${n.toString(16).padStart(28, '0')}`;
  const shift = BigInt(atMs) * 1_000_000n - trace.startNs;
  return trace.spans.map((s) => ({ ...s, traceId, startNs: s.startNs + shift, endNs: s.endNs + shift }));
}

const RULES = ['payment-fraud-check', 'no-auto-approve', 'bounded-retries'];

interface Replica {
  id: string;
  store: Store;
  poller: TempoPoller;
  replay: ReplayRunner;
  rules: RuleRegistry;
  metrics: Metrics;
  /** Search ranges (unix s) and trace fetches this replica sent to Tempo. */
  searches: Array<[number, number]>;
  fetched: string[];
  /** While set, trace fetches from the `blockFrom`-th on wait for it: the replica hangs mid-window, as if dead. */
  gate: { wait: Promise<void>; open: () => void; blockFrom: number; blocked: number } | undefined;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) {
    await c();
  }
});

async function cluster(n: number, startMs: number): Promise<{ tempo: TempoDouble; url: string; clock: { now: number }; replicas: Replica[]; db: ReturnType<typeof sharedDatabase> }> {
  const clock = { now: T0 };
  const tempo = new TempoDouble({ now: () => clock.now });
  const url = await tempo.start();
  cleanups.push(() => tempo.stop());
  const db = sharedDatabase();
  cleanups.push(() => db.close());
  const log = pino({ level: 'silent' });
  const seed = db.connect();
  for (const r of loadRules(['examples/rules'], root).rules) {
    seed.saveRule('default', r, 'test', 'seed', clock.now, { provisioned: true });
  }
  seed.close();
  const replicas: Replica[] = [];
  for (let i = 0; i < n; i++) {
    const id = `replica-${String.fromCharCode(97 + i)}`;
    const store = db.connect();
    const rules = new RuleRegistry(store);
    const metrics = new Metrics();
    const redactor = new Redactor(DEFAULT_REDACTION, storedHashKey(store));
    const pipeline = new Pipeline(store, rules, metrics, [], log, () => clock.now, () => redactor);
    const client = new TempoClient({ url });
    const r = { id, store, rules, metrics, searches: [], fetched: [], gate: undefined } as unknown as Replica;
    const search = client.search.bind(client);
    client.search = async (q) => {
      r.searches.push([q.start, q.end]);
      return search(q);
    };
    const trace = client.trace.bind(client);
    client.trace = async (traceId: string) => {
      const gate = r.gate;
      if (gate !== undefined && r.fetched.length >= gate.blockFrom) {
        gate.blocked++;
        await gate.wait;
      }
      r.fetched.push(traceId);
      return trace(traceId);
    };
    r.poller = new TempoPoller({
      tenant: 'default',
      client,
      store,
      rules,
      pipeline,
      log,
      lag: metrics.pollLag,
      now: () => clock.now,
      settleMs: 2 * MINUTE,
      startMs,
      replica: id,
      leaseMs: LEASE_MS,
      // Renewed only between traces: a replica hung in a fetch renews nothing, as a dead one would not.
      renewTimerMs: 0,
    });
    r.replay = new ReplayRunner({ kind: 'tempo', client }, pipeline, log, () => clock.now, { store, replica: id, leaseMs: LEASE_MS, renewTimerMs: 0 });
    replicas.push(r);
    cleanups.push(async () => {
      r.gate?.open();
      await r.poller.stop();
      await r.replay.stop();
      store.close();
    });
  }
  return { tempo, url, clock, replicas, db };
}

interface ProcessReport {
  replica: string;
  windows: Array<[number, number]>;
  fetched: string[];
  result: { windows: number; leasesLost: number };
}

/**
 * Replicas as separate processes (test/support/leaseReplica.js over the built sidecar): each
 * prints `ready` once set up; all are then told to go at once, and each reports what it did.
 */
async function replicaProcesses(ids: string[], location: string, url: string, nowMs: number, startMs: number): Promise<ProcessReport[]> {
  const script = path.join(__dirname, 'support/leaseReplica.js');
  const children = ids.map((id) => {
    const child = spawn(process.execPath, [script, location, url, id, String(nowMs), String(startMs)], { stdio: ['pipe', 'pipe', 'pipe'] });
    cleanups.push(() => {
      child.kill('SIGKILL');
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const ready = new Promise<void>((resolve, reject) => {
      const check = () => (out.startsWith('ready\n') ? resolve() : undefined);
      child.stdout.on('data', check);
      child.once('exit', (code) => reject(new Error(`replica ${id} exited ${code} before it was ready: ${err}`)));
    });
    const done = new Promise<ProcessReport>((resolve, reject) =>
      child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out.split('\n')[1]) as ProcessReport) : reject(new Error(`replica ${id} exited ${code}: ${err}`)))),
    );
    return { child, ready, done };
  });
  await Promise.all(children.map((c) => c.ready));
  children.forEach((c) => c.child.stdin.write('go\n'));
  return Promise.all(children.map((c) => c.done));
}

function hang(r: Replica, blockFrom = 0): () => void {
  let open = () => undefined as void;
  const wait = new Promise<void>((resolve) => (open = resolve));
  r.gate = { wait, open, blockFrom, blocked: 0 };
  return open;
}

async function untilBlocked(r: Replica): Promise<void> {
  for (let i = 0; i < 2000 && (r.gate?.blocked ?? 0) === 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  expect(r.gate?.blocked).toBeGreaterThan(0);
}

/** The distinct windows (unix s) a replica searched: every rule's search of a window has the same range. */
const windowsOf = (r: Replica) => [...new Set(r.searches.map(([a, b]) => `${a}-${b}`))].map((w) => w.split('-').map(Number) as [number, number]);

const tracesWithSignals = (s: Store) => [...new Set(s.listSignals('default', { limit: 1000 }).signals.map((x) => x.traceId))].sort();
const evaluated = async (r: Replica) => (await r.metrics.tracesEvaluated.get()).values.reduce((n, v) => n + v.value, 0);

describe('pull mode across replicas', () => {
  it('three replicas work through one backlog: every window scanned once, none skipped, the watermark contiguous', async () => {
    const { tempo, clock, replicas } = await cluster(3, 120 * MINUTE);
    const origin = T0 - 120 * MINUTE;
    const target = T0 - 2 * MINUTE;
    const violating: string[] = [];
    for (let i = 0; i < 23; i++) {
      const spans = exampleSpans(RULES[i % RULES.length], 'violates', i + 1, origin + i * 5 * MINUTE + 150_000);
      violating.push(spans[0].traceId);
      tempo.ingest('single-tenant', spans);
    }
    const results = await Promise.all(replicas.map((r) => r.poller.pollOnce()));

    // 118 minutes in windows of at most 5: 23 full ones and one of 3 minutes, split between the replicas.
    const all = replicas.flatMap(windowsOf).sort((a, b) => a[0] - b[0]);
    expect(all).toHaveLength(24);
    expect(results.reduce((n, r) => n + r.windows, 0)).toBe(24);
    expect(all[0][0]).toBe(origin / 1000);
    expect(all[all.length - 1][1]).toBe(target / 1000);
    for (let i = 1; i < all.length; i++) {
      expect(all[i][0]).toBe(all[i - 1][1]); // no gap, no overlap
    }
    for (const r of replicas) {
      expect(windowsOf(r).length).toBeGreaterThan(0); // side by side, not one replica doing it all
    }
    // Each candidate trace fetched once in the cluster, each violation stored once.
    const fetched = replicas.flatMap((r) => r.fetched);
    expect(new Set(fetched).size).toBe(fetched.length);
    expect(tracesWithSignals(replicas[0].store)).toEqual([...violating].sort());
    expect(replicas[0].store.getWatermark('default')).toBe(target);
    const windows = new PullWindows(replicas[0].store.db);
    expect(windows.pending('default')).toEqual([]); // passed by the watermark, so pruned
    expect(new Leases(replicas[0].store.db, 'x').list('default')).toEqual([]); // all given back

    // The lag is the cluster's: the same on every replica, whichever moved the watermark (a
    // replica that found nothing to do this poll reads it at the scrape, as /metrics does).
    clock.now += 30_000;
    const next = await Promise.all(replicas.map((r) => r.poller.pollOnce()));
    expect(next.map((r) => r.windows).sort()).toEqual([0, 0, 1]);
    for (const r of replicas) {
      r.poller.refreshLag();
      expect(await r.metrics.registry.getSingleMetricAsString('betrace_poll_lag_seconds')).toContain('betrace_poll_lag_seconds{tenant="default"} 120');
    }
  });

  it('three replica processes on one store: each window scanned by exactly one of them, none skipped', async () => {
    requireBuiltCli();
    const { tempo, url, replicas, db } = await cluster(1, 120 * MINUTE);
    const origin = T0 - 120 * MINUTE;
    const violating: string[] = [];
    for (let i = 0; i < 23; i++) {
      const spans = exampleSpans(RULES[i % RULES.length], 'violates', 300 + i, origin + i * 5 * MINUTE + 150_000);
      violating.push(spans[0].traceId);
      tempo.ingest('single-tenant', spans);
    }
    // Every answer takes a while, so the processes' windows overlap in time and their statements interleave.
    tempo.fault = { latencyMs: 40 };
    const reports = await replicaProcesses(['proc-a', 'proc-b', 'proc-c'], db.location, url, T0, 120 * MINUTE);
    const all = reports.flatMap((r) => r.windows).sort((a, b) => a[0] - b[0]);
    expect(all).toHaveLength(24);
    expect(all[0][0]).toBe(origin / 1000);
    for (let i = 1; i < all.length; i++) {
      expect(all[i][0]).toBe(all[i - 1][1]);
    }
    expect(reports.reduce((n, r) => n + r.result.windows, 0)).toBe(24);
    expect(reports.filter((r) => r.windows.length > 0).length).toBeGreaterThan(1);
    const fetched = reports.flatMap((r) => r.fetched);
    expect(new Set(fetched).size).toBe(fetched.length);
    const store = replicas[0].store;
    expect(tracesWithSignals(store)).toEqual([...violating].sort());
    expect(store.getWatermark('default')).toBe(T0 - 2 * MINUTE);
    expect(new Leases(store.db, 'x').list('default')).toEqual([]);
  }, 60_000);

  it('a replica that dies mid-window loses it one lease period later; another finishes it, and the dead one records nothing', async () => {
    const { tempo, clock, replicas } = await cluster(2, 15 * MINUTE);
    const [a, b] = replicas;
    const first = T0 - 15 * MINUTE;
    const violating = [0, 1, 2].map((i) => {
      const spans = exampleSpans(RULES[i], 'violates', i + 1, first + i * 5 * MINUTE + 150_000);
      tempo.ingest('single-tenant', spans);
      return spans[0].traceId;
    });
    const open = hang(a);
    const aPoll = a.poller.pollOnce();
    await untilBlocked(a); // A holds the first window and hangs fetching its trace
    expect(new Leases(b.store.db, b.id).holderOf(pullWindowKey('default', first), clock.now)).toBe('replica-a');

    const bFirst = await b.poller.pollOnce();
    expect(bFirst.windows).toBe(2); // the two after it
    expect(windowsOf(b).map((w) => w[0] * 1000)).toEqual([first + 5 * MINUTE, first + 10 * MINUTE]);
    // Their signals are stored, but the watermark cannot pass the window A holds.
    expect(tracesWithSignals(b.store)).toEqual([violating[1], violating[2]].sort());
    expect(b.store.getWatermark('default')).toBeUndefined();
    expect(new PullWindows(b.store.db).pending('default').map((w) => [w.startMs, w.done])).toEqual([
      [first, false],
      [first + 5 * MINUTE, true],
      [first + 10 * MINUTE, true],
    ]);

    // Within the lease period the window stays A's.
    clock.now += LEASE_MS - 1_000;
    await b.poller.pollOnce();
    expect(windowsOf(b).some((w) => w[0] * 1000 === first)).toBe(false);
    expect(b.store.getWatermark('default')).toBeUndefined();

    // Past it, B takes the window over and the watermark moves over all three (and the newer one B scanned).
    clock.now += 2_000;
    const takeover = await b.poller.pollOnce();
    expect(takeover.windows).toBe(2); // A's, and the two seconds settled since the last poll
    expect(windowsOf(b).filter((w) => w[0] * 1000 === first)).toHaveLength(1);
    expect(tracesWithSignals(b.store)).toEqual([...violating].sort());
    expect(b.store.getWatermark('default')).toBe(clock.now - 2 * MINUTE);

    // A wakes: its lease is gone, so it evaluates nothing and moves nothing.
    const watermark = b.store.getWatermark('default');
    open();
    const aResult = await aPoll;
    expect(aResult).toMatchObject({ windows: 0, signals: 0, leasesLost: 1 });
    expect(await evaluated(a)).toBe(0);
    expect(b.store.getWatermark('default')).toBe(watermark);
    expect(b.store.listSignals('default').total).toBe(3);
  });

  it('a replay started on one replica is finished by another from its stored progress after the first dies', async () => {
    const { tempo, clock, replicas } = await cluster(2, 15 * MINUTE);
    const [a, b] = replicas;
    const from = T0 - 60 * MINUTE;
    // Violations in windows 1, 4, 7 and 10 of the twelve.
    const violating = [1, 4, 7, 10].map((w, i) => {
      const spans = exampleSpans('no-auto-approve', 'violates', 100 + i, from + w * 5 * MINUTE + 150_000);
      tempo.ingest('single-tenant', spans);
      return spans[0].traceId;
    });
    const open = hang(a, 2); // A fetches the traces of windows 1 and 4, then hangs in window 7
    const job = a.replay.start('default', a.rules.active('default'), from, T0, false);
    await untilBlocked(a);
    // Any replica answers for the job, from the store: seven windows done.
    expect(b.replay.get('default', job.id)).toMatchObject({ status: 'running', windowsDone: 7, signalsCreated: 2 });
    expect(new Leases(b.store.db, b.id).holderOf(replayKey('default', job.id), clock.now)).toBe('replica-a');

    clock.now += 10_000;
    expect(b.replay.resume('default')).toEqual([]); // A's lease is live
    clock.now += LEASE_MS;
    expect(b.replay.resume('default')).toEqual([job.id]);
    await b.replay.idle();
    // B began at the first window not stored as done: the seven done ones are not scanned again.
    expect(Math.min(...b.searches.map(([s]) => s))).toBe((from + 7 * 5 * MINUTE) / 1000);
    const done = b.replay.get('default', job.id)!;
    expect(done).toMatchObject({ status: 'done', windowsDone: 12, windowsTotal: 12, signalsCreated: 4 });
    expect(tracesWithSignals(b.store)).toEqual([...violating].sort());
    expect(b.store.listSignals('default').signals.every((s) => s.source === 'replay')).toBe(true);

    // A wakes into a lost lease: it writes nothing over B's result, and evaluates nothing more.
    const evaluatedBefore = await evaluated(a);
    open();
    await a.replay.idle();
    expect(await evaluated(a)).toBe(evaluatedBefore);
    expect(a.replay.get('default', job.id)).toEqual(done);
  });

  it('a cancel on one replica stops the job another one runs', async () => {
    const { tempo, replicas } = await cluster(2, 15 * MINUTE);
    const [a, b] = replicas;
    const from = T0 - 60 * MINUTE;
    for (const w of [1, 7]) {
      tempo.ingest('single-tenant', exampleSpans('no-auto-approve', 'violates', 200 + w, from + w * 5 * MINUTE + 150_000));
    }
    const open = hang(a, 1);
    const job = a.replay.start('default', a.rules.active('default'), from, T0, true);
    await untilBlocked(a);
    expect(b.replay.cancel('default', job.id)).toMatchObject({ status: 'cancelled' });
    open();
    await a.replay.idle();
    const after = a.replay.get('default', job.id)!;
    expect(after.status).toBe('cancelled');
    expect(after.windowsDone).toBeLessThan(after.windowsTotal);
    expect(Math.max(...a.searches.map(([, e]) => e))).toBeLessThanOrEqual((from + 8 * 5 * MINUTE) / 1000); // it stopped after the window it was in
  });
});
