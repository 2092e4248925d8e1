/**
 * Running the real `betrace serve` (the built CLI) as a child process, for crash and disk tests:
 * free loopback ports, waiting for a condition, and the child's exit.
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';

export const root = path.join(__dirname, '../../../..');
export const cli = path.join(root, 'packages/sidecar/dist/cli.js');

export function requireBuiltCli(): void {
  if (!fs.existsSync(cli)) {
    throw new Error(`${cli} is missing: run \`npm run build:packages\` first (npm test does)`);
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) {
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A running `betrace serve`; `stderr` keeps its log (for a failing test's message). */
export interface Served {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function serve(env: Record<string, string>): Served {
  const child = spawn(process.execPath, [cli, 'serve'], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (c: Buffer) => {
    err = (err + c.toString('utf8')).slice(-20_000);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, stderr: () => err, exited };
}
