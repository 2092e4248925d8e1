/**
 * PII redaction, applied at every exit of the sidecar: signal spans, annotations, webhooks,
 * evidence, exports and spans forwarded in gateway mode. See docs/redaction.md.
 */
import { randomBytes } from 'crypto';
import type { Tenant } from '../tenants';
import { Redactor } from './engine';

export { DETECTOR_NAMES, DetectorName, Finding, luhn, ssnValid } from './detectors';
export { DEFAULT_MAX_SCAN_CHARS, MAX_DEPTH, Redactor, TRUNCATED } from './engine';
export { KeyMatcher, SENSITIVE_KEY_WORDS, globToRegExp, keyWords } from './keys';

/**
 * The tenant's redactor: its policy, hashing with policy.hashKey, else `fallbackHashKey` (the
 * sidecar passes the per-tenant key it keeps, `storedHashKey`), else the tenant's current evidence key.
 */
export function redactorFor(tenant: Tenant, fallbackHashKey?: string): Redactor {
  const current = tenant.evidenceKeys.find((k) => !k.retired);
  return new Redactor(tenant.redaction, tenant.redaction.hashKey ?? fallbackHashKey ?? current?.secret);
}

/**
 * The gateway's hook: OTLP resourceSpans (as the receiver decodes them: protobufjs messages or
 * OTLP/JSON objects) → the same shape, redacted by the tenant's policy, ready to encode and
 * forward. One redactor per tenant object is kept, so a policy is compiled once.
 */
export function createResourceSpansRedactor(): <T>(tenant: Tenant, resourceSpans: T) => T {
  const cache = new WeakMap<Tenant, Redactor>();
  return <T>(tenant: Tenant, resourceSpans: T): T => {
    let r = cache.get(tenant);
    if (r === undefined) {
      r = redactorFor(tenant);
      cache.set(tenant, r);
    }
    return r.resourceSpans(resourceSpans);
  };
}

/** The hook without a cache (compiles the tenant's policy on each call: cheap, but prefer createResourceSpansRedactor). */
export function redactResourceSpans<T>(tenant: Tenant, resourceSpans: T): T {
  return redactorFor(tenant).resourceSpans(resourceSpans);
}

interface Settings {
  getSetting(key: string): string | undefined;
  setSetting(key: string, value: string): void;
}

/**
 * A tenant's `hash` key when its policy names none: 32 random bytes made once and kept in the
 * store, so hashes stay stable across restarts and evidence-key rotations (and joins keep working).
 */
export function storedHashKey(settings: Settings, tenant = 'default'): string {
  const name = tenant === 'default' ? 'redaction_hash_key' : `redaction_hash_key:${tenant}`;
  let key = settings.getSetting(name);
  if (key === undefined) {
    key = randomBytes(32).toString('hex');
    settings.setSetting(name, key);
  }
  return key;
}
export { redactExplanation } from './explain';
