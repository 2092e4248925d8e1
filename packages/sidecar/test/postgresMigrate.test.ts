// Replicas starting together on an empty PostgreSQL database (the load-balanced deployment's
// first start): every one migrates, or finds the migration done, and none fails on the catalog.
import { spawn } from 'child_process';
import path from 'path';
import { Client } from 'pg';
import { describePostgres, freshDatabase, FreshDatabase } from '../../../tests/support/postgres';

const DIST_STORE = path.join(__dirname, '../dist/store');
const REPLICAS = 6;

/** A process that opens the store once every replica is ready (a line on stdin), then closes it. */
function replica(url: string): { ready: Promise<void>; go: () => void; done: Promise<{ code: number | null; output: string }> } {
  const script = `const { Store } = require(${JSON.stringify(DIST_STORE)});
process.stdout.write('ready\\n');
process.stdin.once('data', () => { const s = new Store(process.argv[1]); s.close(); process.exit(0); });`;
  const child = spawn(process.execPath, ['-e', script, url], { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  let readyResolve!: () => void;
  const ready = new Promise<void>((r) => (readyResolve = r));
  child.stdout.on('data', (b: Buffer) => {
    output += b.toString();
    if (output.includes('ready')) readyResolve();
  });
  child.stderr.on('data', (b: Buffer) => (output += b.toString()));
  const done = new Promise<{ code: number | null; output: string }>((resolve) => child.once('exit', (code) => resolve({ code, output })));
  return { ready, go: () => child.stdin.write('go\n'), done };
}

describePostgres('PostgreSQL migrations under concurrent start', () => {
  let db: FreshDatabase;
  beforeAll(async () => {
    db = await freshDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it.each([
    ['the public schema', ''],
    ['a schema of its own (?schema=)', 'replicas'],
  ])('%s: every replica starts, and the schema is migrated once', async (_what, schema) => {
    const u = new URL(db.url);
    if (schema !== '') u.searchParams.set('schema', schema);
    const all = Array.from({ length: REPLICAS }, () => replica(u.toString()));
    await Promise.all(all.map((r) => r.ready));
    all.forEach((r) => r.go());
    const results = await Promise.all(all.map((r) => r.done));
    for (const r of results) {
      expect({ code: r.code, output: r.output.replace('ready\n', '') }).toEqual({ code: 0, output: '' });
    }
    const c = new Client({ connectionString: db.url });
    await c.connect();
    try {
      const table = `${schema === '' ? 'public' : `"${schema}"`}.betrace_schema_version`;
      const r = await c.query<{ n: string; distinct: string }>(`SELECT count(*) AS n, count(DISTINCT version) AS distinct FROM ${table}`);
      expect(Number(r.rows[0].n)).toBeGreaterThan(0);
      expect(r.rows[0].n).toBe(r.rows[0].distinct);
    } finally {
      await c.end();
    }
  }, 60_000);
});
