/**
 * The redaction engine: every detector against a corpus of realistic values and near-misses, the
 * four strategies by exact output, every OTLP attribute type (strings, ints, arrays, nested
 * kvlists, bytes, events, links, resource and scope attributes, names, status messages) in both
 * shapes the sidecar handles (OTLP/JSON objects and protobufjs-decoded messages), JSON records,
 * the allow-list, bounds, and two properties: it never throws, and a second pass changes nothing.
 */
import { createHmac } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import fc from 'fast-check';
import { decodeTraceRequest, encodeTraceRequest } from '../src/ingest/otlpProto';
import { createResourceSpansRedactor, DETECTOR_NAMES, KeyMatcher, keyWords, luhn, Redactor, redactorFor, ssnValid, storedHashKey } from '../src/redact';
import { DEFAULT_REDACTION, RedactionPolicy, Tenant } from '../src/tenants';

interface Corpus {
  pii: Record<string, string[]>;
  assignments: Array<{ text: string }>;
  nearMisses: string[];
}
const corpus = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures/pii-corpus.json'), 'utf8')) as Corpus;
const ALL = [...DETECTOR_NAMES];
const KEY = 'tenant-hash-key';

const policy = (p: Partial<RedactionPolicy> = {}): RedactionPolicy => ({ detectors: ALL, action: 'redact', keys: [], allowKeys: [], ...p });
const redactor = (p: Partial<RedactionPolicy> = {}) => new Redactor(policy(p), KEY);
const hmac16 = (s: string) => createHmac('sha256', KEY).update(s).digest('hex').slice(0, 16);

/** Every corpus value, with the detector that must find it. */
const piiValues: Array<[string, string]> = Object.entries(corpus.pii).flatMap(([d, vs]) => vs.map((v): [string, string] => [d, v]));
const secretsOf = (): string[] => [...piiValues.map(([, v]) => v), ...corpus.assignments.map((a) => a.text)];

/** What a scan of `text` by every detector finds: the check run over everything that leaves. */
export function leaks(text: string): string[] {
  return redactor().findings(text).map((f) => `${f.detector}: ${text.slice(f.start, f.end)}`);
}

describe('detectors', () => {
  it.each(piiValues)('%s finds %s whole, inside text and alone', (detector, value) => {
    const r = redactor();
    const inText = `before ${value} after`;
    const found = r.findings(inText);
    expect(found).toHaveLength(1);
    expect(found[0].detector).toBe(detector);
    if (detector === 'bearer') {
      // The scheme stays; the credential goes.
      const scheme = value.split(' ')[0];
      expect(r.text(inText)).toBe(`before ${scheme} [REDACTED:bearer] after`);
    } else {
      expect(r.text(inText)).toBe(`before [REDACTED:${detector}] after`);
      expect(r.text(value)).toBe(`[REDACTED:${detector}]`);
    }
  });

  it('finds the value of secret assignments, keeping the name', () => {
    const r = redactor();
    expect(corpus.assignments.map((a) => r.text(a.text))).toEqual([
      'api_key=[REDACTED:apikey]',
      'https://api.example.com/v1/orders?apikey=[REDACTED:apikey]&page=2',
      '{"client_secret": "[REDACTED:apikey]"}',
      'x-api-key: [REDACTED:apikey]',
      'password=[REDACTED:apikey]',
      'db connect failed: user=app password=[REDACTED:apikey] host=db',
      "ACCESS_TOKEN='[REDACTED:apikey]'",
    ]);
  });

  it.each(corpus.nearMisses)('leaves the near-miss %s alone (every detector on, ip included)', (value) => {
    const r = redactor();
    expect(r.findings(value)).toEqual([]);
    expect(r.text(`value ${value} here`)).toBe(`value ${value} here`);
  });

  it('checks cards by Luhn and issuer, SSNs by area/group/serial', () => {
    expect(luhn('4111111111111111')).toBe(true);
    expect(luhn('4111111111111112')).toBe(false);
    expect(ssnValid('123', '45', '6789')).toBe(true);
    expect(['000', '666', '900', '999'].map((a) => ssnValid(a, '45', '6789'))).toEqual([false, false, false, false]);
    expect(ssnValid('123', '00', '6789')).toBe(false);
    expect(ssnValid('123', '45', '0000')).toBe(false);
    // Luhn-valid, but no network issues numbers starting with 1, 7, 8, 9 or 0.
    expect(redactor().text('1234567812345670 7992739871300000')).toBe('1234567812345670 7992739871300000');
  });

  it('runs only the detectors the policy turns on (ip is off by default)', () => {
    const r = new Redactor(DEFAULT_REDACTION);
    expect(r.text('from 203.0.113.7 by alice@example.com')).toBe('from 203.0.113.7 by [REDACTED:email]');
    expect(redactor({ detectors: ['ip'] }).text('from 203.0.113.7 by alice@example.com')).toBe('from [REDACTED:ip] by alice@example.com');
  });

  it('refuses a policy it cannot apply, naming the problem', () => {
    expect(() => new Redactor(policy({ detectors: ['email', 'passport'] }), KEY)).toThrow('unknown detector passport');
    expect(() => new Redactor(policy({ action: 'scramble' as 'redact' }), KEY)).toThrow('unknown action scramble');
    expect(() => new Redactor(policy({ action: 'hash' }))).toThrow('the hash action needs a key');
  });
});

describe('strategies', () => {
  const text = 'alice@example.com paid with 4111 1111 1111 1111, ssn 123-45-6789, phone +1 (415) 555-2671, key sk_live_abcdefghijklmnop1234, Bearer abc123def456ghi, ip 203.0.113.7';

  it('redact names the detector', () => {
    expect(redactor().text(text)).toBe(
      '[REDACTED:email] paid with [REDACTED:card], ssn [REDACTED:ssn], phone [REDACTED:phone], key [REDACTED:apikey], Bearer [REDACTED:bearer], ip [REDACTED:ip]',
    );
  });

  it('mask keeps the shape: the domain of an e-mail, the last 4 of numbers, the kind of a key, the network of an address', () => {
    expect(redactor({ action: 'mask' }).text(text)).toBe(
      '***@example.com paid with **** **** **** 1111, ssn ***-**-6789, phone +* (***) ***-2671, key sk_live_****, Bearer ****, ip 203.0.*.*',
    );
    expect(redactor({ action: 'mask' }).text('jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig123 key AKIAIOSFODNN7EXAMPLE')).toBe('jwt eyJ**** key AKIA****');
  });

  it('hash is HMAC-SHA256 with the tenant key over a canonical form: stable, so spellings of one value join', () => {
    const r = redactor({ action: 'hash' });
    expect(r.text('alice@example.com')).toBe(`[HASH:email:${hmac16('alice@example.com')}]`);
    expect(r.text('ALICE@Example.com')).toBe(r.text('alice@example.com'));
    expect(r.text('4111 1111 1111 1111')).toBe(`[HASH:card:${hmac16('4111111111111111')}]`);
    expect(r.text('4111-1111-1111-1111')).toBe(r.text('4111111111111111'));
    expect(r.text('(415) 555-2671')).toBe(r.text('+1 415 555 2671'));
    expect(new Redactor(policy({ action: 'hash' }), 'another tenant').text('alice@example.com')).not.toBe(r.text('alice@example.com'));
    expect(new Redactor(policy({ action: 'hash', hashKey: KEY }), 'ignored').text('alice@example.com')).toBe(r.text('alice@example.com'));
  });

  it('drop removes the attribute, and redacts in text where nothing can be removed', () => {
    const r = redactor({ action: 'drop' });
    expect(r.text('mail alice@example.com')).toBe('mail [REDACTED:email]');
    expect(r.attributes([{ key: 'note', value: { stringValue: 'mail alice@example.com' } }, { key: 'ok', value: { stringValue: 'fine' } }])).toEqual([
      { key: 'ok', value: { stringValue: 'fine' } },
    ]);
  });

  it('per-detector actions override the policy action', () => {
    const r = redactor({ action: 'redact', actions: { email: 'hash', card: 'mask' } });
    expect(r.text('alice@example.com 4111111111111111 123-45-6789')).toBe(`[HASH:email:${hmac16('alice@example.com')}] ************1111 [REDACTED:ssn]`);
  });
});

describe('sensitive attribute names', () => {
  it('match whole words of the key, built in and from the policy (globs)', () => {
    const m = new KeyMatcher(['user.*_name', 'http.request.header.x-*']);
    const sensitive = ['db.password', 'http.request.header.authorization', 'http.request.header.cookie', 'accessToken', 'x-api-key', 'client_secret', 'user.ssn', 'enduser.email', 'AWS_SECRET_ACCESS_KEY', 'user.first_name', 'http.request.header.x-tenant'];
    const plain = ['gen_ai.usage.input_tokens', 'llm.token_count.prompt', 'oauth.token_type', 'cache.key', 'http.route', 'user.id', 'messaging.message.id', 'tokenizer', 'passage', 'http.request.header.accept'];
    expect(sensitive.filter((k) => !m.sensitive(k))).toEqual([]);
    expect(plain.filter((k) => m.sensitive(k))).toEqual([]);
    expect(keyWords('http.request.header.X-Api-Key')).toEqual(['http', 'request', 'header', 'x', 'api', 'key']);
  });

  it('redact the whole value whatever it is; one finding covering it keeps its detector', () => {
    const r = redactor({ keys: ['*.pin'] });
    expect(
      r.attributes([
        { key: 'db.password', value: { stringValue: 'hunter2' } },
        { key: 'card.pin', value: { intValue: '1234' } },
        { key: 'user.email', value: { stringValue: 'alice@example.com' } },
        { key: 'session.token', value: { arrayValue: { values: [{ stringValue: 'a' }, { boolValue: true }] } } },
      ]),
    ).toEqual([
      { key: 'db.password', value: { stringValue: '[REDACTED:key]' } },
      { key: 'card.pin', value: { stringValue: '[REDACTED:key]' } },
      { key: 'user.email', value: { stringValue: '[REDACTED:email]' } },
      { key: 'session.token', value: { arrayValue: { values: [{ stringValue: '[REDACTED:key]' }, { stringValue: '[REDACTED:key]' }] } } },
    ]);
    expect(redactor({ action: 'mask' }).attributes([{ key: 'db.password', value: { stringValue: 'hunter2' } }])).toEqual([{ key: 'db.password', value: { stringValue: '****' } }]);
    expect(redactor({ action: 'hash' }).attributes([{ key: 'db.password', value: { stringValue: 'hunter2' } }])).toEqual([
      { key: 'db.password', value: { stringValue: `[HASH:key:${hmac16('hunter2')}]` } },
    ]);
  });

  it('apply inside nested kvlists, by key and by dotted path', () => {
    const r = redactor({ keys: ['customer.address.*'] });
    const out = r.attributes([
      {
        key: 'customer',
        value: {
          kvlistValue: {
            values: [
              { key: 'id', value: { stringValue: 'c-42' } },
              { key: 'password', value: { stringValue: 'pa55' } },
              { key: 'address', value: { kvlistValue: { values: [{ key: 'street', value: { stringValue: '1 Main St' } }] } } },
            ],
          },
        },
      },
    ]);
    expect(JSON.stringify(out)).toBe(
      JSON.stringify([
        {
          key: 'customer',
          value: {
            kvlistValue: {
              values: [
                { key: 'id', value: { stringValue: 'c-42' } },
                { key: 'password', value: { stringValue: '[REDACTED:key]' } },
                { key: 'address', value: { kvlistValue: { values: [{ key: 'street', value: { stringValue: '[REDACTED:key]' } }] } } },
              ],
            },
          },
        },
      ]),
    );
  });
});

/** One resource with PII in every place an OTLP span can carry a string. */
function piiResourceSpans(values: string[], ids = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' }) {
  const s = (key: string, v: string) => ({ key, value: { stringValue: v } });
  const spans = values.map((v, i) => ({
    traceId: ids.traceId,
    spanId: `${ids.spanId.slice(0, 12)}${String(1000 + i)}`,
    name: `GET /users/${v}`,
    kind: 2,
    startTimeUnixNano: '1705314600000000000',
    endTimeUnixNano: '1705314600100000000',
    attributes: [
      s('note', `customer wrote: ${v}`),
      { key: 'tags', value: { arrayValue: { values: [{ stringValue: 'ok' }, { stringValue: v }] } } },
      { key: 'ctx', value: { kvlistValue: { values: [s('inner', v), { key: 'deeper', value: { kvlistValue: { values: [s('x', `v=${v}`)] } } }] } } },
      { key: 'http.route', value: { stringValue: '/api/v1/users/{id}' } },
    ],
    events: [{ timeUnixNano: '1705314600050000000', name: `event for ${v}`, attributes: [s('exception.message', `failed for ${v}`)] }],
    links: [{ traceId: ids.traceId, spanId: ids.spanId, attributes: [s('link.note', v)] }],
    status: { code: 2, message: `error: ${v}` },
  }));
  return [
    {
      resource: { attributes: [s('service.name', 'checkout'), s('service.version', '1.2.3'), s('owner.contact', values[0])] },
      scopeSpans: [{ scope: { name: 'manual', version: '0.1.0', attributes: [s('scope.owner', values[0])] }, spans }],
    },
  ];
}

describe('values a template or an explanation rendered', () => {
  const r = new Redactor(DEFAULT_REDACTION, 'k'.repeat(32));
  const attrs = { 'db.password': 'pa"ss\\word9', user: { session_cookie: 'SESS-8f3k2j1', name: 'shop' }, items: [{ token: 'tok-77aa' }] };
  const withhold = r.withholding([attrs]);

  it('withholds a sensitive value also in its JSON-escaped form', () => {
    expect(withhold(`explain value ${JSON.stringify(attrs['db.password'])} == "x"`)).toBe('explain value "[REDACTED:key]" == "x"');
  });

  it('withholds values of sensitive keys nested in maps and in lists of maps', () => {
    expect(withhold(`user ${JSON.stringify(attrs.user)}`)).toBe('user {"session_cookie":"[REDACTED:key]","name":"shop"}');
    expect(withhold(`items ${JSON.stringify(attrs.items)}`)).toBe('items [{"token":"[REDACTED:key]"}]');
  });
});

describe('OTLP resourceSpans', () => {
  it('leave nothing a detector finds, in any attribute type, and keep ids, times, routes and versions', () => {
    const r = redactor();
    const input = piiResourceSpans(secretsOf());
    const out = r.resourceSpans(input);
    const json = JSON.stringify(out);
    expect(leaks(json)).toEqual([]);
    for (const v of secretsOf()) {
      expect(json).not.toContain(v);
    }
    expect(json).toContain('"traceId":"4bf92f3577b34da6a3ce929d0e0e4736"');
    expect(json).toContain('"startTimeUnixNano":"1705314600000000000"');
    expect(json).toContain('/api/v1/users/{id}');
    expect(json).toContain('"service.version","value":{"stringValue":"1.2.3"}');
    // The input is not modified: copy on write.
    expect(JSON.stringify(input)).toContain(corpus.pii.email[0]);
  });

  it('work on protobufjs-decoded messages (what the receiver hands over) and re-encode', () => {
    const request = { resourceSpans: piiResourceSpans(corpus.pii.card.concat(corpus.pii.email)) };
    const toProto = (rs: ReturnType<typeof piiResourceSpans>) =>
      rs.map((x) => ({ ...x, scopeSpans: x.scopeSpans.map((ss) => ({ ...ss, spans: ss.spans.map((sp) => ({ ...sp, traceId: Buffer.from(sp.traceId, 'hex'), spanId: Buffer.from(sp.spanId, 'hex'), links: sp.links.map((l) => ({ ...l, traceId: Buffer.from(l.traceId, 'hex'), spanId: Buffer.from(l.spanId, 'hex') })) })) })) }));
    const decoded = decodeTraceRequest(encodeTraceRequest({ resourceSpans: toProto(request.resourceSpans) }));
    const redacted = redactor().resourceSpans(decoded.resourceSpans);
    const again = decodeTraceRequest(encodeTraceRequest({ resourceSpans: redacted as object[] }));
    const text = JSON.stringify(again);
    expect(leaks(text)).toEqual([]);
    expect(text).toContain('[REDACTED:card]');
    const span = (again.resourceSpans as Array<{ scopeSpans: Array<{ spans: Array<{ spanId: Uint8Array; name: string }> }> }>)[0].scopeSpans[0].spans[0];
    expect(Buffer.from(span.spanId).toString('hex')).toBe('00f067aa0ba91000');
    expect(span.name).toBe('GET /users/[REDACTED:card]');
  });

  it('turn integers that are card numbers into redacted strings, and leave other integers', () => {
    const out = redactor().attributes([
      { key: 'payment.card', value: { intValue: '4111111111111111' } },
      { key: 'http.response.status_code', value: { intValue: 200 } },
      { key: 'ts', value: { intValue: '1705314600000000000' } },
    ]);
    expect(out).toEqual([
      { key: 'payment.card', value: { stringValue: '[REDACTED:card]' } },
      { key: 'http.response.status_code', value: { intValue: 200 } },
      { key: 'ts', value: { intValue: '1705314600000000000' } },
    ]);
  });

  it('treat byte values as opaque: redacted (or dropped, hashed) by default, kept when the policy says so', () => {
    const attr = [{ key: 'payload', value: { bytesValue: Buffer.from('alice@example.com') } }];
    expect(redactor().attributes(attr)).toEqual([{ key: 'payload', value: { stringValue: '[REDACTED:bytes]' } }]);
    expect(redactor({ action: 'drop' }).attributes(attr)).toEqual([]);
    expect(redactor({ bytes: 'keep' }).attributes(attr)).toBe(attr);
    expect(redactor().attributes([{ key: 'payload', value: { bytesValue: 'YWxpY2VAZXhhbXBsZS5jb20=' } }])).toEqual([{ key: 'payload', value: { stringValue: '[REDACTED:bytes]' } }]);
  });

  it('drop removes the attribute holding a finding (an array or kvlist entry takes its attribute or entry with it)', () => {
    const r = redactor({ action: 'drop' });
    const out = r.resourceSpans(piiResourceSpans(['alice@example.com']));
    const span = out[0].scopeSpans[0].spans[0];
    expect(span.attributes.map((a) => a.key)).toEqual(['ctx', 'http.route']);
    expect(JSON.stringify(span.attributes[0])).toBe(JSON.stringify({ key: 'ctx', value: { kvlistValue: { values: [{ key: 'deeper', value: { kvlistValue: { values: [] } } }] } } }));
    expect(span.events[0].attributes).toEqual([]);
    expect(span.links[0].attributes).toEqual([]);
    expect(span.name).toBe('GET /users/[REDACTED:email]');
    expect(out[0].resource.attributes.map((a) => a.key)).toEqual(['service.name', 'service.version']);
  });

  it('return the very same objects when nothing needs redacting', () => {
    const input = piiResourceSpans(['nothing to see']);
    expect(redactor().resourceSpans(input)).toBe(input);
  });

  it('the gateway hook redacts by the tenant policy, hashing with the current evidence key', () => {
    const tenant: Tenant = {
      id: 'acme',
      apiTokens: [],
      ingestKeys: [],
      evidenceKeys: [
        { id: 'k1', secret: 'old', retired: true },
        { id: 'k2', secret: KEY },
      ],
      redaction: { ...DEFAULT_REDACTION, action: 'hash' },
    };
    const hook = createResourceSpansRedactor();
    const out = hook(tenant, piiResourceSpans(['alice@example.com']));
    expect(out[0].resource.attributes[2]).toEqual({ key: 'owner.contact', value: { stringValue: `[HASH:email:${hmac16('alice@example.com')}]` } });
    expect(redactorFor(tenant).text('alice@example.com')).toBe(`[HASH:email:${hmac16('alice@example.com')}]`);
  });
});

describe('JSON records and plain text', () => {
  it('redact every string, values under sensitive keys, OTLP attributes inside, and large integers', () => {
    const record = {
      id: 'sig-1',
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      message: 'refund to alice@example.com',
      user: { password: 'hunter2', phone: '+44 20 7946 0958' },
      cardAsNumber: 4111111111111111,
      count: 3,
      at: '2024-01-15T10:30:00Z',
      attributes: [{ key: 'db.password', value: { stringValue: 'pa55' } }],
      list: ['ok', '123-45-6789'],
    };
    expect(redactor().json(record)).toEqual({
      id: 'sig-1',
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      message: 'refund to [REDACTED:email]',
      user: { password: '[REDACTED:key]', phone: '[REDACTED:phone]' },
      cardAsNumber: '[REDACTED:card]',
      count: 3,
      at: '2024-01-15T10:30:00Z',
      attributes: [{ key: 'db.password', value: { stringValue: '[REDACTED:key]' } }],
      list: ['ok', '[REDACTED:ssn]'],
    });
  });

  it('survive cycles and deep nesting', () => {
    const cyclic: Record<string, unknown> = { a: 'alice@example.com' };
    cyclic.self = cyclic;
    expect(redactor().json(cyclic)).toEqual({ a: '[REDACTED:email]', self: '[REDACTED:depth]' });
    let deep: unknown = 'alice@example.com';
    for (let i = 0; i < 100; i++) {
      deep = [deep];
    }
    expect(JSON.stringify(redactor().json(deep))).not.toContain('alice');
  });

  it('cut strings over the scan limit, and scan what is kept', () => {
    const r = redactor({ maxScanChars: 1000 });
    const huge = `${'x '.repeat(100)}alice@example.com ${'y'.repeat(5_000_000)}`;
    const out = r.text(huge);
    expect(out.length).toBeLessThanOrEqual(1000);
    expect(out.endsWith('[TRUNCATED]')).toBe(true);
    expect(out).toContain('[REDACTED:email]');
    expect(r.text(out)).toBe(out);
  });

  it('withhold, in a signal message, values of sensitive or (with an allow-list) non-allowed attributes', () => {
    const attrs = { 'db.password': 'hunter2!', 'order.id': 'o-12345', amount: 1500, 'customer.name': 'Jane Roe' };
    const message = 'order o-12345 of 1500 by Jane Roe with hunter2! (alice@example.com)';
    expect(redactor().message(message, [attrs])).toBe('order o-12345 of 1500 by Jane Roe with [REDACTED:key] ([REDACTED:email])');
    expect(redactor({ allowKeys: ['order.*', 'amount'] }).message(message, [attrs])).toBe('order o-12345 of 1500 by [REDACTED:key] with [REDACTED:key] ([REDACTED:email])');
    const r = redactor({ allowKeys: ['order.*'] });
    expect(r.copyAllowed({ ...attrs, 'order.email': 'alice@example.com' })).toEqual({ 'order.id': 'o-12345', 'order.email': '[REDACTED:email]' });
    expect(r.allowed('amount')).toBe(false);
    expect(redactor().allowed('amount')).toBe(true);
  });

  it('keeps the hash key in the store, made once', () => {
    const settings = new Map<string, string>();
    const s = { getSetting: (k: string) => settings.get(k), setSetting: (k: string, v: string) => void settings.set(k, v) };
    const key = storedHashKey(s);
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(storedHashKey(s)).toBe(key);
  });
});

describe('properties', () => {
  const piiArb = fc.constantFrom(...secretsOf(), ...corpus.nearMisses);
  const textArb = fc.array(fc.oneof(fc.string({ maxLength: 30 }), piiArb, fc.constantFrom(' ', '-', '.', '@', ':', '=', '[', ']', '[REDACTED:email]', '+1')), { maxLength: 12 }).map((parts) => parts.join(''));
  const policyArb = fc.record({
    detectors: fc.subarray(ALL),
    action: fc.constantFrom('redact', 'mask', 'hash', 'drop') as fc.Arbitrary<RedactionPolicy['action']>,
    keys: fc.array(fc.constantFrom('*.secret', 'user.*', 'note', '*'), { maxLength: 2 }),
    allowKeys: fc.constant([] as string[]),
  });
  const anyValueArb: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      textArb.map((s) => ({ stringValue: s })),
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((n) => ({ intValue: n.toString() })),
      fc.double().map((d) => ({ doubleValue: d })),
      fc.boolean().map((b) => ({ boolValue: b })),
      fc.uint8Array({ maxLength: 8 }).map((b) => ({ bytesValue: Buffer.from(b) })),
      fc.array(tie('value'), { maxLength: 3 }).map((values) => ({ arrayValue: { values } })),
      fc.array(tie('kv'), { maxLength: 3 }).map((values) => ({ kvlistValue: { values } })),
    ),
    kv: fc.record({ key: fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom('password', 'user.email', 'note', 'a.secret')), value: tie('value') }),
  })).value;

  it('text: never throws, and a second pass changes nothing', () => {
    fc.assert(
      fc.property(policyArb, textArb, (p, s) => {
        const r = new Redactor(p, KEY);
        const once = r.text(s);
        expect(r.text(once)).toBe(once);
      }),
      { numRuns: 400 },
    );
  });

  it('attributes: never throw, and a second pass changes nothing', () => {
    fc.assert(
      fc.property(policyArb, fc.array(fc.record({ key: fc.string({ maxLength: 10 }), value: anyValueArb }), { maxLength: 4 }), (p, attrs) => {
        const r = new Redactor(p, KEY);
        const once = r.attributes(attrs);
        expect(JSON.stringify(r.attributes(once))).toBe(JSON.stringify(once));
      }),
      { numRuns: 200 },
    );
  });

  it('odd input of any shape never throws, in every entry point', () => {
    fc.assert(
      fc.property(policyArb, fc.anything({ withBigInt: true, withTypedArray: true, withMap: true, withNullPrototype: true }), (p, x) => {
        const r = new Redactor(p, KEY);
        r.text(x as string);
        r.json(x);
        r.attributes(x as unknown[]);
        r.resourceSpans(x);
        r.resourceSpans([{ resource: x, scopeSpans: [{ spans: [x, { attributes: [x], events: [x], links: [x], status: x }] }] }]);
        r.message(x as string, [x as Record<string, unknown>]);
        const once = r.json(x);
        expect(r.json(once)).toEqual(once);
      }),
      { numRuns: 300 },
    );
  });
});
