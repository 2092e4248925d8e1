/**
 * Tenants: the unit of isolation. Rules, signals, evidence, watermarks and metrics are keyed by
 * tenant id everywhere (the store already takes a tenant on every call).
 *
 * With TENANTS_FILE unset, one tenant `default` is built from the plain variables
 * (`defaultTenant`); with it set, the YAML file lists the tenants (`loadTenantsFile`, filled in
 * by the tenancy work). This file is the contract the receiver, evidence, redaction and API build
 * on: keep its shape stable.
 */
import { createHash, timingSafeEqual } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { parseDocument } from 'yaml';
import type { SidecarConfig } from './config';

/** A secret stored only as its SHA-256 (hex): API tokens and ingest keys. */
export interface HashedSecret {
  /** A name for logs and the audit log (never the secret). */
  name: string;
  sha256: string;
  /**
   * API tokens only: the token of a proxy that names its signed-in user in `X-Grafana-User`
   * (Grafana's plugin proxy). Only such a token is believed about who acts; any other is
   * recorded as `token:<name>` whatever header it sends.
   */
  forwardsUser?: boolean;
}

export interface EvidenceKey {
  /** `key_id` on every record it signs. */
  id: string;
  /** The HMAC-SHA256 key. */
  secret: string;
  /** Retired keys only verify older records; exactly one key is current (not retired). */
  retired?: boolean;
}

/** redact: `[REDACTED:<detector>]`; mask: keep the shape, hide the content; hash: HMAC-SHA256 with the tenant's redaction key; drop: remove the attribute. */
export type RedactionAction = 'redact' | 'mask' | 'hash' | 'drop';

export interface RedactionPolicy {
  /** Detector names that are on (e-mail, card, ssn, phone, jwt, bearer, apikey, ip); default: all but ip. */
  detectors: string[];
  /** What a match becomes; default `redact`. */
  action: RedactionAction;
  /** Sensitive attribute names, redacted whatever their value (e.g. `user.email`, `*.password`). */
  keys: string[];
  /** The attribute keys a signal may copy from the violating spans; everything else stays behind. */
  allowKeys: string[];
  /** Key for the `hash` action; undefined: the tenant's current evidence key. */
  hashKey?: string;
  /** Per-detector actions overriding `action` (detector names, plus `key` for sensitive names and `bytes` for byte values). */
  actions?: Partial<Record<string, RedactionAction>>;
  /** Byte values (opaque, so never scanned): `redact` treats each as a finding of detector `bytes` (the default), `keep` passes them. */
  bytes?: 'redact' | 'keep';
  /** Longest string scanned (default 65536 characters); the rest of a longer string is cut and replaced by `[TRUNCATED]`. */
  maxScanChars?: number;
}

export interface RateLimit {
  /** Sustained spans per second through the receiver. */
  spansPerSecond: number;
  /** Bucket size in spans. */
  burst: number;
}

export interface Tenant {
  id: string;
  /** Bearer tokens for /api/v1 (hashed). */
  apiTokens: HashedSecret[];
  /** Keys for the OTLP receiver (`Authorization: Bearer` or `x-api-key`), hashed. */
  ingestKeys: HashedSecret[];
  /**
   * Ingest without a key: set only on the embedded default tenant (no TENANTS_FILE), so
   * `npm start` takes traces as it always did. A tenant of a file never gets it: a file tenant
   * without ingest keys receives nothing over OTLP.
   */
  openIngest?: boolean;
  /** When set, OTLP bodies must carry `x-signature: sha256=<hex HMAC of the body>` and `x-timestamp`. */
  ingestHmacSecret?: string;
  rateLimit?: RateLimit;
  /** X-Scope-OrgID for this tenant's Tempo reads/writes. */
  tempoOrgId?: string;
  evidenceKeys: EvidenceKey[];
  redaction: RedactionPolicy;
  /** Where this tenant's annotations go; undefined: the sidecar-wide GRAFANA_URL/GRAFANA_TOKEN. */
  grafana?: { url: string; token: string };
  /** YAML rule files provisioned (read-only) into this tenant; the default tenant's is RULES_DIR. */
  rulesDir?: string;
}

export const DEFAULT_REDACTION: RedactionPolicy = {
  detectors: ['email', 'card', 'ssn', 'phone', 'jwt', 'bearer', 'apikey'],
  action: 'redact',
  keys: [],
  allowKeys: [],
};

export function sha256Hex(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Stored hashes decoded once (a request compares against every one of them). */
const decoded = new WeakMap<HashedSecret, Buffer>();

/** Constant-time check of a presented secret against stored hashes. */
export function matchSecret(presented: string, stored: readonly HashedSecret[]): HashedSecret | undefined {
  const h = createHash('sha256').update(presented, 'utf8').digest();
  let found: HashedSecret | undefined;
  for (const s of stored) {
    let other = decoded.get(s);
    if (other === undefined) {
      other = Buffer.from(s.sha256, 'hex');
      decoded.set(s, other);
    }
    if (other.length === h.length && timingSafeEqual(other, h)) {
      found = s;
    }
  }
  return found;
}

/** The single tenant of a sidecar without TENANTS_FILE, from the plain variables; `apiTokenSha256`: hex SHA-256 of its token. */
export function defaultTenant(config: SidecarConfig, apiTokenSha256: string): Tenant {
  return {
    id: 'default',
    apiTokens: [{ name: 'BETRACE_API_TOKEN', sha256: apiTokenSha256, forwardsUser: true }],
    ingestKeys: [],
    openIngest: true,
    tempoOrgId: config.tempoOrgId,
    evidenceKeys: [],
    redaction: { ...DEFAULT_REDACTION },
    grafana: config.grafanaUrl && config.grafanaToken ? { url: config.grafanaUrl, token: config.grafanaToken } : undefined,
  };
}

// ---------------------------------------------------------------- the tenants file

/** Every problem of a tenants file, one per line, each naming the file, the tenant and the field path. */
export class TenantsFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super(`${file}: ${problems.length === 1 ? problems[0] : `${problems.length} problems:\n  ${problems.join('\n  ')}`}`);
    this.name = 'TenantsFileError';
  }
}

export const DETECTORS = ['email', 'card', 'ssn', 'phone', 'jwt', 'bearer', 'apikey', 'ip'] as const;
const ACTIONS: readonly RedactionAction[] = ['redact', 'mask', 'hash', 'drop'];
const TENANT_ID = /^[a-z0-9][a-z0-9_.-]{0,62}$/;
const SHA256 = /^[0-9a-f]{64}$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,99}$/;

type Env = Record<string, string | undefined>;

/**
 * Reads and validates a tenants file (YAML):
 *
 * ```yaml
 * tenants:
 *   - id: team-a
 *     apiTokens: [{ name: grafana, sha256: <hex of SHA-256(token)> }]
 *     ingestKeys: [{ name: collector, sha256: <hex> }]
 *     ingestHmacSecret: env:TEAM_A_HMAC
 *     rateLimit: { spansPerSecond: 5000, burst: 20000 }
 *     tempoOrgId: team-a
 *     evidenceKeys: [{ id: k1, secret: env:TEAM_A_EVIDENCE_K1 }]
 *     redaction: { detectors: [email, card], action: hash, keys: [user.email], allowKeys: [http.route] }
 *     grafana: { url: https://grafana.example.com, token: env:TEAM_A_GRAFANA_TOKEN }
 *     rulesDir: ./rules/team-a
 * ```
 *
 * Tokens and ingest keys are stored only as SHA-256 hex (`betrace tenants hash-token`); a
 * plaintext `token`/`key` is refused. Secrets that must be usable (HMAC and evidence keys,
 * Grafana tokens) may be `env:VAR` or `file:PATH` references (a relative path is relative to the
 * file), so the file itself holds no secret. A relative `rulesDir` is relative to the file. All problems are reported at once.
 */
export function loadTenantsFile(file: string, env: Env = process.env): Tenant[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new TenantsFileError(file, [`cannot read the tenants file: ${(e as Error).message}`]);
  }
  return parseTenants(text, file, env);
}

/** Parses a tenants file's text; `file` names it in errors and anchors relative rulesDir paths. */
export function parseTenants(text: string, file: string, env: Env = process.env): Tenant[] {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    throw new TenantsFileError(
      file,
      doc.errors.map((e) => `not valid YAML: ${e.message.split('\n')[0]}`),
    );
  }
  const root: unknown = doc.toJS();
  const problems: string[] = [];
  if (!isObject(root) || !Array.isArray(root.tenants)) {
    throw new TenantsFileError(file, ['tenants: expected a top-level list `tenants:` of tenant objects']);
  }
  unknownKeys(root, ['tenants'], '', (field, message) => problems.push(`${field.slice(1)}: ${message}`));
  if (root.tenants.length === 0) {
    problems.push('tenants: the list is empty; list at least one tenant (or leave TENANTS_FILE unset for the single default tenant)');
  }
  const tenants: Tenant[] = [];
  const tokenOwners = new Map<string, string>();
  const keyOwners = new Map<string, string>();
  const orgOwners = new Map<string, string>();
  const ids = new Set<string>();
  root.tenants.forEach((raw: unknown, i: number) => {
    const at = `tenants[${i}]`;
    const label = isObject(raw) && typeof raw.id === 'string' ? `tenant ${raw.id}` : `tenant #${i + 1}`;
    const problem = (field: string, message: string) => problems.push(`${label}: ${at}${field}: ${message}`);
    if (!isObject(raw)) {
      problem('', 'expected an object with at least id and apiTokens');
      return;
    }
    unknownKeys(raw, ['id', 'apiTokens', 'ingestKeys', 'ingestHmacSecret', 'rateLimit', 'tempoOrgId', 'evidenceKeys', 'redaction', 'grafana', 'rulesDir'], '', problem);
    const id = typeof raw.id === 'string' ? raw.id : '';
    if (typeof raw.id !== 'string' || !TENANT_ID.test(raw.id)) {
      problem('.id', `expected a tenant id of lowercase letters, digits, '-', '_' and '.' (at most 63), got ${JSON.stringify(raw.id)}`);
    } else if (ids.has(id)) {
      problem('.id', `tenant id ${id} is listed twice`);
    }
    ids.add(id);

    const hashed = (field: string, owners: Map<string, string>, what: string, required: boolean): HashedSecret[] => {
      const list = raw[field];
      if (list === undefined) {
        if (required) {
          problem(`.${field}`, `at least one ${what} is required (a list of { name, sha256 })`);
        }
        return [];
      }
      if (!Array.isArray(list)) {
        problem(`.${field}`, `expected a list of { name, sha256 }`);
        return [];
      }
      if (required && list.length === 0) {
        problem(`.${field}`, `at least one ${what} is required`);
      }
      const out: HashedSecret[] = [];
      const names = new Set<string>();
      list.forEach((entry: unknown, j: number) => {
        const f = `.${field}[${j}]`;
        if (!isObject(entry)) {
          problem(f, 'expected { name, sha256 }');
          return;
        }
        if ('token' in entry || 'key' in entry || 'value' in entry) {
          problem(
            f,
            `a plaintext ${what} is refused: anyone who can read this file (backups, config repos, support bundles) could use it. Store its hash instead: sha256: <output of \`betrace tenants hash-token\` or \`printf %s "$TOKEN" | sha256sum\`>`,
          );
          return;
        }
        unknownKeys(entry, field === 'apiTokens' ? ['name', 'sha256', 'forwardsUser'] : ['name', 'sha256'], f, problem);
        if (entry.forwardsUser !== undefined && typeof entry.forwardsUser !== 'boolean') {
          problem(`${f}.forwardsUser`, `expected true or false, got ${JSON.stringify(entry.forwardsUser)}`);
        }
        if (typeof entry.name !== 'string' || !NAME.test(entry.name)) {
          problem(`${f}.name`, `expected a name (letters, digits, '_', '.', ':', '@', '-'), got ${JSON.stringify(entry.name)}`);
        } else if (names.has(entry.name)) {
          problem(`${f}.name`, `${entry.name} is used twice in ${field}`);
        }
        const sha = typeof entry.sha256 === 'string' ? entry.sha256.trim().toLowerCase().replace(/^sha256:/, '') : undefined;
        if (sha === undefined || !SHA256.test(sha)) {
          problem(`${f}.sha256`, `expected 64 hex characters (the SHA-256 of the ${what}), got ${JSON.stringify(entry.sha256)}`);
          return;
        }
        const owner = owners.get(sha);
        if (owner !== undefined) {
          problem(`${f}.sha256`, `the same ${what} is already given to ${owner}: each must identify exactly one tenant`);
        }
        owners.set(sha, `${label} (${at}${f})`);
        names.add(String(entry.name));
        out.push({ name: String(entry.name), sha256: sha, ...(entry.forwardsUser === true ? { forwardsUser: true } : {}) });
      });
      return out;
    };

    const secret = (field: string, value: unknown): string | undefined => {
      if (value === undefined) {
        return undefined;
      }
      if (typeof value !== 'string' || value === '') {
        problem(field, 'expected a secret (a string, env:VARIABLE to read it from the environment, or file:PATH to read it from a file)');
        return undefined;
      }
      if (value.startsWith('env:')) {
        const name = value.slice(4);
        const v = env[name];
        if (v === undefined || v === '') {
          problem(field, `the environment variable ${name} (referenced as ${value}) is not set`);
          return undefined;
        }
        return v;
      }
      if (value.startsWith('file:')) {
        // A key file (a mounted secret, say): its contents without the trailing newline. Relative to the tenants file.
        const at = path.resolve(path.dirname(path.resolve(file)), value.slice(5));
        try {
          const v = fs.readFileSync(at, 'utf8').replace(/\r?\n$/, '');
          if (v === '') {
            problem(field, `the file ${at} (referenced as ${value}) is empty`);
            return undefined;
          }
          return v;
        } catch (e) {
          problem(field, `cannot read ${at} (referenced as ${value}): ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
          return undefined;
        }
      }
      return value;
    };

    const tenant: Tenant = {
      id,
      apiTokens: hashed('apiTokens', tokenOwners, 'API token', true),
      ingestKeys: hashed('ingestKeys', keyOwners, 'ingest key', false),
      evidenceKeys: [],
      redaction: { ...DEFAULT_REDACTION, detectors: [...DEFAULT_REDACTION.detectors] },
    };

    const hmac = secret('.ingestHmacSecret', raw.ingestHmacSecret);
    if (hmac !== undefined) {
      if (hmac.length < 16) {
        problem('.ingestHmacSecret', 'is shorter than 16 characters: use a random secret (openssl rand -hex 32)');
      }
      tenant.ingestHmacSecret = hmac;
    }

    if (raw.rateLimit !== undefined) {
      const rl = raw.rateLimit;
      if (!isObject(rl)) {
        problem('.rateLimit', 'expected { spansPerSecond, burst }');
      } else {
        unknownKeys(rl, ['spansPerSecond', 'burst'], '.rateLimit', problem);
        const positive = (k: string): number | undefined => {
          const v = rl[k];
          if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
            problem(`.rateLimit.${k}`, `expected a positive number, got ${JSON.stringify(v)}`);
            return undefined;
          }
          return v;
        };
        const sps = positive('spansPerSecond');
        const burst = rl.burst === undefined ? sps : positive('burst');
        if (sps !== undefined && burst !== undefined) {
          if (burst < sps) {
            problem('.rateLimit.burst', `must be at least spansPerSecond (${sps}), got ${burst}`);
          }
          tenant.rateLimit = { spansPerSecond: sps, burst };
        }
      }
    }

    if (raw.tempoOrgId !== undefined) {
      if (typeof raw.tempoOrgId !== 'string' || raw.tempoOrgId.trim() === '' || /[\r\n|]/.test(raw.tempoOrgId)) {
        problem('.tempoOrgId', `expected a Tempo org id (X-Scope-OrgID), got ${JSON.stringify(raw.tempoOrgId)}`);
      } else {
        const owner = orgOwners.get(raw.tempoOrgId);
        if (owner !== undefined) {
          problem('.tempoOrgId', `${raw.tempoOrgId} is already the org id of ${owner}: two tenants reading one Tempo org would see each other's traces`);
        }
        orgOwners.set(raw.tempoOrgId, label);
        tenant.tempoOrgId = raw.tempoOrgId;
      }
    }

    if (raw.evidenceKeys !== undefined) {
      if (!Array.isArray(raw.evidenceKeys)) {
        problem('.evidenceKeys', 'expected a list of { id, secret, retired? }');
      } else {
        const keyIds = new Set<string>();
        raw.evidenceKeys.forEach((k: unknown, j: number) => {
          const f = `.evidenceKeys[${j}]`;
          if (!isObject(k)) {
            problem(f, 'expected { id, secret, retired? }');
            return;
          }
          unknownKeys(k, ['id', 'secret', 'retired'], f, problem);
          if (typeof k.id !== 'string' || !NAME.test(k.id)) {
            problem(`${f}.id`, `expected a key id, got ${JSON.stringify(k.id)}`);
          } else if (keyIds.has(k.id)) {
            problem(`${f}.id`, `key id ${k.id} is listed twice`);
          }
          keyIds.add(String(k.id));
          if (k.secret === undefined) {
            problem(`${f}.secret`, 'is required (a string, or env:VARIABLE)');
          }
          const s = secret(`${f}.secret`, k.secret);
          if (s !== undefined && s.length < 16) {
            problem(`${f}.secret`, 'is shorter than 16 characters: use a random key (openssl rand -hex 32)');
          }
          if (k.retired !== undefined && typeof k.retired !== 'boolean') {
            problem(`${f}.retired`, `expected true or false, got ${JSON.stringify(k.retired)}`);
          }
          if (s !== undefined && typeof k.id === 'string') {
            tenant.evidenceKeys.push(k.retired === true ? { id: k.id, secret: s, retired: true } : { id: k.id, secret: s });
          }
        });
        const current = raw.evidenceKeys.filter((k: unknown) => isObject(k) && k.retired !== true).length;
        if (raw.evidenceKeys.length > 0 && current !== 1) {
          problem('.evidenceKeys', `exactly one key must be current (not retired), found ${current}`);
        }
      }
    }

    if (raw.redaction !== undefined) {
      const r = raw.redaction;
      if (!isObject(r)) {
        problem('.redaction', 'expected { detectors, action, keys, allowKeys, hashKey }');
      } else {
        unknownKeys(r, ['detectors', 'action', 'keys', 'allowKeys', 'hashKey'], '.redaction', problem);
        const strings = (k: string): string[] | undefined => {
          const v = r[k];
          if (v === undefined) {
            return undefined;
          }
          if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x === '')) {
            problem(`.redaction.${k}`, 'expected a list of strings');
            return undefined;
          }
          return v as string[];
        };
        const detectors = strings('detectors');
        if (detectors !== undefined) {
          detectors.forEach((d, j) => {
            if (!(DETECTORS as readonly string[]).includes(d)) {
              problem(`.redaction.detectors[${j}]`, `unknown detector ${JSON.stringify(d)} (known: ${DETECTORS.join(', ')})`);
            }
          });
          tenant.redaction.detectors = detectors;
        }
        if (r.action !== undefined) {
          if (!ACTIONS.includes(r.action as RedactionAction)) {
            problem('.redaction.action', `expected one of ${ACTIONS.join(', ')}, got ${JSON.stringify(r.action)}`);
          } else {
            tenant.redaction.action = r.action as RedactionAction;
          }
        }
        tenant.redaction.keys = strings('keys') ?? [];
        tenant.redaction.allowKeys = strings('allowKeys') ?? [];
        const hashKey = secret('.redaction.hashKey', r.hashKey);
        if (hashKey !== undefined) {
          tenant.redaction.hashKey = hashKey;
        }
      }
    }

    if (raw.grafana !== undefined) {
      const g = raw.grafana;
      if (!isObject(g)) {
        problem('.grafana', 'expected { url, token }');
      } else {
        unknownKeys(g, ['url', 'token'], '.grafana', problem);
        let url: URL | undefined;
        try {
          url = typeof g.url === 'string' ? new URL(g.url) : undefined;
        } catch {
          url = undefined;
        }
        if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
          problem('.grafana.url', `expected an http(s) URL, got ${JSON.stringify(g.url)}`);
        }
        if (g.token === undefined) {
          problem('.grafana.token', 'is required (a service-account token with annotations:create, or env:VARIABLE)');
        }
        const token = secret('.grafana.token', g.token);
        if (url !== undefined && token !== undefined) {
          tenant.grafana = { url: String(g.url).replace(/\/+$/, ''), token };
        }
      }
    }

    if (raw.rulesDir !== undefined) {
      if (typeof raw.rulesDir !== 'string' || raw.rulesDir === '') {
        problem('.rulesDir', `expected a directory path, got ${JSON.stringify(raw.rulesDir)}`);
      } else {
        const dir = path.resolve(path.dirname(path.resolve(file)), raw.rulesDir);
        if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
          problem('.rulesDir', `${dir} is not a directory`);
        } else {
          tenant.rulesDir = dir;
        }
      }
    }
    tenants.push(tenant);
  });
  if (problems.length > 0) {
    throw new TenantsFileError(file, problems);
  }
  return tenants;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reports keys the schema does not know: a typo would otherwise silently drop a setting. */
function unknownKeys(o: Record<string, unknown>, known: readonly string[], at: string, report: (field: string, message: string) => void): void {
  for (const k of Object.keys(o)) {
    if (!known.includes(k)) {
      report(`${at}.${k}`, `unknown field (known: ${known.join(', ')})`);
    }
  }
}
