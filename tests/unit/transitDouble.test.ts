/**
 * The transit double answers as the Vault / OpenBao transit API documents (status codes, body
 * shapes, error texts; see the sources named in tests/support/transitDouble.ts). Plain fetch, no
 * BeTrace client, so a client bug cannot hide a double bug.
 */
import { createHmac } from 'crypto';
import { TransitDouble, TransitDoubleHandle } from '../support/transitDouble';

describe('the transit double', () => {
  const vault = new TransitDouble({ now: () => 1442851412 });
  let h: TransitDoubleHandle;
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = { 'X-Vault-Token': h.token }): Promise<{ status: number; text: string; json: unknown }> => {
    const res = await fetch(`${h.url}/v1/${path}`, { method, headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, text, json: text === '' ? undefined : (JSON.parse(text) as unknown) };
  };
  beforeAll(async () => {
    h = await vault.start();
  });
  afterAll(() => h.close());
  afterEach(() => vault.unseal());

  it('answers 403 permission denied without the right token', async () => {
    expect(await call('GET', 'transit/keys/a', undefined, {})).toMatchObject({ status: 403, json: { errors: ['permission denied'] } });
    expect(await call('GET', 'transit/keys/a', undefined, { 'X-Vault-Token': 'wrong' })).toMatchObject({ status: 403, json: { errors: ['permission denied'] } });
    expect(vault.requests.slice(-2).map((r) => r.tokenOk)).toEqual([false, false]);
  });

  it('answers 404 with an empty errors list for an unknown key', async () => {
    expect(await call('GET', 'transit/keys/nope')).toMatchObject({ status: 404, json: { errors: [] } });
  });

  it('creates a key: 200 with the key data in Vault’s envelope, an upsert warning the second time', async () => {
    const first = await call('POST', 'transit/keys/evidence', {});
    expect(first.status).toBe(200);
    const env = first.json as Record<string, unknown>;
    expect(Object.keys(env).sort()).toEqual(['auth', 'data', 'lease_duration', 'lease_id', 'mount_type', 'renewable', 'request_id', 'warnings', 'wrap_info']);
    expect(env).toMatchObject({ lease_id: '', renewable: false, lease_duration: 0, warnings: null, auth: null });
    expect(env.data).toMatchObject({ name: 'evidence', type: 'aes256-gcm96', latest_version: 1, keys: { '1': 1442851412 }, min_decryption_version: 1, min_encryption_version: 0, supports_encryption: true, supports_signing: false });
    const again = await call('POST', 'transit/keys/evidence', {});
    expect(again).toMatchObject({ status: 200, json: { warnings: ['key evidence already existed'], data: { latest_version: 1 } } });
    expect(h.keyVersions('evidence')).toEqual([1]);
  });

  it('reads a key as the docs’ sample response', async () => {
    const read = await call('GET', 'transit/keys/evidence');
    expect(read.status).toBe(200);
    const data = (read.json as { data: Record<string, unknown> }).data;
    // Every field of the documented sample response (api-docs/secret/transit, "Read key").
    for (const field of ['type', 'deletion_allowed', 'derived', 'exportable', 'allow_plaintext_backup', 'keys', 'min_decryption_version', 'min_encryption_version', 'name', 'supports_encryption', 'supports_decryption', 'supports_derivation', 'supports_signing']) {
      expect(data).toHaveProperty(field);
    }
    expect(data.latest_version).toBe(1);
  });

  it('rotates: a new version with its own secret; 400 key not found for an unknown key', async () => {
    const rotated = await call('POST', 'transit/keys/evidence/rotate');
    expect(rotated).toMatchObject({ status: 200, json: { data: { latest_version: 2, keys: { '1': 1442851412, '2': 1442851412 } } } });
    expect(h.keyVersions('evidence')).toEqual([1, 2]);
    expect(vault.secret('evidence', 1).equals(vault.secret('evidence', 2))).toBe(false);
    expect(vault.secret('evidence', 2)).toHaveLength(32);
    expect(await call('POST', 'transit/keys/nope/rotate')).toMatchObject({ status: 400, json: { errors: ['key not found'] } });
  });

  it('computes a real HMAC per version, as vault:v<N>:<base64>', async () => {
    const input = Buffer.from('hello');
    const expected = (v: number, hash = 'sha256') => `vault:v${v}:${createHmac(hash, vault.secret('evidence', v)).update(input).digest('base64')}`;
    expect(await call('POST', 'transit/hmac/evidence/sha2-256', { input: input.toString('base64'), key_version: 1 })).toMatchObject({ status: 200, json: { data: { hmac: expected(1) } } });
    // key_version absent (or 0) means the latest; the algorithm defaults to sha2-256; a numeric string is accepted.
    expect(await call('POST', 'transit/hmac/evidence', { input: input.toString('base64') })).toMatchObject({ json: { data: { hmac: expected(2) } } });
    expect(await call('POST', 'transit/hmac/evidence/sha2-512', { input: input.toString('base64'), key_version: '1' })).toMatchObject({ json: { data: { hmac: expected(1, 'sha512') } } });
  });

  it('answers the documented HMAC errors with 400', async () => {
    const b64 = Buffer.from('x').toString('base64');
    expect(await call('POST', 'transit/hmac/evidence/sha2-256', { input: b64, key_version: 3 })).toMatchObject({ status: 400, json: { errors: ['key version does not exist; latest key version is 2'] } });
    expect(await call('POST', 'transit/hmac/evidence/sha2-256', { input: b64, key_version: -1 })).toMatchObject({ status: 400, json: { errors: ['key version does not exist (cannot be negative)'] } });
    expect(await call('POST', 'transit/hmac/nope/sha2-256', { input: b64 })).toMatchObject({ status: 400, json: { errors: ['encryption key not found'] } });
    expect(await call('POST', 'transit/hmac/evidence/sha2-256', {})).toMatchObject({ status: 400, json: { errors: ['missing input for HMAC'] } });
    const bad = await call('POST', 'transit/hmac/evidence/sha2-256', { input: 'not base64!' });
    expect(bad.status).toBe(400);
    expect((bad.json as { errors: string[] }).errors[0]).toMatch(/^unable to decode input as base64: illegal base64 data at input byte \d+$/);
    vault.setMinEncryptionVersion('evidence', 2);
    expect(await call('POST', 'transit/hmac/evidence/sha2-256', { input: b64, key_version: 1 })).toMatchObject({ status: 400, json: { errors: ['cannot generate HMAC: version is too old (disallowed by policy)'] } });
    vault.setMinEncryptionVersion('evidence', 0);
  });

  it('answers 404 no handler for a path outside the mount', async () => {
    expect(await call('GET', 'elsewhere/keys/evidence')).toMatchObject({ status: 404, json: { errors: ['no handler for route "elsewhere/keys/evidence". route entry not found.'] } });
  });

  it('answers 503 Vault is sealed to everything while sealed, and counts requests', async () => {
    const before = vault.count('read');
    vault.seal();
    expect(await call('GET', 'transit/keys/evidence')).toMatchObject({ status: 503, json: { errors: ['Vault is sealed'] } });
    expect(await call('POST', 'transit/hmac/evidence/sha2-256', { input: 'eA==' }, {})).toMatchObject({ status: 503 });
    vault.unseal();
    expect((await call('GET', 'transit/keys/evidence')).status).toBe(200);
    expect(vault.count('read')).toBe(before + 1); // a sealed Vault routes nothing
  });

  it('follows older Vault when asked: 204 with no body from create and rotate', async () => {
    const legacy = new TransitDouble({ legacyEmptyResponses: true, mount: 'kms/transit' });
    const l = await legacy.start();
    const post = (path: string) => fetch(`${l.url}/v1/${path}`, { method: 'POST', headers: { 'X-Vault-Token': l.token, 'content-type': 'application/json' }, body: '{}' });
    const created = await post('kms/transit/keys/k');
    expect([created.status, await created.text()]).toEqual([204, '']);
    const rotated = await post('kms/transit/keys/k/rotate');
    expect([rotated.status, await rotated.text()]).toEqual([204, '']);
    expect(l.keyVersions('k')).toEqual([1, 2]);
    await l.close();
  });

  it('routes a namespaced mount only with its X-Vault-Namespace', async () => {
    const ns = new TransitDouble({ namespace: 'team-a' });
    const n = await ns.start();
    const without = await fetch(`${n.url}/v1/transit/keys/k`, { method: 'POST', headers: { 'X-Vault-Token': n.token }, body: '{}' });
    expect(without.status).toBe(404);
    const withNs = await fetch(`${n.url}/v1/transit/keys/k`, { method: 'POST', headers: { 'X-Vault-Token': n.token, 'X-Vault-Namespace': 'team-a' }, body: '{}' });
    expect(withNs.status).toBe(200);
    expect(ns.requests.map((r) => r.namespace)).toEqual([undefined, 'team-a']);
    await n.close();
  });
});
