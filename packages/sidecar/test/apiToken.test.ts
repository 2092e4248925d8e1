/**
 * The generated API token: printed once, its SHA-256 kept in the data folder and never the token
 * (the tenants file refuses plaintext tokens too), rotated with `betrace token rotate`.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import pino from 'pino';
import { main } from '../src/cli';
import { loadConfig } from '../src/config';
import { API_TOKEN_HASH_SETTING, createSidecar, Sidecar } from '../src/sidecar';
import { Store } from '../src/store';
import { sha256Hex } from '../src/tenants';
import { storeEnv } from './support/engine';

const dirs: string[] = [];
const running: Sidecar[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.stop();
});
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function dataDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-token-'));
  dirs.push(d);
  return d;
}

async function start(dir: string, env: Record<string, string> = {}): Promise<{ sidecar: Sidecar; status: (token: string) => Promise<number> }> {
  const sidecar = createSidecar(loadConfig({ EVAL_WORKERS: '0', DATA_DIR: dir, OTLP_PORT: '0', API_PORT: '0', ...env }), { logger: pino({ level: 'silent' }), tickMs: 3_600_000 });
  const { apiPort } = await sidecar.start();
  running.push(sidecar);
  const status = async (token: string) => (await fetch(`http://127.0.0.1:${apiPort}/api/v1/rules`, { headers: { authorization: `Bearer ${token}` } })).status;
  return { sidecar, status };
}

async function stopAll(): Promise<void> {
  for (const s of running.splice(0)) await s.stop();
}

function settings(dir: string): Record<string, string> {
  const store = new Store(path.join(dir, 'betrace.db'));
  try {
    return Object.fromEntries((store.db.prepare('SELECT key, value FROM settings').all() as Array<{ key: string; value: string }>).map((r) => [r.key, r.value]));
  } finally {
    store.close();
  }
}

describe('the generated API token', () => {
  it('is kept as its SHA-256 only, and works again after a restart without being known', async () => {
    const dir = dataDir();
    const first = await start(dir);
    const token = first.sidecar.token;
    expect([first.sidecar.tokenGenerated, token.length]).toEqual([true, 32]);
    expect(await first.status(token)).toBe(200);
    await stopAll();
    const stored = settings(dir);
    expect(stored[API_TOKEN_HASH_SETTING]).toBe(sha256Hex(token));
    expect(Object.values(stored)).not.toContain(token);
    expect(stored.api_token).toBeUndefined();
    // Not in any file of the data folder, in any form a reader could find.
    for (const f of fs.readdirSync(dir, { recursive: true }) as string[]) {
      const full = path.join(dir, f);
      if (fs.statSync(full).isFile()) expect(fs.readFileSync(full).includes(Buffer.from(token))).toBe(false);
    }
    const again = await start(dir);
    expect([again.sidecar.tokenGenerated, again.sidecar.token]).toEqual([false, '']);
    expect(await again.status(token)).toBe(200);
    expect(await again.status('wrong')).toBe(401);
  });

  it('takes over a plaintext token from an older data folder and forgets the plaintext', async () => {
    const dir = dataDir();
    const store = new Store(path.join(dir, 'betrace.db'));
    store.setSetting('api_token', 'token-from-before');
    store.close();
    const s = await start(dir);
    expect(await s.status('token-from-before')).toBe(200);
    await stopAll();
    expect(settings(dir)).toMatchObject({ [API_TOKEN_HASH_SETTING]: sha256Hex('token-from-before') });
    expect(settings(dir).api_token).toBeUndefined();
  });

  it('rotates with `betrace token rotate`: the new one works at the next start, the old one does not', async () => {
    const dir = dataDir();
    const old = (await start(dir)).sidecar.token;
    await stopAll();
    let out = '';
    let err = '';
    const code = await main(['token', 'rotate'], { stdout: (t) => (out += t), stderr: (t) => (err += t), cwd: dir, env: { DATA_DIR: dir, ...storeEnv(dir) } });
    expect(code).toBe(0);
    const fresh = out.trim();
    expect(fresh).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(fresh).not.toBe(old);
    expect(err).toMatch(/its SHA-256 is stored, the token is not/);
    const s = await start(dir);
    expect([await s.status(fresh), await s.status(old)]).toEqual([200, 401]);
  });

  it('refuses to rotate what it does not own', async () => {
    const run = async (env: Record<string, string>) => {
      let err = '';
      const code = await main(['token', 'rotate'], { stdout: () => undefined, stderr: (t) => (err += t), cwd: os.tmpdir(), env });
      return { code, err };
    };
    expect(await run({ BETRACE_API_TOKEN: 'x', DATA_DIR: dataDir() })).toEqual({ code: 2, err: expect.stringContaining('BETRACE_API_TOKEN is set') });
    expect(await run({ TENANTS_FILE: '/etc/tenants.yaml' })).toEqual({ code: 2, err: expect.stringContaining('TENANTS_FILE is set') });
    expect(await run({ DATA_DIR: path.join(dataDir(), 'missing') })).toEqual({ code: 2, err: expect.stringContaining('does not exist') });
    expect((await run({ DATA_DIR: dataDir() })).code).toBe(0);
    expect((await main(['token'], { stdout: () => undefined, stderr: () => undefined, cwd: os.tmpdir(), env: {} }))).toBe(2);
  });
});
