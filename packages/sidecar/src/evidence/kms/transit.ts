/**
 * A client of the Vault / OpenBao transit secrets engine's HTTP API, for the few endpoints that
 * evidence signing needs: read, create and rotate a named key, and HMAC-SHA256 with a given key
 * version. The key material never leaves the KMS: BeTrace asks it for an HMAC of a label and uses
 * that as the evidence signing secret (`deriveEvidenceSecret`), holding it in memory only.
 *
 * Request and response shapes follow the transit API documentation (OpenBao
 * website/content/api-docs/secret/transit.mdx; Vault api-docs/secret/transit):
 * - `GET  /v1/{mount}/keys/{name}` → `{"data":{"latest_version":N,"keys":{"1":<unix s>},…}}`,
 *   404 `{"errors":[]}` for an unknown key;
 * - `POST /v1/{mount}/keys/{name}` creates (an upsert: an existing key is kept, with a warning);
 *   older Vault answers 204 with no body (its 1.4 API docs: "Produces 204 (empty body)"), current
 *   Vault and OpenBao 200 with the key's data (the handler returns the formatted key policy);
 * - `POST /v1/{mount}/keys/{name}/rotate`, 204 or 200 with the key's data, the same way;
 * - `POST /v1/{mount}/hmac/{name}/sha2-256` with `{"input":<base64>,"key_version":N}` →
 *   `{"data":{"hmac":"vault:v<N>:<base64>"}}`.
 * Errors come as `{"errors":["…"]}` with 400, 403, 404, 500 or 503 (sealed).
 *
 * The token goes in `X-Vault-Token` only: it is never logged and never put in an error message
 * (a message that would quote it, say from a proxy echoing headers, has it masked).
 */
import { describeFetchError, displayUrl } from '../../netError';

export interface TransitOptions {
  /** VAULT_ADDR, e.g. http://127.0.0.1:8200 (without /v1). */
  url: string;
  /** Sent as X-Vault-Token. */
  token: string;
  /** Where the transit engine is mounted; default `transit`. */
  mount?: string;
  /** Sent as X-Vault-Namespace when set (Vault Enterprise and OpenBao namespaces). */
  namespace?: string;
  /** Per request, default 10 000. */
  timeoutMs?: number;
}

/** The KMS answered with an error, answered nonsense, or could not be reached. */
export class TransitError extends Error {
  constructor(
    message: string,
    readonly url: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'TransitError';
  }
}

/** What BeTrace reads of a transit key. */
export interface TransitKeyInfo {
  name: string;
  type: string;
  latestVersion: number;
  /** 0 when unset (any version may be used). */
  minEncryptionVersion: number;
  /** Version → creation time in unix seconds, for the versions the KMS lists. */
  versions: ReadonlyMap<number, number>;
}

/** Transit key names BeTrace accepts: what fits a URL path segment and a key id without escaping surprises. */
export const TRANSIT_KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const MOUNT = /^[A-Za-z0-9][A-Za-z0-9_.-]*(\/[A-Za-z0-9][A-Za-z0-9_.-]*)*$/;
/** The evidence key-id pattern (store.ts, the evidence API). */
const KEY_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const HMAC_SHA256_BYTES = 32;

export const DEFAULT_TRANSIT_TIMEOUT_MS = 10_000;

function checkName(name: string): void {
  if (typeof name !== 'string' || !TRANSIT_KEY_NAME.test(name)) {
    throw new TypeError(`transit key name ${JSON.stringify(name)} is not allowed: letters, digits, '_', '.' and '-', starting with a letter or digit`);
  }
}

function checkVersion(version: number): void {
  if (!Number.isSafeInteger(version) || version < 1) {
    throw new TypeError(`transit key version ${String(version)} is not allowed: a whole number from 1`);
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function positiveInt(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 1 ? v : undefined;
}

interface Answer {
  status: number;
  /** The parsed JSON body; undefined for an empty body (204). */
  body: unknown;
}

export class TransitClient {
  private readonly base: string;
  private readonly mountPath: string;
  private readonly timeoutMs: number;

  constructor(private readonly options: TransitOptions) {
    let u: URL;
    try {
      u = new URL(options.url);
    } catch {
      throw new TypeError(`Vault address ${JSON.stringify(displayUrl(options.url))} is not a URL (expected e.g. http://127.0.0.1:8200)`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      throw new TypeError(`Vault address ${displayUrl(options.url)} must be http or https`);
    }
    if (u.username !== '' || u.password !== '' || u.search !== '' || u.hash !== '') {
      throw new TypeError(`Vault address ${displayUrl(options.url)} must have no credentials, query or fragment (the token is given separately)`);
    }
    const path = u.pathname.replace(/\/+$/, '');
    if (/\/v1$/.test(path)) {
      throw new TypeError(`Vault address ${displayUrl(options.url)} must not end in /v1 (give VAULT_ADDR, e.g. http://127.0.0.1:8200)`);
    }
    this.base = `${u.protocol}//${u.host}${path}`;
    if (typeof options.token !== 'string' || options.token === '') {
      throw new TypeError('Vault token is empty');
    }
    const mount = (options.mount ?? 'transit').replace(/^\/+|\/+$/g, '');
    if (!MOUNT.test(mount)) {
      throw new TypeError(`transit mount ${JSON.stringify(options.mount)} is not allowed: path segments of letters, digits, '_', '.' and '-'`);
    }
    this.mountPath = mount.split('/').map(encodeURIComponent).join('/');
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TRANSIT_TIMEOUT_MS;
    if (!Number.isFinite(this.timeoutMs) || this.timeoutMs <= 0) {
      throw new TypeError(`transit timeout ${String(options.timeoutMs)} ms is not allowed: a positive number`);
    }
  }

  /** The key's state, or undefined when the KMS has no key of that name. */
  async readKey(name: string): Promise<TransitKeyInfo | undefined> {
    checkName(name);
    const url = this.url(`keys/${encodeURIComponent(name)}`);
    const answer = await this.request('GET', url, undefined, true);
    if (answer.status === 404) {
      return undefined;
    }
    return this.keyInfo(url, answer.body, name);
  }

  /** data.latest_version of the key; undefined on 404. */
  async latestVersion(name: string): Promise<number | undefined> {
    return (await this.readKey(name))?.latestVersion;
  }

  /**
   * Creates the key if it does not exist, then returns its latest_version. An existing key is
   * only read, so a token allowed to read (not create) keys an operator made works too.
   */
  async ensureKey(name: string): Promise<number> {
    const existing = await this.latestVersion(name);
    if (existing !== undefined) {
      return existing;
    }
    const url = this.url(`keys/${encodeURIComponent(name)}`);
    const answer = await this.request('POST', url, {});
    return this.versionAfterWrite(url, answer, name);
  }

  /** Rotates the key (a new version becomes the latest) and returns the new latest_version. */
  async rotate(name: string): Promise<number> {
    checkName(name);
    const url = this.url(`keys/${encodeURIComponent(name)}/rotate`);
    const answer = await this.request('POST', url, undefined);
    return this.versionAfterWrite(url, answer, name);
  }

  /** HMAC-SHA256 of `input` computed by the KMS with version `version` of the key; the raw 32 bytes. */
  async hmac(name: string, version: number, input: Buffer): Promise<Buffer> {
    checkName(name);
    checkVersion(version);
    if (!Buffer.isBuffer(input)) {
      throw new TypeError('transit HMAC input must be a Buffer');
    }
    const url = this.url(`hmac/${encodeURIComponent(name)}/sha2-256`);
    const answer = await this.request('POST', url, { input: input.toString('base64'), key_version: version });
    const data = isRecord(answer.body) ? answer.body.data : undefined;
    const hmac = isRecord(data) ? data.hmac : undefined;
    if (typeof hmac !== 'string') {
      throw this.unexpected(url, answer.status, 'no data.hmac in the answer');
    }
    const m = /^vault:v(\d+):([A-Za-z0-9+/]+={0,2})$/.exec(hmac);
    if (!m) {
      throw this.unexpected(url, answer.status, `data.hmac is not of the form vault:v<version>:<base64>`);
    }
    if (Number(m[1]) !== version) {
      throw this.unexpected(url, answer.status, `asked for key version ${version}, the HMAC is of version ${m[1]}`);
    }
    const bytes = Buffer.from(m[2], 'base64');
    if (bytes.length !== HMAC_SHA256_BYTES) {
      throw this.unexpected(url, answer.status, `an HMAC-SHA256 has ${HMAC_SHA256_BYTES} bytes, this one ${bytes.length}`);
    }
    return bytes;
  }

  private url(path: string): string {
    return `${this.base}/v1/${this.mountPath}/${path}`;
  }

  private mask(text: string): string {
    return text.split(this.options.token).join('[token]');
  }

  private unexpected(url: string, status: number, what: string): TransitError {
    return new TransitError(`Vault transit at ${displayUrl(url)}: unexpected answer (${status}): ${what}`, url, status);
  }

  private keyInfo(url: string, body: unknown, name: string): TransitKeyInfo {
    const data = isRecord(body) ? body.data : undefined;
    if (!isRecord(data)) {
      throw this.unexpected(url, 200, 'no data object in the answer');
    }
    const latestVersion = positiveInt(data.latest_version);
    if (latestVersion === undefined) {
      throw this.unexpected(url, 200, `data.latest_version is ${JSON.stringify(data.latest_version) ?? 'missing'}, not a version number`);
    }
    const versions = new Map<number, number>();
    if (isRecord(data.keys)) {
      for (const [v, created] of Object.entries(data.keys)) {
        // Symmetric keys list creation times in unix seconds; asymmetric ones an object per version.
        const n = positiveInt(Number(v));
        if (n !== undefined) {
          versions.set(n, typeof created === 'number' ? created : isRecord(created) && typeof created.creation_time === 'string' ? Math.floor(Date.parse(created.creation_time) / 1000) : NaN);
        }
      }
    }
    const min = data.min_encryption_version;
    return {
      name: typeof data.name === 'string' ? data.name : name,
      type: typeof data.type === 'string' ? data.type : 'unknown',
      latestVersion,
      minEncryptionVersion: typeof min === 'number' && Number.isSafeInteger(min) && min > 0 ? min : 0,
      versions,
    };
  }

  /** After create or rotate: the key's data in the answer (newer Vault, OpenBao), or a read (204 from older Vault). */
  private async versionAfterWrite(url: string, answer: Answer, name: string): Promise<number> {
    if (answer.body !== undefined) {
      return this.keyInfo(url, answer.body, name).latestVersion;
    }
    const version = await this.latestVersion(name);
    if (version === undefined) {
      throw new TransitError(`Vault transit at ${displayUrl(url)}: the key ${name} is missing right after it was written`, url, 404);
    }
    return version;
  }

  private async request(method: 'GET' | 'POST', url: string, body: unknown, accept404 = false): Promise<Answer> {
    const headers: Record<string, string> = { 'X-Vault-Token': this.options.token, accept: 'application/json' };
    if (this.options.namespace) {
      headers['X-Vault-Namespace'] = this.options.namespace;
    }
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
    }
    let status: number;
    let text: string;
    try {
      const res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(this.timeoutMs) });
      status = res.status;
      text = await res.text();
    } catch (e) {
      const cause = describeFetchError(e);
      const shown = cause === 'timed out' ? `timed out after ${this.timeoutMs} ms` : cause;
      throw new TransitError(`Vault transit at ${displayUrl(url)}: ${this.mask(shown)}`, url);
    }
    let parsed: unknown;
    if (text.trim() !== '') {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
    }
    const errors = isRecord(parsed) && Array.isArray(parsed.errors) ? parsed.errors.filter((x): x is string => typeof x === 'string') : undefined;
    // An unknown key is 404 with an empty errors list; a 404 with a message is something else
    // (a wrong mount or namespace: `no handler for route …`) and must not read as "no key".
    if ((status >= 200 && status < 300) || (accept404 && status === 404 && errors !== undefined && errors.length === 0)) {
      if (text.trim() !== '' && parsed === undefined) {
        throw this.unexpected(url, status, 'the body is not JSON');
      }
      return { status, body: parsed };
    }
    // Vault wraps some messages as "1 error occurred:\n\t* permission denied\n\n".
    const flat = (s: string): string => s.replace(/^\d+ errors? occurred:\s*/, '').replace(/\s*\n\t\* /g, '; ').replace(/^\* /, '').trim();
    const reason = errors !== undefined ? (errors.length > 0 ? errors.map(flat).join('; ') : 'no error message') : text.trim().slice(0, 200) || 'empty body';
    throw new TransitError(`Vault transit at ${displayUrl(url)}: ${status} ${this.mask(reason)}`, url, status);
  }
}

/** The label whose HMAC is the evidence signing secret of (tenant, keyId). */
export function evidenceKeyLabel(tenant: string, keyId: string): string {
  if (typeof tenant !== 'string' || tenant === '' || tenant.includes('/')) {
    throw new TypeError(`tenant ${JSON.stringify(tenant)} cannot name an evidence key: it must be non-empty and have no '/'`);
  }
  if (typeof keyId !== 'string' || !KEY_ID.test(keyId)) {
    throw new TypeError(`evidence key id ${JSON.stringify(keyId)} is not allowed (1–64 of letters, digits, '.', '_', '-')`);
  }
  return `betrace-evidence-key/${tenant}/${keyId}`;
}

/**
 * The evidence signing secret of (tenant, keyId): hex of the HMAC-SHA256 the KMS computes with
 * version `version` of transit key `name` over `betrace-evidence-key/<tenant>/<keyId>`. The same
 * inputs give the same secret for as long as the KMS keeps that key version.
 */
export async function deriveEvidenceSecret(client: TransitClient, name: string, version: number, tenant: string, keyId: string): Promise<string> {
  const label = evidenceKeyLabel(tenant, keyId);
  return (await client.hmac(name, version, Buffer.from(label, 'utf8'))).toString('hex');
}

/** The evidence key id of a transit key version: `transit.<name>.v<version>`. */
export function transitKeyId(name: string, version: number): string {
  checkName(name);
  checkVersion(version);
  const id = `transit.${name}.v${version}`;
  if (!KEY_ID.test(id)) {
    throw new TypeError(`key id ${id} is longer than 64 characters: use a shorter transit key name`);
  }
  return id;
}

/** The transit key and version of an evidence key id made by transitKeyId; undefined for any other id. */
export function parseTransitKeyId(id: string): { name: string; version: number } | undefined {
  if (typeof id !== 'string' || !KEY_ID.test(id)) {
    return undefined;
  }
  // The name may contain dots: the version is the last `.v<digits>`.
  const m = /^transit\.(.+)\.v([1-9]\d*)$/.exec(id);
  if (!m || !TRANSIT_KEY_NAME.test(m[1])) {
    return undefined;
  }
  const version = Number(m[2]);
  return Number.isSafeInteger(version) ? { name: m[1], version } : undefined;
}

