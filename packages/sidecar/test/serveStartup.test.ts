/**
 * `betrace serve` refuses to start with one line naming the setting and the cause, exit 2, and no
 * stack trace, for the mistakes an operator makes: a missing rules folder, a port in use, a data
 * folder that is a file, an address that is not this machine's. The built CLI, as users run it.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { Client } from 'pg';
import { POSTGRES_SCHEMA_VERSION, SCHEMA_VERSION_TABLE } from '../src/db/postgresCheck';
import { describePostgres, freshDatabase, FreshDatabase } from '../../../tests/support/postgres';

const cli = path.join(__dirname, '../dist/cli.js');

function serve(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, 'serve'], { env: { PATH: process.env.PATH, OTLP_PORT: '0', API_PORT: '0', LOG_FORMAT: 'json', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-startup-'));
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

describe('betrace serve start-up errors', () => {
  let holder: net.Server;
  let taken: number;
  beforeAll(async () => {
    holder = net.createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', () => r()));
    taken = (holder.address() as net.AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => holder.close(() => r())));

  it.each<[string, (d: string) => Record<string, string>, (d: string) => string]>([
    ['a missing RULES_DIR', (d) => ({ DATA_DIR: path.join(d, 'data'), RULES_DIR: path.join(d, 'nope') }), (d) => `betrace serve: RULES_DIR: ${path.join(d, 'nope')} does not exist\n`],
    ['a DATA_DIR that is a file', (d) => (fs.writeFileSync(path.join(d, 'file'), ''), { DATA_DIR: path.join(d, 'file') }), (d) => `betrace serve: DATA_DIR: ${path.join(d, 'file')} is a file where a directory is needed\n`],
    ['an OTLP port in use', (d) => ({ DATA_DIR: path.join(d, 'data'), OTLP_PORT: String(taken) }), () => `betrace serve: OTLP_PORT: port ${taken} on 127.0.0.1 is already in use (another BeTrace?); stop what holds it or set OTLP_PORT to a free port\n`],
    ['an API port in use', (d) => ({ DATA_DIR: path.join(d, 'data'), API_PORT: String(taken) }), () => `betrace serve: API_PORT: port ${taken} on 127.0.0.1 is already in use (another BeTrace?); stop what holds it or set API_PORT to a free port\n`],
    ['a HOST that is not this machine', (d) => ({ DATA_DIR: path.join(d, 'data'), HOST: '192.0.2.1' }), () => 'betrace serve: HOST: 192.0.2.1 is not an address of this machine\n'],
  ])('refuses %s in one line, exit 2', async (_name, env, message) => {
    const d = tmp();
    dirs.push(d);
    const r = await serve(env(d));
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(message(d));
    expect(r.stdout).not.toMatch(/BeTrace is running/);
    expect(r.stdout + r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  }, 40_000);
});

// DATABASE_URL against the run's real PostgreSQL (tests/support/postgres.ts).
describePostgres('betrace serve start-up errors: DATABASE_URL', () => {
  let db: FreshDatabase;
  let closedPort: number;
  beforeAll(async () => {
    db = await freshDatabase();
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    closedPort = (s.address() as net.AddressInfo).port;
    await new Promise<void>((r) => s.close(() => r()));
  });
  afterAll(async () => {
    await db?.drop();
  });
  const withUrl = (change: (u: URL) => void): string => {
    const u = new URL(db.url);
    change(u);
    return u.toString();
  };
  const where = () => `127.0.0.1:${new URL(db.url).port}`;

  it.each<[string, () => string, () => string]>([
    ['a wrong password', () => withUrl((u) => (u.password = 'not-the-password')), () => `betrace serve: DATABASE_URL: PostgreSQL at ${where()}/${db.name} refused the credentials of user "betrace" (wrong password or no access)\n`],
    ['a closed port', () => withUrl((u) => (u.port = String(closedPort))), () => `betrace serve: DATABASE_URL: cannot connect to PostgreSQL at 127.0.0.1:${closedPort} (connection refused): is the server running, and is the port right?\n`],
    ['a missing database', () => withUrl((u) => (u.pathname = '/betrace_no_such_db')), () => `betrace serve: DATABASE_URL: database "betrace_no_such_db" does not exist on ${where()} (create it first)\n`],
    ['a URL that is not postgres', () => 'mysql://u:p@127.0.0.1/x', () => 'betrace serve: configuration error: DATABASE_URL: expected postgres://user:password@host:port/database (only PostgreSQL is supported), got a mysql:// URL\n'],
  ])('refuses %s in one line, exit 2, without the password', async (_name, url, message) => {
    const d = tmp();
    dirs.push(d);
    const r = await serve({ DATA_DIR: path.join(d, 'data'), DATABASE_URL: url() });
    expect(r.stderr).toBe(message());
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).not.toMatch(/not-the-password|betrace:betrace@/);
    expect(r.stdout + r.stderr).not.toMatch(/\n\s+at /);
  }, 40_000);

  it('refuses a database whose schema is newer than this build', async () => {
    const c = new Client({ connectionString: db.url });
    await c.connect();
    try {
      await c.query(`CREATE TABLE ${SCHEMA_VERSION_TABLE} (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
      await c.query(`INSERT INTO ${SCHEMA_VERSION_TABLE} (version) VALUES ($1)`, [POSTGRES_SCHEMA_VERSION + 1]);
      const d = tmp();
      dirs.push(d);
      const r = await serve({ DATA_DIR: path.join(d, 'data'), DATABASE_URL: db.url });
      expect(r.stderr).toBe(
        `betrace serve: DATABASE_URL: the database ${where()}/${db.name} has schema version ${POSTGRES_SCHEMA_VERSION + 1}, newer than this build's ${POSTGRES_SCHEMA_VERSION}: a newer BeTrace wrote it; run that version (or newer)\n`,
      );
      expect(r.code).toBe(2);
    } finally {
      await c.query(`DROP TABLE IF EXISTS ${SCHEMA_VERSION_TABLE}`);
      await c.end();
    }
  }, 40_000);

  it('with a good DATABASE_URL, serves with its state in PostgreSQL (the schema made at start)', async () => {
    const d = tmp();
    dirs.push(d);
    const child = spawn(process.execPath, [cli, 'serve'], {
      env: { PATH: process.env.PATH, OTLP_PORT: '0', API_PORT: '0', LOG_FORMAT: 'json', DATA_DIR: path.join(d, 'data'), DATABASE_URL: db.url, RULES_DIR: path.join(__dirname, '../../../examples/rules') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let stdout = '';
      const running = await new Promise<{ api: string; store: string }>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`serve did not start: ${stdout}`)), 30_000);
        child.stdout.on('data', (c: Buffer) => {
          stdout += c.toString();
          const line = stdout.split('\n').find((l) => l.includes('BeTrace is running'));
          if (line !== undefined) {
            clearTimeout(timer);
            resolve(JSON.parse(line) as { api: string; store: string });
          }
        });
        child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${stdout}`)));
      });
      expect(running.store).toBe(`postgres ${where()}/${db.name}`);
      expect((await fetch(running.api.replace('/api/v1', '/readyz'))).status).toBe(200);
      const c = new Client({ connectionString: db.url });
      await c.connect();
      try {
        const v = await c.query(`SELECT max(version)::integer AS v FROM ${SCHEMA_VERSION_TABLE}`);
        expect(v.rows[0].v).toBe(POSTGRES_SCHEMA_VERSION);
        const rules = await c.query("SELECT count(*)::integer AS n FROM rules WHERE tenant = 'default' AND provisioned = 1");
        expect(rules.rows[0].n).toBeGreaterThan(0); // the rule files, provisioned into PostgreSQL
      } finally {
        await c.end();
      }
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  }, 40_000);
});
