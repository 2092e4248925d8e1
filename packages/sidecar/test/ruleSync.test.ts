/**
 * Rule changes across replicas (issue 12, docs/scaling.md "Rule changes across replicas"): two
 * sidecars, each with its own connection to ONE store, its own data folder, OTLP receiver and API
 * on loopback. A rule created, changed, disabled, rolled back or deleted through A's API is in force
 * on B after B's next rule sync (RULE_SYNC_MS, short here; waited for with a deadline, never timed),
 * shown the same by both APIs, and B evaluates the traces sent to it with it. A stored rule B cannot
 * compile keeps its last good version in force on B. Replicas provisioning one RULES_DIR, one after
 * the other and all at once (worker threads, each with its own connection), make one version and one
 * audit entry per rule.
 *
 * The store is made in one place, `sharedStore` (the PostgreSQL run will swap it for a database).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Worker } from 'worker_threads';
import pino from 'pino';
import { loadConfig } from '../src/config';
import { createSidecar, Sidecar } from '../src/sidecar';
import { Store } from '../src/store';
import { DEFAULT_REDACTION, sha256Hex, Tenant } from '../src/tenants';
import { storeTarget } from './support/engine';
import { requireBuiltCli, root, until } from './support/serve';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-rulesync-'));

/**
 * THE store factory of this file: a fresh shared store, and how each replica opens its own
 * connection to it. SQLite in WAL mode: one file, one connection per replica (as N processes on one
 * machine would have). Created (and migrated) once before any replica opens it.
 */
function sharedStore(): { open: () => Store; file: string } {
  // On the PostgreSQL run, a schema of the test database (a URL the threads below open as it is).
  const file = storeTarget(path.join(tmp(), 'betrace.db'));
  new Store(file).close();
  return { open: () => new Store(file), file };
}

const RULE = 'payment-fraud-check';
const PAYMENT = {
  id: RULE,
  name: 'Large payments need a fraud check',
  severity: 'critical',
  condition: 'when { p: payment.charge.where(amount > 1000) }\nalways { payment.fraud_check.where(order_id == p.order_id).before(p, within 5s) }',
};
const AT = Date.UTC(2026, 11, 2, 12, 0, 0);
/** Short, so that a test waits little; every wait below has a deadline far beyond it (a loaded CI machine), and nothing asserts a duration. */
const SYNC_MS = 50;

const violating = (traceId: string) =>
  fs.readFileSync(path.join(root, 'examples/traces', RULE, 'violates-1.json'), 'utf8').replace(/"traceId":\s*"[0-9a-f]{32}"/g, `"traceId": "${traceId}"`);
const traceId = (i: number) => `cc${i.toString(16).padStart(30, '0')}`;

/** One tenant, as the tenants file would give it to every replica: the same tokens and the same evidence key. */
const TENANT: Tenant = {
  id: 'a',
  apiTokens: [{ name: 'a-ui', sha256: sha256Hex('token-a') }],
  ingestKeys: [{ name: 'a-collector', sha256: sha256Hex('ingest-a') }],
  evidenceKeys: [{ id: 'k1', secret: 'shared-evidence-secret-of-tenant-a' }],
  redaction: { ...DEFAULT_REDACTION },
};

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) {
    await c();
  }
});

interface Replica {
  s: Sidecar;
  api: string;
  /** Stops it (once; the test's cleanup does it otherwise). */
  stop: () => Promise<void>;
  call: (url: string, init?: { method?: string; body?: unknown }) => Promise<{ status: number; json: any }>;
  /** Sends a violating payment trace to this replica's receiver and decides it there; the signals it raised. */
  evaluate: (traceId: string) => Promise<Array<{ ruleId: string; ruleVersion: number; severity: string }>>;
}

const clock = { now: AT };

/** A replica started on the shared store; `rulesDir`: the tenant's rules directory (the tenants file's rulesDir, RULES_DIR of a default tenant). */
async function replica(open: () => Store, env: Record<string, string> = {}, rulesDir?: string): Promise<Replica> {
  const config = loadConfig({ DATA_DIR: tmp(), OTLP_PORT: '0', API_PORT: '0', HOST: '127.0.0.1', DECISION_WAIT: '10s', EVAL_WORKERS: '0', RULE_SYNC_MS: String(SYNC_MS), ...env });
  const s = createSidecar(config, { now: () => clock.now, logger: pino({ level: 'silent' }), tickMs: 3_600_000, tenants: [{ ...TENANT, rulesDir }], pollIntervalMs: 0, openStore: open });
  const { otlpPort, apiPort } = await s.start();
  let stopped: Promise<void> | undefined;
  const stop = () => (stopped ??= s.stop());
  cleanups.push(stop);
  const call = async (url: string, init: { method?: string; body?: unknown } = {}) => {
    const res = await fetch(`http://127.0.0.1:${apiPort}${url}`, {
      method: init.method ?? 'GET',
      headers: { authorization: 'Bearer token-a', ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    const text = await res.text();
    return { status: res.status, json: text === '' ? undefined : JSON.parse(text) };
  };
  const evaluate = async (id: string) => {
    const res = await fetch(`http://127.0.0.1:${otlpPort}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer ingest-a' }, body: violating(id) });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    clock.now += 10_001;
    await s.shards.tick();
    return (await call(`/api/v1/signals?traceId=${id}`)).json.signals;
  };
  return { s, api: `http://127.0.0.1:${apiPort}`, call, evaluate, stop };
}

/** The id → version of the rules a replica's evaluator has in force. */
const inForce = (r: Replica) => Object.fromEntries(r.s.rules.active('a').map((x) => [x.compiled.definition.id, x.version]));

/** Waits (deadline, not a timing assertion) until B's evaluator has exactly `want` in force. */
async function converged(b: Replica, want: Record<string, number>): Promise<void> {
  await until(`replica B to have ${JSON.stringify(want)} in force (has ${JSON.stringify(inForce(b))})`, () => JSON.stringify(inForce(b)) === JSON.stringify(want), 10_000);
}

async function metric(s: Sidecar, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const m = s.metrics.registry.getSingleMetric(name);
  const values = m === undefined ? [] : (await m.get()).values;
  return values.find((x) => Object.entries(labels).every(([k, want]) => x.labels[k] === want) && Object.keys(x.labels).length === Object.keys(labels).length)?.value;
}

describe('a rule changed through one replica is in force on the others', () => {
  it.each([0, 2])('create, update, disable, rollback and delete through A: B evaluates with each state and both APIs show it (B with EVAL_WORKERS=%i)', async (workers) => {
    if (workers > 0) {
      requireBuiltCli(); // shard workers run the built worker
    }
    const { open } = sharedStore();
    const a = await replica(open);
    const b = await replica(open, { EVAL_WORKERS: String(workers) });
    const sameApis = async () => {
      const [ra, rb] = await Promise.all([a.call('/api/v1/rules'), b.call('/api/v1/rules')]);
      expect(rb.json).toEqual(ra.json);
      return rb.json.rules as Array<{ id: string; version: number; enabled: boolean; severity: string }>;
    };
    expect(await b.evaluate(traceId(0))).toEqual([]); // no rule yet

    // Create.
    expect((await a.call('/api/v1/rules', { method: 'POST', body: PAYMENT })).status).toBe(201);
    await converged(b, { [RULE]: 1 });
    expect((await sameApis()).map((r) => [r.id, r.version])).toEqual([[RULE, 1]]);
    expect(await b.evaluate(traceId(1))).toMatchObject([{ ruleId: RULE, ruleVersion: 1, severity: 'critical' }]);
    // A serves the signal B raised: one store behind both APIs.
    expect((await a.call(`/api/v1/signals?traceId=${traceId(1)}`)).json.signals).toMatchObject([{ ruleId: RULE, ruleVersion: 1 }]);

    // Update (version 2, another severity).
    expect((await a.call(`/api/v1/rules/${RULE}`, { method: 'PUT', body: { ...PAYMENT, severity: 'high' } })).status).toBe(200);
    await converged(b, { [RULE]: 2 });
    expect((await sameApis())[0]).toMatchObject({ version: 2, severity: 'high' });
    expect(await b.evaluate(traceId(2))).toMatchObject([{ ruleId: RULE, ruleVersion: 2, severity: 'high' }]);

    // Disable (version 3): B no longer evaluates it.
    expect((await a.call(`/api/v1/rules/${RULE}`, { method: 'PATCH', body: { enabled: false } })).status).toBe(200);
    await converged(b, {});
    expect((await sameApis())[0]).toMatchObject({ version: 3, enabled: false });
    expect(await b.evaluate(traceId(3))).toEqual([]);

    // Roll back to version 1 (version 4: enabled, critical again).
    expect((await a.call(`/api/v1/rules/${RULE}/rollback`, { method: 'POST', body: { version: 1 } })).status).toBe(200);
    await converged(b, { [RULE]: 4 });
    expect((await sameApis())[0]).toMatchObject({ version: 4, enabled: true, severity: 'critical' });
    expect(await b.evaluate(traceId(4))).toMatchObject([{ ruleId: RULE, ruleVersion: 4, severity: 'critical' }]);

    // Delete.
    expect((await a.call(`/api/v1/rules/${RULE}`, { method: 'DELETE' })).status).toBe(204);
    await converged(b, {});
    expect(await sameApis()).toEqual([]);
    expect((await b.call(`/api/v1/rules/${RULE}`)).status).toBe(404);
    expect(await b.evaluate(traceId(5))).toEqual([]);

    // The revision both replicas are at is the store's (five changes), and B counted its reloads.
    const revision = b.s.store.rulesRevision('a');
    expect(revision).toBe(5);
    await until('replica A to have caught up with its own last change', () => a.s.rules.revision('a') === revision, 10_000);
    expect(await metric(a.s, 'betrace_rules_revision', { tenant: 'a' })).toBe(revision);
    expect(await metric(b.s, 'betrace_rules_revision', { tenant: 'a' })).toBe(revision);
    expect(await metric(b.s, 'betrace_rule_sync_total', { tenant: 'a', result: 'reloaded' })).toBeGreaterThanOrEqual(5);
    expect(await metric(b.s, 'betrace_rule_sync_total', { tenant: 'a', result: 'failed' })).toBeUndefined();
    // A made every change itself and compiled each at its revision: nothing to reload from the store.
    expect(await metric(a.s, 'betrace_rule_sync_total', { tenant: 'a', result: 'reloaded' })).toBe(0);
    // Through the real /metrics route too (what the bench scrapes).
    expect(await (await fetch(`${b.api}/metrics`)).text()).toMatch(new RegExp(`^betrace_rules_revision\\{tenant="a"\\} ${revision}$`, 'm'));
  });

  it('changes made through B reach A the same way (the replicas are peers)', async () => {
    const { open } = sharedStore();
    const a = await replica(open);
    const b = await replica(open);
    expect((await b.call('/api/v1/rules', { method: 'POST', body: PAYMENT })).status).toBe(201);
    await converged(a, { [RULE]: 1 });
    expect(await a.evaluate(traceId(10))).toMatchObject([{ ruleId: RULE, ruleVersion: 1 }]);
  });

  it('without the rule sync (RULE_SYNC_MS=0) B keeps what it compiled: the store change alone changes nothing until a sync', async () => {
    const { open } = sharedStore();
    const a = await replica(open);
    const b = await replica(open, { RULE_SYNC_MS: '0' });
    expect((await a.call('/api/v1/rules', { method: 'POST', body: PAYMENT })).status).toBe(201);
    // B's API reads the store (it lists the rule), its evaluator does not know it.
    expect((await b.call('/api/v1/rules')).json.rules.map((r: { id: string }) => r.id)).toEqual([RULE]);
    expect(inForce(b)).toEqual({});
    expect(await b.evaluate(traceId(20))).toEqual([]);
    // One sync (what the RULE_SYNC_MS timer runs) brings it in.
    expect(b.s.rules.sync()).toEqual(['a']);
    expect(inForce(b)).toEqual({ [RULE]: 1 });
    expect(b.s.rules.sync()).toEqual([]); // nothing moved since
    expect(await b.evaluate(traceId(21))).toMatchObject([{ ruleId: RULE, ruleVersion: 1 }]);
  });

  it('a stored rule B cannot compile does not stop B: its last good version stays in force, reported, until a version that compiles', async () => {
    const { open } = sharedStore();
    const a = await replica(open);
    const b = await replica(open);
    expect((await a.call('/api/v1/rules', { method: 'POST', body: PAYMENT })).status).toBe(201);
    await converged(b, { [RULE]: 1 });
    // What a newer replica (or a hand edit of the database) could store: a version this build cannot parse.
    a.s.store.saveRule('a', { ...PAYMENT, severity: 'critical', enabled: true, condition: 'when { p: payment.charge.where(amount >' } as never, 'newer-replica', 'a rule this version cannot compile', clock.now);
    await until('replica B to report the rule that does not compile', () => b.s.rules.failures('a').length === 1, 10_000);
    expect(b.s.rules.failures('a')).toMatchObject([{ ruleId: RULE, version: 2, keptVersion: 1 }]);
    expect(inForce(b)).toEqual({ [RULE]: 1 });
    expect(await metric(b.s, 'betrace_rule_compile_failures', { tenant: 'a' })).toBe(1);
    expect(b.s.rules.revision('a')).toBe(b.s.store.rulesRevision('a')); // synced: it is not retried every poll
    expect(await b.evaluate(traceId(30))).toMatchObject([{ ruleId: RULE, ruleVersion: 1 }]);
    expect((await b.call('/readyz')).status).toBe(200);

    // A version that compiles replaces it, and the report clears.
    expect((await a.call(`/api/v1/rules/${RULE}`, { method: 'PUT', body: { ...PAYMENT, severity: 'low' } })).status).toBe(200);
    await converged(b, { [RULE]: 3 });
    expect(b.s.rules.failures('a')).toEqual([]);
    expect(await metric(b.s, 'betrace_rule_compile_failures', { tenant: 'a' })).toBe(0);
    expect(await b.evaluate(traceId(31))).toMatchObject([{ ruleId: RULE, ruleVersion: 3, severity: 'low' }]);
  });
});

describe('replicas provisioning the same RULES_DIR', () => {
  const rulesDir = path.join(root, 'examples/rules');

  /** Per provisioned rule: its versions, and the audit entries about it by action. */
  function provisioned(store: Store): Record<string, { versions: number[]; audit: Record<string, number> }> {
    const out: Record<string, { versions: number[]; audit: Record<string, number> }> = {};
    const audit = store.listAudit('a', { action: 'rule.*', limit: 10_000 }).entries;
    for (const r of store.listRules('a')) {
      const id = r.definition.id;
      const actions: Record<string, number> = {};
      for (const e of audit.filter((x) => x.target === `rule:${id}`)) {
        actions[e.action] = (actions[e.action] ?? 0) + 1;
      }
      out[id] = { versions: store.ruleHistory('a', id).map((v) => v.version), audit: actions };
    }
    return out;
  }

  it('one after the other (and again on a restart): one version and one audit entry per rule, and the revision does not move', async () => {
    const { open } = sharedStore();
    const a = await replica(open, {}, rulesDir);
    const afterA = provisioned(a.s.store);
    const revision = a.s.store.rulesRevision('a');
    expect(Object.keys(afterA).length).toBeGreaterThan(3);
    for (const rule of Object.values(afterA)) {
      expect(rule).toEqual({ versions: [1], audit: { 'rule.create': 1 } });
    }
    const b = await replica(open, {}, rulesDir);
    const c = await replica(open, {}, rulesDir);
    expect(provisioned(c.s.store)).toEqual(afterA);
    expect(c.s.store.rulesRevision('a')).toBe(revision);
    // Every replica evaluates the same set, and lists it the same.
    expect(inForce(b)).toEqual(inForce(a));
    expect(inForce(c)).toEqual(inForce(a));
    expect((await c.call('/api/v1/rules')).json).toEqual((await a.call('/api/v1/rules')).json);
    // A restart of a replica (a rolling update with the same rules) provisions once more: nothing written.
    await a.stop();
    const again = await replica(open, {}, rulesDir);
    expect(provisioned(again.s.store)).toEqual(afterA);
    expect(again.s.store.rulesRevision('a')).toBe(revision);
  });

  it('all at once, on threads with a connection each: no start fails, each rule is created once, and a changed file makes one new version', async () => {
    requireBuiltCli(); // the threads run the built store and registry
    const { file } = sharedStore();
    const dir = tmp();
    for (const f of fs.readdirSync(rulesDir)) {
      fs.copyFileSync(path.join(rulesDir, f), path.join(dir, f));
    }
    const replicas = 4;
    const round = async () => {
      const results = await provisionAtOnce(file, dir, replicas, undefined, 2);
      expect(results).toEqual(Array(replicas).fill('ok'));
      const store = new Store(file);
      try {
        return { rules: provisioned(store), revision: store.rulesRevision('a') };
      } finally {
        store.close();
      }
    };
    const first = await round();
    expect(Object.keys(first.rules).length).toBeGreaterThan(3);
    for (const rule of Object.values(first.rules)) {
      expect(rule).toEqual({ versions: [1], audit: { 'rule.create': 1 } });
    }
    // Again, unchanged: nothing written.
    expect(await round()).toEqual(first);

    // One rule's file changes under all of them: one new version, one audit entry, one revision.
    const [changedFile] = fs.readdirSync(dir).sort();
    const text = fs.readFileSync(path.join(dir, changedFile), 'utf8');
    const changed = text.replace(/severity:\s*(critical|high|medium|low)/, (m, s) => m.replace(s, s === 'low' ? 'medium' : 'low'));
    expect(changed).not.toBe(text);
    fs.writeFileSync(path.join(dir, changedFile), changed);
    const third = await round();
    const moved = Object.entries(third.rules).filter(([id, r]) => JSON.stringify(r) !== JSON.stringify(first.rules[id]));
    expect(moved).toHaveLength(1);
    expect(moved[0][1]).toEqual({ versions: [2, 1], audit: { 'rule.create': 1, 'rule.update': 1 } });
    expect(third.revision).toBe(first.revision + 1);
  });
});

describe('replicas changing one rule at once', () => {
  it('serialize on the tenant: each change is its own version, none fails, and the revision moves once per change', async () => {
    requireBuiltCli(); // the threads run the built store
    const { file, open } = sharedStore();
    const store = open();
    try {
      store.saveRule('a', { ...PAYMENT, severity: 'critical', enabled: true }, 'test', 'created', clock.now, { create: true });
      const revision = store.rulesRevision('a');
      const results = await provisionAtOnce(file, tmp(), 4, { ...PAYMENT, enabled: true }, 25);
      expect(results).toEqual(Array(4).fill('ok'));
      expect(store.ruleHistory('a', RULE).map((v) => v.version)).toEqual(Array.from({ length: 101 }, (_, i) => 101 - i));
      expect(new Set(store.ruleHistory('a', RULE).slice(0, 100).map((v) => v.createdBy)).size).toBe(4);
      expect(store.listAudit('a', { action: 'rule.update' }).total).toBe(100);
      expect(store.rulesRevision('a')).toBe(revision + 100);
    } finally {
      store.close();
    }
  });
});

/**
 * Runs `RuleRegistry.provision` of `dir` into tenant a on `n` threads, each with its own connection
 * to `file`, released together, `repeat` times in a row (more overlap); each thread's result ('ok' or
 * its error's message). With `update`: each thread instead stores its own new versions of rule
 * `update.id` (as PUTs of one rule through n replicas would).
 */
async function provisionAtOnce(file: string, dir: string, n: number, update?: object, repeat = 1): Promise<string[]> {
  const dist = path.join(root, 'packages/sidecar/dist');
  const gate = new Int32Array(new SharedArrayBuffer(8)); // [0]: go, [1]: threads ready
  const source = `
    const { workerData, parentPort } = require('worker_threads');
    const { Store } = require(workerData.dist + '/store.js');
    const { RuleRegistry } = require(workerData.dist + '/rules.js');
    const gate = new Int32Array(workerData.gate);
    const store = new Store(workerData.file);
    Atomics.add(gate, 1, 1);
    Atomics.wait(gate, 0, 0);
    let result = 'ok';
    try {
      for (let i = 0; i < workerData.repeat; i++) {
        if (workerData.update) {
          store.saveRule('a', { ...workerData.update, name: 'edit ' + i + ' on thread ' + workerData.thread }, 'thread-' + workerData.thread, '', workerData.now);
        } else {
          new RuleRegistry(store).provision('a', workerData.dir, workerData.now);
        }
      }
    } catch (e) {
      result = String(e && e.message);
    }
    store.close();
    parentPort.postMessage(result);`;
  const workers = Array.from({ length: n }, (_, thread) => new Worker(source, { eval: true, workerData: { dist, file, dir, gate: gate.buffer, now: clock.now, update, thread, repeat } }));
  const results = workers.map((w) => new Promise<string>((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  }));
  await until('every provisioning thread to have opened the store', () => Atomics.load(gate, 1) === n, 20_000);
  Atomics.store(gate, 0, 1);
  Atomics.notify(gate, 0);
  try {
    return await Promise.all(results);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
