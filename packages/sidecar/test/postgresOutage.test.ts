/**
 * A PostgreSQL outage at run time (DATABASE_URL through a loopback TCP proxy that the test cuts
 * and restores, as a network partition or a database restart does): ingest keeps the traces it
 * accepted (ingest log), answers 503 + Retry-After once the store fails, /readyz answers 503 and
 * the API 503 + Retry-After; when the database is reachable again ingest resumes by itself and
 * every accepted trace is evaluated, its signal stored once. Nothing is lost.
 */
import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import pino from 'pino';
import { describePostgres, freshDatabase, FreshDatabase } from '../../../tests/support/postgres';
import { loadConfig } from '../src/config';
import { createSidecar, Sidecar } from '../src/sidecar';
import { root, until } from './support/serve';

const TRACE = fs.readFileSync(path.join(root, 'examples/traces/no-auto-approve/violates-1.json'), 'utf8');
const TRACE_ID = 'df326b326a9e839328c7eca715539a7a';
const traceId = (i: number) => `${'e'.repeat(24)}${i.toString(16).padStart(8, '0')}`;
const withTraceId = (i: number) => TRACE.split(TRACE_ID).join(traceId(i));

// The proxy runs in a child process: the sidecar's store waits for PostgreSQL synchronously, so a
// proxy on the test's own thread could never answer it.
const PROXY = `
const net = require('net');
const [port, host, targetPort] = process.argv.slice(1);
const server = net.createServer((client) => {
  const upstream = net.connect(Number(targetPort), host);
  client.on('error', () => undefined);
  upstream.on('error', () => undefined);
  client.pipe(upstream).pipe(client);
  client.on('close', () => upstream.destroy());
  upstream.on('close', () => client.destroy());
});
server.listen(Number(port), '127.0.0.1', () => console.log(server.address().port));
`;

/** A TCP proxy to PostgreSQL that can be cut (its process killed: listener gone, every connection reset) and restored on the same port. */
class CuttableProxy {
  private child: ChildProcess | undefined;
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async open(): Promise<void> {
    const child = spawn(process.execPath, ['-e', PROXY, String(this.port), this.target.host, String(this.target.port)], { stdio: ['ignore', 'pipe', 'inherit'] });
    this.child = child;
    this.port = await new Promise<number>((resolve, reject) => {
      child.stdout.once('data', (c: Buffer) => resolve(Number(c.toString().trim())));
      child.once('exit', (code) => reject(new Error(`the proxy exited ${code}`)));
    });
  }

  async cut(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child !== undefined && child.exitCode === null) {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
  }
}

describePostgres('a PostgreSQL outage', () => {
  let db: FreshDatabase;
  let proxy: CuttableProxy;
  let sidecar: Sidecar | undefined;
  beforeAll(async () => {
    db = await freshDatabase();
    const u = new URL(db.url);
    proxy = new CuttableProxy({ host: u.hostname, port: Number(u.port) });
    await proxy.open();
  });
  afterAll(async () => {
    await sidecar?.stop();
    await proxy.cut();
    await db.drop();
  });

  it('refuses ingest with 503 while the database is away, keeps what it accepted, and evaluates it once the database is back', async () => {
    const url = new URL(db.url);
    url.port = String(proxy.port);
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-pg-outage-'));
    sidecar = createSidecar(
      loadConfig({
        EVAL_WORKERS: '0',
        DATA_DIR: dataDir,
        DATABASE_URL: url.toString(),
        RULES_DIR: path.join(root, 'examples/rules'),
        OTLP_PORT: '0',
        API_PORT: '0',
        HOST: '127.0.0.1',
        DECISION_WAIT: '100ms',
        MAX_TRACE_AGE: '400ms',
        BETRACE_API_TOKEN: 'outage-token',
      }),
      { logger: pino({ level: 'silent' }), tickMs: 20 },
    );
    const { otlpPort, apiPort } = await sidecar.start();
    const otlp = `http://127.0.0.1:${otlpPort}/v1/traces`;
    const api = `http://127.0.0.1:${apiPort}`;
    const auth = { authorization: 'Bearer outage-token' };
    const post = (i: number) => fetch(otlp, { method: 'POST', headers: { 'content-type': 'application/json' }, body: withTraceId(i) });
    const signals = async (i: number) =>
      ((await (await fetch(`${api}/api/v1/signals?traceId=${traceId(i)}`, { headers: auth })).json()) as { signals: unknown[] }).signals;

    expect((await post(1)).status).toBe(200);
    await until('the first trace to be evaluated', async () => (await signals(1)).length === 1, 10_000);

    await proxy.cut();
    // Accepted while the store is still thought healthy: durable in the ingest log, evaluated later.
    expect((await post(2)).status).toBe(200);
    await until('the failed evaluation to make the sidecar unready', async () => (await fetch(`${api}/readyz`)).status === 503, 10_000);
    const refused = await post(3);
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await refused.json()) as { message: string }).message).toMatch(/^the disk or the store cannot be written \(store: POSTGRES_UNAVAILABLE\); retry later$/);
    const read = await fetch(`${api}/api/v1/signals`, { headers: auth });
    expect(read.status).toBe(503);
    expect(Number(read.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await read.json()).toEqual({ error: 'unavailable', message: 'the store (PostgreSQL) is unavailable; retry later' });

    await proxy.open();
    await until('ingest to resume by itself', async () => (await fetch(`${api}/readyz`)).status === 200, 15_000);
    await until('the trace accepted during the outage to be evaluated', async () => (await signals(2)).length === 1, 15_000);
    expect((await post(3)).status).toBe(200); // the refused one, sent again as a client does after Retry-After
    await until('the retried trace to be evaluated', async () => (await signals(3)).length === 1, 15_000);
    expect(await signals(1)).toHaveLength(1);
    expect(await signals(2)).toHaveLength(1);
  }, 60_000);
});
