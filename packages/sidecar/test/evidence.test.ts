/**
 * Evidence records: the canonical form pinned by a test vector (cross-checked with Python's
 * json/hmac, see docs/evidence.md), and verification of the chain against tampering: an altered
 * record, a deleted one, swapped ones, retired and rotated keys.
 */
import { createHash } from 'crypto';
import { evidenceReport } from '../src/evidence/api';
import { canonicalForm, canonicalFormSlow, chainHash, EvidenceDraft, GENESIS_PREV, signRecord } from '../src/evidence/record';
import { toCsv } from '../src/evidence/report';
import { EvidenceStore } from '../src/evidence/store';
import { verifyChain } from '../src/evidence/verify';
import { Store, StoreError } from '../src/store';

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);
const SECRET = 'test-key-0123456789abcdef0123456789';

const vector = {
  framework: 'soc2',
  control: 'CC6.1',
  ruleId: 'auth-required',
  outcome: 'fail' as const,
  evidenceType: 'summary' as const,
  checkedTraces: 12,
  failedTraces: 1,
  windowStart: T0,
  windowEnd: T0 + 60_000,
  sampleTraceIds: ['0af7651916cd43dd8448eb211c80319c', '4bf92f3577b34da6a3ce929d0e0e4736'],
  traceId: '5b8efff798038103d269b633813fc60c',
  seq: 7,
  spanId: 'eee19b7ec3c1b174',
  keyId: 'k1',
  prev: 'a'.repeat(64),
};

const CANONICAL =
  '{"attributes":{"betrace.evidence.key_id":{"stringValue":"k1"},"betrace.evidence.prev":{"stringValue":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},' +
  '"betrace.evidence.seq":{"intValue":"7"},"compliance.checked_traces":{"intValue":"12"},"compliance.control":{"stringValue":"CC6.1"},' +
  '"compliance.evidence_type":{"stringValue":"summary"},"compliance.failed_traces":{"intValue":"1"},"compliance.framework":{"stringValue":"soc2"},' +
  '"compliance.outcome":{"stringValue":"fail"},"compliance.rule_id":{"stringValue":"auth-required"},' +
  '"compliance.sample_trace_ids":{"arrayValue":{"values":[{"stringValue":"0af7651916cd43dd8448eb211c80319c"},{"stringValue":"4bf92f3577b34da6a3ce929d0e0e4736"}]}},' +
  '"compliance.window_end":{"stringValue":"2026-11-25T12:01:00.000Z"},"compliance.window_start":{"stringValue":"2026-11-25T12:00:00.000Z"}},' +
  '"span_id":"eee19b7ec3c1b174","trace_id":"5b8efff798038103d269b633813fc60c"}';

describe('the canonical form', () => {
  it('is pinned byte for byte, and the signature is HMAC-SHA256 of exactly those bytes', () => {
    expect(canonicalForm(vector)).toBe(CANONICAL);
    // Computed independently with Python: hmac.new(key, canonical, sha256).hexdigest().
    expect(signRecord(vector, SECRET)).toBe('fbe5914af8972f823520e187a03911b62f109780995a029f24ea08b2ca3f9999');
  });

  it('chains over the form with the signature included', () => {
    const signature = signRecord(vector, SECRET);
    const withSig = canonicalForm({ ...vector, signature }, true);
    expect(withSig).toBe(CANONICAL.replace(',"compliance.checked_traces"', `,"betrace.evidence.signature":{"stringValue":"${signature}"},"compliance.checked_traces"`));
    expect(chainHash({ ...vector, signature })).toBe(createHash('sha256').update(withSig).digest('hex'));
  });

  it('is written directly exactly as its definition (sorted canonical JSON of the attributes) says, escapes included', () => {
    const odd = { ...vector, control: 'A "quoted"\\ control\n', framework: 'pci-dss', ruleId: 'r\u00e9gle-\u2028', sampleTraceIds: [], signature: 'f'.repeat(64) };
    for (const r of [vector, { ...vector, signature: 'e'.repeat(64) }, odd]) {
      expect(canonicalForm(r)).toBe(canonicalFormSlow(r));
      expect(canonicalForm(r, true)).toBe(canonicalFormSlow(r, true));
    }
    expect(canonicalFormSlow(vector)).toBe(CANONICAL);
  });

  it('changes with every signed field', () => {
    const base = signRecord(vector, SECRET);
    for (const change of [{ checkedTraces: 13 }, { control: 'CC6.2' }, { outcome: 'pass' as const }, { seq: 8 }, { prev: 'b'.repeat(64) }, { spanId: 'eee19b7ec3c1b175' }, { sampleTraceIds: [] }]) {
      expect(signRecord({ ...vector, ...change }, SECRET)).not.toBe(base);
    }
    expect(signRecord(vector, `${SECRET}x`)).not.toBe(base);
  });
});

function draft(n: number, control = 'CC6.1'): EvidenceDraft {
  return {
    framework: 'soc2',
    control,
    ruleId: 'auth-required',
    outcome: n % 2 === 1 ? 'fail' : 'pass',
    evidenceType: 'summary',
    checkedTraces: 10 + n,
    failedTraces: n % 2,
    windowStart: T0 + n * 60_000,
    windowEnd: T0 + (n + 1) * 60_000,
    sampleTraceIds: [n.toString(16).padStart(32, '0')],
    traceId: (n + 100).toString(16).padStart(32, '0'),
  };
}

function chain(records = 5): { store: Store; evidence: EvidenceStore } {
  const store = new Store(':memory:');
  const evidence = new EvidenceStore(store.db);
  evidence.seedKeys('acme', [{ id: 'k1', secret: SECRET }], T0);
  evidence.append(
    'acme',
    Array.from({ length: records }, (_, i) => draft(i + 1)),
    [],
    T0,
  );
  return { store, evidence };
}

const verify = (evidence: EvidenceStore) => verifyChain(evidence.all('acme'), evidence.keyring('acme'), evidence.head('acme').seq).summary;

describe('the evidence chain', () => {
  it('numbers records gap-free per tenant, links each to the one before, and verifies', () => {
    const { evidence } = chain();
    evidence.append('other', [draft(1)], [], T0);
    const records = evidence.all('acme');
    expect(records.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(records[0].prev).toBe(GENESIS_PREV);
    expect(records[3].prev).toBe(chainHash(records[2]));
    expect(evidence.all('other').map((r) => [r.seq, r.prev])).toEqual([[1, GENESIS_PREV]]);
    expect(verify(evidence)).toMatchObject({ records: 5, verified: 5, altered: [], brokenLinks: [], missing: [], reordered: [], unknownKey: [], duplicates: [], headMismatch: false, ok: true });
  });

  it('detect an altered record (and the link after it)', () => {
    const { store, evidence } = chain();
    // Someone turns a failing window into a passing one.
    store.db.prepare("UPDATE evidence SET failed_traces = 0, outcome = 'pass' WHERE tenant = 'acme' AND seq = 3").run();
    expect(verify(evidence)).toMatchObject({ altered: [3], brokenLinks: [4], missing: [], reordered: [], ok: false, verified: 3 });
  });

  it('detect a deleted record as a gap, and deleted records at the end through the head', () => {
    const { store, evidence } = chain();
    store.db.prepare("DELETE FROM evidence WHERE tenant = 'acme' AND seq IN (3, 5)").run();
    const summary = verify(evidence);
    expect(summary).toMatchObject({ records: 3, missing: [3, 5], altered: [], brokenLinks: [], reordered: [], ok: false });
    const { bySeq } = verifyChain(evidence.all('acme'), evidence.keyring('acme'), 5);
    expect(bySeq.get(4)).toEqual({ seq: 4, signature: 'valid', link: 'unchecked', reordered: false, ok: true });
  });

  it('detect swapped records', () => {
    const { store, evidence } = chain();
    // Swap the stored order of records 2 and 3 (each record intact).
    const rows = store.db.prepare("SELECT rowid AS r, * FROM evidence WHERE tenant = 'acme' AND seq IN (2, 3) ORDER BY seq").all() as Array<Record<string, unknown>>;
    const columns = Object.keys(rows[0]).filter((c) => c !== 'r' && c !== 'rowid'); // PostgreSQL's explicit rowid column stays where it is
    const set = columns.map((c) => `${c} = @${c}`).join(', ');
    store.db.transaction(() => {
      store.db.prepare(`UPDATE evidence SET ${set} WHERE rowid = ${String(rows[0].r)}`).run(Object.fromEntries(columns.map((c) => [c, rows[1][c]])));
      store.db.prepare(`UPDATE evidence SET ${set} WHERE rowid = ${String(rows[1].r)}`).run(Object.fromEntries(columns.map((c) => [c, rows[0][c]])));
    })();
    expect(evidence.all('acme').map((r) => r.seq)).toEqual([1, 3, 2, 4, 5]);
    expect(verify(evidence)).toMatchObject({ reordered: [2], altered: [], brokenLinks: [], missing: [], ok: false });
  });

  it('keep verifying records signed by a retired key after a rotation', async () => {
    const { evidence } = chain(2);
    const { key, previous } = await evidence.rotateKey('acme', T0 + 1000, { id: 'k2', secret: 'k2-secret-0123456789abcdef0123456789' });
    expect([key.id, previous]).toEqual(['k2', 'k1']);
    evidence.append('acme', [draft(3), draft(4)], [], T0 + 2000);
    expect(evidence.all('acme').map((r) => r.keyId)).toEqual(['k1', 'k1', 'k2', 'k2']);
    expect(evidence.keys('acme').map((k) => [k.id, k.retiredAt])).toEqual([
      ['k1', T0 + 1000],
      ['k2', undefined],
    ]);
    expect(verify(evidence)).toMatchObject({ records: 4, verified: 4, ok: true });
    // A generated key is random and returned once; its id is new.
    const generated = await evidence.rotateKey('acme', T0 + 3000);
    expect(generated.key.secret).toMatch(/^[0-9a-f]{64}$/);
    expect(generated.key.id).toMatch(/^k-20261125-[0-9a-f]{6}$/);
    await expect(evidence.rotateKey('acme', T0, { id: 'k1' })).rejects.toThrow(new StoreError('conflict', 'evidence key k1 exists already; key ids are never reused'));
    await expect(evidence.rotateKey('acme', T0, { secret: 'short' })).rejects.toThrow(/at least 32 bytes/);
  });

  it('report records signed by a key the sidecar does not have', () => {
    const { store } = chain(2);
    // Another sidecar on the same data folder, without the key (its secrets are held outside the folder).
    expect(verify(new EvidenceStore(store.db))).toMatchObject({ unknownKey: [1, 2], ok: false });
  });

  it('seed keys from the tenants file: a new current key takes over, a changed secret under a known id is refused', () => {
    const { evidence } = chain(1);
    evidence.seedKeys('acme', [{ id: 'k1', secret: SECRET, retired: true }, { id: 'k3', secret: 'k3-secret-0123456789abcdef0123456789' }], T0 + 5);
    expect(evidence.currentKey('acme', T0).id).toBe('k3');
    expect(() => evidence.seedKeys('acme', [{ id: 'k3', secret: 'other-secret-0123456789abcdef012345' }], T0)).toThrow(/never reused/);
  });

  it('generate a key on first use when none is configured', () => {
    const evidence = new EvidenceStore(new Store(':memory:').db);
    const [r] = evidence.append('fresh', [draft(1)], [], T0);
    expect(evidence.keys('fresh')).toEqual([{ id: r.keyId, source: 'generated', createdAt: T0, check: expect.stringMatching(/^[0-9a-f]{16}$/) }]);
    expect(evidence.keyring('fresh').get(r.keyId)).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('exports', () => {
  it('render CSV exactly (RFC 4180, formula-safe)', () => {
    const { evidence } = chain(0);
    evidence.append('acme', [draft(1), { ...draft(2, '=HYPERLINK("x")'), sampleTraceIds: ['a'.repeat(32), 'b'.repeat(32)] }], [], T0);
    const [one, two] = evidence.all('acme');
    const report = evidenceReport(evidence, 'acme', {}, T0 + 3_600_000);
    expect(toCsv(report)).toBe(
      [
        'seq,framework,control,rule_id,evidence_type,outcome,checked_traces,passed_traces,failed_traces,window_start,window_end,sample_trace_ids,trace_id,span_id,key_id,prev,signature,verified',
        `1,soc2,CC6.1,auth-required,summary,fail,11,10,1,2026-11-25T12:01:00.000Z,2026-11-25T12:02:00.000Z,00000000000000000000000000000001,${'0'.repeat(30)}65,${one.spanId},k1,${GENESIS_PREV},${one.signature},ok`,
        `2,soc2,"'=HYPERLINK(""x"")",auth-required,summary,pass,12,12,0,2026-11-25T12:02:00.000Z,2026-11-25T12:03:00.000Z,${'a'.repeat(32)} ${'b'.repeat(32)},${'0'.repeat(30)}66,${two.spanId},k1,${chainHash(one)},${two.signature},ok`,
        '',
      ].join('\r\n'),
    );
  });

  it('summarize pass and fail per control over the records in scope', () => {
    const { evidence } = chain(0);
    evidence.append('acme', [draft(1), draft(2), draft(3, 'CC7.2'), { ...draft(4), evidenceType: 'trace', outcome: 'fail', checkedTraces: 1, failedTraces: 1 }], [], T0);
    const report = evidenceReport(evidence, 'acme', { control: 'CC6.1' }, T0);
    expect(report.controls).toEqual([{ framework: 'soc2', control: 'CC6.1', records: 3, pass: 1, fail: 2, checkedTraces: 23, failedTraces: 1 }]);
    expect(report.records.map((r) => r.seq)).toEqual([1, 2, 4]);
    expect(report.verification.records).toBe(4);
  });
});
