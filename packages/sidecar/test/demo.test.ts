/**
 * `npm run demo` as users run it (the built script): says what it seeds, stops after
 * DEMO_SECONDS, removes its temporary data folder, and refuses clearly when its ports are taken.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';

const script = path.join(__dirname, '../dist/demo/run.js');

function demo(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script], { env: { PATH: process.env.PATH, OTLP_PORT: '0', API_PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const tmpRoots: string[] = [];
afterAll(() => tmpRoots.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
function tmpRoot(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-demo-test-'));
  tmpRoots.push(d);
  return d;
}

describe('npm run demo', () => {
  it('says how much it seeds, stops after DEMO_SECONDS and leaves no temporary folder behind', async () => {
    const tmp = tmpRoot();
    const r = await demo({ DEMO_SECONDS: '5', TMPDIR: tmp });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/a shop sends 300 checkouts a minute to http:\/\/localhost:\d+\/v1\/traces, 25 of them with a seeded violation \(one in 12, 6 kinds in turn\)/);
    expect(r.stdout).toMatch(/Stops after 5s \(DEMO_SECONDS\)\./);
    const [, sent, raised] = /\n(\d+) checkouts sent, (\d+) signals raised\.\n$/.exec(r.stdout) ?? [];
    expect(Number(sent)).toBeGreaterThan(10);
    expect(Number(raised)).toBeGreaterThanOrEqual(0);
    expect(fs.readdirSync(tmp).filter((f) => f.startsWith('betrace-demo-'))).toEqual([]);
  }, 70_000);

  it('refuses clearly when its port is taken, and removes its folder then too', async () => {
    const holder = net.createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', () => r()));
    const port = (holder.address() as net.AddressInfo).port;
    try {
      const tmp = tmpRoot();
      const r = await demo({ OTLP_PORT: String(port), TMPDIR: tmp });
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `demo failed: OTLP_PORT: port ${port} on 127.0.0.1 is already in use (another BeTrace?); stop what holds it or set OTLP_PORT to a free port (the demo uses OTLP_PORT and API_PORT too: stop \`npm start\`, or run e.g. OTLP_PORT=14318 API_PORT=13001 npm run demo)\n`,
      );
      expect(fs.readdirSync(tmp)).toEqual([]);
    } finally {
      await new Promise<void>((r) => holder.close(() => r()));
    }
  }, 70_000);
});
