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
import type { SidecarConfig } from './config';

/** A secret stored only as its SHA-256 (hex): API tokens and ingest keys. */
export interface HashedSecret {
  /** A name for logs and the audit log (never the secret). */
  name: string;
  sha256: string;
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
  /** Keys for the OTLP receiver (`Authorization: Bearer` or `x-api-key`), hashed. Empty: ingest is open for this tenant only when it is the single default tenant. */
  ingestKeys: HashedSecret[];
  /** When set, OTLP bodies must carry `x-signature: sha256=<hex HMAC of the body>` and `x-timestamp`. */
  ingestHmacSecret?: string;
  rateLimit?: RateLimit;
  /** X-Scope-OrgID for this tenant's Tempo reads/writes. */
  tempoOrgId?: string;
  evidenceKeys: EvidenceKey[];
  redaction: RedactionPolicy;
  /** Where this tenant's annotations go; undefined: the sidecar-wide GRAFANA_URL/GRAFANA_TOKEN. */
  grafana?: { url: string; token: string };
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

/** Constant-time check of a presented secret against stored hashes. */
export function matchSecret(presented: string, stored: readonly HashedSecret[]): HashedSecret | undefined {
  const h = Buffer.from(sha256Hex(presented), 'hex');
  let found: HashedSecret | undefined;
  for (const s of stored) {
    const other = Buffer.from(s.sha256, 'hex');
    if (other.length === h.length && timingSafeEqual(other, h)) {
      found = s;
    }
  }
  return found;
}

/** The single tenant of a sidecar without TENANTS_FILE, from the plain variables. */
export function defaultTenant(config: SidecarConfig, apiToken: string, evidenceKey: EvidenceKey): Tenant {
  return {
    id: 'default',
    apiTokens: [{ name: 'BETRACE_API_TOKEN', sha256: sha256Hex(apiToken) }],
    ingestKeys: [],
    tempoOrgId: config.tempoOrgId,
    evidenceKeys: [evidenceKey],
    redaction: { ...DEFAULT_REDACTION },
    grafana: config.grafanaUrl && config.grafanaToken ? { url: config.grafanaUrl, token: config.grafanaToken } : undefined,
  };
}
