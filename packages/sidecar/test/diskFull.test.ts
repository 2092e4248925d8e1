/**
 * A full disk: the real `betrace serve` runs with DATA_DIR on a small tmpfs that the test fills.
 * Batches get 503 with Retry-After (never 500), /readyz turns 503, nothing answered 2xx is lost,
 * and once space is freed ingestion resumes by itself. Needs root (to mount); skipped otherwise.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Store } from '../src/store';
import { freePort, requireBuiltCli, root, serve, Served, until } from './support/serve';

const TEMPLATE = fs.readFileSync(path.join(root, 'examples/traces/no-auto-approve/violates-1.json'), 'utf8');
const TEMPLATE_TRACE = 'df326b326a9e839328c7eca715539a7a';
const traceId = (i: number) => `${'e'.repeat(24)}${i.toString(16).padStart(8, '0')}`;
const body = (i: number) => TEMPLATE.split(TEMPLATE_TRACE).join(traceId(i));

/** Mounts a tmpfs of `size` on a new directory; undefined (with why) when that is not possible here. */
function smallDisk(size: string): { dir: string } | { skip: string } {
  if (process.getuid?.() !== 0) {
    return { skip: 'not root: cannot mount a small tmpfs' };
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-full-'));
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { encoding: 'utf8' });
  if (m.status !== 0) {
    fs.rmdirSync(dir);
    return { skip: `mount -t tmpfs failed: ${(m.stderr || m.error?.message || '').trim()}` };
  }
  return { dir };
}

const disk = smallDisk('8m');
if ('skip' in disk) {
  process.stderr.write(`diskFull.test.ts skipped: ${disk.skip}\n`);
}
const maybe = 'dir' in disk ? describe : describe.skip;

maybe('a sidecar whose disk fills up', () => {
  const dir = 'dir' in disk ? disk.dir : '';
  const filler = path.join(dir, 'filler');
  let served: Served | undefined;
  beforeAll(requireBuiltCli);
  afterAll(async () => {
    served?.child.kill('SIGKILL');
    await served?.exited;
    spawnSync('umount', [dir]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers 503 with Retry-After and turns unready, loses nothing it answered 2xx, and resumes by itself once space is freed', async () => {
    const [otlpPort, apiPort] = [await freePort(), await freePort()];
    const dataDir = path.join(dir, 'data');
    served = serve({
      DATA_DIR: dataDir,
      RULES_DIR: path.join(root, 'examples/rules'),
      OTLP_PORT: String(otlpPort),
      API_PORT: String(apiPort),
      HOST: '127.0.0.1',
      DECISION_WAIT: '200ms',
      MAX_TRACE_AGE: '1s',
      BETRACE_API_TOKEN: 'full-token',
      MAX_BODY_BYTES: '1MiB',
      INGEST_LOG_SEGMENT_BYTES: '64KiB',
      INGEST_LOG_MAX_BYTES: '4MiB',
      LOG_LEVEL: 'warn',
    });
    const readyz = async () => (await fetch(`http://127.0.0.1:${apiPort}/readyz`).catch(() => undefined))?.status;
    await until('the sidecar to be ready', async () => (await readyz()) === 200);
    const url = `http://127.0.0.1:${otlpPort}/v1/traces`;
    const send = async (i: number) => {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-idempotency-key': `full-${i}` }, body: body(i) });
      return { status: res.status, retryAfter: res.headers.get('retry-after'), text: await res.text() };
    };

    // Fill the disk, leaving a little room: a few batches fit, then the log's writes fail.
    const fd = fs.openSync(filler, 'w');
    const chunk = Buffer.alloc(64 * 1024, 1);
    try {
      for (;;) {
        fs.writeSync(fd, chunk);
      }
    } catch (e) {
      expect((e as NodeJS.ErrnoException).code).toBe('ENOSPC');
    }
    fs.closeSync(fd);
    fs.truncateSync(filler, fs.statSync(filler).size - 48 * 1024);

    const answers: Array<{ status: number; retryAfter: string | null; text: string }> = [];
    for (let i = 0; i < 200 && answers.filter((a) => a.status === 503).length < 5; i++) {
      answers.push(await send(i));
    }
    const accepted = answers.map((a, i) => (a.status === 200 ? i : -1)).filter((i) => i >= 0);
    const refused = answers.map((a, i) => (a.status === 503 ? i : -1)).filter((i) => i >= 0);
    expect(answers.map((a) => a.status).filter((s) => s !== 200 && s !== 503)).toEqual([]);
    expect(refused.length).toBeGreaterThanOrEqual(5);
    for (const i of refused) {
      expect(Number(answers[i].retryAfter)).toBeGreaterThan(0);
    }
    await until('/readyz to turn 503', async () => (await readyz()) === 503, 5000);
    const metrics = await (await fetch(`http://127.0.0.1:${apiPort}/metrics`)).text();
    expect(metrics).toMatch(/^betrace_storage_errors_total\{component="(log|store)",reason="(ENOSPC|SQLITE_FULL)"\} [1-9]/m);
    expect(metrics).toMatch(/^betrace_ingest_refused_total\{tenant="default",reason="storage_unavailable"\} [1-9]/m);
    // Still full: still refused, still unready, and no answer says 2xx that the disk could not take.
    await new Promise((r) => setTimeout(r, 1500));
    expect((await send(1000)).status).toBe(503);
    expect(await readyz()).toBe(503);

    // Space returns: ingestion resumes without a restart, and the refused batches can be sent again.
    fs.rmSync(filler);
    await until('/readyz to turn 200 again', async () => (await readyz()) === 200, 10_000);
    for (const i of refused) {
      expect((await send(i)).status).toBe(200);
    }
    const store = new Store(path.join(dataDir, 'betrace.db'));
    try {
      const evaluated = () => new Set(store.listSignals('default', { limit: 10_000 }).signals.map((s) => s.traceId));
      const expected = [...accepted, ...refused].map(traceId).sort();
      await until('every accepted trace to be evaluated', () => expected.every((t) => evaluated().has(t)), 15_000);
      expect(accepted.length).toBeGreaterThan(0);
      process.stdout.write(`disk full: ${accepted.length} batches accepted before the disk filled, ${refused.length} refused with 503 and retried; all ${expected.length} evaluated\n`);
    } finally {
      store.close();
    }
  }, 60_000);
});
