/**
 * `betrace backup` and `betrace restore`: a backup taken while a sidecar writes evidence restores
 * into an empty folder with its chain verified (with the keys and anchors outside the data folder,
 * as `betrace serve` reads them) and serves the same data; a tampered chain and an old backup
 * under newer anchors are refused; restore never writes over a store, nor into a folder in use.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import Database from 'better-sqlite3';
import pino from 'pino';
import { main } from '../src/cli';
import { loadConfig } from '../src/config';
import type { EvidenceDraft } from '../src/evidence/record';
import { createSidecar, Sidecar } from '../src/sidecar';

const root = path.join(__dirname, '../../..');
const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);
const violating = fs.readFileSync(
  path.join(root, 'examples/traces/soc2-cc7-2-payment-failures-audited/violates-1.json'),
  'utf8'
);

const draft = (i: number): EvidenceDraft => ({
  framework: 'soc2',
  control: 'CC7.2',
  ruleId: 'audited',
  outcome: 'pass',
  evidenceType: 'summary',
  checkedTraces: 4,
  failedTraces: 0,
  windowStart: T0 + i * 60_000,
  windowEnd: T0 + (i + 1) * 60_000,
  sampleTraceIds: ['ab'.repeat(16)],
  traceId: 'cd'.repeat(16),
});

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) {
    await c();
  }
});

function tmp(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Keys and anchors outside the data folder, as the defaults put them, but in one temporary place. */
function envFor(base: string, dataDir: string): Record<string, string> {
  return {
    DATA_DIR: dataDir,
    EVIDENCE_KEY_DIR: path.join(base, 'keys'),
    EVIDENCE_ANCHOR_DIR: path.join(base, 'anchors'),
  };
}

async function run(env: Record<string, string>): Promise<{ sidecar: Sidecar; otlp: string; clock: { now: number } }> {
  const clock = { now: T0 };
  const config = loadConfig({
    EVAL_WORKERS: '0',
    RULES_DIR: path.join(root, 'examples/rules'),
    OTLP_PORT: '0',
    API_PORT: '0',
    OTLP_GRPC_PORT: 'off',
    HOST: '127.0.0.1',
    BETRACE_API_TOKEN: 'backup-token',
    ...env,
  });
  const sidecar = createSidecar(config, {
    now: () => clock.now,
    logger: pino({ level: 'silent' }),
    tickMs: 3_600_000,
    writerIntervalMs: 3_600_000,
    evidenceIntervalMs: 3_600_000,
  });
  const { otlpPort } = await sidecar.start();
  let stopped = false;
  const stop = sidecar.stop.bind(sidecar);
  sidecar.stop = async () => {
    if (!stopped) {
      stopped = true;
      await stop();
    }
  };
  cleanups.push(() => sidecar.stop());
  return { sidecar, otlp: `http://127.0.0.1:${otlpPort}/v1/traces`, clock };
}

async function betrace(
  args: string[],
  env: Record<string, string>,
  cwd: string
): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, { stdout: (t) => (out += t), stderr: (t) => (err += t), cwd, env });
  return { code, out, err };
}

const count = (file: string, sql: string): number => {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare(sql).get() as { n: number }).n;
  } finally {
    db.close();
  }
};

describe('betrace backup and restore', () => {
  it('round-trips a store while the sidecar writes evidence: consistent copy, chain verified, same data served', async () => {
    const base = tmp('betrace-backup-');
    const dataDir = path.join(base, 'data');
    const env = envFor(base, dataDir);
    const { sidecar, otlp, clock } = await run(env);
    const res = await fetch(otlp, { method: 'POST', headers: { 'content-type': 'application/json' }, body: violating });
    expect(res.status).toBe(200);
    clock.now += 10_001;
    await sidecar.shards.tick();
    sidecar.evidence.store.append('default', [draft(0), draft(1)], [], T0);
    expect(sidecar.evidence.anchor()).toBe(1);

    // Evidence keeps being appended while the backup runs (each append its own transaction).
    let writing = true;
    let appended = 0;
    const writer = (async () => {
      while (writing) {
        sidecar.evidence.store.append('default', [draft(2 + appended)], [], T0 + appended);
        appended++;
        await new Promise((r) => setImmediate(r));
      }
    })();
    const backupFile = path.join(base, 'backup.db');
    const made = await betrace(['backup', 'backup.db'], env, base);
    writing = false;
    await writer;
    expect(made.code).toBe(0);
    expect(made.out).toMatch(
      /^wrote backup\.db: \d+ bytes, schema \d+; 1 tenant \(default\), \d+ rules, 1 signal, \d+ evidence records\n$/
    );
    expect(made.err).toContain('evidence secrets and anchors are not in the backup');
    expect(appended).toBeGreaterThan(0);
    // One point in time: the copy's head is the seq of its last record, and no seq is missing.
    const inBackup = count(backupFile, "SELECT count(*) AS n FROM evidence WHERE tenant = 'default'");
    expect(count(backupFile, "SELECT seq AS n FROM evidence_heads WHERE tenant = 'default'")).toBe(inBackup);
    expect(count(backupFile, "SELECT max(seq) AS n FROM evidence WHERE tenant = 'default'")).toBe(inBackup);
    expect(fs.existsSync(`${backupFile}-wal`)).toBe(false);
    // The anchored head is inside what the backup holds.
    expect(inBackup).toBeGreaterThanOrEqual(2);

    // A second backup to the same name is refused unless --force.
    const again = await betrace(['backup', 'backup.db'], env, base);
    expect(again).toMatchObject({
      code: 1,
      err: 'betrace backup: backup.db exists; choose another name, or --force to overwrite it\n',
    });
    await sidecar.stop();

    // Restore into an empty folder, with the same keys and anchors.
    const restoredDir = path.join(base, 'restored');
    const restoredEnv = { ...env, DATA_DIR: restoredDir };
    const restored = await betrace(['restore', 'backup.db'], restoredEnv, base);
    expect(restored.err).toBe('');
    expect(restored.code).toBe(0);
    // Anchors published so far (one above, one more when the sidecar stopped with its head moved): all within the backup.
    const anchors = fs
      .readFileSync(path.join(base, 'anchors', 'default.jsonl'), 'utf8')
      .trim()
      .split('\n').length;
    expect(anchors).toBeGreaterThanOrEqual(1);
    expect(restored.out).toBe(
      `default: evidence chain verified: ${inBackup} records, head ${inBackup}, ${anchors} anchor${anchors === 1 ? '' : 's'} checked\n` +
        `restored backup.db into restored/betrace.db: ${made.out.slice(made.out.indexOf('schema'))}`
    );
    expect(fs.readdirSync(restoredDir)).toEqual(['betrace.db']);

    // A sidecar on the restored folder serves the same signal and a chain that verifies.
    const second = await run(restoredEnv);
    expect(second.sidecar.store.listSignals('default').signals).toHaveLength(1);
    const api = (
      second.sidecar as unknown as { evidence: { store: { all(t: string): unknown[] } } }
    ).evidence.store.all('default');
    expect(api).toHaveLength(inBackup);
    await second.sidecar.stop();
  });

  it('refuses a backup whose chain was tampered with (exit 1, nothing written), and restores it with --force', async () => {
    const base = tmp('betrace-backup-');
    const env = envFor(base, path.join(base, 'data'));
    const { sidecar } = await run(env);
    sidecar.evidence.store.append('default', [draft(0), draft(1), draft(2)], [], T0);
    expect((await betrace(['backup', 'b.db'], env, base)).code).toBe(0);
    await sidecar.stop();
    const db = new Database(path.join(base, 'b.db'));
    db.prepare(
      "UPDATE evidence SET failed_traces = 0, outcome = 'pass', checked_traces = 99 WHERE tenant = 'default' AND seq = 2"
    ).run();
    db.close();

    const target = path.join(base, 'fresh');
    const refused = await betrace(['restore', 'b.db'], { ...env, DATA_DIR: target }, base);
    expect(refused.code).toBe(1);
    // Its signature no longer matches, and the next record's link to it breaks.
    expect(refused.out).toBe('default: evidence chain has problems: 1 record altered (seq 2); 1 broken link (seq 3)\n');
    expect(refused.err).toBe(
      "betrace restore: refused: 1 tenant' evidence chain has problems (above); nothing was changed. --force restores it anyway (the API and the Evidence page will show the same problems)\n"
    );
    expect(fs.existsSync(target) ? fs.readdirSync(target) : []).toEqual([]);

    const forced = await betrace(['restore', 'b.db', '--force'], { ...env, DATA_DIR: target }, base);
    expect(forced.code).toBe(0);
    expect(forced.out).toContain('(with 1 chain that do not verify, --force)');
    expect(fs.readdirSync(target)).toEqual(['betrace.db']);
  });

  it('restoring a backup older than the anchored chain is reported as truncated', async () => {
    const base = tmp('betrace-backup-');
    const env = envFor(base, path.join(base, 'data'));
    const { sidecar, clock } = await run(env);
    sidecar.evidence.store.append('default', [draft(0), draft(1)], [], T0);
    expect(sidecar.evidence.anchor()).toBe(1);
    expect((await betrace(['backup', 'old.db'], env, base)).code).toBe(0);
    sidecar.evidence.store.append('default', [draft(2), draft(3), draft(4)], [], T0 + 1);
    clock.now += 60_000;
    expect(sidecar.evidence.anchor()).toBe(1); // head 5 anchored after the backup
    await sidecar.stop();

    const refused = await betrace(['restore', 'old.db'], { ...env, DATA_DIR: path.join(base, 'fresh') }, base);
    expect(refused.code).toBe(1);
    expect(refused.out).toBe(
      'default: evidence chain has problems: truncated: anchors saw the chain up to seq 5, the backup ends at seq 2 (an older backup than the chain that was anchored; the records after it are lost)\n'
    );
  });

  it('refuses a folder that has a store, and one a sidecar holds even with --force; --force moves a stopped store aside', async () => {
    const base = tmp('betrace-backup-');
    const dataDir = path.join(base, 'data');
    const env = envFor(base, dataDir);
    const { sidecar } = await run(env);
    sidecar.evidence.store.append('default', [draft(0)], [], T0);
    expect((await betrace(['backup', 'b.db'], env, base)).code).toBe(0);

    const held = await betrace(['restore', 'b.db', '--force'], env, base);
    expect(held.code).toBe(1);
    expect(held.err).toBe(
      `betrace restore: DATA_DIR: ${dataDir} is in use (a sidecar has its store open); stop the sidecar first (--force does not override this)\n`
    );
    await sidecar.stop();

    const full = await betrace(['restore', 'b.db'], env, base);
    expect(full).toMatchObject({
      code: 1,
      out: '',
      err: `betrace restore: DATA_DIR: ${dataDir} already has a store; restore into an empty data folder, or --force to move that store aside and restore over it\n`,
    });

    const forced = await betrace(['restore', 'b.db', '--force'], env, base);
    expect(forced.code).toBe(0);
    expect(forced.err).toMatch(
      /^betrace restore: the store that was there is now data\/betrace\.db\.before-restore-[\dT-]+Z\n$/
    );
    const files = fs.readdirSync(dataDir).filter((f) => f.startsWith('betrace.db'));
    expect(
      files.filter((f) => f.startsWith('betrace.db.before-restore-') && !f.endsWith('-wal') && !f.endsWith('-shm'))
    ).toHaveLength(1);
    expect(files).toContain('betrace.db');
  });

  it('says what is wrong with its input', async () => {
    const base = tmp('betrace-backup-');
    const env = envFor(base, path.join(base, 'data'));
    expect(await betrace(['backup'], env, base)).toMatchObject({
      code: 2,
      err: expect.stringContaining('usage: betrace backup FILE'),
    });
    expect(await betrace(['backup', 'x.db'], env, base)).toMatchObject({
      code: 2,
      err: expect.stringContaining('has no store (betrace.db)'),
    });
    expect(await betrace(['backup', 'x.db'], { DATA_DIR: ':memory:' }, base)).toMatchObject({
      code: 2,
      err: expect.stringContaining('DATA_DIR=:memory: keeps nothing'),
    });
    // With the state in PostgreSQL, the data folder holds no store to copy: PostgreSQL's tools do it.
    const pg = { ...env, DATABASE_URL: 'postgres://u:secret@db.example:5432/betrace' };
    expect(await betrace(['backup', 'x.db'], pg, base)).toEqual({
      code: 2,
      out: '',
      err: 'betrace backup: DATABASE_URL is set: the state is in PostgreSQL at db.example:5432/betrace, not in DATA_DIR; back it up with pg_dump\n',
    });
    expect((await betrace(['restore', 'x.db'], pg, base)).err).toBe(
      'betrace restore: DATABASE_URL is set: the state is in PostgreSQL at db.example:5432/betrace, not in DATA_DIR; restore it with pg_restore (or psql for a plain dump)\n',
    );
    expect(await betrace(['restore', 'missing.db'], env, base)).toMatchObject({
      code: 2,
      err: 'betrace restore: missing.db: no such file\n',
    });
    fs.writeFileSync(path.join(base, 'notes.txt'), 'not a database');
    expect(await betrace(['restore', 'notes.txt'], env, base)).toMatchObject({
      code: 2,
      err: expect.stringContaining('is not a BeTrace backup'),
    });
    expect(await betrace(['restore', '--help'], env, base)).toMatchObject({
      code: 0,
      out: expect.stringContaining('usage: betrace restore FILE [--force]'),
    });
    expect(await betrace(['backup', '--help'], env, base)).toMatchObject({
      code: 0,
      out: expect.stringContaining('usage: betrace backup FILE [--force]'),
    });
  });
});
