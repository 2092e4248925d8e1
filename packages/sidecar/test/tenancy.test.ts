/**
 * Tenancy: the tenants file (parsing and every error), isolation between two tenants through
 * every API route (the route list comes from the served OpenAPI document, so a new route that is
 * not in the table below fails here), push and pull isolation, the audit log, and usage.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import pino from 'pino';
import { decodeOtlpJsonText, Span } from '@betrace/evaluator';
import { TempoDouble } from '../../../tests/support/tempoDouble';
import { main } from '../src/cli';
import { loadConfig } from '../src/config';
import { createSidecar, Sidecar } from '../src/sidecar';
import { Store } from '../src/store';
import { UsageMeter } from '../src/usage';
import { loadTenantsFile, parseTenants, sha256Hex, TenantsFileError } from '../src/tenants';
import { ApiContract } from './support/apiContract';
import { shopCorpus, spansOf } from './support/discoverCorpus';
import { grafanaDouble, HttpDouble } from './support/doubles';

const root = path.join(__dirname, '../../..');
const MINUTE = 60_000;
const H = (s: string) => sha256Hex(s);
const tmp = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), prefix));

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) {
    await c();
  }
});

// ---------------------------------------------------------------- the tenants file

describe('the tenants file', () => {
  const env = {
    A_HMAC: 'a-hmac-secret-0123456789',
    A_K1: 'a-evidence-key-1-0123456789',
    A_K2: 'a-evidence-key-2-0123456789',
    A_GRAFANA: 'glsa_a',
  };

  it('reads every field, resolving env: secrets and rulesDir relative to the file', () => {
    const dir = tmp('betrace-tenants-');
    fs.mkdirSync(path.join(dir, 'rules-a'));
    const file = path.join(dir, 'tenants.yaml');
    fs.writeFileSync(
      file,
      `tenants:
  - id: team-a
    apiTokens:
      - { name: grafana, sha256: ${H('token-a')} }
      - { name: ci, sha256: "${H('token-a2').toUpperCase()}" }
    ingestKeys: [{ name: collector, sha256: ${H('ingest-a')} }]
    ingestHmacSecret: env:A_HMAC
    rateLimit: { spansPerSecond: 5000, burst: 20000 }
    tempoOrgId: org-a
    evidenceKeys:
      - { id: k1, secret: env:A_K1, retired: true }
      - { id: k2, secret: env:A_K2 }
    redaction: { detectors: [email, card, ip], action: hash, keys: [user.email], allowKeys: [http.route], hashKey: env:A_HMAC }
    grafana: { url: "https://grafana.example.com/", token: env:A_GRAFANA }
    rulesDir: ./rules-a
  - id: team-b
    apiTokens: [{ name: grafana, sha256: ${H('token-b')} }]
`
    );
    const tenants = loadTenantsFile(file, env);
    expect(tenants).toEqual([
      {
        id: 'team-a',
        apiTokens: [
          { name: 'grafana', sha256: H('token-a') },
          { name: 'ci', sha256: H('token-a2') },
        ],
        ingestKeys: [{ name: 'collector', sha256: H('ingest-a') }],
        ingestHmacSecret: env.A_HMAC,
        rateLimit: { spansPerSecond: 5000, burst: 20000 },
        tempoOrgId: 'org-a',
        evidenceKeys: [
          { id: 'k1', secret: env.A_K1, retired: true },
          { id: 'k2', secret: env.A_K2 },
        ],
        redaction: {
          detectors: ['email', 'card', 'ip'],
          action: 'hash',
          keys: ['user.email'],
          allowKeys: ['http.route'],
          hashKey: env.A_HMAC,
        },
        grafana: { url: 'https://grafana.example.com', token: 'glsa_a' },
        rulesDir: path.join(dir, 'rules-a'),
      },
      {
        id: 'team-b',
        apiTokens: [{ name: 'grafana', sha256: H('token-b') }],
        ingestKeys: [],
        evidenceKeys: [],
        redaction: {
          detectors: ['email', 'card', 'ssn', 'phone', 'jwt', 'bearer', 'apikey'],
          action: 'redact',
          keys: [],
          allowKeys: [],
        },
      },
    ]);
  });

  const ok = `{ name: t, sha256: ${H('x')} }`;
  const one = (fields: string) => `tenants:\n  - id: team-a\n    apiTokens: [${ok}]\n${fields}`;

  it.each<[string, string, RegExp]>([
    ['text that is not YAML', 'tenants: [\n', /^f\.yaml: not valid YAML: /],
    ['a duplicate key', 'tenants: []\ntenants: []\n', /^f\.yaml: not valid YAML: Map keys must be unique/],
    ['no tenants list', 'teams: []\n', /^f\.yaml: tenants: expected a top-level list `tenants:`/],
    ['an empty list', 'tenants: []\n', /^f\.yaml: tenants: the list is empty/],
    [
      'an unknown top-level field',
      `tenants:\n  - id: a\n    apiTokens: [${ok}]\nversion: 2\n`,
      /^f\.yaml: version: unknown field \(known: tenants\)$/,
    ],
    [
      'a tenant that is not an object',
      'tenants:\n  - team-a\n',
      /^f\.yaml: tenant #1: tenants\[0\]: expected an object/,
    ],
    [
      'a bad id',
      `tenants:\n  - id: Team A\n    apiTokens: [${ok}]\n`,
      /^f\.yaml: tenant Team A: tenants\[0\]\.id: expected a tenant id of lowercase letters/,
    ],
    [
      'a missing id',
      `tenants:\n  - apiTokens: [${ok}]\n`,
      /^f\.yaml: tenant #1: tenants\[0\]\.id: expected a tenant id .* got undefined$/,
    ],
    [
      'a duplicate id',
      `tenants:\n  - id: a\n    apiTokens: [${ok}]\n  - id: a\n    apiTokens: [{ name: t, sha256: ${H('y')} }]\n`,
      /^f\.yaml: tenant a: tenants\[1\]\.id: tenant id a is listed twice$/,
    ],
    [
      'no API token',
      'tenants:\n  - id: a\n',
      /^f\.yaml: tenant a: tenants\[0\]\.apiTokens: at least one API token is required/,
    ],
    [
      'an empty token list',
      'tenants:\n  - id: a\n    apiTokens: []\n',
      /^f\.yaml: tenant a: tenants\[0\]\.apiTokens: at least one API token is required$/,
    ],
    [
      'a token list that is not a list',
      'tenants:\n  - id: a\n    apiTokens: abc\n',
      /^f\.yaml: tenant a: tenants\[0\]\.apiTokens: expected a list of \{ name, sha256 \}$/,
    ],
    [
      'a plaintext token',
      'tenants:\n  - id: a\n    apiTokens: [{ name: t, token: s3cret }]\n',
      /tenant a: tenants\[0\]\.apiTokens\[0\]: a plaintext API token is refused: .*betrace tenants hash-token/,
    ],
    [
      'a plaintext ingest key',
      one('    ingestKeys: [{ name: c, key: s3cret }]\n'),
      /tenant team-a: tenants\[0\]\.ingestKeys\[0\]: a plaintext ingest key is refused/,
    ],
    [
      'a hash that is not SHA-256 hex',
      'tenants:\n  - id: a\n    apiTokens: [{ name: t, sha256: abc }]\n',
      /tenant a: tenants\[0\]\.apiTokens\[0\]\.sha256: expected 64 hex characters \(the SHA-256 of the API token\), got "abc"$/,
    ],
    [
      'a token without a name',
      `tenants:\n  - id: a\n    apiTokens: [{ sha256: ${H('x')} }]\n`,
      /tenant a: tenants\[0\]\.apiTokens\[0\]\.name: expected a name/,
    ],
    [
      'a token name used twice',
      `tenants:\n  - id: a\n    apiTokens: [${ok}, { name: t, sha256: ${H('y')} }]\n`,
      /tenant a: tenants\[0\]\.apiTokens\[1\]\.name: t is used twice in apiTokens$/,
    ],
    [
      'one token for two tenants',
      `tenants:\n  - id: a\n    apiTokens: [${ok}]\n  - id: b\n    apiTokens: [${ok}]\n`,
      /tenant b: tenants\[1\]\.apiTokens\[0\]\.sha256: the same API token is already given to tenant a \(tenants\[0\]\.apiTokens\[0\]\): each must identify exactly one tenant$/,
    ],
    [
      'an unknown field (a typo)',
      one('    tempoOrgID: x\n'),
      /tenant team-a: tenants\[0\]\.tempoOrgID: unknown field \(known: id, apiTokens, /,
    ],
    [
      'an unknown field in a token',
      `tenants:\n  - id: a\n    apiTokens: [{ name: t, sha256: ${H('x')}, role: admin }]\n`,
      /tenant a: tenants\[0\]\.apiTokens\[0\]\.role: unknown field \(known: name, sha256, forwardsUser\)$/,
    ],
    [
      'an env: secret whose variable is not set',
      one('    ingestHmacSecret: env:NOPE\n'),
      /tenant team-a: tenants\[0\]\.ingestHmacSecret: the environment variable NOPE \(referenced as env:NOPE\) is not set$/,
    ],
    [
      'a short HMAC secret',
      one('    ingestHmacSecret: short\n'),
      /tenant team-a: tenants\[0\]\.ingestHmacSecret: is shorter than 16 characters/,
    ],
    [
      'a secret that is not a string',
      one('    ingestHmacSecret: 42\n'),
      /tenant team-a: tenants\[0\]\.ingestHmacSecret: expected a secret/,
    ],
    [
      'a rate limit that is not positive',
      one('    rateLimit: { spansPerSecond: 0 }\n'),
      /tenant team-a: tenants\[0\]\.rateLimit\.spansPerSecond: expected a positive number, got 0$/,
    ],
    [
      'a burst below the rate',
      one('    rateLimit: { spansPerSecond: 100, burst: 10 }\n'),
      /tenant team-a: tenants\[0\]\.rateLimit\.burst: must be at least spansPerSecond \(100\), got 10$/,
    ],
    [
      'a rate limit that is not an object',
      one('    rateLimit: 100\n'),
      /tenant team-a: tenants\[0\]\.rateLimit: expected \{ spansPerSecond, burst \}$/,
    ],
    [
      'an empty org id',
      one('    tempoOrgId: ""\n'),
      /tenant team-a: tenants\[0\]\.tempoOrgId: expected a Tempo org id/,
    ],
    [
      'one org id for two tenants',
      `tenants:\n  - id: a\n    apiTokens: [${ok}]\n    tempoOrgId: o\n  - id: b\n    apiTokens: [{ name: t, sha256: ${H('y')} }]\n    tempoOrgId: o\n`,
      /tenant b: tenants\[1\]\.tempoOrgId: o is already the org id of tenant a: two tenants reading one Tempo org would see each other's traces$/,
    ],
    [
      'evidence keys that are not a list',
      one('    evidenceKeys: k1\n'),
      /tenant team-a: tenants\[0\]\.evidenceKeys: expected a list of \{ id, secret, retired\? \}$/,
    ],
    [
      'an evidence key without a secret',
      one('    evidenceKeys: [{ id: k1 }]\n'),
      /tenant team-a: tenants\[0\]\.evidenceKeys\[0\]\.secret: is required/,
    ],
    [
      'a short evidence key',
      one('    evidenceKeys: [{ id: k1, secret: abc }]\n'),
      /tenant team-a: tenants\[0\]\.evidenceKeys\[0\]\.secret: is shorter than 16 characters/,
    ],
    [
      'an evidence key without an id',
      one('    evidenceKeys: [{ secret: 0123456789abcdef0 }]\n'),
      /tenant team-a: tenants\[0\]\.evidenceKeys\[0\]\.id: expected a key id, got undefined$/,
    ],
    [
      'an evidence key id used twice',
      one(
        '    evidenceKeys: [{ id: k1, secret: 0123456789abcdef0, retired: true }, { id: k1, secret: 0123456789abcdef1 }]\n'
      ),
      /tenant team-a: tenants\[0\]\.evidenceKeys\[1\]\.id: key id k1 is listed twice$/,
    ],
    [
      'two current evidence keys',
      one('    evidenceKeys: [{ id: k1, secret: 0123456789abcdef0 }, { id: k2, secret: 0123456789abcdef1 }]\n'),
      /tenant team-a: tenants\[0\]\.evidenceKeys: exactly one key must be current \(not retired\), found 2$/,
    ],
    [
      'no current evidence key',
      one('    evidenceKeys: [{ id: k1, secret: 0123456789abcdef0, retired: true }]\n'),
      /tenants\[0\]\.evidenceKeys: exactly one key must be current \(not retired\), found 0$/,
    ],
    [
      'retired that is not a boolean',
      one('    evidenceKeys: [{ id: k1, secret: 0123456789abcdef0, retired: yes please }]\n'),
      /tenants\[0\]\.evidenceKeys\[0\]\.retired: expected true or false, got "yes please"$/,
    ],
    [
      'an unknown detector',
      one('    redaction: { detectors: [email, dna] }\n'),
      /tenant team-a: tenants\[0\]\.redaction\.detectors\[1\]: unknown detector "dna" \(known: email, card, ssn, phone, jwt, bearer, apikey, ip\)$/,
    ],
    [
      'an unknown redaction action',
      one('    redaction: { action: shred }\n'),
      /tenant team-a: tenants\[0\]\.redaction\.action: expected one of redact, mask, hash, drop, got "shred"$/,
    ],
    [
      'redaction keys that are not strings',
      one('    redaction: { keys: [1, 2] }\n'),
      /tenant team-a: tenants\[0\]\.redaction\.keys: expected a list of strings$/,
    ],
    [
      'a redaction policy that is not an object',
      one('    redaction: strict\n'),
      /tenant team-a: tenants\[0\]\.redaction: expected \{ detectors, action, keys, allowKeys, hashKey \}$/,
    ],
    [
      'a Grafana URL that is not http(s)',
      one('    grafana: { url: "ftp://g", token: t }\n'),
      /tenant team-a: tenants\[0\]\.grafana\.url: expected an http\(s\) URL, got "ftp:\/\/g"$/,
    ],
    [
      'a Grafana target without a token',
      one('    grafana: { url: "http://g" }\n'),
      /tenant team-a: tenants\[0\]\.grafana\.token: is required/,
    ],
    [
      'a rulesDir that does not exist',
      one('    rulesDir: ./nowhere\n'),
      /tenant team-a: tenants\[0\]\.rulesDir: .*nowhere is not a directory$/,
    ],
  ])('refuses %s, naming the file, the tenant and the field', (_what, yaml, message) => {
    let error: unknown;
    try {
      parseTenants(yaml, 'f.yaml', {});
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TenantsFileError);
    expect((error as Error).message).toMatch(message);
  });

  it('reports every problem at once, one per line', () => {
    const yaml =
      'tenants:\n  - id: a\n    apiTokens: [{ name: t, token: x }]\n    tempoOrgId: ""\n  - id: B\n    apiTokens: []\n';
    expect(() => parseTenants(yaml, 'f.yaml', {})).toThrow(
      /^f\.yaml: 4 problems:\n {2}tenant a: tenants\[0\]\.apiTokens\[0\]: a plaintext .*\n {2}tenant a: tenants\[0\]\.tempoOrgId: .*\n {2}tenant B: tenants\[1\]\.id: .*\n {2}tenant B: tenants\[1\]\.apiTokens: at least one API token is required$/
    );
  });

  it('names a file it cannot read', () => {
    expect(() => loadTenantsFile('/nonexistent/tenants.yaml', {})).toThrow(
      /^\/nonexistent\/tenants\.yaml: cannot read the tenants file: ENOENT/
    );
  });

  it('betrace tenants hash-token prints the SHA-256 a file stores, and check validates a file', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = {
      stdout: (t: string) => out.push(t),
      stderr: (t: string) => err.push(t),
      cwd: tmp('betrace-cli-'),
      env: {},
    };
    expect(await main(['tenants', 'hash-token', 'abc'], io)).toBe(0);
    // The published SHA-256 test vector of "abc" (FIPS 180-2): what `printf %s abc | sha256sum` prints.
    expect(out.join('')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n');
    fs.writeFileSync(path.join(io.cwd, 'good.yaml'), `tenants:\n  - id: a\n    apiTokens: [${ok}]\n`);
    fs.writeFileSync(path.join(io.cwd, 'bad.yaml'), 'tenants:\n  - id: a\n');
    expect(await main(['tenants', 'check', 'good.yaml'], io)).toBe(0);
    expect(out.join('')).toContain('good.yaml: 1 tenant (a)');
    expect(await main(['tenants', 'check', 'bad.yaml'], io)).toBe(1);
    expect(err.join('')).toMatch(/bad\.yaml: tenant a: tenants\[0\]\.apiTokens: at least one API token is required/);
    expect(await main(['tenants', 'nope'], io)).toBe(2);
  });

  it('stops the sidecar from starting, and serve exits 2 with the message', async () => {
    const dir = tmp('betrace-tenants-');
    fs.writeFileSync(path.join(dir, 't.yaml'), 'tenants:\n  - id: a\n    apiTokens: [{ name: t, token: plain }]\n');
    const config = loadConfig({ EVAL_WORKERS: '0', DATA_DIR: dir, TENANTS_FILE: path.join(dir, 't.yaml') });
    expect(() => createSidecar(config, { logger: pino({ level: 'silent' }) })).toThrow(TenantsFileError);
    const err: string[] = [];
    const code = await main(['serve'], {
      stdout: () => undefined,
      stderr: (t) => err.push(t),
      cwd: dir,
      env: { DATA_DIR: dir, TENANTS_FILE: path.join(dir, 't.yaml'), LOG_LEVEL: 'silent' },
    });
    expect(code).toBe(2);
    expect(err.join('')).toMatch(
      /configuration error: .*t\.yaml: tenant a: tenants\[0\]\.apiTokens\[0\]: a plaintext API token is refused/
    );
  });

  it('needs an org id per tenant with several tenants whenever Tempo is read or written', () => {
    const dir = tmp('betrace-tenants-');
    fs.writeFileSync(
      path.join(dir, 't.yaml'),
      `tenants:\n  - id: a\n    apiTokens: [${ok}]\n    tempoOrgId: o\n  - id: b\n    apiTokens: [{ name: t, sha256: ${H('y')} }]\n`
    );
    const message =
      'TENANTS_FILE: with several tenants and TEMPO_URL, OTLP_EXPORT_URL or gateway mode, each tenant needs its own tempoOrgId (X-Scope-OrgID); missing for b';
    for (const env of [{ TEMPO_URL: 'http://tempo:3200' }, { OTLP_EXPORT_URL: 'http://tempo:4318' }]) {
      const config = loadConfig({ EVAL_WORKERS: '0', DATA_DIR: dir, TENANTS_FILE: path.join(dir, 't.yaml'), ...env });
      expect(() => createSidecar(config, { logger: pino({ level: 'silent' }) })).toThrow(message);
    }
    const gateway = loadConfig({ EVAL_WORKERS: '0', DATA_DIR: dir, TENANTS_FILE: path.join(dir, 't.yaml'), TEMPO_OTLP_URL: 'http://tempo:4318/v1/traces' });
    gateway.gateway = true;
    expect(() => createSidecar(gateway, { logger: pino({ level: 'silent' }) })).toThrow(message);
  });
});

// ---------------------------------------------------------------- isolation

const exampleJson = (rule: string, verdict: 'violates' | 'satisfies') =>
  fs.readFileSync(path.join(root, 'examples/traces', rule, `${verdict}-1.json`), 'utf8');

/** An example trace's OTLP/JSON under another trace id. */
function withTraceId(json: string, traceId: string): string {
  const [trace] = decodeOtlpJsonText(json);
  return json.split(trace.traceId).join(traceId);
}

/** An example trace's spans under another trace id, starting at `atMs` (for the Tempo double). */
function spansAt(json: string, traceId: string, atMs: number): Span[] {
  const [trace] = decodeOtlpJsonText(withTraceId(json, traceId));
  const shift = BigInt(atMs) * 1_000_000n - trace.startNs;
  return trace.spans.map((s) => ({ ...s, startNs: s.startNs + shift, endNs: s.endNs + shift }));
}

interface Two {
  sidecar: Sidecar;
  api: string;
  otlp: string;
  tempo: TempoDouble;
  clock: { now: number };
  /** The OpenAPI document's check of an answer. */
  contract: ApiContract;
  call: (
    token: string,
    method: string,
    url: string,
    body?: unknown,
    user?: string
  ) => Promise<{ status: number; text: string; json: any }>;
}

const TOKEN_A = 'token-of-tenant-a-0123456789';
const TOKEN_B = 'token-of-tenant-b-0123456789';
const INGEST_A = 'ingest-key-of-tenant-a';
const INGEST_B = 'ingest-key-of-tenant-b';

async function twoTenants(): Promise<Two> {
  const clock = { now: Date.UTC(2026, 10, 25, 12, 0, 0) };
  const tempo = new TempoDouble({ multiTenant: true, now: () => clock.now });
  const tempoUrl = await tempo.start();
  cleanups.push(() => tempo.stop());
  const dir = tmp('betrace-two-');
  fs.writeFileSync(
    path.join(dir, 'tenants.yaml'),
    `tenants:
  - id: a
    apiTokens: [{ name: a-ci, sha256: ${H(TOKEN_A)} }]
    ingestKeys: [{ name: a-collector, sha256: ${H(INGEST_A)} }]
    tempoOrgId: org-a
    rulesDir: ${JSON.stringify(path.join(root, 'examples/rules'))}
  - id: b
    apiTokens: [{ name: b-ci, sha256: ${H(TOKEN_B)}, forwardsUser: true }]
    ingestKeys: [{ name: b-collector, sha256: ${H(INGEST_B)} }]
    tempoOrgId: org-b
`
  );
  const config = loadConfig({ EVAL_WORKERS: '0',
    DATA_DIR: dir,
    TENANTS_FILE: path.join(dir, 'tenants.yaml'),
    OTLP_PORT: '0',
    API_PORT: '0',
    HOST: '127.0.0.1',
    TEMPO_URL: tempoUrl,
  });
  const sidecar = createSidecar(config, {
    now: () => clock.now,
    logger: pino({ level: 'silent' }),
    tickMs: 3_600_000,
    pollIntervalMs: 0,
  });
  const { otlpPort, apiPort } = await sidecar.start();
  cleanups.push(() => sidecar.stop());
  const api = `http://127.0.0.1:${apiPort}`;
  // Every answer is checked against the OpenAPI document: documented status, media type and schema.
  const contract = await ApiContract.of(api);
  const call = async (token: string, method: string, url: string, body?: unknown, user?: string) => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (user !== undefined) headers['x-grafana-user'] = user;
    const res = await fetch(`${api}${url}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    contract.check(method, url, res.status, res.headers.get('content-type'), text);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, text, json: json as any };
  };
  return { sidecar, api, otlp: `http://127.0.0.1:${otlpPort}/v1/traces`, tempo, clock, call, contract };
}

describe('tenant isolation', () => {
  it('A’s token reads, changes, replays, tests against and audits nothing of B, through every route', async () => {
    const t = await twoTenants();
    const { sidecar, clock, call } = t;
    const now = clock.now;
    const fraudCondition =
      'when { p: payment.charge.where(amount > 1000) }\nalways { payment.fraud_check.where(order_id == p.order_id).before(p, within 5s) }';
    const bRule = {
      id: 'b-rule',
      name: 'B private rule',
      severity: 'critical',
      description: 'b-private-description',
      message: 'b-private-message {p.order_id}',
      compliance: [{ framework: 'soc2', control: 'B-PRIVATE-CONTROL' }],
      condition: fraudCondition,
    };
    expect((await call(TOKEN_B, 'POST', '/api/v1/rules', bRule, 'b-user-zed')).status).toBe(201);
    // The same rule id as one of A's: each tenant has its own.
    expect(
      (await call(TOKEN_B, 'POST', '/api/v1/rules', { ...bRule, id: 'payment-fraud-check' }, 'b-user-zed')).status
    ).toBe(201);

    // Push: one trace id in both tenants (A's spans violate, B's satisfy), and one only B has;
    // each tenant sends with its own ingest key, and A's API token is not an ingest key.
    const X = '0a'.repeat(16);
    const Y = '0b'.repeat(16);
    const push = async (key: string, body: string) =>
      (await fetch(t.otlp, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': key }, body })).status;
    expect(await push(TOKEN_A, withTraceId(exampleJson('payment-fraud-check', 'violates'), X))).toBe(401);
    expect(await push(INGEST_A, withTraceId(exampleJson('payment-fraud-check', 'violates'), X))).toBe(200);
    expect(await push(INGEST_B, withTraceId(exampleJson('payment-fraud-check', 'satisfies'), X))).toBe(200);
    expect(await push(INGEST_B, withTraceId(exampleJson('payment-fraud-check', 'violates'), Y))).toBe(200);
    clock.now += 10_001;
    await sidecar.shards.tick();

    // Pull: V is A's in Tempo org-a, Z is B's in org-b.
    const V = '0c'.repeat(16);
    const Z = '0d'.repeat(16);
    t.tempo.ingest('org-a', spansAt(exampleJson('payment-fraud-check', 'violates'), V, now - 10 * MINUTE));
    t.tempo.ingest('org-b', spansAt(exampleJson('payment-fraud-check', 'violates'), Z, now - 10 * MINUTE));
    const before = t.tempo.requests.length;
    await sidecar.pollers.get('a')!.pollOnce();
    expect(t.tempo.requests.slice(before).every((r) => r.tenant === 'org-a')).toBe(true);
    const mid = t.tempo.requests.length;
    await sidecar.pollers.get('b')!.pollOnce();
    expect(t.tempo.requests.slice(mid).every((r) => r.tenant === 'org-b')).toBe(true);

    const signalsOf = (tenant: string) => sidecar.store.listSignals(tenant, { limit: 1000 }).signals;
    // A's rules saw only A's spans: X violates (B's fraud check did not satisfy it), V from Tempo; never Y or Z.
    expect(
      signalsOf('a')
        .filter((s) => s.ruleId === 'payment-fraud-check')
        .map((s) => s.traceId)
        .sort()
    ).toEqual([X, V].sort());
    expect(signalsOf('a').some((s) => s.traceId === Y || s.traceId === Z)).toBe(false);
    // B's rules saw only B's: not X (B's own X satisfies), Y pushed, Z pulled; never V.
    expect(
      signalsOf('b')
        .map((s) => `${s.ruleId} ${s.traceId}`)
        .sort()
    ).toEqual([`b-rule ${Y}`, `b-rule ${Z}`, `payment-fraud-check ${Y}`, `payment-fraud-check ${Z}`].sort());
    const sB = signalsOf('b').find((s) => s.ruleId === 'b-rule' && s.traceId === Y)!.id;
    expect(
      (
        await call(
          TOKEN_B,
          'PATCH',
          `/api/v1/signals/${sB}`,
          { status: 'acknowledged', note: 'b-private-note' },
          'b-user-zed'
        )
      ).status
    ).toBe(200);

    // B's replay job (dry run) finds Z in B's Tempo.
    const replay = { ruleIds: ['b-rule'], from: String(now - 15 * MINUTE), to: String(now - 5 * MINUTE), dryRun: true };
    const jobB = (await call(TOKEN_B, 'POST', '/api/v1/replay', replay)).json.id as string;
    await sidecar.replays.get('b')!.idle();
    expect((await call(TOKEN_B, 'GET', `/api/v1/replay/${jobB}`)).json).toMatchObject({
      status: 'done',
      violationsFound: 1,
      violations: [expect.objectContaining({ traceId: Z })],
    });

    // B's discovery over B's shop traces in B's Tempo org: a suggestion of B's to adopt or dismiss.
    t.tempo.ingest('org-b', spansOf(shopCorpus(60, now - 40 * MINUTE)));
    const discoverB = { from: now - 45 * MINUTE, to: now - 30 * MINUTE };
    const djB = (await call(TOKEN_B, 'POST', '/api/v1/discover', discoverB, 'b-user-zed')).json.id as string;
    await sidecar.discovery.idle('b');
    const doneB = (await call(TOKEN_B, 'GET', `/api/v1/discover/${djB}`)).json;
    expect(doneB.state).toBe('done');
    const sgB = doneB.suggestions[0].id as string;
    const traceOfB = doneB.suggestions[0].exampleTraceIds[0] as string;

    // Everything of B, as B sees it, before A tries anything.
    const snapshotB = async () =>
      Promise.all(
        [
          '/api/v1/rules',
          `/api/v1/rules/b-rule/history`,
          '/api/v1/signals?limit=1000',
          `/api/v1/signals/${sB}`,
          `/api/v1/replay/${jobB}`,
          '/api/v1/discover',
          `/api/v1/discover/${djB}`,
          '/api/v1/audit?limit=1000',
          '/api/v1/usage',
          '/api/v1/evidence/keys',
        ].map(async (u) => (await call(TOKEN_B, 'GET', u)).text)
      );
    const bBefore = await snapshotB();
    expect(JSON.parse(bBefore[7]).total).toBe(4); // two rules created, one status change, one discovery

    // Strings only B's data holds; a response to A may contain one only if A sent it.
    const markers = [
      'B-PRIVATE-CONTROL',
      'B private rule',
      'b-private-description',
      'b-private-message',
      'b-private-note',
      'b-user-zed',
      'b-ci',
      sB,
      jobB,
      djB,
      sgB,
      traceOfB,
      Y,
      Z,
    ];
    let aDiscovery = '';
    let aJob = '';
    const aRule = { id: 'b-rule', name: 'A own rule', severity: 'low', condition: 'checkout' };
    type Attempt = { method: string; url: string | (() => string); body?: unknown; check: (r: { status: number; json: any }) => void };
    const notFound = (r: { status: number }) => expect(r.status).toBe(404);
    const attempts: Record<string, Attempt[]> = {
      'GET /api/v1/rules': [
        {
          method: 'GET',
          url: '/api/v1/rules',
          check: (r) => expect(r.json.rules.map((x: { id: string }) => x.id)).not.toContain('b-rule'),
        },
      ],
      'GET /api/v1/rules/{id}': [
        { method: 'GET', url: '/api/v1/rules/b-rule', check: notFound },
        {
          method: 'GET',
          url: '/api/v1/rules/payment-fraud-check',
          check: (r) => expect(r.json).toMatchObject({ name: 'Large payments need a fraud check', provisioned: true }),
        },
      ],
      'GET /api/v1/rules/{id}/history': [
        { method: 'GET', url: '/api/v1/rules/b-rule/history', check: (r) => expect(r.json).toEqual({ versions: [] }) },
      ],
      'PUT /api/v1/rules/{id}': [{ method: 'PUT', url: '/api/v1/rules/b-rule', body: aRule, check: notFound }],
      'PATCH /api/v1/rules/{id}': [
        { method: 'PATCH', url: '/api/v1/rules/b-rule', body: { enabled: false, note: 'a was here' }, check: notFound },
      ],
      'DELETE /api/v1/rules/{id}': [{ method: 'DELETE', url: '/api/v1/rules/b-rule', check: notFound }],
      'POST /api/v1/rules/{id}/rollback': [
        { method: 'POST', url: '/api/v1/rules/b-rule/rollback', body: { version: 1 }, check: notFound },
      ],
      'POST /api/v1/rules/validate': [
        {
          method: 'POST',
          url: '/api/v1/rules/validate',
          body: { condition: fraudCondition },
          check: (r) => expect(r.json.valid).toBe(true),
        },
      ],
      'POST /api/v1/rules/test': [
        { method: 'POST', url: '/api/v1/rules/test', body: { ruleId: 'b-rule', traces: [] }, check: notFound },
        // B's trace id, through A's Tempo org: unknown there.
        {
          method: 'POST',
          url: '/api/v1/rules/test',
          body: { condition: fraudCondition, traceIds: [Z] },
          check: notFound,
        },
      ],
      'GET /api/v1/signals': [
        {
          method: 'GET',
          url: '/api/v1/signals?limit=1000',
          check: (r) => expect(r.json.signals.every((s: { tenant: string }) => s.tenant === 'a')).toBe(true),
        },
      ],
      'GET /api/v1/signals/summary': [
        {
          method: 'GET',
          url: '/api/v1/signals/summary',
          // Counts per rule of A's own signals only: B's rule and its signal are not in them.
          check: (r) => expect(r.json.rules.map((c: { ruleId: string }) => c.ruleId)).not.toContain('b-rule'),
        },
      ],
      'GET /api/v1/signals/{id}': [{ method: 'GET', url: `/api/v1/signals/${sB}`, check: notFound }],
      'PATCH /api/v1/signals/{id}': [
        {
          method: 'PATCH',
          url: `/api/v1/signals/${sB}`,
          body: { status: 'resolved', note: 'a was here' },
          check: notFound,
        },
      ],
      'POST /api/v1/replay': [
        { method: 'POST', url: '/api/v1/replay', body: { ...replay, ruleIds: ['b-rule'] }, check: notFound },
        // A's own replay over the range of B's trace Z, in A's Tempo org: finds A's V, never Z.
        {
          method: 'POST',
          url: '/api/v1/replay',
          body: { rule: { condition: fraudCondition }, from: replay.from, to: replay.to, dryRun: true },
          check: (r) => {
            expect(r.status).toBe(202);
            aJob = r.json.id as string;
          },
        },
      ],
      'GET /api/v1/replay/{id}': [{ method: 'GET', url: `/api/v1/replay/${jobB}`, check: notFound }],
      'DELETE /api/v1/replay/{id}': [{ method: 'DELETE', url: `/api/v1/replay/${jobB}`, check: notFound }],
      'POST /api/v1/discover': [
        // A's own discovery over the range of B's shop traces, in A's Tempo org: none of B's.
        {
          method: 'POST',
          url: '/api/v1/discover',
          body: discoverB,
          check: (r) => {
            expect(r.status).toBe(202);
            aDiscovery = r.json.id as string;
          },
        },
      ],
      'GET /api/v1/rules/health': [
        { method: 'GET', url: '/api/v1/rules/health', check: (r) => expect([r.status, Array.isArray(r.json.rules)]).toEqual([200, true]) }, // B's rules and counts: the markers check
      ],
      'GET /api/v1/rules/{id}/health': [{ method: 'GET', url: '/api/v1/rules/b-rule/health', check: notFound }],
      'GET /api/v1/rules/{id}/slo': [{ method: 'GET', url: '/api/v1/rules/b-rule/slo', check: notFound }],
      'GET /api/v1/slos': [{ method: 'GET', url: '/api/v1/slos', check: (r) => expect(JSON.stringify(r.json.slos)).not.toContain('b-rule') }],
      'GET /api/v1/discover': [
        { method: 'GET', url: '/api/v1/discover', check: (r) => expect(r.json.jobs.map((j: { id: string }) => j.id)).toEqual([aDiscovery]) },
      ],
      'GET /api/v1/discover/{id}': [{ method: 'GET', url: `/api/v1/discover/${djB}`, check: notFound }],
      'DELETE /api/v1/discover/{id}': [{ method: 'DELETE', url: `/api/v1/discover/${djB}`, check: notFound }],
      'POST /api/v1/discover/{id}/suggestions/{sid}/adopt': [
        { method: 'POST', url: `/api/v1/discover/${djB}/suggestions/${sgB}/adopt`, body: { enabled: true }, check: notFound },
      ],
      'POST /api/v1/discover/{id}/suggestions/{sid}/dismiss': [
        { method: 'POST', url: `/api/v1/discover/${djB}/suggestions/${sgB}/dismiss`, check: notFound },
      ],
      'GET /api/v1/discover/{id}/traces/{traceId}': [
        { method: 'GET', url: `/api/v1/discover/${djB}/traces/${traceOfB}`, check: notFound },
        // B's trace through A's own job: A's Tempo org does not have it.
        { method: 'GET', url: () => `/api/v1/discover/${aDiscovery}/traces/${traceOfB}`, check: notFound },
      ],
      'GET /api/v1/audit': [
        {
          method: 'GET',
          url: '/api/v1/audit?limit=1000',
          check: (r) => expect(r.json.entries.every((e: { tenant: string }) => e.tenant === 'a')).toBe(true),
        },
      ],
      'GET /api/v1/cluster/leases': [
        {
          method: 'GET',
          url: '/api/v1/cluster/leases',
          check: (r) => {
            expect(r.status).toBe(200);
            expect((r.json as { leases: Array<{ key: string }> }).leases.filter((l) => !/^(pull|replay):a:/.test(l.key))).toEqual([]);
          },
        },
      ],
      'GET /api/v1/usage': [
        {
          method: 'GET',
          url: '/api/v1/usage',
          check: (r) =>
            expect(r.json).toMatchObject({ tenant: 'a', totals: { signals: signalsOf('a').length, spans: 7 } }),
        },
      ],
      // The evidence routes (issue 6, evidence work): checked once they are served.
      'GET /api/v1/evidence': [{ method: 'GET', url: '/api/v1/evidence', check: (r) => expect(r.status).toBe(200) }],
      'GET /api/v1/evidence/export': [
        { method: 'GET', url: '/api/v1/evidence/export?format=json', check: (r) => expect(r.status).toBe(200) },
        { method: 'GET', url: '/api/v1/evidence/export?format=csv', check: (r) => expect(r.status).toBe(200) },
        {
          method: 'GET',
          url: '/api/v1/evidence/export?format=json&framework=soc2&control=B-PRIVATE-CONTROL',
          check: (r) => expect(r.status).toBe(200),
        },
      ],
      'GET /api/v1/evidence/keys': [
        {
          method: 'GET',
          url: '/api/v1/evidence/keys',
          check: (r) => {
            const keys = (r.json as { keys: Array<{ id: string }> }).keys;
            expect(keys.length).toBeGreaterThan(0);
            expect(keys.filter((k) => k.id.startsWith('b-'))).toEqual([]);
          },
        },
      ],
      'POST /api/v1/evidence/keys/rotate': [
        { method: 'POST', url: '/api/v1/evidence/keys/rotate', body: {}, check: (r) => expect(r.status).toBe(201) },
      ],
      'GET /api/v1/openapi.json': [
        { method: 'GET', url: '/api/v1/openapi.json', check: (r) => expect(r.status).toBe(200) },
      ],
      // Last: A creates its own rule under B's rule id; B's stays B's.
      'POST /api/v1/rules': [
        {
          method: 'POST',
          url: '/api/v1/rules',
          body: aRule,
          check: (r) => expect(r.json).toMatchObject({ id: 'b-rule', name: 'A own rule', version: 1 }),
        },
      ],
    };

    // Every tenant route of the served API is in the table: a new route must say how it is scoped.
    const doc = (await call(TOKEN_A, 'GET', '/api/v1/openapi.json')).json as {
      paths: Record<string, Record<string, unknown>>;
    };
    const routes = Object.entries(doc.paths)
      .flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`))
      .filter((r) => r.includes(' /api/v1'));
    expect(routes.filter((r) => !(r in attempts))).toEqual([]);
    expect(Object.keys(attempts).filter((r) => !routes.includes(r))).toEqual([]);

    for (const route of Object.keys(attempts).filter((r) => routes.includes(r))) {
      for (const attempt of attempts[route]) {
        const a = { ...attempt, url: typeof attempt.url === 'function' ? attempt.url() : attempt.url };
        const r = await call(TOKEN_A, a.method, a.url, a.body);
        const sent = `${a.url} ${JSON.stringify(a.body ?? '')}`;
        for (const m of markers.filter((x) => !sent.includes(x))) {
          if (r.text.includes(m)) {
            throw new Error(
              `${a.method} ${a.url} with A's token answered with B's ${JSON.stringify(m)}: ${r.text.slice(0, 300)}`
            );
          }
        }
        a.check(r);
        // Without a token, with a wrong one, or with a token's hash as the token: 401 (but for the
        // OpenAPI document, which describes the API and holds no tenant's data).
        for (const auth of [undefined, 'Bearer nope', `Bearer ${H(TOKEN_A)}`]) {
          const res = await fetch(`${t.api}${a.url}`, {
            method: a.method,
            headers: {
              ...(auth ? { authorization: auth } : {}),
              ...(a.body ? { 'content-type': 'application/json' } : {}),
            },
            body: a.body ? JSON.stringify(a.body) : undefined,
          });
          t.contract.check(a.method, a.url, res.status, res.headers.get('content-type'), await res.text());
          expect([route, res.status]).toEqual([route, route === 'GET /api/v1/openapi.json' ? 200 : 401]);
        }
      }
    }
    // A's dry run over the same range saw A's V only.
    await sidecar.replays.get('a')!.idle();
    const aDone = (await call(TOKEN_A, 'GET', `/api/v1/replay/${aJob}`)).json as {
      status: string;
      violations: Array<{ traceId: string }>;
    };
    expect([aDone.status, aDone.violations.map((v) => v.traceId)]).toEqual(['done', [V]]);

    // A's discovery read A's traces only: none of B's suggestions, nothing adopted into A's rules from B.
    await sidecar.discovery.idle('a');
    const aFound = (await call(TOKEN_A, 'GET', `/api/v1/discover/${aDiscovery}`)).json;
    expect(aFound.state).toBe('done');
    expect(aFound.suggestions.map((x: { id: string }) => x.id)).not.toContain(sgB);

    // Nothing of B changed.
    expect(await snapshotB()).toEqual(bBefore);
  });
});

describe('per-tenant settings', () => {
  it('annotates each tenant’s signals in its own Grafana, and none for a tenant without a target', async () => {
    const grafanaA = grafanaDouble();
    const urlA = await grafanaA.start();
    cleanups.push(() => grafanaA.stop());
    const dir = tmp('betrace-grafana-');
    fs.writeFileSync(
      path.join(dir, 't.yaml'),
      `tenants:
  - id: a
    apiTokens: [{ name: a, sha256: ${H(TOKEN_A)} }]
    grafana: { url: ${JSON.stringify(urlA)}, token: env:A_GRAFANA_TOKEN }
    rulesDir: ${JSON.stringify(path.join(root, 'examples/rules'))}
  - id: b
    apiTokens: [{ name: b, sha256: ${H(TOKEN_B)} }]
    rulesDir: ${JSON.stringify(path.join(root, 'examples/rules'))}
`
    );
    const clock = { now: Date.UTC(2026, 10, 25, 12, 0, 0) };
    const config = loadConfig({ EVAL_WORKERS: '0',
      DATA_DIR: dir,
      TENANTS_FILE: path.join(dir, 't.yaml'),
      OTLP_PORT: '0',
      API_PORT: '0',
      HOST: '127.0.0.1',
    });
    const sidecar = createSidecar(config, {
      now: () => clock.now,
      logger: pino({ level: 'silent' }),
      tickMs: 3_600_000,
      writerIntervalMs: 3_600_000,
      env: { A_GRAFANA_TOKEN: 'glsa_a' },
    });
    await sidecar.start();
    cleanups.push(() => sidecar.stop());
    const json = exampleJson('no-auto-approve', 'violates');
    sidecar.shards.add('a', { kind: 'traces', traces: decodeOtlpJsonText(json) }, json.length, undefined);
    sidecar.shards.add('b', { kind: 'traces', traces: decodeOtlpJsonText(withTraceId(json, '0f'.repeat(16))) }, json.length, undefined);
    clock.now += 10_001;
    await sidecar.shards.tick();
    expect(sidecar.store.listSignals('b').total).toBeGreaterThan(0);
    for (const d of sidecar.dispatchers) {
      await d.runOnce();
    }
    expect(grafanaA.requests.length).toBe(sidecar.store.listSignals('a').total);
    expect(grafanaA.requests.every((r) => r.headers.authorization === 'Bearer glsa_a')).toBe(true);
    expect(
      grafanaA.requests
        .map((r) => JSON.parse(r.body.toString()) as { text: string })
        .some((b) => b.text.includes('0f'.repeat(16)))
    ).toBe(false);
    expect(sidecar.store.outboxDepth('grafana')).toBe(0);
  });

  it('writes each tenant’s signal and evidence spans into its own Tempo org (X-Scope-OrgID)', async () => {
    const sink = new HttpDouble();
    const sinkUrl = await sink.start();
    cleanups.push(() => sink.stop());
    const dir = tmp('betrace-orgs-');
    const rules = JSON.stringify(path.join(root, 'examples/rules'));
    fs.writeFileSync(
      path.join(dir, 't.yaml'),
      `tenants:
  - id: a
    apiTokens: [{ name: a, sha256: ${H(TOKEN_A)} }]
    tempoOrgId: org-a
    rulesDir: ${rules}
  - id: b
    apiTokens: [{ name: b, sha256: ${H(TOKEN_B)} }]
    tempoOrgId: org-b
    rulesDir: ${rules}
`
    );
    const clock = { now: Date.UTC(2026, 10, 25, 12, 0, 0) };
    const config = loadConfig({ EVAL_WORKERS: '0', DATA_DIR: dir, TENANTS_FILE: path.join(dir, 't.yaml'), OTLP_PORT: '0', API_PORT: '0', HOST: '127.0.0.1', OTLP_EXPORT_URL: sinkUrl });
    const sidecar = createSidecar(config, { now: () => clock.now, logger: pino({ level: 'silent' }), tickMs: 3_600_000, writerIntervalMs: 3_600_000 });
    await sidecar.start();
    cleanups.push(() => sidecar.stop());
    // A compliance rule (SOC 2 CC6.1) violated in a, a plain one in b.
    const a = exampleJson('soc2-cc6-1-access-control', 'violates');
    const b = withTraceId(exampleJson('no-auto-approve', 'violates'), '0f'.repeat(16));
    sidecar.shards.add('a', { kind: 'traces', traces: decodeOtlpJsonText(a) }, a.length, undefined);
    sidecar.shards.add('b', { kind: 'traces', traces: decodeOtlpJsonText(b) }, b.length, undefined);
    clock.now += 10_001;
    await sidecar.shards.tick();
    for (const d of sidecar.dispatchers) {
      await d.runOnce();
    }
    const orgs = sink.requests.map((r) => r.headers['x-scope-orgid']);
    expect(orgs.length).toBe(sidecar.store.listSignals('a').total + sidecar.store.listSignals('b').total + 1); // + a's per-trace evidence span
    expect(orgs.filter((o) => o === 'org-a').length).toBe(sidecar.store.listSignals('a').total + 1);
    expect(orgs.filter((o) => o === 'org-b').length).toBe(sidecar.store.listSignals('b').total);
  });

  it('keeps a generated evidence key for a tenant that lists none across restarts, its secret in the key folder and nowhere in the data folder; a listed key is used as is', async () => {
    const dir = tmp('betrace-keys-');
    fs.writeFileSync(
      path.join(dir, 't.yaml'),
      `tenants:
  - id: a
    apiTokens: [{ name: a, sha256: ${H(TOKEN_A)} }]
  - id: b
    apiTokens: [{ name: b, sha256: ${H(TOKEN_B)} }]
    evidenceKeys: [{ id: b1, secret: env:B_KEY }]
`
    );
    const open = () =>
      createSidecar(loadConfig({ EVAL_WORKERS: '0', DATA_DIR: dir, TENANTS_FILE: path.join(dir, 't.yaml') }), {
        logger: pino({ level: 'silent' }),
        env: { B_KEY: 'b-evidence-key-0123456789' },
      });
    const first = open();
    const keysA = first.evidence.store.keys('a');
    expect(keysA).toEqual([{ id: expect.stringMatching(/^k-\d{8}-[0-9a-f]{6}$/), source: 'generated', createdAt: expect.any(Number), check: expect.any(String) }]);
    const secretA = first.evidence.store.keyring('a').get(keysA[0].id)!;
    expect(secretA).toMatch(/^[0-9a-f]{64}$/);
    expect(first.evidence.store.keyring('b').get('b1')).toBe('b-evidence-key-0123456789');
    first.store.close();
    // The secret is in the key folder beside the data folder, mode 0600, and nowhere in the data folder.
    const keyFile = path.join(`${dir}-keys`, 'a.json');
    expect(JSON.parse(fs.readFileSync(keyFile, 'utf8'))).toEqual({ keys: { [keysA[0].id]: secretA } });
    expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
    const inDataFolder = (secret: string) =>
      fs
        .readdirSync(dir, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .some((e) => fs.readFileSync(path.join(e.parentPath, e.name)).includes(secret));
    expect(inDataFolder(secretA)).toBe(false);
    expect(inDataFolder('b-evidence-key-0123456789')).toBe(false);
    const second = open();
    expect(second.evidence.store.keys('a').map((k) => k.id)).toEqual([keysA[0].id]);
    expect(second.evidence.store.keyring('a').get(keysA[0].id)).toBe(secretA);
    second.store.close();
    // The single default tenant too.
    const plain = tmp('betrace-keys-');
    const d1 = createSidecar(loadConfig({ EVAL_WORKERS: '0', DATA_DIR: plain }), { logger: pino({ level: 'silent' }) });
    const k = d1.evidence.store.keys('default');
    d1.store.close();
    const d2 = createSidecar(loadConfig({ EVAL_WORKERS: '0', DATA_DIR: plain }), { logger: pino({ level: 'silent' }) });
    expect([d2.tenants[0].id, d2.evidence.store.keys('default')]).toEqual(['default', k]);
    expect(d2.evidence.store.keyring('default').get(k[0].id)).toBe(d1.evidence.store.keyring('default').get(k[0].id));
    d2.store.close();
  });
});

// ---------------------------------------------------------------- audit log

async function single(env: Record<string, string> = {}) {
  const dir = tmp('betrace-audit-');
  const clock = { now: Date.UTC(2026, 10, 25, 12, 0, 0) };
  const config = loadConfig({ EVAL_WORKERS: '0',
    DATA_DIR: dir,
    RULES_DIR: path.join(root, 'examples/rules'),
    OTLP_PORT: '0',
    API_PORT: '0',
    HOST: '127.0.0.1',
    ...env,
  });
  const sidecar = createSidecar(config, { now: () => clock.now, logger: pino({ level: 'silent' }), tickMs: 3_600_000 });
  const { otlpPort, apiPort } = await sidecar.start();
  cleanups.push(() => sidecar.stop());
  const api = `http://127.0.0.1:${apiPort}`;
  const contract = await ApiContract.of(api);
  const call = async (method: string, url: string, body?: unknown) => {
    const res = await fetch(`${api}${url}`, {
      method,
      headers: {
        authorization: `Bearer ${sidecar.token}`,
        'x-grafana-user': 'ana',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    contract.check(method, url, res.status, res.headers.get('content-type'), text);
    return { status: res.status, json: (res.status === 204 ? undefined : JSON.parse(text)) as any };
  };
  return { sidecar, clock, call, otlp: `http://127.0.0.1:${otlpPort}/v1/traces`, api };
}

describe('the audit log', () => {
  it('records every rule change and signal status change with who, when, before and after', async () => {
    const s = await single();
    const rule = {
      id: 'slow-checkout',
      name: 'Slow checkout',
      severity: 'high',
      condition: 'checkout.where(duration > 2s)',
    };
    expect((await s.call('POST', '/api/v1/rules', rule)).status).toBe(201);
    s.clock.now += 1000;
    expect(
      (await s.call('PUT', '/api/v1/rules/slow-checkout', { ...rule, condition: 'checkout.where(duration > 5s)' }))
        .status
    ).toBe(200);
    expect(
      (
        await s.call('PUT', '/api/v1/rules/slow-checkout', {
          ...rule,
          condition: 'checkout.where(duration > 5s)',
          enabled: false,
        })
      ).status
    ).toBe(200);
    expect(
      (
        await s.call('PUT', '/api/v1/rules/slow-checkout', {
          ...rule,
          condition: 'checkout.where(duration > 5s)',
          enabled: true,
        })
      ).status
    ).toBe(200);
    expect((await s.call('POST', '/api/v1/rules/slow-checkout/rollback', { version: 1 })).status).toBe(200);
    expect((await s.call('DELETE', '/api/v1/rules/slow-checkout')).status).toBe(204);
    await fetch(s.otlp, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: exampleJson('no-auto-approve', 'violates'),
    });
    s.clock.now += 10_001;
    await s.sidecar.shards.tick();
    const [signal] = s.sidecar.store.listSignals('default').signals;
    expect(
      (await s.call('PATCH', `/api/v1/signals/${signal.id}`, { status: 'acknowledged', note: 'on it' })).status
    ).toBe(200);

    const { json } = await s.call('GET', '/api/v1/audit?action=rule.*&limit=100');
    const rows = (
      json.entries as Array<{ action: string; who: string; target: string; before: any; after: any }>
    ).filter((e) => e.target === 'rule:slow-checkout');
    expect(
      rows.map((e) => [
        e.action,
        e.who,
        e.before?.condition ?? null,
        e.after?.condition ?? null,
        e.after?.version ?? null,
      ])
    ).toEqual([
      ['rule.delete', 'ana', 'checkout.where(duration > 2s)', null, null],
      ['rule.rollback', 'ana', 'checkout.where(duration > 5s)', 'checkout.where(duration > 2s)', 5],
      ['rule.enable', 'ana', 'checkout.where(duration > 5s)', 'checkout.where(duration > 5s)', 4],
      ['rule.disable', 'ana', 'checkout.where(duration > 5s)', 'checkout.where(duration > 5s)', 3],
      ['rule.update', 'ana', 'checkout.where(duration > 2s)', 'checkout.where(duration > 5s)', 2],
      ['rule.create', 'ana', null, 'checkout.where(duration > 2s)', 1],
    ]);
    // Provisioning from RULES_DIR is audited too (who: provisioning).
    expect(
      json.entries.filter(
        (e: { who: string; action: string }) => e.who === 'provisioning' && e.action === 'rule.create'
      )
    ).toHaveLength(13);

    const status = await s.call('GET', '/api/v1/audit?action=signal.status');
    expect(status.json).toMatchObject({
      total: 1,
      entries: [
        {
          action: 'signal.status',
          who: 'ana',
          target: `signal:${signal.id}`,
          before: { status: 'open' },
          after: { status: 'acknowledged', note: 'on it' },
          at: new Date(s.clock.now).toISOString(),
        },
      ],
    });
  });

  it('takes evidence exports and key rotations through the store, and filters and pages', async () => {
    const s = await single({ RULES_DIR: tmp('betrace-empty-') });
    const t0 = s.clock.now;
    s.sidecar.store.appendAudit(
      'default',
      { who: 'auditor', action: 'evidence.export', target: 'evidence:soc2', after: { format: 'pdf', records: 12 } },
      t0
    );
    s.sidecar.store.appendAudit(
      'default',
      {
        who: 'admin',
        action: 'evidence.key.rotate',
        target: 'key:k2',
        before: { keyId: 'k1' },
        after: { keyId: 'k2' },
      },
      t0 + 1000
    );
    s.sidecar.store.appendAudit('other', { who: 'x', action: 'evidence.export', target: 'evidence:soc2' }, t0 + 2000);
    for (let i = 0; i < 5; i++) {
      s.sidecar.store.appendAudit(
        'default',
        { who: 'admin', action: 'evidence.export', target: `evidence:n${i}` },
        t0 + 10_000 + i
      );
    }
    expect((await s.call('GET', '/api/v1/audit?action=evidence.key.rotate')).json).toMatchObject({
      total: 1,
      entries: [{ who: 'admin', before: { keyId: 'k1' }, after: { keyId: 'k2' } }],
    });
    const page = await s.call('GET', `/api/v1/audit?action=evidence.export&limit=2&offset=1`);
    expect(page.json.total).toBe(6);
    expect(page.json.entries.map((e: { target: string }) => e.target)).toEqual(['evidence:n3', 'evidence:n2']);
    const range = await s.call('GET', `/api/v1/audit?from=${t0}&to=${new Date(t0 + 10_000).toISOString()}`);
    expect(range.json.entries.map((e: { action: string }) => e.action)).toEqual([
      'evidence.key.rotate',
      'evidence.export',
    ]);
    expect((await s.call('GET', '/api/v1/audit?from=yesterday')).status).toBe(400);
    expect((await s.call('GET', '/api/v1/audit?action=DROP TABLE')).status).toBe(400);
  });

  it('is append-only: UPDATE and DELETE on the table fail, whoever runs them', () => {
    const store = new Store(':memory:');
    cleanups.push(() => store.close());
    const e = store.appendAudit(
      'default',
      { who: 'ana', action: 'rule.create', target: 'rule:r', after: { id: 'r' } },
      1000
    );
    expect(() => store.db.prepare("UPDATE audit_log SET who = 'mallory' WHERE seq = ?").run(e.seq)).toThrow(
      'audit_log is append-only: entries cannot be changed'
    );
    expect(() => store.db.prepare('DELETE FROM audit_log WHERE seq = ?').run(e.seq)).toThrow(
      'audit_log is append-only: entries cannot be deleted'
    );
    expect(() => store.db.prepare('DELETE FROM audit_log').run()).toThrow(/append-only/);
    expect(store.listAudit('default').entries).toEqual([{ ...e, before: null }]);
  });
});

// ---------------------------------------------------------------- usage

describe('who acts', () => {
  it('is the user a proxy token names, and the token itself for any other token, whatever header it sends', async () => {
    const dir = tmp('betrace-who-');
    fs.writeFileSync(
      path.join(dir, 't.yaml'),
      `tenants:
  - id: a
    apiTokens: [{ name: grafana, sha256: ${H(TOKEN_A)}, forwardsUser: true }, { name: ci, sha256: ${H(TOKEN_B)} }]
`
    );
    const config = loadConfig({ EVAL_WORKERS: '0', DATA_DIR: dir, TENANTS_FILE: path.join(dir, 't.yaml'), OTLP_PORT: '0', API_PORT: '0', HOST: '127.0.0.1' });
    const sidecar = createSidecar(config, { logger: pino({ level: 'silent' }), tickMs: 3_600_000 });
    const { apiPort } = await sidecar.start();
    cleanups.push(() => sidecar.stop());
    const create = (token: string, id: string) =>
      fetch(`http://127.0.0.1:${apiPort}/api/v1/rules`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-grafana-user': 'alice-the-admin' },
        body: JSON.stringify({ id, name: id, severity: 'low', condition: 'checkout.where(duration > 2s)' }),
      });
    expect((await create(TOKEN_A, 'by-grafana')).status).toBe(201);
    expect((await create(TOKEN_B, 'by-ci')).status).toBe(201);
    const entries = sidecar.store.listAudit('a', {}).entries.map((e) => [e.target, e.who]).sort();
    expect(entries).toEqual([
      ['rule:by-ci', 'token:ci'],
      ['rule:by-grafana', 'alice-the-admin'],
    ]);
  });

  it('refuses a forwardsUser that is not a boolean, and on an ingest key', () => {
    expect(() => parseTenants(`tenants:\n  - id: a\n    apiTokens: [{ name: t, sha256: ${H('x')}, forwardsUser: yes-please }]\n`, 'f.yaml', {})).toThrow(
      /tenants\[0\]\.apiTokens\[0\]\.forwardsUser: expected true or false/
    );
    expect(() => parseTenants(`tenants:\n  - id: a\n    apiTokens: [{ name: t, sha256: ${H('x')} }]\n    ingestKeys: [{ name: k, sha256: ${H('y')}, forwardsUser: true }]\n`, 'f.yaml', {})).toThrow(
      /ingestKeys\[0\]\.forwardsUser: unknown field/
    );
  });
});

describe('usage', () => {
  it('keeps counts a failed write could not store for the next flush', () => {
    const store = new Store(':memory:');
    const meter = new UsageMeter(store, () => Date.UTC(2026, 10, 25, 12));
    meter.count('a', { spans: 5 });
    const real = store.addUsage.bind(store);
    store.addUsage = () => {
      throw new Error('SQLITE_BUSY: database is locked');
    };
    expect(() => meter.flush()).toThrow('SQLITE_BUSY');
    store.addUsage = real;
    meter.count('a', { spans: 2 });
    meter.flush();
    expect(store.listUsage('a', '2026-11-25', '2026-11-25').map((d) => d.spans)).toEqual([7]);
    store.close();
  });

  it('counts spans and bytes at the receiver, traces and signals in the pipeline, per UTC day', async () => {
    const s = await single();
    const violating = exampleJson('no-auto-approve', 'violates');
    const satisfying = exampleJson('no-auto-approve', 'satisfies');
    const spans = (j: string) => decodeOtlpJsonText(j)[0].spans.length;
    await fetch(s.otlp, { method: 'POST', headers: { 'content-type': 'application/json' }, body: violating });
    await fetch(s.otlp, { method: 'POST', headers: { 'content-type': 'application/json' }, body: satisfying });
    s.clock.now += 10_001;
    await s.sidecar.shards.tick();
    const signals = s.sidecar.store.listSignals('default').total;
    expect(signals).toBeGreaterThan(0);
    // The next UTC day.
    s.clock.now = Date.UTC(2026, 10, 26, 0, 0, 1);
    await fetch(s.otlp, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: withTraceId(satisfying, '0e'.repeat(16)),
    });
    s.clock.now += 10_001;
    await s.sidecar.shards.tick();
    s.sidecar.store.addUsage('default', s.clock.now, { evidence: 3 });

    const { json } = await s.call('GET', '/api/v1/usage?from=2026-11-25&to=2026-11-26');
    expect(json).toEqual({
      tenant: 'default',
      from: '2026-11-25',
      to: '2026-11-26',
      days: [
        {
          day: '2026-11-25',
          spans: spans(violating) + spans(satisfying),
          bytes: violating.length + satisfying.length,
          traces: 2,
          signals,
          evidence: 0,
        },
        { day: '2026-11-26', spans: spans(satisfying), bytes: satisfying.length, traces: 1, signals: 0, evidence: 3 },
      ],
      totals: {
        spans: spans(violating) + 2 * spans(satisfying),
        bytes: violating.length + 2 * satisfying.length,
        traces: 3,
        signals,
        evidence: 3,
      },
    });
    expect((await s.call('GET', '/api/v1/usage?from=2026-11-26&to=2026-11-26')).json.days).toHaveLength(1);
    expect((await s.call('GET', '/api/v1/usage?from=2026-11-27&to=2026-11-26')).status).toBe(400);
    expect((await s.call('GET', '/api/v1/usage?from=soon')).status).toBe(400);
    const metrics = await (await fetch(`${s.api}/metrics`)).text();
    expect(metrics).toContain(
      `betrace_spans_received_total{tenant="default",source="push"} ${spans(violating) + 2 * spans(satisfying)}`
    );
    expect(metrics).toContain(
      `betrace_ingest_bytes_total{tenant="default"} ${violating.length + 2 * satisfying.length}`
    );
    expect(metrics).toContain('betrace_traces_evaluated_total{tenant="default"} 3');
  });

  it('adds with one upsert per call and refuses counts that are not whole numbers', () => {
    const store = new Store(':memory:');
    cleanups.push(() => store.close());
    const day = Date.UTC(2026, 0, 1, 23, 59, 59, 999);
    store.addUsage('a', day, { spans: 5, bytes: 100 });
    store.addUsage('a', day, { spans: 1, traces: 2, signals: 1 });
    store.addUsage('a', day + 1, { evidence: 4 });
    store.addUsage('b', day, { spans: 1000 });
    expect(store.listUsage('a', '2026-01-01', '2026-01-02')).toEqual([
      { day: '2026-01-01', spans: 6, bytes: 100, traces: 2, signals: 1, evidence: 0 },
      { day: '2026-01-02', spans: 0, bytes: 0, traces: 0, signals: 0, evidence: 4 },
    ]);
    expect(() => store.addUsage('a', day, { spans: -1 })).toThrow(
      'usage spans must be a whole number of at least 0, got -1'
    );
    expect(() => store.addUsage('a', day, { bytes: 1.5 })).toThrow(
      'usage bytes must be a whole number of at least 0, got 1.5'
    );
  });
});
