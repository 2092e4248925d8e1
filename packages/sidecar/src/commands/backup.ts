/**
 * `betrace backup FILE` and `betrace restore FILE` (docs/backup.md).
 *
 * backup: a consistent copy of DATA_DIR's SQLite store through SQLite's online backup API
 * (better-sqlite3's `db.backup`), taken while a sidecar may be running: the copy is one point in
 * time, written beside FILE and renamed into place, so a half-written backup never has its name.
 *
 * restore: puts a backup in place as DATA_DIR's store, only into a folder no sidecar holds and
 * that has no store yet (--force moves an existing store aside; a running sidecar is never
 * overridden). Before anything is replaced, every tenant's evidence chain in the backup is
 * verified with the sidecar's own verification (evidence/chain.ts), with the secrets from where
 * `betrace serve` reads them (the tenants file, EVIDENCE_KEY_DIR or the KMS) and against the
 * anchors in EVIDENCE_ANCHOR_DIR: a backup older than the chain those anchors saw shows as
 * truncated. A chain with problems is refused (exit 1) unless --force.
 */
import * as fs from 'fs';
import * as path from 'path';
import Database from 'better-sqlite3';
import { describeDatabaseUrl } from '../db/postgresCheck';
import { sqliteOf } from '../db/sql';
import { ConfigError, loadConfig, type SidecarConfig } from '../config';
import { AnchorLog } from '../evidence/anchor';
import { ChainVerification, ChainVerifier } from '../evidence/chain';
import { EvidenceSecrets, keyBackendFor, keyCheck } from '../evidence/keys';
import { EvidenceStore } from '../evidence/store';
import { Store } from '../store';
import { loadTenantsFile, TenantsFileError } from '../tenants';
import { displayPath, EXIT_BAD_INPUT, EXIT_FINDINGS, EXIT_OK, type Command, type CommandIO } from './io';

export const backupUsage =
  'betrace backup FILE [--force]   (DATA_DIR: a consistent copy of the store, also while the sidecar runs; --force overwrites FILE)';
export const restoreUsage =
  'betrace restore FILE [--force]   (into DATA_DIR, stopped, without a store; verifies every evidence chain first; --force restores over a store or a chain with problems)';

/** The store's file in a data folder. */
export const STORE_FILE = 'betrace.db';

function parseArgs(args: readonly string[]): { file: string; force: boolean } | undefined {
  const dashdash = args.indexOf('--');
  const options = dashdash < 0 ? args : args.slice(0, dashdash);
  const force = options.includes('--force');
  const rest = [...options.filter((a) => a !== '--force'), ...(dashdash < 0 ? [] : args.slice(dashdash + 1))];
  if (rest.length !== 1 || (dashdash < 0 && rest[0].startsWith('-'))) {
    return undefined;
  }
  return { file: rest[0], force };
}

function configOf(name: string, io: CommandIO): SidecarConfig | undefined {
  try {
    const config = loadConfig(io.env);
    if (config.databaseUrl !== undefined) {
      // The state is not in the data folder: PostgreSQL's own tools copy it consistently.
      io.stderr(
        `betrace ${name}: DATABASE_URL is set: the state is in PostgreSQL at ${describeDatabaseUrl(config.databaseUrl)}, not in DATA_DIR; ${name === 'restore' ? 'restore it with pg_restore (or psql for a plain dump)' : 'back it up with pg_dump'}\n`
      );
      return undefined;
    }
    if (config.dataDir === ':memory:') {
      io.stderr(
        `betrace ${name}: DATA_DIR=:memory: keeps nothing on disk; set DATA_DIR to the sidecar's data folder\n`
      );
      return undefined;
    }
    return config;
  } catch (e) {
    if (e instanceof ConfigError) {
      io.stderr(`betrace ${name}: configuration error: ${e.message}\n`);
      return undefined;
    }
    throw e;
  }
}

/** What a store holds, for the one line each command prints. */
function contents(db: Database.Database): {
  schema: number;
  tenants: string[];
  rules: number;
  signals: number;
  evidence: number;
} {
  const n = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
  const tenants = (
    db
      .prepare(
        'SELECT tenant FROM rules UNION SELECT tenant FROM signals UNION SELECT tenant FROM evidence_heads ORDER BY 1'
      )
      .all() as Array<{ tenant: string }>
  ).map((r) => r.tenant);
  return {
    schema: (db.prepare('SELECT version FROM schema_version').get() as { version: number }).version,
    tenants,
    rules: n('SELECT count(*) AS n FROM rules WHERE deleted = 0'),
    signals: n('SELECT count(*) AS n FROM signals'),
    evidence: n('SELECT count(*) AS n FROM evidence'),
  };
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function describeStore(c: ReturnType<typeof contents>): string {
  return `schema ${c.schema}; ${plural(c.tenants.length, 'tenant')}${c.tenants.length > 0 ? ` (${c.tenants.join(', ')})` : ''}, ${plural(c.rules, 'rule')}, ${plural(c.signals, 'signal')}, ${plural(c.evidence, 'evidence record')}`;
}

/** Whether a file is a BeTrace store: SQLite with BeTrace's schema_version table. */
function isStore(file: string): boolean {
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    return (
      db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").get() !== undefined
    );
  } catch {
    return false;
  } finally {
    db?.close();
  }
}

export const backup: Command = async (args, io) => {
  const parsed = parseArgs(args);
  if (parsed === undefined) {
    io.stderr(`usage: ${backupUsage}\n`);
    return EXIT_BAD_INPUT;
  }
  const config = configOf('backup', io);
  if (config === undefined) {
    return EXIT_BAD_INPUT;
  }
  const source = path.resolve(io.cwd, config.dataDir, STORE_FILE);
  const target = path.resolve(io.cwd, parsed.file);
  if (!fs.existsSync(source)) {
    io.stderr(
      `betrace backup: DATA_DIR: ${path.dirname(source)} has no store (${STORE_FILE}); is DATA_DIR the sidecar's data folder?\n`
    );
    return EXIT_BAD_INPUT;
  }
  if (fs.existsSync(target) && !parsed.force) {
    io.stderr(`betrace backup: ${parsed.file} exists; choose another name, or --force to overwrite it\n`);
    return EXIT_FINDINGS;
  }
  if (path.resolve(target) === source || target.startsWith(path.dirname(source) + path.sep + STORE_FILE)) {
    io.stderr(`betrace backup: ${parsed.file} is the store itself; write the backup elsewhere\n`);
    return EXIT_BAD_INPUT;
  }
  const partial = `${target}.partial-${process.pid}`;
  // The busy timeout lets the backup wait out a write the running sidecar is committing.
  const db = new Database(source, { fileMustExist: true, timeout: 5000 });
  try {
    // The online backup copies page by page; pages a concurrent write changes are copied again,
    // so the result is the store as of one commit.
    await db.backup(partial);
  } catch (e) {
    fs.rmSync(partial, { force: true });
    throw e;
  } finally {
    db.close();
  }
  // One self-contained file: no -wal beside it to lose when the backup is copied on.
  const copy = new Database(partial);
  let summary: string;
  try {
    copy.pragma('journal_mode = DELETE');
    const check = copy.pragma('quick_check', { simple: true }) as string;
    if (check !== 'ok') {
      throw new Error(`the copy fails SQLite's quick_check: ${check}`);
    }
    summary = describeStore(contents(copy));
  } catch (e) {
    copy.close();
    fs.rmSync(partial, { force: true });
    throw e;
  }
  copy.close();
  fs.renameSync(partial, target);
  const bytes = fs.statSync(target).size;
  io.stdout(`wrote ${displayPath(target, io.cwd)}: ${bytes} bytes, ${summary}\n`);
  io.stderr(
    `betrace backup: evidence secrets and anchors are not in the backup (they live outside the data folder: ${config.evidenceKms !== undefined ? 'the KMS' : (config.evidenceKeyDir ?? 'EVIDENCE_KEY_DIR')}, ${config.evidenceAnchorDir ?? 'EVIDENCE_ANCHOR_DIR'}); keep the keys backed up apart from the data\n`
  );
  return EXIT_OK;
};

/**
 * Loads every stored key's secret for verification, from the tenants file and the key backend,
 * without writing anything (no key is made or seeded). A secret whose check value does not match
 * the stored one is left out: its records verify as unknown_key.
 */
async function loadSecrets(
  evidence: EvidenceStore,
  tenants: readonly string[],
  fileKeys: ReadonlyMap<string, ReadonlyArray<{ id: string; secret: string }>>
): Promise<void> {
  for (const tenant of tenants) {
    const stored = evidence.keys(tenant);
    const given = new Map((fileKeys.get(tenant) ?? []).map((k) => [k.id, k.secret]));
    const wanted = stored.filter((k) => !given.has(k.id)).map((k) => k.id);
    const found =
      wanted.length === 0 ? new Map<string, string>() : await evidence.secrets.backend.secrets(tenant, wanted);
    for (const k of stored) {
      const secret = given.get(k.id) ?? found.get(k.id);
      if (secret !== undefined && (k.check === undefined || k.check === keyCheck(secret))) {
        evidence.secrets.put(tenant, k.id, secret);
      }
    }
  }
}

/** A chain's problems in words; empty when it verifies. */
export function chainProblems(v: ChainVerification): string[] {
  const seqs = (list: readonly number[]) => list.slice(0, 10).join(', ') + (list.length > 10 ? ', …' : '');
  const a = v.anchors;
  const found: Array<[boolean, () => string]> = [
    [v.altered.length > 0, () => `${plural(v.altered.length, 'record')} altered (seq ${seqs(v.altered)})`],
    [v.brokenLinks.length > 0, () => `${plural(v.brokenLinks.length, 'broken link')} (seq ${seqs(v.brokenLinks)})`],
    [v.missing.length > 0, () => `${plural(v.missing.length, 'record')} missing (seq ${seqs(v.missing)})`],
    [v.reordered.length > 0, () => `${plural(v.reordered.length, 'record')} out of order (seq ${seqs(v.reordered)})`],
    [v.duplicates.length > 0, () => `${plural(v.duplicates.length, 'duplicate seq')} (${seqs(v.duplicates)})`],
    [
      v.unknownKey.length > 0,
      () =>
        `${plural(v.unknownKey.length, 'record')} signed by a key whose secret is not here (seq ${seqs(v.unknownKey)}): is EVIDENCE_KEY_DIR (or the tenants file, or the KMS) the one the sidecar uses?`,
    ],
    [v.headMismatch, () => 'the stored head does not match the record at its seq'],
    [
      a.truncated.length > 0,
      () =>
        `truncated: anchors saw the chain up to seq ${Math.max(...a.truncated)}, the backup ends at seq ${v.head} (an older backup than the chain that was anchored; the records after it are lost)`,
    ],
    [
      a.mismatched.length > 0,
      () =>
        `${plural(a.mismatched.length, 'anchor')} no longer match the chain (seq ${seqs(a.mismatched)}): rewritten or replaced`,
    ],
    [a.altered.length > 0, () => `${plural(a.altered.length, 'anchor')} altered (seq ${seqs(a.altered)})`],
    [
      a.unknownKey.length > 0,
      () => `${plural(a.unknownKey.length, 'anchor')} signed by a key whose secret is not here`,
    ],
    [a.outOfOrder.length > 0, () => `${plural(a.outOfOrder.length, 'anchor')} out of order`],
    [a.unreadable > 0, () => plural(a.unreadable, 'unreadable anchor line')],
  ];
  return found.filter(([present]) => present).map(([, say]) => say());
}

/** Whether a sidecar (any SQLite connection) has the store open: an exclusive lock cannot be had. */
function heldByOther(file: string): boolean {
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { fileMustExist: true, timeout: 0 });
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    db.exec('COMMIT');
    return false;
  } catch (e) {
    if ((e as { code?: string }).code === 'SQLITE_BUSY' || (e as { code?: string }).code === 'SQLITE_LOCKED') {
      return true;
    }
    throw e;
  } finally {
    db?.close();
  }
}

export const restore: Command = async (args, io) => {
  const parsed = parseArgs(args);
  if (parsed === undefined) {
    io.stderr(`usage: ${restoreUsage}\n`);
    return EXIT_BAD_INPUT;
  }
  const config = configOf('restore', io);
  if (config === undefined) {
    return EXIT_BAD_INPUT;
  }
  const source = path.resolve(io.cwd, parsed.file);
  if (!fs.existsSync(source)) {
    io.stderr(`betrace restore: ${parsed.file}: no such file\n`);
    return EXIT_BAD_INPUT;
  }
  if (!isStore(source)) {
    io.stderr(
      `betrace restore: ${parsed.file} is not a BeTrace backup (not an SQLite database with BeTrace's schema)\n`
    );
    return EXIT_BAD_INPUT;
  }
  const dataDir = path.resolve(io.cwd, config.dataDir);
  const target = path.join(dataDir, STORE_FILE);
  const existing = fs.existsSync(target);
  if (existing && heldByOther(target)) {
    io.stderr(
      `betrace restore: DATA_DIR: ${dataDir} is in use (a sidecar has its store open); stop the sidecar first (--force does not override this)\n`
    );
    return EXIT_FINDINGS;
  }
  if (existing && !parsed.force) {
    io.stderr(
      `betrace restore: DATA_DIR: ${dataDir} already has a store; restore into an empty data folder, or --force to move that store aside and restore over it\n`
    );
    return EXIT_FINDINGS;
  }
  let fileKeys = new Map<string, ReadonlyArray<{ id: string; secret: string }>>();
  if (config.tenantsFile !== undefined) {
    try {
      fileKeys = new Map(loadTenantsFile(config.tenantsFile, io.env).map((t) => [t.id, t.evidenceKeys]));
    } catch (e) {
      if (e instanceof TenantsFileError) {
        io.stderr(`betrace restore: configuration error: ${e.message}\n`);
        return EXIT_BAD_INPUT;
      }
      throw e;
    }
  }
  // Verified on a copy in the data folder (migrations may bring an older backup up to date; the
  // backup itself is never changed), renamed into place once it passes.
  fs.mkdirSync(dataDir, { recursive: true });
  const staged = path.join(dataDir, `${STORE_FILE}.restoring-${process.pid}`);
  const removeStaged = () => {
    for (const suffix of ['', '-wal', '-shm']) fs.rmSync(staged + suffix, { force: true });
  };
  fs.copyFileSync(source, staged);
  let problems = 0;
  let summary: string;
  try {
    const store = new Store(staged);
    try {
      const evidence = new EvidenceStore(store.db, new EvidenceSecrets(keyBackendFor(config)));
      const tenants = evidence.chainTenants();
      await loadSecrets(evidence, tenants, fileKeys);
      const verifier = new ChainVerifier(
        evidence,
        undefined,
        config.evidenceAnchorDir === undefined ? undefined : new AnchorLog(config.evidenceAnchorDir)
      );
      for (const tenant of tenants) {
        const v = verifier.full(tenant, Date.now()).summary;
        const found = chainProblems(v);
        if (found.length === 0) {
          io.stdout(
            `${tenant}: evidence chain verified: ${plural(v.records, 'record')}, head ${v.head}, ${plural(v.anchors.anchors, 'anchor')} checked\n`
          );
        } else {
          problems++;
          io.stdout(`${tenant}: evidence chain has problems: ${found.join('; ')}\n`);
        }
      }
      const stagedDb = sqliteOf(store.db);
      if (stagedDb === undefined) {
        throw new Error('a restore stages a SQLite file');
      }
      summary = describeStore(contents(stagedDb));
      stagedDb.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      store.close();
    }
  } catch (e) {
    removeStaged();
    throw e;
  }
  if (problems > 0 && !parsed.force) {
    removeStaged();
    io.stderr(
      `betrace restore: refused: ${plural(problems, 'tenant')}' evidence chain${problems === 1 ? ' has' : 's have'} problems (above); nothing was changed. --force restores it anyway (the API and the Evidence page will show the same problems)\n`
    );
    return EXIT_FINDINGS;
  }
  if (existing) {
    // Moved aside, never deleted: a --force over the wrong folder can be undone.
    const aside = `${target}.before-restore-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    fs.renameSync(target, aside);
    for (const suffix of ['-wal', '-shm']) {
      if (fs.existsSync(target + suffix)) fs.renameSync(target + suffix, aside + suffix);
    }
    io.stderr(`betrace restore: the store that was there is now ${displayPath(aside, io.cwd)}\n`);
  }
  for (const suffix of ['-wal', '-shm']) fs.rmSync(staged + suffix, { force: true });
  fs.renameSync(staged, target);
  io.stdout(
    `restored ${displayPath(source, io.cwd)} into ${displayPath(target, io.cwd)}: ${summary}${problems > 0 ? ` (with ${plural(problems, 'chain')} that do not verify, --force)` : ''}\n`
  );
  return EXIT_OK;
};
