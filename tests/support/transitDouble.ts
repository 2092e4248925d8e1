/**
 * A test double of the Vault / OpenBao transit secrets engine, for the endpoints BeTrace's
 * TransitClient uses (packages/sidecar/src/evidence/kms/transit.ts), answering as the docs and the
 * engine's handlers do (OpenBao website/content/api-docs/secret/transit.mdx and
 * builtin/logical/transit/path_{keys,rotate,hmac}.go; the same in hashicorp/vault):
 * - every answer is Vault's envelope `{"request_id","lease_id":"","renewable":false,
 *   "lease_duration":0,"data",…,"warnings","auth":null}`; errors are `{"errors":["…"]}`;
 * - a missing or wrong `X-Vault-Token` → 403 `{"errors":["permission denied"]}`;
 * - a path outside the mount (or a namespace other than the one configured) →
 *   404 `no handler for route "<path>". route entry not found.`;
 * - `GET keys/:name` → 200 with the key's data (`latest_version`, `keys` {version: unix seconds},
 *   `name`, `type` "aes256-gcm96", `min_encryption_version`, …), 404 `{"errors":[]}` when absent;
 * - `POST keys/:name` creates an aes256-gcm96 key at version 1 (an upsert: an existing key is
 *   kept, with the warning `key <name> already existed`). We follow current OpenBao and Vault,
 *   whose create handler returns the formatted key policy: 200 with the same data as a read.
 *   `legacyEmptyResponses` answers 204 with no body instead, as Vault's 1.4 API docs
 *   ("Produces 204 (empty body)") and its handler of that time (`return nil, nil`) did;
 * - `POST keys/:name/rotate` adds a version (200 with the key's data, or 204 when legacy);
 *   400 `key not found` for an unknown key;
 * - `POST hmac/:name(/:algorithm)` with `{input: base64, key_version}` → `{"data":{"hmac":
 *   "vault:v<N>:<base64>"}}`, a real HMAC with an independent random 256-bit secret per key
 *   version (kept here, see `secret()`); key_version 0 or absent means the latest; the documented
 *   errors (400): `encryption key not found`, `missing input for HMAC`,
 *   `unable to decode input as base64: …`, `key version does not exist; latest key version is N`,
 *   `key version does not exist (cannot be negative)`,
 *   `cannot generate HMAC: version is too old (disallowed by policy)` (below min_encryption_version);
 * - injectable faults: `seal()` (503 `Vault is sealed`, as Vault answers every request while
 *   sealed), any status with any errors, latency.
 */
import { createHmac, randomBytes, randomUUID } from 'crypto';
import * as http from 'http';
import { AddressInfo } from 'net';

export interface TransitFault {
  status: number;
  errors: readonly string[];
  /** Only requests whose path (after /v1/) starts with this. */
  path?: string;
}

export interface TransitDoubleOptions {
  /** The token the double accepts; random when not given. */
  token?: string;
  /** Where the engine is mounted; default `transit`. */
  mount?: string;
  /** When set, requests must carry this X-Vault-Namespace (else the mount is not found). */
  namespace?: string;
  /** Create and rotate answer 204 with no body (older Vault) instead of 200 with the key's data. */
  legacyEmptyResponses?: boolean;
  /** Unix seconds for key creation times (tests inject it). */
  now?: () => number;
}

export type TransitEndpoint = 'read' | 'create' | 'rotate' | 'hmac' | 'other';

export interface TransitRequest {
  method: string;
  /** Path with query, as received. */
  url: string;
  endpoint: TransitEndpoint;
  status: number;
  /** Whether X-Vault-Token matched (never the token itself). */
  tokenOk: boolean;
  namespace: string | undefined;
  body: unknown;
}

export interface TransitDoubleHandle {
  /** VAULT_ADDR of the double (no /v1). */
  url: string;
  token: string;
  close(): Promise<void>;
  /** The key's versions, oldest first; empty for an unknown key. */
  keyVersions(name: string): readonly number[];
}

interface Key {
  versions: Map<number, { secret: Buffer; created: number }>;
  latest: number;
  minEncryption: number;
}

const HASHES: Record<string, string> = {
  'sha2-224': 'sha224',
  'sha2-256': 'sha256',
  'sha2-384': 'sha384',
  'sha2-512': 'sha512',
  'sha3-224': 'sha3-224',
  'sha3-256': 'sha3-256',
  'sha3-384': 'sha3-384',
  'sha3-512': 'sha3-512',
};

const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Go's `base64.StdEncoding.DecodeString` is strict (padding required, no other characters): -1
 * when `s` decodes, else about where it fails (the first foreign character, a misplaced '=', or
 * the cut-off last quantum). The message text is Go's; the offset is not pinned by any doc.
 */
function badBase64At(s: string): number {
  if (STRICT_BASE64.test(s)) {
    return -1;
  }
  const foreign = s.search(/[^A-Za-z0-9+/=]/);
  if (foreign >= 0) {
    return foreign;
  }
  const eq = s.indexOf('=');
  return eq >= 0 ? eq : s.length - (s.length % 4);
}

interface Reply {
  status: number;
  body?: unknown;
}

export class TransitDouble {
  readonly token: string;
  private readonly mount: string;
  private readonly keys = new Map<string, Key>();
  private server: http.Server | undefined;
  /** Every request, for assertions. */
  readonly requests: TransitRequest[] = [];
  fault: TransitFault | undefined;
  /** Delay every answer by this many ms (timeouts). */
  latencyMs = 0;

  constructor(private readonly options: TransitDoubleOptions = {}) {
    this.token = options.token ?? `hvs.${randomBytes(18).toString('base64url')}`;
    this.mount = (options.mount ?? 'transit').replace(/^\/+|\/+$/g, '');
  }

  /** How many requests reached an endpoint (all statuses). */
  count(endpoint: TransitEndpoint): number {
    return this.requests.filter((r) => r.endpoint === endpoint).length;
  }

  /** Answer every request with 503 `Vault is sealed` until unsealed. */
  seal(): void {
    this.fault = { status: 503, errors: ['Vault is sealed'] };
  }

  unseal(): void {
    this.fault = undefined;
  }

  keyVersions(name: string): readonly number[] {
    return [...(this.keys.get(name)?.versions.keys() ?? [])].sort((a, b) => a - b);
  }

  /** The HMAC secret of a key version, for tests to compute the expected HMAC independently. */
  secret(name: string, version: number): Buffer {
    const v = this.keys.get(name)?.versions.get(version);
    if (!v) {
      throw new Error(`the double has no key ${name} version ${version}`);
    }
    return Buffer.from(v.secret);
  }

  /** What `POST keys/:name/config` with min_encryption_version does. */
  setMinEncryptionVersion(name: string, version: number): void {
    const key = this.keys.get(name);
    if (!key) {
      throw new Error(`the double has no key ${name}`);
    }
    key.minEncryption = version;
  }

  async start(): Promise<TransitDoubleHandle> {
    if (!this.server) {
      const server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          void this.answer(req, Buffer.concat(chunks)).then((reply) => {
            if (reply.body === undefined) {
              res.writeHead(reply.status).end();
            } else {
              res.writeHead(reply.status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(reply.body));
            }
          });
        });
      });
      this.server = server;
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    }
    const server = this.server;
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      token: this.token,
      close: () => this.close(),
      keyVersions: (name) => this.keyVersions(name),
    };
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  private now(): number {
    return this.options.now ? this.options.now() : Math.floor(Date.now() / 1000);
  }

  private envelope(data: unknown, warnings: readonly string[] | null = null): unknown {
    return { request_id: randomUUID(), lease_id: '', renewable: false, lease_duration: 0, data, wrap_info: null, warnings, auth: null, mount_type: 'transit' };
  }

  private keyData(name: string, key: Key): Record<string, unknown> {
    const keys: Record<string, number> = {};
    for (const [v, { created }] of key.versions) {
      keys[String(v)] = created;
    }
    return {
      allow_plaintext_backup: false,
      auto_rotate_period: 0,
      deletion_allowed: false,
      derived: false,
      exportable: false,
      imported_key: false,
      keys,
      latest_version: key.latest,
      min_available_version: 0,
      min_decryption_version: 1,
      min_encryption_version: key.minEncryption,
      name,
      supports_decryption: true,
      supports_derivation: true,
      supports_encryption: true,
      supports_signing: false,
      type: 'aes256-gcm96',
    };
  }

  private addVersion(key: Key): void {
    key.latest += 1;
    key.versions.set(key.latest, { secret: randomBytes(32), created: this.now() });
  }

  private async answer(req: http.IncomingMessage, raw: Buffer): Promise<Reply> {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const tokenOk = req.headers['x-vault-token'] === this.token;
    const nsHeader = req.headers['x-vault-namespace'];
    const namespace = typeof nsHeader === 'string' ? nsHeader.replace(/^\/+|\/+$/g, '') : undefined;
    let body: unknown;
    try {
      body = raw.length > 0 ? JSON.parse(raw.toString('utf8')) : undefined;
    } catch {
      body = raw.toString('utf8');
    }
    const record: TransitRequest = { method, url, endpoint: 'other', status: 0, tokenOk, namespace, body };
    this.requests.push(record);
    if (this.latencyMs > 0) {
      await new Promise((r) => setTimeout(r, this.latencyMs));
    }
    const reply = this.route(method, url, tokenOk, namespace, body, record);
    record.status = reply.status;
    return reply;
  }

  private route(method: string, rawUrl: string, tokenOk: boolean, namespace: string | undefined, body: unknown, record: TransitRequest): Reply {
    const errors = (status: number, ...messages: string[]): Reply => ({ status, body: { errors: messages } });
    const path = decodeURIComponent(new URL(rawUrl, 'http://vault').pathname).replace(/^\/v1\//, '');
    const fault = this.fault;
    if (fault && (fault.path === undefined || path.startsWith(fault.path))) {
      return errors(fault.status, ...fault.errors);
    }
    if (!tokenOk) {
      return errors(403, 'permission denied');
    }
    const noRoute = errors(404, `no handler for route "${path}". route entry not found.`);
    if ((this.options.namespace ?? '') !== (namespace ?? '') || !path.startsWith(`${this.mount}/`)) {
      return noRoute;
    }
    const rest = path.slice(this.mount.length + 1).split('/');
    const input = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
    if (rest[0] === 'keys' && rest.length === 2 && rest[1] !== '') {
      const name = rest[1];
      const key = this.keys.get(name);
      if (method === 'GET') {
        record.endpoint = 'read';
        return key ? { status: 200, body: this.envelope(this.keyData(name, key)) } : errors(404);
      }
      if (method === 'POST' || method === 'PUT') {
        record.endpoint = 'create';
        let k = key;
        if (!k) {
          k = { versions: new Map(), latest: 0, minEncryption: 0 };
          this.addVersion(k);
          this.keys.set(name, k);
        }
        if (this.options.legacyEmptyResponses) {
          return { status: 204 };
        }
        return { status: 200, body: this.envelope(this.keyData(name, k), key ? [`key ${name} already existed`] : null) };
      }
      return errors(405, 'unsupported operation');
    }
    if (rest[0] === 'keys' && rest.length === 3 && rest[2] === 'rotate') {
      record.endpoint = 'rotate';
      if (method !== 'POST' && method !== 'PUT') {
        return errors(405, 'unsupported operation');
      }
      const key = this.keys.get(rest[1]);
      if (!key) {
        return errors(400, 'key not found');
      }
      this.addVersion(key);
      return this.options.legacyEmptyResponses ? { status: 204 } : { status: 200, body: this.envelope(this.keyData(rest[1], key)) };
    }
    if (rest[0] === 'hmac' && (rest.length === 2 || rest.length === 3)) {
      record.endpoint = 'hmac';
      if (method !== 'POST' && method !== 'PUT') {
        return errors(405, 'unsupported operation');
      }
      return this.hmac(rest[1], rest[2] ?? (typeof input.algorithm === 'string' ? input.algorithm : 'sha2-256'), input);
    }
    return noRoute;
  }

  private hmac(name: string, algorithm: string, input: Record<string, unknown>): Reply {
    const errors = (status: number, message: string): Reply => ({ status, body: { errors: [message] } });
    const key = this.keys.get(name);
    if (!key) {
      return errors(400, 'encryption key not found');
    }
    // key_version is a framework TypeInt: a number or a numeric string.
    const rawVersion = input.key_version;
    let ver = rawVersion === undefined ? 0 : typeof rawVersion === 'number' ? rawVersion : typeof rawVersion === 'string' && /^-?\d+$/.test(rawVersion) ? Number(rawVersion) : NaN;
    if (!Number.isInteger(ver)) {
      return errors(400, `error converting input ${JSON.stringify(rawVersion)} for field "key_version"`);
    }
    if (ver === 0) {
      ver = key.latest;
    } else if (ver !== key.latest && key.minEncryption > 0 && ver < key.minEncryption) {
      return errors(400, 'cannot generate HMAC: version is too old (disallowed by policy)');
    }
    if (ver < 0) {
      return errors(400, 'key version does not exist (cannot be negative)');
    }
    if (ver > key.latest) {
      return errors(400, `key version does not exist; latest key version is ${key.latest}`);
    }
    const hash = HASHES[algorithm];
    if (hash === undefined) {
      return errors(400, `unsupported algorithm "${algorithm}"`);
    }
    if (typeof input.input !== 'string') {
      return errors(400, 'missing input for HMAC');
    }
    const at = badBase64At(input.input);
    if (at >= 0) {
      return errors(400, `unable to decode input as base64: illegal base64 data at input byte ${at}`);
    }
    const entry = key.versions.get(ver);
    if (!entry) {
      return errors(400, 'no HMAC key exists for that key version');
    }
    const mac = createHmac(hash, entry.secret).update(Buffer.from(input.input, 'base64')).digest('base64');
    return { status: 200, body: this.envelope({ hmac: `vault:v${ver}:${mac}` }) };
  }
}
