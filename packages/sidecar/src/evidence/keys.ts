/**
 * Where evidence signing secrets live: never in the data folder. Whoever can write the data folder
 * could otherwise re-sign a modified chain, so the SQLite database keeps key ids and their state
 * only, and the secrets come from
 *   - the tenants file (`secret: env:VAR` or `file:/path`, resolved when the file is read),
 *   - a key folder outside the data folder (EVIDENCE_KEY_DIR: generated and API-rotated keys, one
 *     JSON file per tenant, mode 0600, written atomically), or
 *   - a KMS (EVIDENCE_KMS=transit: the Vault/OpenBao transit engine). A secret is then derived by
 *     the KMS, as its HMAC over `betrace-evidence-key/<tenant>/<key id>`, with the transit key's
 *     version named in the key id: the transit key never leaves the KMS and nothing is stored.
 * Secrets are held in memory (`EvidenceSecrets`) for signing and verification.
 */
import { createHmac, randomBytes } from 'crypto';
import fs from 'fs';
import path from 'path';
import type { SidecarConfig } from '../config';
import { deriveEvidenceSecret, parseTransitKeyId, TransitClient, transitKeyId } from './kms/transit';

/** How a key was made: given in the tenants file, generated on first use, rotated through the API, or a KMS key version. */
export type KeySource = 'tenants-file' | 'generated' | 'rotated' | 'transit';

export interface MadeKey {
  id: string;
  secret: string;
}

/** Where new keys are made and kept (the tenants file's keys are not made: they are given). */
export interface KeyBackend {
  readonly kind: 'dir' | 'memory' | 'transit';
  /** For logs: the folder or the KMS key. */
  readonly where: string;
  /** The secrets of these key ids that the backend can give (a folder: those in the tenant's file; a KMS: derived). */
  secrets(tenant: string, ids: readonly string[]): Promise<Map<string, string>>;
  secretsSync?(tenant: string, ids: readonly string[]): Map<string, string>;
  /** A new key: a given secret (a folder or memory only) or a generated one. */
  make(tenant: string, now: number, given: { id?: string; secret?: string }, source: KeySource): Promise<MadeKey>;
  makeSync?(tenant: string, now: number, given: { id?: string; secret?: string }, source: KeySource): MadeKey;
  /** Keeps a secret that used to sit in the data folder (upgrade from 0.1). */
  adopt?(tenant: string, key: MadeKey): void;
}

export class KeyError extends Error {
  constructor(
    readonly code: 'invalid' | 'unavailable',
    message: string,
  ) {
    super(message);
    this.name = 'KeyError';
  }
}

function newId(now: number): string {
  return `k-${new Date(now).toISOString().slice(0, 10).replace(/-/g, '')}-${randomBytes(3).toString('hex')}`;
}

/** A backend that keeps its secrets itself (in memory or in files), so it can make and read keys synchronously. */
abstract class LocalKeys implements KeyBackend {
  abstract readonly kind: 'dir' | 'memory';
  abstract readonly where: string;
  /** Every secret kept for the tenant. */
  protected abstract read(tenant: string): Map<string, string>;
  abstract adopt(tenant: string, key: MadeKey): void;

  secrets(tenant: string, ids: readonly string[]): Promise<Map<string, string>> {
    return Promise.resolve(this.secretsSync(tenant, ids));
  }

  secretsSync(tenant: string, ids: readonly string[]): Map<string, string> {
    const all = this.read(tenant);
    return new Map(ids.filter((id) => all.has(id)).map((id) => [id, all.get(id)!]));
  }

  make(tenant: string, now: number, given: { id?: string; secret?: string }): Promise<MadeKey> {
    return Promise.resolve(this.makeSync(tenant, now, given));
  }

  makeSync(tenant: string, now: number, given: { id?: string; secret?: string }): MadeKey {
    const key = { id: given.id ?? newId(now), secret: given.secret ?? randomBytes(32).toString('hex') };
    this.adopt(tenant, key);
    return key;
  }
}

/** Keys held only in this process (a `:memory:` data folder: the evidence goes with it). */
export class MemoryKeys extends LocalKeys {
  readonly kind = 'memory';
  readonly where = 'memory';
  private readonly kept = new Map<string, Map<string, string>>();

  protected read(tenant: string): Map<string, string> {
    return this.kept.get(tenant) ?? new Map<string, string>();
  }

  adopt(tenant: string, key: MadeKey): void {
    let all = this.kept.get(tenant);
    if (all === undefined) {
      all = new Map();
      this.kept.set(tenant, all);
    }
    all.set(key.id, key.secret);
  }
}

/**
 * A folder of key files outside the data folder: `<dir>/<tenant>.json` = `{"keys": {"<id>": "<secret>"}}`,
 * mode 0600 in a 0700 folder. A write goes to a temporary file that is fsynced and renamed over
 * the old one, so a crash leaves the old file or the new one, never half of one.
 */
export class KeyDir extends LocalKeys {
  readonly kind = 'dir';

  constructor(readonly where: string) {
    super();
  }

  private file(tenant: string): string {
    return path.join(this.where, `${tenant}.json`);
  }

  /** The tenant's key file (empty when there is none); a file that cannot be read or parsed is an error, not "no keys". */
  protected read(tenant: string): Map<string, string> {
    let text: string;
    try {
      text = fs.readFileSync(this.file(tenant), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        return new Map();
      }
      throw new KeyError('unavailable', `EVIDENCE_KEY_DIR: cannot read ${this.file(tenant)}: ${(e as Error).message}`);
    }
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      throw new KeyError('invalid', `EVIDENCE_KEY_DIR: ${this.file(tenant)} is not JSON: ${(e as Error).message}`);
    }
    const keys = (doc as { keys?: unknown }).keys;
    if (keys === null || typeof keys !== 'object' || Array.isArray(keys) || Object.values(keys).some((v) => typeof v !== 'string')) {
      throw new KeyError('invalid', `EVIDENCE_KEY_DIR: ${this.file(tenant)} must be {"keys": {"<key id>": "<secret>", …}}`);
    }
    return new Map(Object.entries(keys as Record<string, string>));
  }

  adopt(tenant: string, key: MadeKey): void {
    const all = this.read(tenant);
    if (all.get(key.id) === key.secret) {
      return;
    }
    all.set(key.id, key.secret);
    fs.mkdirSync(this.where, { recursive: true, mode: 0o700 });
    const file = this.file(tenant);
    const tmp = `${file}.${process.pid}.tmp`;
    const fd = fs.openSync(tmp, 'w', 0o600);
    try {
      fs.writeSync(fd, `${JSON.stringify({ keys: Object.fromEntries(all) }, null, 2)}\n`);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
    const dir = fs.openSync(this.where, 'r');
    try {
      fs.fsyncSync(dir);
    } finally {
      fs.closeSync(dir);
    }
  }
}

/**
 * The Vault/OpenBao transit engine: one transit key per tenant (`<prefix>-<tenant>`), a BeTrace key
 * per transit key version (`transit.<name>.v<N>`), its secret derived by the KMS on demand.
 */
export class TransitKeys implements KeyBackend {
  readonly kind = 'transit';

  constructor(
    private readonly client: TransitClient,
    private readonly prefix: string,
    readonly where: string,
  ) {}

  keyName(tenant: string): string {
    return `${this.prefix}-${tenant}`;
  }

  async secrets(tenant: string, ids: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const id of ids) {
      const parsed = parseTransitKeyId(id);
      if (parsed !== undefined && parsed.name === this.keyName(tenant)) {
        out.set(id, await deriveEvidenceSecret(this.client, parsed.name, parsed.version, tenant, id));
      }
    }
    return out;
  }

  /** The first key is the transit key's current version (created when missing); a rotation makes the next version. */
  async make(tenant: string, _now: number, given: { id?: string; secret?: string }, source: KeySource): Promise<MadeKey> {
    if (given.id !== undefined || given.secret !== undefined) {
      throw new KeyError('invalid', 'with EVIDENCE_KMS=transit the KMS makes the keys: rotate without an id or a secret');
    }
    const name = this.keyName(tenant);
    const version = source === 'rotated' ? await this.client.rotate(name) : await this.client.ensureKey(name);
    const id = transitKeyId(name, version);
    return { id, secret: await deriveEvidenceSecret(this.client, name, version, tenant, id) };
  }
}

/** The backend a configuration names: the KMS, else the key folder, else memory (DATA_DIR=:memory:). */
export function keyBackendFor(config: Pick<SidecarConfig, 'evidenceKms' | 'evidenceKeyDir'>): KeyBackend {
  const kms = config.evidenceKms;
  if (kms !== undefined) {
    return new TransitKeys(new TransitClient({ url: kms.url, token: kms.token, mount: kms.mount, namespace: kms.namespace }), kms.keyPrefix, `${kms.url} (${kms.mount})`);
  }
  return config.evidenceKeyDir !== undefined ? new KeyDir(config.evidenceKeyDir) : new MemoryKeys();
}

/** Every tenant's secrets, in memory: what signing and verification read. */
export class EvidenceSecrets {
  private readonly byTenant = new Map<string, Map<string, string>>();

  constructor(readonly backend: KeyBackend = new MemoryKeys()) {}

  get(tenant: string, id: string): string | undefined {
    return this.byTenant.get(tenant)?.get(id);
  }

  put(tenant: string, id: string, secret: string): void {
    let ring = this.byTenant.get(tenant);
    if (ring === undefined) {
      ring = new Map();
      this.byTenant.set(tenant, ring);
    }
    ring.set(id, secret);
  }

  ring(tenant: string): ReadonlyMap<string, string> {
    return this.byTenant.get(tenant) ?? new Map<string, string>();
  }
}

/** A key check value: 16 hex of HMAC-SHA256(secret, a fixed label). It tells two secrets apart and gives nothing to sign with. */
export function keyCheck(secret: string): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update('betrace-evidence-key-check').digest('hex').slice(0, 16);
}

/** Whether `inner` is `outer` or inside it (after resolving both). */
export function isInside(inner: string, outer: string): boolean {
  const rel = path.relative(path.resolve(outer), path.resolve(inner));
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}
