/**
 * The transit KMS client against the transit double (tests/support/transitDouble.ts, pinned to the
 * documented responses by tests/unit/transitDouble.test.ts), plus a raw loopback server for the
 * answers no real Vault gives (to check the client refuses them).
 */
import { createHmac } from 'crypto';
import * as http from 'http';
import { AddressInfo } from 'net';
import { deriveEvidenceSecret, evidenceKeyLabel, parseTransitKeyId, TransitClient, TransitError, transitKeyId } from '../src/evidence/kms/transit';
import { TransitDouble, TransitDoubleHandle } from '../../../tests/support/transitDouble';

const KEY_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The TransitError a promise rejects with (fails the test if it resolves or throws something else). */
async function transitError(p: Promise<unknown>): Promise<TransitError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(TransitError);
    return e as TransitError;
  }
  throw new Error('expected a TransitError, the call succeeded');
}

describe('TransitClient', () => {
  const vault = new TransitDouble();
  let h: TransitDoubleHandle;
  let client: TransitClient;
  beforeAll(async () => {
    h = await vault.start();
    client = new TransitClient({ url: h.url, token: h.token });
  });
  afterAll(() => h.close());
  afterEach(() => {
    vault.unseal();
    vault.latencyMs = 0;
  });

  describe('keys', () => {
    it('ensureKey creates a missing key once and is idempotent', async () => {
      expect(await client.latestVersion('ev-create')).toBeUndefined();
      const creates = vault.count('create');
      expect(await client.ensureKey('ev-create')).toBe(1);
      expect(await client.ensureKey('ev-create')).toBe(1);
      expect(await client.ensureKey('ev-create')).toBe(1);
      expect(vault.count('create')).toBe(creates + 1);
      expect(h.keyVersions('ev-create')).toEqual([1]);
    });

    it('ensureKey only reads a key that exists (a token without create rights suffices)', async () => {
      await fetch(`${h.url}/v1/transit/keys/ev-operator`, { method: 'POST', headers: { 'X-Vault-Token': h.token }, body: '{}' });
      await fetch(`${h.url}/v1/transit/keys/ev-operator/rotate`, { method: 'POST', headers: { 'X-Vault-Token': h.token } });
      const creates = vault.count('create');
      expect(await client.ensureKey('ev-operator')).toBe(2);
      expect(vault.count('create')).toBe(creates);
    });

    it('rotate bumps the latest version, and readKey lists every version', async () => {
      await client.ensureKey('ev-rotate');
      expect(await client.rotate('ev-rotate')).toBe(2);
      expect(await client.rotate('ev-rotate')).toBe(3);
      expect(await client.latestVersion('ev-rotate')).toBe(3);
      expect(h.keyVersions('ev-rotate')).toEqual([1, 2, 3]);
      const info = await client.readKey('ev-rotate');
      expect(info).toMatchObject({ name: 'ev-rotate', type: 'aes256-gcm96', latestVersion: 3, minEncryptionVersion: 0 });
      expect([...info!.versions.keys()]).toEqual([1, 2, 3]);
    });

    it('works with older Vault, whose create and rotate answer 204 with no body', async () => {
      const legacy = new TransitDouble({ legacyEmptyResponses: true, mount: 'kms/transit', namespace: 'team-a' });
      const l = await legacy.start();
      try {
        const c = new TransitClient({ url: `${l.url}/`, token: l.token, mount: '/kms/transit/', namespace: 'team-a' });
        expect(await c.ensureKey('k')).toBe(1);
        expect(await c.rotate('k')).toBe(2);
        expect(l.keyVersions('k')).toEqual([1, 2]);
        // Every request carried the namespace and went to the nested mount.
        expect(legacy.requests.every((r) => r.namespace === 'team-a' && r.url.startsWith('/v1/kms/transit/') && r.tokenOk)).toBe(true);
        expect(legacy.requests.map((r) => r.endpoint)).toEqual(['read', 'create', 'read', 'rotate', 'read']);
      } finally {
        await l.close();
      }
    });
  });

  describe('hmac', () => {
    it('equals an HMAC-SHA256 computed independently with the double’s secret of that version', async () => {
      await client.ensureKey('ev-hmac');
      const input = Buffer.from('betrace-evidence-key/default/k1');
      const mac = await client.hmac('ev-hmac', 1, input);
      expect(mac).toHaveLength(32);
      expect(mac.equals(createHmac('sha256', vault.secret('ev-hmac', 1)).update(input).digest())).toBe(true);
      const last = vault.requests[vault.requests.length - 1];
      expect(last).toMatchObject({ method: 'POST', url: '/v1/transit/hmac/ev-hmac/sha2-256', body: { input: input.toString('base64'), key_version: 1 } });
    });

    it('keeps older versions usable after a rotation, each with its own secret', async () => {
      const input = Buffer.from([0, 1, 2, 255]);
      const v1 = await client.hmac('ev-hmac', 1, input);
      expect(await client.rotate('ev-hmac')).toBe(2);
      const v2 = await client.hmac('ev-hmac', 2, input);
      expect((await client.hmac('ev-hmac', 1, input)).equals(v1)).toBe(true);
      expect(v2.equals(v1)).toBe(false);
      expect(v2.equals(createHmac('sha256', vault.secret('ev-hmac', 2)).update(input).digest())).toBe(true);
    });

    it('hashes the empty input', async () => {
      const mac = await client.hmac('ev-hmac', 1, Buffer.alloc(0));
      expect(mac.equals(createHmac('sha256', vault.secret('ev-hmac', 1)).digest())).toBe(true);
    });
  });

  describe('deriveEvidenceSecret', () => {
    it('is hex of the KMS HMAC over betrace-evidence-key/<tenant>/<keyId>, stable across calls', async () => {
      await client.ensureKey('ev-derive');
      const secret = await deriveEvidenceSecret(client, 'ev-derive', 1, 'acme', 'transit.ev-derive.v1');
      expect(secret).toMatch(/^[0-9a-f]{64}$/);
      const expected = createHmac('sha256', vault.secret('ev-derive', 1)).update(Buffer.from('betrace-evidence-key/acme/transit.ev-derive.v1', 'utf8')).digest('hex');
      expect(secret).toBe(expected);
      expect(await deriveEvidenceSecret(client, 'ev-derive', 1, 'acme', 'transit.ev-derive.v1')).toBe(secret);
    });

    it('differs by tenant, key id and version', async () => {
      await client.rotate('ev-derive');
      const base = await deriveEvidenceSecret(client, 'ev-derive', 1, 'acme', 'k1');
      const others = await Promise.all([
        deriveEvidenceSecret(client, 'ev-derive', 1, 'globex', 'k1'),
        deriveEvidenceSecret(client, 'ev-derive', 1, 'acme', 'k2'),
        deriveEvidenceSecret(client, 'ev-derive', 2, 'acme', 'k1'),
      ]);
      expect(new Set([base, ...others]).size).toBe(4);
    });

    it('refuses labels that could be ambiguous before asking the KMS', async () => {
      const before = vault.requests.length;
      await expect(deriveEvidenceSecret(client, 'ev-derive', 1, 'a/b', 'k1')).rejects.toThrow(/tenant "a\/b" cannot name an evidence key/);
      await expect(deriveEvidenceSecret(client, 'ev-derive', 1, '', 'k1')).rejects.toThrow(/tenant "" cannot name/);
      await expect(deriveEvidenceSecret(client, 'ev-derive', 1, 'acme', 'a/b')).rejects.toThrow(/evidence key id "a\/b" is not allowed/);
      expect(vault.requests.length).toBe(before);
      expect(evidenceKeyLabel('acme', 'k1')).toBe('betrace-evidence-key/acme/k1');
    });
  });

  describe('key ids', () => {
    it('round-trips transit.<name>.v<version>, also for names with dots, within the key-id pattern', () => {
      for (const [name, version] of [['evidence', 1], ['betrace.evidence', 12], ['a', 9007199254740991], ['x_y-z', 3]] as const) {
        const id = transitKeyId(name, version);
        expect(id).toBe(`transit.${name}.v${version}`);
        expect(id).toMatch(KEY_ID);
        expect(parseTransitKeyId(id)).toEqual({ name, version });
      }
    });

    it('rejects ids over 64 characters and bad names or versions', () => {
      expect(transitKeyId('n'.repeat(53), 1)).toHaveLength(64);
      expect(() => transitKeyId('n'.repeat(54), 1)).toThrow(/longer than 64 characters/);
      expect(() => transitKeyId('bad/name', 1)).toThrow(/transit key name "bad\/name" is not allowed/);
      expect(() => transitKeyId('k', 0)).toThrow(/version 0 is not allowed/);
      expect(() => transitKeyId('k', 1.5)).toThrow(/version 1.5 is not allowed/);
    });

    it('parses only ids transitKeyId makes', () => {
      for (const id of ['k1', 'transit.k', 'transit.k.v0', 'transit.k.v01', 'transit..v1', 'transit.-k.v1', 'transit.k.v1x', 'Transit.k.v1', `transit.${'n'.repeat(60)}.v1`]) {
        expect(parseTransitKeyId(id)).toBeUndefined();
      }
    });
  });

  describe('errors', () => {
    /** Checks the error names the URL and the cause, and never the token. */
    const expectNamed = (e: TransitError, url: string, cause: RegExp, token = h.token): void => {
      expect(e.message.startsWith(`Vault transit at ${url}: `)).toBe(true);
      expect(e.message).toMatch(cause);
      expect(e.url).toBe(url);
      expect(e.message).not.toContain(token);
      expect(JSON.stringify(e)).not.toContain(token);
      expect(String(e.stack)).not.toContain(token);
    };

    it('403 for a bad token', async () => {
      const bad = new TransitClient({ url: h.url, token: 'hvs.not-the-token' });
      const e = await transitError(bad.ensureKey('ev-create'));
      expectNamed(e, `${h.url}/v1/transit/keys/ev-create`, /: 403 permission denied$/, 'hvs.not-the-token');
      expect(e.status).toBe(403);
    });

    it('404 with a message (a wrong mount) is an error, not a missing key', async () => {
      const wrongMount = new TransitClient({ url: h.url, token: h.token, mount: 'transitt' });
      const e = await transitError(wrongMount.latestVersion('ev-create'));
      expectNamed(e, `${h.url}/v1/transitt/keys/ev-create`, /: 404 no handler for route "transitt\/keys\/ev-create"\. route entry not found\.$/);
      expect(e.status).toBe(404);
    });

    it('400 for a version the key does not have, and for rotating an unknown key', async () => {
      await client.ensureKey('ev-errors');
      const e = await transitError(client.hmac('ev-errors', 7, Buffer.from('x')));
      expectNamed(e, `${h.url}/v1/transit/hmac/ev-errors/sha2-256`, /: 400 key version does not exist; latest key version is 1$/);
      expect(e.status).toBe(400);
      const r = await transitError(client.rotate('ev-missing'));
      expectNamed(r, `${h.url}/v1/transit/keys/ev-missing/rotate`, /: 400 key not found$/);
      vault.setMinEncryptionVersion('ev-errors', 1);
      await client.rotate('ev-errors');
      vault.setMinEncryptionVersion('ev-errors', 2);
      const old = await transitError(client.hmac('ev-errors', 1, Buffer.from('x')));
      expectNamed(old, `${h.url}/v1/transit/hmac/ev-errors/sha2-256`, /: 400 cannot generate HMAC: version is too old \(disallowed by policy\)$/);
      expect((await client.readKey('ev-errors'))?.minEncryptionVersion).toBe(2);
    });

    it('503 while sealed', async () => {
      vault.seal();
      const e = await transitError(client.hmac('ev-hmac', 1, Buffer.from('x')));
      expectNamed(e, `${h.url}/v1/transit/hmac/ev-hmac/sha2-256`, /: 503 Vault is sealed$/);
      expect(e.status).toBe(503);
    });

    it('masks the token should an answer quote it', async () => {
      vault.fault = { status: 500, errors: [`bad header X-Vault-Token: ${h.token}`] };
      const e = await transitError(client.latestVersion('ev-hmac'));
      expectNamed(e, `${h.url}/v1/transit/keys/ev-hmac`, /: 500 bad header X-Vault-Token: \[token\]$/);
    });

    it('ECONNREFUSED on a closed port', async () => {
      const gone = new TransitDouble();
      const g = await gone.start();
      await g.close();
      const c = new TransitClient({ url: g.url, token: g.token });
      const e = await transitError(c.hmac('k', 1, Buffer.from('x')));
      const port = new URL(g.url).port;
      expectNamed(e, `${g.url}/v1/transit/hmac/k/sha2-256`, new RegExp(`: connect ECONNREFUSED 127\\.0\\.0\\.1:${port}$`), g.token);
      expect(e.status).toBeUndefined();
    });

    it('a timeout', async () => {
      vault.latencyMs = 1000;
      const slow = new TransitClient({ url: h.url, token: h.token, timeoutMs: 100 });
      const e = await transitError(slow.latestVersion('ev-hmac'));
      expectNamed(e, `${h.url}/v1/transit/keys/ev-hmac`, /: timed out after 100 ms$/);
      expect(e.status).toBeUndefined();
    });

    it('rejects bad key names and versions before any request', async () => {
      const before = vault.requests.length;
      for (const name of ['', '-k', '.k', 'a/b', '../k', 'a b', 'k?x', 'k%2F', 'ключ']) {
        await expect(client.ensureKey(name)).rejects.toThrow(/transit key name .* is not allowed/);
        await expect(client.latestVersion(name)).rejects.toThrow(TypeError);
        await expect(client.rotate(name)).rejects.toThrow(TypeError);
        await expect(client.hmac(name, 1, Buffer.from('x'))).rejects.toThrow(TypeError);
      }
      for (const version of [0, -1, 1.5, Number.NaN, 2 ** 53]) {
        await expect(client.hmac('ev-hmac', version, Buffer.from('x'))).rejects.toThrow(/transit key version .* is not allowed/);
      }
      expect(vault.requests.length).toBe(before);
    });

    it('rejects bad configuration with a clear message', () => {
      expect(() => new TransitClient({ url: `${h.url}/v1`, token: 't' })).toThrow(/must not end in \/v1/);
      expect(() => new TransitClient({ url: 'vault:8200', token: 't' })).toThrow(/must be http or https/);
      expect(() => new TransitClient({ url: 'not a url', token: 't' })).toThrow(/is not a URL/);
      expect(() => new TransitClient({ url: 'http://user:pw@127.0.0.1:8200', token: 't' })).toThrow(/no credentials/);
      expect(() => new TransitClient({ url: h.url, token: '' })).toThrow(/token is empty/);
      expect(() => new TransitClient({ url: h.url, token: 't', mount: 'a/../b' })).toThrow(/transit mount "a\/..\/b" is not allowed/);
      expect(() => new TransitClient({ url: h.url, token: 't', timeoutMs: 0 })).toThrow(/timeout/);
    });
  });
});

describe('TransitClient against answers no real Vault gives', () => {
  let reply: { status: number; body: string } = { status: 200, body: '' };
  const server = http.createServer((_req, res) => {
    res.writeHead(reply.status, { 'content-type': 'application/json' }).end(reply.body);
  });
  let client: TransitClient;
  let url = '';
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    client = new TransitClient({ url, token: 'hvs.raw' });
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const hmacOf = (s: string): string => JSON.stringify({ data: { hmac: s } });
  const mac = Buffer.alloc(32, 7).toString('base64');

  it.each([
    ['an HMAC of another version', hmacOf(`vault:v2:${mac}`), /asked for key version 1, the HMAC is of version 2/],
    ['an HMAC without the vault:v prefix', hmacOf(mac), /not of the form vault:v<version>:<base64>/],
    ['an HMAC of the wrong length', hmacOf(`vault:v1:${Buffer.alloc(20).toString('base64')}`), /an HMAC-SHA256 has 32 bytes, this one 20/],
    ['no data', '{}', /no data\.hmac in the answer/],
    ['a body that is not JSON', '<html>proxy</html>', /the body is not JSON/],
  ])('refuses %s', async (_what, body, cause) => {
    reply = { status: 200, body };
    const e = await transitError(client.hmac('k', 1, Buffer.from('x')));
    expect(e.message).toMatch(new RegExp(`^Vault transit at ${url.replace(/\./g, '\\.')}/v1/transit/hmac/k/sha2-256: unexpected answer \\(200\\): `));
    expect(e.message).toMatch(cause);
  });

  it('refuses a key read without a usable latest_version', async () => {
    reply = { status: 200, body: JSON.stringify({ data: { name: 'k', latest_version: 0 } }) };
    await expect(client.latestVersion('k')).rejects.toThrow(/data\.latest_version is 0, not a version number/);
  });

  it('reports a non-JSON error body as text, and Vault’s wrapped multi-error form flat', async () => {
    reply = { status: 502, body: 'Bad Gateway' };
    await expect(client.latestVersion('k')).rejects.toThrow(/: 502 Bad Gateway$/);
    reply = { status: 403, body: JSON.stringify({ errors: ['1 error occurred:\n\t* permission denied\n\n'] }) };
    await expect(client.latestVersion('k')).rejects.toThrow(/: 403 permission denied$/);
    reply = { status: 500, body: JSON.stringify({ errors: ['2 errors occurred:\n\t* a\n\t* b\n\n'] }) };
    await expect(client.latestVersion('k')).rejects.toThrow(/: 500 a; b$/);
  });
});
