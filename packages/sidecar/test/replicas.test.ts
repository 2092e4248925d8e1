/**
 * Many replicas, one truth, on a real PostgreSQL: replicas here are threads, each with its own
 * Store (its own connection), released at once by a gate so their transactions overlap.
 *  - a signal exists once whichever replicas store it, and its outbox rows once;
 *  - each outbox row is delivered once across replicas, and the rows a replica claimed and then
 *    died holding go to another replica when the claim runs out;
 *  - a tenant's evidence chain stays gap-free, in order and verifiable under concurrent appends.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { describePostgres, freshDatabase, FreshDatabase } from '../../../tests/support/postgres';
import { verifyChain } from '../src/evidence/verify';
import { EvidenceSecrets, KeyDir } from '../src/evidence/keys';
import { EvidenceStore } from '../src/evidence/store';
import { OUTBOX_CLAIM_MS, Store } from '../src/store';
import { requireBuiltCli } from './support/serve';

const dist = path.join(__dirname, '../dist');
const T0 = Date.UTC(2026, 11, 2, 12, 0, 0);
const SECRET = 'replicas-test-secret-0123456789abcdef';

// What one replica does, on its own thread and connection, once the gate opens.
const REPLICA = `
const { workerData: w, parentPort } = require('worker_threads');
const { Store } = require(w.dist + '/store.js');
const { EvidenceStore } = require(w.dist + '/evidence/store.js');
const { EvidenceSecrets, KeyDir } = require(w.dist + '/evidence/keys.js');
const store = new Store(w.url);
const gate = new Int32Array(w.gate);
Atomics.add(gate, 1, 1);
Atomics.wait(gate, 0, 0);
const out = [];
if (w.op === 'signals') {
  const violations = Array.from({ length: w.n }, (_, i) => ({
    violation: { ruleId: 'r', ruleName: 'R', traceId: i.toString(16).padStart(32, '0'), matchedSpanIds: [], message: 'm', severity: 'high' },
    ruleVersion: 1, ruleName: 'R', source: 'push',
  }));
  for (let i = 0; i < w.n; i += 10) out.push(...store.addSignals('t', violations.slice(i, i + 10), ['w1', 'w2'], w.now).map((s) => s.id));
} else if (w.op === 'deliver') {
  for (let empty = 0; empty < 3; ) {
    const due = store.dueOutbox('w1', w.now, 7);
    empty = due.length === 0 ? empty + 1 : 0;
    for (const item of due) {
      out.push(item.id);
      store.completeOutbox(item.id);
    }
  }
} else if (w.op === 'keys') {
  // Replicas starting together on a tenant without a key, sharing one key folder.
  const evidence = new EvidenceStore(store.db, new EvidenceSecrets(new KeyDir(w.keyDir)));
  evidence.prepareSync(['race'], w.now);
  out.push(evidence.currentKey('race', w.now).id);
} else if (w.op === 'evidence') {
  const evidence = new EvidenceStore(store.db);
  evidence.seedKeys('t', [{ id: 'k1', secret: w.secret }], w.now);
  for (let i = 0; i < w.n; i++) {
    const [r] = evidence.append('t', [{ framework: 'soc2', control: 'CC6.1', ruleId: 'r', outcome: 'pass', evidenceType: 'summary', checkedTraces: 1, failedTraces: 0,
      windowStart: w.now, windowEnd: w.now + 1, sampleTraceIds: [], traceId: (w.thread * 1000 + i + 1).toString(16).padStart(32, '0') }], [], w.now);
    out.push(r.seq);
  }
}
store.close();
parentPort.postMessage(out);
`;

/** Runs `n` replicas of `op` at once; each one's result (ids or seqs it handled). */
async function replicas<T>(n: number, workerData: Record<string, unknown>): Promise<T[][]> {
  const gate = new Int32Array(new SharedArrayBuffer(8));
  const workers = Array.from({ length: n }, (_, thread) => new Worker(REPLICA, { eval: true, workerData: { dist, gate: gate.buffer, now: T0, thread, ...workerData } }));
  const results = workers.map((w) => new Promise<T[]>((resolve, reject) => (w.once('message', resolve), w.once('error', reject))));
  // Open the gate once every replica has connected (and migrated), so their work overlaps.
  while (Atomics.load(gate, 1) < n) {
    await new Promise((r) => setTimeout(r, 10));
  }
  Atomics.store(gate, 0, 1);
  Atomics.notify(gate, 0);
  return Promise.all(results);
}

describePostgres('replicas sharing one PostgreSQL', () => {
  let db: FreshDatabase;
  beforeAll(async () => {
    requireBuiltCli();
    db = await freshDatabase();
    new Store(db.url).close(); // migrated once, before the replicas connect
  });
  afterAll(() => db.drop());

  const count = (store: Store, sql: string) => (store.db.prepare(sql).get() as { n: number }).n;

  it('store each signal once, and its outbox rows once, whichever replicas evaluated the trace', async () => {
    const added = await replicas<string>(3, { op: 'signals', url: db.url, n: 300 });
    const store = new Store(db.url);
    try {
      expect(added.flat().sort()).toEqual([...new Set(added.flat())].sort()); // no replica thought a signal new that another stored
      expect(added.flat()).toHaveLength(300);
      expect(count(store, "SELECT count(*) AS n FROM signals WHERE tenant = 't'")).toBe(300);
      expect(count(store, "SELECT count(*) AS n FROM outbox WHERE tenant = 't' AND writer = 'w1'")).toBe(300);
      expect(count(store, "SELECT count(*) AS n FROM outbox WHERE tenant = 't' AND writer = 'w2'")).toBe(300);
    } finally {
      store.close();
    }
  });

  it('deliver each outbox row once across replicas', async () => {
    const delivered = await replicas<number>(3, { op: 'deliver', url: db.url });
    const all = delivered.flat();
    expect(all).toHaveLength(300);
    expect(new Set(all).size).toBe(300);
    const store = new Store(db.url);
    try {
      expect(count(store, "SELECT count(*) AS n FROM outbox WHERE writer = 'w1'")).toBe(0);
    } finally {
      store.close();
    }
  });

  it('hand the rows a dead replica claimed to another when its claim runs out', () => {
    const a = new Store(db.url);
    const b = new Store(db.url);
    try {
      const claimed = a.dueOutbox('w2', T0, 50).map((i) => i.id); // A claims, then dies without delivering
      expect(claimed).toHaveLength(50);
      expect(b.dueOutbox('w2', T0 + 1000, 500).map((i) => i.id).filter((id) => claimed.includes(id))).toEqual([]);
      const after = b.dueOutbox('w2', T0 + OUTBOX_CLAIM_MS + 1, 500).map((i) => i.id);
      expect(claimed.every((id) => after.includes(id))).toBe(true);
    } finally {
      a.close();
      b.close();
    }
  });

  it('share evidence keys: one key made for a tenant, taken by a replica that can read it, never replaced by one that cannot', () => {
    const shared = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-keys-'));
    const own = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-keys-'));
    const replica = (dir: string) => {
      const store = new Store(db.url);
      return { store, evidence: new EvidenceStore(store.db, new EvidenceSecrets(new KeyDir(dir))) };
    };
    const a = replica(shared);
    const b = replica(shared);
    const c = replica(own);
    try {
      a.evidence.prepareSync(['keys'], T0); // the first replica makes the tenant's key
      b.evidence.prepareSync(['keys'], T0 + 1); // the second finds it in the shared folder
      expect(a.evidence.keys('keys').map((k) => k.id)).toEqual(b.evidence.keys('keys').map((k) => k.id));
      expect(a.evidence.keys('keys')).toHaveLength(1);
      expect(() => c.evidence.prepareSync(['keys'], T0 + 2)).toThrow(/current evidence key \S+ is not in this replica's key store .*same evidence keys/);
      expect(c.evidence.keys('keys')).toHaveLength(1); // not replaced
      const [r] = b.evidence.append('keys', [{ framework: 'soc2', control: 'CC6.1', ruleId: 'r', outcome: 'pass', evidenceType: 'summary', checkedTraces: 1, failedTraces: 0, windowStart: T0, windowEnd: T0 + 1, sampleTraceIds: [], traceId: 'f'.repeat(32) }], [], T0);
      expect(r.keyId).toBe(a.evidence.keys('keys')[0].id);
    } finally {
      for (const x of [a, b, c]) x.store.close();
      for (const d of [shared, own]) fs.rmSync(d, { recursive: true, force: true });
    }
  });

  it('make one evidence key when replicas sharing a key folder start together, and every replica signs with it', async () => {
    const keyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-keys-'));
    try {
      const current = await replicas<string>(4, { op: 'keys', url: db.url, keyDir });
      expect(new Set(current.flat()).size).toBe(1);
      const store = new Store(db.url);
      try {
        expect(new EvidenceStore(store.db).keys('race')).toHaveLength(1);
      } finally {
        store.close();
      }
    } finally {
      fs.rmSync(keyDir, { recursive: true, force: true });
    }
  });

  it('keep a tenant’s evidence chain gap-free and in order under concurrent appends', async () => {
    const seqs = await replicas<number>(4, { op: 'evidence', url: db.url, n: 25, secret: SECRET });
    expect(seqs.flat().sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    const store = new Store(db.url);
    try {
      const evidence = new EvidenceStore(store.db);
      evidence.seedKeys('t', [{ id: 'k1', secret: SECRET }], T0);
      const records = evidence.all('t');
      expect(records.map((r) => r.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
      expect(verifyChain(records, evidence.keyring('t'), evidence.head('t').seq).summary).toMatchObject({ records: 100, verified: 100, brokenLinks: [], duplicates: [], ok: true });
    } finally {
      store.close();
    }
  });
});
