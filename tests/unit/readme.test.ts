/**
 * Every command the README shows in a shell block runs here exactly as written (from the
 * repository's root, with `$TOKEN` and `<id>` filled in from earlier answers), so the README
 * cannot drift from the product. A command added to the README without a row below fails the
 * first test. `npm ci` and `npm test` are what .ci/run itself runs on a fresh clone; the Docker
 * commands need a Docker engine and are checked by the compose and e2e config tests instead.
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { decodeOtlpJsonText, Span } from '@betrace/evaluator';
import { TempoDouble } from '../support/tempoDouble';

const root = path.join(__dirname, '../..');
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');

/** The commands of the README's shell blocks: continuation lines joined, trailing comments cut. */
function readmeCommands(): string[] {
  const commands: string[] = [];
  for (const block of readme.matchAll(/^```(?:sh|bash|shell)\n([\s\S]*?)^```/gm)) {
    const joined = block[1].replace(/\\\n\s*/g, '');
    for (const line of joined.split('\n')) {
      const command = line.replace(/\s+#\s.*$/, '').trim();
      if (command !== '') {
        commands.push(command);
      }
    }
  }
  return commands;
}

/** How each README command is exercised; `test` names the test below that runs it. */
const COVERED: Record<string, { test: string } | { elsewhere: string }> = {
  'npm ci && npm start': { test: 'npm start' },
  'npm test': { elsewhere: '.ci/run runs `npm ci` and then `npm test` on a fresh clone' },
  'npx betrace --help': { test: 'npx betrace' },
  'npx betrace test --help': { test: 'npx betrace' },
  'npx betrace --version': { test: 'npx betrace' },
  'npx betrace check examples/rules/': { test: 'npx betrace' },
  'npx betrace test examples/rules/ --traces examples/traces/': { test: 'npx betrace' },
  'npx betrace test examples/rules/ --traces examples/traces/ --json': { test: 'npx betrace' },
  'npx betrace discover --traces examples/traces/ --rules examples/rules/ --min-support 2': { test: 'npx betrace' },
  'npx betrace discover --traces examples/traces/ --rules examples/rules/ --min-support 2 --json': { test: 'npx betrace' },
  "curl -X POST -H 'content-type: application/json' --data-binary @examples/traces/payment-fraud-check/violates-1.json http://localhost:4318/v1/traces": { test: 'npm start' },
  'curl -H "authorization: Bearer $TOKEN" http://localhost:3001/api/v1/signals': { test: 'npm start' },
  'curl -X POST -H "authorization: Bearer $TOKEN" -H \'content-type: application/json\' -d \'{"ruleIds":["payment-fraud-check"],"from":"2026-11-27T00:00:00Z","to":"2026-11-28T00:00:00Z","dryRun":true}\' http://localhost:3001/api/v1/replay': { test: 'replay' },
  'curl -H "authorization: Bearer $TOKEN" http://localhost:3001/api/v1/replay/<id>': { test: 'replay' },
  'curl -X DELETE -H "authorization: Bearer $TOKEN" http://localhost:3001/api/v1/replay/<id>': { test: 'replay' },
  'TEMPO_URL=http://localhost:3200 npx betrace replay --rules examples/rules/ --from -24h --to now --dry-run --json': { test: 'replay' },
  'npm run build': { elsewhere: '`npm test` runs it before jest (tests/unit/pluginBuild.test.ts reads its output)' },
  'docker compose up --build': { elsewhere: 'needs a Docker engine; tests/unit/stack.test.ts validates the compose file and what it builds' },
  'npm run e2e': { elsewhere: 'needs the compose stack; tests/unit/e2eSpecs.test.ts has Playwright load and list every spec' },
  'npm run dev': { elsewhere: 'webpack in watch mode with the same config `npm run build` proves' },
  'betrace backup /backups/betrace.db': { elsewhere: 'packages/sidecar/test/backup.test.ts backs up a running sidecar’s store (DATA_DIR as serve) and restores it' },
  'betrace restore /backups/betrace.db': { elsewhere: 'packages/sidecar/test/backup.test.ts restores into an empty folder, verifying the chain, and refuses tampered, truncated and non-empty cases' },
};

interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command line with bash from the repository's root. Never synchronously: the Tempo double answers from this process. */
function sh(command: string, env: NodeJS.ProcessEnv = {}): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', command], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
    child.once('error', reject);
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, () => server.close(() => resolve(true)));
  });
}

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) {
      return v;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** `npm start` as written, in a temporary data folder; resolves with its API token once it runs. */
async function npmStart(env: NodeJS.ProcessEnv, dataDir: string): Promise<{ child: ChildProcess; token: string; output: () => string }> {
  for (const port of [3001, 4318, 4317]) {
    if (!(await portFree(port))) {
      throw new Error(`port ${port} is taken: the README's commands use the default ports; stop what holds it`);
    }
  }
  const child = spawn('npm', ['start'], { cwd: root, env: { ...process.env, ...env, DATA_DIR: dataDir, LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const token = await until('the generated API token', () => /generated API token[^:]*: (\S+?)"/.exec(out)?.[1] ?? (child.exitCode !== null ? `exited:${out}` : undefined), 120_000);
  if (token.startsWith('exited:')) {
    throw new Error(`npm start exited: ${out}`);
  }
  await until('BeTrace is running', () => (out.includes('BeTrace is running') ? true : undefined), 30_000);
  return { child, token, output: () => out };
}

/** SIGTERM to npm itself: it must reach the sidecar, which drains and frees its ports. */
async function stopNpm(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  return exited;
}

const tmpDirs: string[] = [];
afterAll(() => {
  for (const d of tmpDirs) {
    fs.rmSync(d, { recursive: true, force: true });
  }
});
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-readme-'));
  tmpDirs.push(d);
  return d;
}

// Each test starts real processes (npx, npm start, the sidecar): minutes on a loaded 2-core machine.
jest.setTimeout(300_000);

describe('the README’s commands', () => {
  it('are each exercised by a test here, or named with where they are checked', () => {
    expect(readmeCommands().filter((c) => COVERED[c] === undefined)).toEqual([]);
    // And nothing here outlives the README.
    expect(Object.keys(COVERED).filter((c) => !readmeCommands().includes(c))).toEqual([]);
  });

  it('names only npm scripts and betrace commands that exist, in code blocks and in the prose', async () => {
    const scripts = Object.keys(JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).scripts);
    const named = [...readme.matchAll(/npm run ([a-z0-9:-]+)/g)].map((m) => m[1]);
    expect(named.length).toBeGreaterThan(3);
    expect(named.filter((s) => !scripts.includes(s))).toEqual([]);
    const help = (await sh('npx betrace --help')).stdout;
    const commands = [...readme.matchAll(/betrace (serve|check|test|replay|tenants|[a-z]+)\b/g)].map((m) => m[1]).filter((c) => c !== 'is');
    expect(commands.filter((c) => !help.includes(`  ${c} `))).toEqual([]);
  });

  it('npx betrace: --help, check and test on the examples, as written', async () => {
    const help = await sh('npx betrace --help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^usage: betrace <command>/);
    const testHelp = await sh('npx betrace test --help');
    expect([testHelp.status, testHelp.stdout]).toEqual([0, expect.stringMatching(/^usage: betrace test /)]);
    const version = await sh('npx betrace --version');
    expect([version.status, version.stdout]).toEqual([0, expect.stringMatching(/^betrace \d+\.\d+\.\d+\n$/)]);
    const check = await sh('npx betrace check examples/rules/');
    expect([check.status, check.stderr]).toEqual([0, expect.stringContaining(' 0 error(s), 0 warning(s)')]);
    const text = await sh('npx betrace test examples/rules/ --traces examples/traces/');
    expect(text.status).toBe(0);
    expect(text.stdout).toContain('payment-fraud-check');
    const json = await sh('npx betrace test examples/rules/ --traces examples/traces/ --json');
    expect(json.status).toBe(0);
    const violations = JSON.parse(json.stdout) as Array<{ ruleId: string }>;
    expect(new Set(violations.map((v) => v.ruleId))).toContain('payment-fraud-check');
    const ranked = await sh('npx betrace discover --traces examples/traces/ --rules examples/rules/ --min-support 2');
    expect(ranked.status).toBe(0);
    expect(ranked.stdout).toMatch(/^ {2}1\. [a-z]+ +support \d+/);
    const proposed = await sh('npx betrace discover --traces examples/traces/ --rules examples/rules/ --min-support 2 --json');
    expect(proposed.status).toBe(0);
    const suggestions = JSON.parse(proposed.stdout) as Array<Record<string, unknown>>;
    expect(suggestions.length).toBeGreaterThan(0);
    expect(Object.keys(suggestions[0]).slice(0, 7)).toEqual(['id', 'kind', 'condition', 'support', 'confidence', 'violations', 'exampleTraceIds']);
  });

  it('npm start: the curl commands give a signal, and SIGTERM to npm stops the sidecar and frees its ports', async () => {
    const dataDir = tmp();
    const { child, token, output } = await npmStart({ DECISION_WAIT: '500ms' }, dataDir);
    try {
      const post = await sh("curl -sS -o /dev/null -w '%{http_code}' -X POST -H 'content-type: application/json' --data-binary @examples/traces/payment-fraud-check/violates-1.json http://localhost:4318/v1/traces");
      expect(post.stdout).toBe('200');
      const signals = await until('the signal', async () => {
        const r = await sh('curl -sS -H "authorization: Bearer $TOKEN" http://localhost:3001/api/v1/signals', { TOKEN: token });
        const body = JSON.parse(r.stdout) as { signals: Array<{ ruleId: string }> };
        return body.signals.length > 0 ? body.signals : undefined;
      });
      expect(signals.map((s) => s.ruleId)).toContain('payment-fraud-check');
    } finally {
      const code = await stopNpm(child);
      expect([code, output()]).toEqual([0, expect.stringContaining('draining')]);
      // The start-up lines in the order a newcomer needs them, and a last line once it is down.
      const out = output();
      const at = (text: string) => out.indexOf(text);
      expect(at('generated API token')).toBeGreaterThanOrEqual(0);
      expect(at('generated API token')).toBeLessThan(at('writers: none'));
      expect(at('writers: none')).toBeLessThan(at('BeTrace is running'));
      expect(out).not.toContain('ingest is open to the network'); // loopback by default
      expect(at('"msg":"stopped"')).toBeGreaterThan(at('draining'));
    }
    expect(await portFree(3001)).toBe(true);
    expect(await portFree(4318)).toBe(true);
    expect(await portFree(4317)).toBe(true); // OTLP/gRPC, on by default beside 4318
  });

  it('replay: the API’s curl commands and `npx betrace replay` against a Tempo on localhost:3200', async () => {
    if (!(await portFree(3200))) {
      throw new Error('port 3200 is taken: the README’s replay command reads Tempo there');
    }
    const tempo = new TempoDouble();
    const [trace] = decodeOtlpJsonText(fs.readFileSync(path.join(root, 'examples/traces/payment-fraud-check/violates-1.json'), 'utf8'));
    const at = (ms: number, id: string): Span[] => {
      const shift = BigInt(ms) * 1_000_000n - trace.startNs;
      return trace.spans.map((s) => ({ ...s, traceId: id, startNs: s.startNs + shift, endNs: s.endNs + shift }));
    };
    // One violating trace inside the API example's fixed day, one inside the CLI example's last 24 h.
    tempo.ingest('single-tenant', at(Date.parse('2026-11-27T12:00:00Z'), 'aa'.repeat(16)));
    tempo.ingest('single-tenant', at(Date.now() - 3_600_000, 'bb'.repeat(16)));
    await tempo.start(3200);
    const dataDir = tmp();
    const { child, token } = await npmStart({ TEMPO_URL: 'http://localhost:3200' }, dataDir);
    try {
      const started = await sh(
        `curl -sS -X POST -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"ruleIds":["payment-fraud-check"],"from":"2026-11-27T00:00:00Z","to":"2026-11-28T00:00:00Z","dryRun":true}' http://localhost:3001/api/v1/replay`,
        { TOKEN: token },
      );
      const job = JSON.parse(started.stdout) as { id: string; windowsTotal: number };
      expect(job.windowsTotal).toBeGreaterThan(0);
      const done = await until('the replay to finish', async () => {
        const r = JSON.parse((await sh(`curl -sS -H "authorization: Bearer $TOKEN" http://localhost:3001/api/v1/replay/${job.id}`, { TOKEN: token })).stdout) as {
          status: string;
          violations?: Array<{ traceId: string }>;
        };
        return r.status === 'running' || r.status === 'queued' ? undefined : r;
      });
      expect(done.status).toBe('done');
      expect(done.violations!.map((v) => v.traceId)).toContain('aa'.repeat(16));
      const cancel = await sh(`curl -sS -o /dev/null -w '%{http_code}' -X DELETE -H "authorization: Bearer $TOKEN" http://localhost:3001/api/v1/replay/${job.id}`, { TOKEN: token });
      expect(cancel.stdout).toMatch(/^2\d\d$/);
    } finally {
      await stopNpm(child);
    }
    try {
      const cli = await sh('TEMPO_URL=http://localhost:3200 npx betrace replay --rules examples/rules/ --from -24h --to now --dry-run --json');
      expect([cli.status, cli.stderr]).toEqual([0, expect.any(String)]);
      const violations = JSON.parse(cli.stdout) as Array<{ ruleId: string; traceId: string }>;
      expect(violations).toContainEqual(expect.objectContaining({ ruleId: 'payment-fraud-check', traceId: 'bb'.repeat(16) }));
    } finally {
      await tempo.stop();
    }
  });
});
