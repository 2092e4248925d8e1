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
