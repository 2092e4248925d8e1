/**
 * The auditor's script (docs/verify_evidence.py) run with python3 against exports built with the
 * real signing code: a clean chain passes, and every tamper case the API detects fails with its
 * own problem line: altered, unknown key, broken link, reordered, duplicated, deleted (middle,
 * head, tail), truncated with the head rewound, replaced wholesale, and forged or out-of-order
 * anchors. Anchors are signed here as the export format defines them, independently of the API.
 */
import { spawnSync } from 'child_process';
import { createHash, createHmac } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { AnyValue, canonicalForm, canonicalJson, chainHash, EvidenceRecord, evidenceAttributes, evidenceSpanId, GENESIS_PREV, signRecord } from '../src/evidence/record';

const SCRIPT = path.join(__dirname, '../../../docs/verify_evidence.py');
const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);
const SECRET = 'auditor-key-0123456789abcdef012345';
const FORGED = 'forged-key-0123456789abcdef0123456';
const TENANT = 'default';

interface Item {
  traceId: string;
  spanId: string;
  attributes: Record<string, AnyValue>;
}

interface ChainOptions {
  keyId?: string;
  secret?: string;
  ruleId?: string;
}

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

function record(seq: number, prev: string, options: ChainOptions = {}): EvidenceRecord {
  const unsigned = {
    framework: 'soc2',
    control: 'CC7.2',
    ruleId: options.ruleId ?? 'payments-audited',
    outcome: seq % 2 === 0 ? ('fail' as const) : ('pass' as const),
    evidenceType: 'summary' as const,
    checkedTraces: 10 + seq,
    failedTraces: seq % 2,
    windowStart: T0 + seq * 60_000,
    windowEnd: T0 + (seq + 1) * 60_000,
    sampleTraceIds: [sha(`sample/${seq}`).slice(0, 32)],
    traceId: sha(`trace/${seq}`).slice(0, 32),
    seq,
    spanId: evidenceSpanId(TENANT, seq),
    keyId: options.keyId ?? 'k1',
    prev,
  };
  return { ...unsigned, tenant: TENANT, signature: signRecord(unsigned, options.secret ?? SECRET) };
}

/** Seqs 1…n, each linked to the one before. */
function chain(n: number, options: ChainOptions = {}): EvidenceRecord[] {
  const out: EvidenceRecord[] = [];
  for (let seq = 1; seq <= n; seq++) {
    out.push(record(seq, seq === 1 ? GENESIS_PREV : chainHash(out[seq - 2]), options));
  }
  return out;
}

/** Re-signs a record after a change, as someone holding the key would. */
function resign(r: EvidenceRecord, change: Partial<EvidenceRecord>, secret = SECRET): EvidenceRecord {
  const changed = { ...r, ...change };
  return { ...changed, signature: signRecord(changed, secret) };
}

const item = (r: EvidenceRecord): Item => ({ traceId: r.traceId, spanId: r.spanId, attributes: evidenceAttributes(r) });

/** The head at seq, as the chain had it (a made-up hash past the chain's end). */
const headOf = (records: readonly EvidenceRecord[], seq: number) => ({
  seq,
  hash: seq === 0 ? GENESIS_PREV : seq > records.length ? sha(`head/${seq}`) : chainHash(records[seq - 1]),
});

/** An anchor as the export format defines it: signed over the records' canonical form. */
function signAnchor(head: { seq: number; hash: string }, anchoredAt: string, keyId = 'k1', secret = SECRET): Item {
  const traceId = sha(`anchor/${anchoredAt}`).slice(0, 32);
  const spanId = sha(`anchor/${anchoredAt}/span`).slice(0, 16);
  const attributes: Record<string, AnyValue> = {
    'compliance.evidence_type': { stringValue: 'anchor' },
    'betrace.evidence.head_seq': { intValue: String(head.seq) },
    'betrace.evidence.head_hash': { stringValue: head.hash },
    'betrace.evidence.anchored_at': { stringValue: anchoredAt },
    'betrace.evidence.key_id': { stringValue: keyId },
  };
  const signature = createHmac('sha256', Buffer.from(secret, 'utf8'))
    .update(canonicalJson({ attributes, span_id: spanId, trace_id: traceId }), 'utf8')
    .digest('hex');
  return { traceId, spanId, attributes: { ...attributes, 'betrace.evidence.signature': { stringValue: signature } } };
}

const at = (minute: number) => new Date(T0 + minute * 60_000).toISOString();

interface ExportOptions {
  head?: { seq: number; hash: string };
  anchors?: readonly Item[];
  framework?: string | null;
  from?: string | null;
}

function exportOf(records: readonly EvidenceRecord[], options: ExportOptions = {}) {
  const last = records.reduce((top, r) => (r.seq > top.seq ? r : top), records[0]);
  return {
    tenant: TENANT,
    generatedAt: at(100),
    scope: { framework: options.framework ?? null, control: null },
    period: { from: options.from ?? null, to: null },
    head: options.head ?? (last ? { seq: last.seq, hash: chainHash(last) } : { seq: 0, hash: GENESIS_PREV }),
    anchors: options.anchors ?? [],
    verification: {},
    controls: [],
    records: records.map(item),
  };
}

const python = spawnSync('python3', ['--version']).status === 0;
let dir = '';
let runs = 0;

/** Runs the script; a string export or anchors file is written as is (to test unreadable input). */
function run(exported: unknown, options: { anchors?: unknown; keys?: unknown; args?: readonly string[] } = {}) {
  const file = (name: string, content: unknown) => {
    const p = path.join(dir, `${++runs}-${name}`);
    fs.writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
    return p;
  };
  const args = options.args ?? [
    file('export.json', exported),
    file('keys.json', options.keys ?? { k1: SECRET }),
    ...(options.anchors === undefined ? [] : ['--anchors', file('anchors.json', options.anchors)]),
  ];
  const r = spawnSync('python3', [SCRIPT, ...args], { encoding: 'utf8' });
  const lines = r.stdout.split('\n').filter((l) => l !== '');
  const body = lines.slice(0, -1);
  return {
    status: r.status,
    stdout: r.stdout,
    stderr: r.stderr,
    /** One line per record, in the order presented. */
    records: body.filter((l) => /^-?\d+ /.test(l)),
    /** The problem and warning lines between the records and the summary. */
    problems: body.filter((l) => !/^-?\d+ /.test(l)),
    summary: lines[lines.length - 1],
  };
}

if (!python && process.env.CI) {
  it('needs python3 to run the auditor script (CI must have it)', () => {
    throw new Error('python3 is not on PATH: the auditor script test cannot run');
  });
}

(python ? describe : describe.skip)('the auditor script docs/verify_evidence.py', () => {
  const good = chain(5);
  // Anchors published while the chain grew: at seq 2, then at seq 5.
  const anchors = [signAnchor(headOf(good, 2), at(3)), signAnchor(headOf(good, 5), at(6))];

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-auditor-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('passes a clean chain with its head and anchors', () => {
    expect(run(exportOf(good, { anchors }))).toEqual({
      status: 0,
      stdout:
        '1 signature ok link ok\n2 signature ok link ok\n3 signature ok link ok\n4 signature ok link ok\n5 signature ok link ok\n' +
        '5 records, 0 with problems, 0 missing, 2 anchors, 0 anchor problems: OK\n',
      stderr: '',
      records: expect.any(Array),
      problems: [],
      summary: expect.any(String),
    });
  });

  it('computes the canonical form as the API does, escapes and non-ASCII included', () => {
    const odd = [record(1, GENESIS_PREV, { ruleId: 'r\u00e9gle "quoted"\\ \u2028 \u{1F600} \ud800 \n\t' })];
    odd.push(record(2, chainHash(odd[0])));
    const vector = canonicalForm(odd[0]);
    expect(vector).toContain('\\ud800');
    const r = run(exportOf(odd, { anchors: [signAnchor(headOf(odd, 2), at(3))] }));
    expect(r).toMatchObject({ status: 0, records: ['1 signature ok link ok', '2 signature ok link ok'], problems: [] });
  });

  it('fails an altered field: ALTERED, and the next record no longer links to it', () => {
    const altered = exportOf(good, { anchors });
    altered.records[2].attributes['compliance.failed_traces'] = { intValue: '0' };
    const r = run(altered);
    expect(r.status).toBe(1);
    expect(r.records).toEqual(['1 signature ok link ok', '2 signature ok link ok', '3 ALTERED link ok', '4 signature ok CHAIN BROKEN', '5 signature ok link ok']);
    expect(r.problems).toEqual(['ALTERED seq: 3', 'CHAIN BROKEN seq: 4']);
    expect(r.summary).toBe('5 records, 2 with problems, 0 missing, 2 anchors, 0 anchor problems: FAILED');
  });

  it('fails records re-signed with a key the auditor was not given: UNKNOWN KEY', () => {
    // Records 3… rewritten and re-signed, the chain relinked and the head moved along.
    const forged = good.slice(0, 2);
    for (let seq = 3; seq <= 5; seq++) {
      forged.push(record(seq, chainHash(forged[seq - 2]), { keyId: 'k-forged', secret: FORGED }));
    }
    const r = run(exportOf(forged, { anchors: [anchors[0]] }));
    expect(r.status).toBe(1);
    expect(r.records.slice(2)).toEqual(['3 UNKNOWN KEY link ok', '4 UNKNOWN KEY link ok', '5 UNKNOWN KEY link ok']);
    expect(r.problems).toEqual(['UNKNOWN KEY seq: 3-5']);
  });

  it('fails a record replaced by a validly signed one with a wrong prev: CHAIN BROKEN', () => {
    const replaced = [...good];
    replaced[2] = resign(good[2], { prev: 'ab'.repeat(32), checkedTraces: 99 });
    const r = run(exportOf(replaced, { anchors: [anchors[0]] }));
    expect(r.status).toBe(1);
    expect(r.records.slice(2, 4)).toEqual(['3 signature ok CHAIN BROKEN', '4 signature ok CHAIN BROKEN']);
    expect(r.problems).toEqual(['CHAIN BROKEN seq: 3-4']);
  });

  it('fails records presented out of order: REORDERED', () => {
    const r = run(exportOf([good[0], good[2], good[1], good[3], good[4]], { anchors }));
    expect(r.status).toBe(1);
    expect(r.records).toEqual(['1 signature ok link ok', '3 signature ok link ok', '2 signature ok link ok REORDERED', '4 signature ok link ok', '5 signature ok link ok']);
    expect(r.problems).toEqual(['REORDERED seq: 2']);
  });

  it('fails a duplicated record, every occurrence after the first: DUPLICATE', () => {
    const r = run(exportOf([good[0], good[1], good[2], good[2], good[3], good[2], good[4]], { anchors }));
    expect(r.status).toBe(1);
    expect(r.records.slice(2, 6)).toEqual(['3 signature ok link ok', '3 signature ok link ok DUPLICATE', '4 signature ok link ok', '3 signature ok link ok REORDERED DUPLICATE']);
    expect(r.problems).toEqual(['REORDERED seq: 3', 'DUPLICATE seq: 3, 3']);
  });

  it('links against the first occurrence of a duplicated seq, not the last (a fork cannot hide behind it)', () => {
    // A second, validly signed record 3 that record 4 links to: the script used to keep the last.
    const fork = resign(good[2], { checkedTraces: 1 });
    const four = resign(good[3], { prev: chainHash(fork) });
    const r = run(exportOf([good[0], good[1], good[2], fork, four, resign(good[4], { prev: chainHash(four) })]));
    expect(r.status).toBe(1);
    expect(r.records.slice(2, 5)).toEqual(['3 signature ok link ok', '3 signature ok link ok DUPLICATE', '4 signature ok CHAIN BROKEN']);
    expect(r.problems).toEqual(['CHAIN BROKEN seq: 4', 'DUPLICATE seq: 3', 'no anchors: truncation and replacement cannot be detected']);
  });

  it('fails a deleted middle record: MISSING, the next link unchecked', () => {
    const r = run(exportOf([good[0], good[1], good[3], good[4]], { anchors }));
    expect(r.status).toBe(1);
    expect(r.records).toEqual(['1 signature ok link ok', '2 signature ok link ok', '4 signature ok link unchecked', '5 signature ok link ok']);
    expect(r.problems).toEqual(['MISSING seq: 3']);
    expect(r.summary).toBe('4 records, 0 with problems, 1 missing, 2 anchors, 0 anchor problems: FAILED');
  });

  it('fails deleted first records: seqs are counted from 1, not from the lowest present', () => {
    const r = run(exportOf(good.slice(2), { anchors: [anchors[1]] }));
    expect(r.status).toBe(1);
    expect(r.records[0]).toBe('3 signature ok link unchecked');
    expect(r.problems).toEqual(['MISSING seq: 1-2']);
  });

  it('fails a deleted tail when the head was left: MISSING at the end', () => {
    const r = run(exportOf(good.slice(0, 3), { head: headOf(good, 5), anchors }));
    expect(r.status).toBe(1);
    expect(r.problems).toEqual(['MISSING seq: 4-5']);
  });

  it('fails a deleted tail with the head rewound only through an anchor: TRUNCATED', () => {
    const truncated = good.slice(0, 3);
    const r = run(exportOf(truncated, { head: headOf(good, 3), anchors }));
    expect(r.status).toBe(1);
    expect(r.records).toHaveLength(3);
    expect(r.problems).toEqual([`TRUNCATED: anchor at ${at(6)} has the chain at seq 5, it ends at seq 3: records 4-5 are gone`]);
    // Without anchors the same export is consistent: the warning says what cannot be seen.
    const blind = run(exportOf(truncated, { head: headOf(good, 3) }));
    expect(blind).toMatchObject({ status: 0, problems: ['no anchors: truncation and replacement cannot be detected'] });
    expect(blind.summary).toBe('3 records, 0 with problems, 0 missing, 0 anchors, 0 anchor problems: OK');
    // The whole chain deleted and the head set back to 0.
    const empty = run(exportOf([], { anchors }));
    expect(empty.status).toBe(1);
    expect(empty.problems).toEqual([
      `TRUNCATED: anchor at ${at(3)} has the chain at seq 2, it ends at seq 0: records 1-2 are gone`,
      `TRUNCATED: anchor at ${at(6)} has the chain at seq 5, it ends at seq 0: records 1-5 are gone`,
    ]);
  });

  it('fails a chain replaced wholesale, signed with the same key: ANCHOR MISMATCH against anchors from Tempo', () => {
    const fresh = chain(6, { ruleId: 'something-else' });
    // Whoever replaced the chain also controls the export's anchors: the auditor brings their own.
    const exported = exportOf(fresh, { anchors: [signAnchor(headOf(fresh, 6), at(7))] });
    expect(run(exported)).toMatchObject({ status: 0, problems: [] });
    const r = run(exported, { anchors: { anchors } });
    expect(r.status).toBe(1);
    expect(r.records.every((l) => l.endsWith('signature ok link ok'))).toBe(true);
    expect(r.problems).toEqual([
      `ANCHOR MISMATCH: anchor at ${at(3)}: record 2 hashes to ${chainHash(fresh[1])}, anchored ${chainHash(good[1])}: the chain was replaced or rewritten`,
      `ANCHOR MISMATCH: anchor at ${at(6)}: record 5 hashes to ${chainHash(fresh[4])}, anchored ${chainHash(good[4])}: the chain was replaced or rewritten`,
    ]);
  });

  it('fails an altered anchor, and one signed by an unknown key, and does not trust either', () => {
    const altered = structuredClone(anchors[1]);
    altered.attributes['betrace.evidence.head_seq'] = { intValue: '9' };
    const stranger = signAnchor(headOf(good, 9), at(8), 'k-other', FORGED);
    const r = run(exportOf(good, { anchors: [anchors[0], altered, stranger] }));
    expect(r.status).toBe(1);
    expect(r.problems).toEqual([
      `ANCHOR ALTERED: anchor at ${at(6)} (head seq 9): its signature does not match`,
      `ANCHOR UNKNOWN KEY: anchor at ${at(8)} (head seq 9): signed by key 'k-other', not in the keys file`,
    ]);
    expect(r.summary).toBe('5 records, 0 with problems, 0 missing, 3 anchors, 2 anchor problems: FAILED');
  });

  it('fails anchors whose head went back in time: ANCHORS OUT OF ORDER', () => {
    // Listed in publication order or not, they are compared by anchored_at.
    const later = signAnchor(headOf(good, 3), at(9));
    const r = run(exportOf(good, { anchors: [later, anchors[1], anchors[0]] }));
    expect(r.status).toBe(1);
    expect(r.problems).toEqual([`ANCHORS OUT OF ORDER: anchor at ${at(9)} has head seq 3, after head seq 5 at ${at(6)}: the head went back`]);
    expect(run(exportOf(good, { anchors: [anchors[1], anchors[0]] }))).toMatchObject({ status: 0, problems: [] });
  });

  it('checks the stored head: HEAD MISMATCH for a wrong hash, a head below the records, a non-zero empty head', () => {
    expect(run(exportOf(good, { head: { seq: 5, hash: chainHash(good[3]) }, anchors })).problems).toEqual([
      `HEAD MISMATCH: record 5 hashes to ${chainHash(good[4])}, the head says ${chainHash(good[3])}`,
    ]);
    const below = run(exportOf(good, { head: headOf(good, 4), anchors: [anchors[0]] }));
    expect(below).toMatchObject({ status: 1, problems: ['HEAD MISMATCH: the head is seq 4 but the chain holds seq 5'] });
    expect(run(exportOf([], { head: { seq: 0, hash: 'f'.repeat(64) } }))).toMatchObject({
      status: 1,
      problems: [`HEAD MISMATCH: the head is seq 0, whose hash is 64 zeros, not ${'f'.repeat(64)}`, 'no anchors: truncation and replacement cannot be detected'],
    });
    expect(run(exportOf([], { anchors: [signAnchor(headOf([], 0), at(0))] }))).toMatchObject({ status: 0, problems: [], summary: '0 records, 0 with problems, 0 missing, 1 anchors, 0 anchor problems: OK' });
  });

  it('uses an --anchors file instead of the export’s anchors, as a JSON document or as JSON lines', () => {
    const truncated = exportOf(good.slice(0, 3), { head: headOf(good, 3), anchors: [anchors[0]] });
    expect(run(truncated).status).toBe(0);
    const expected = [`TRUNCATED: anchor at ${at(6)} has the chain at seq 5, it ends at seq 3: records 4-5 are gone`];
    expect(run(truncated, { anchors: { anchors } })).toMatchObject({ status: 1, problems: expected });
    const jsonLines = `${anchors.map((a) => JSON.stringify(a)).join('\n')}\n`;
    expect(run(truncated, { anchors: jsonLines })).toMatchObject({ status: 1, problems: expected });
    expect(run(truncated, { anchors: JSON.stringify(anchors[1]) })).toMatchObject({ status: 1, problems: expected });
    // And the other way round: a forged anchor in the export is ignored when the auditor brings the real ones.
    const forgedInExport = exportOf(good, { anchors: [structuredClone({ ...anchors[1], spanId: '0'.repeat(16) })] });
    expect(run(forgedInExport).status).toBe(1);
    expect(run(forgedInExport, { anchors: jsonLines })).toMatchObject({ status: 0, problems: [] });
    // An empty anchor log is "no anchors".
    expect(run(exportOf(good, { anchors }), { anchors: '' })).toMatchObject({ status: 0, problems: ['no anchors: truncation and replacement cannot be detected'] });
  });

  it('checks a filtered export for signatures, present links, order and duplicates only', () => {
    const note = 'filtered export: gaps, head and anchors not checked';
    const subset = [good[1], good[2], good[4]];
    const r = run(exportOf(subset, { framework: 'soc2', head: headOf(good, 1), anchors: [signAnchor(headOf(good, 9), at(9))] }));
    expect(r).toMatchObject({ status: 0, records: ['2 signature ok link unchecked', '3 signature ok link ok', '5 signature ok link unchecked'], problems: [note] });
    expect(r.summary).toBe('3 records, 0 with problems, 0 missing: OK');
    expect(run(exportOf(subset, { from: at(0) })).status).toBe(0);

    const altered = exportOf(subset, { framework: 'soc2' });
    altered.records[0].attributes['compliance.outcome'] = { stringValue: 'pass' };
    expect(run(altered)).toMatchObject({ status: 1, problems: ['ALTERED seq: 2', 'CHAIN BROKEN seq: 3', note] });
    expect(run(exportOf([good[2], good[1], good[1]], { framework: 'soc2' }))).toMatchObject({ status: 1, problems: ['REORDERED seq: 2, 2', 'DUPLICATE seq: 2', note] });
  });

  it('exits 2 with a message and no traceback on bad usage or unreadable input', () => {
    const cases: Array<[ReturnType<typeof run>, RegExp]> = [
      [run(null, { args: [] }), /usage: verify_evidence\.py/],
      [run(null, { args: ['only-one.json'] }), /usage: verify_evidence\.py/],
      [run(null, { args: [path.join(dir, 'absent.json'), path.join(dir, 'absent-keys.json')] }), /absent\.json: cannot read the export/],
      [run('{"records": [', {}), /the export is not JSON: .* at line 1 column 14/],
      [run(exportOf(good), { keys: ['k1', SECRET] }), /keys must be an object/],
      [run({ head: { seq: 0, hash: GENESIS_PREV } }), /not a BeTrace JSON export \(no records list\)/],
      [run({ ...exportOf(good), head: undefined }), /export: no head/],
      [run({ ...exportOf(good), records: [{ traceId: 'a', spanId: 'b', attributes: {} }] }), /record 1: no betrace.evidence.key_id stringValue/],
      [run(exportOf(good), { anchors: 'not json\n' }), /anchors\.json: line 1 is not JSON/],
      [run(exportOf(good), { anchors: { anchors: [item(good[0])] } }), /anchor 1: compliance.evidence_type is 'summary', not 'anchor'/],
    ];
    const bad = structuredClone(exportOf(good));
    bad.records[1].attributes['betrace.evidence.seq'] = { intValue: 'two' };
    cases.push([run(bad), /record 2: betrace.evidence.seq is not an integer: 'two'/]);
    for (const [r, message] of cases) {
      expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 2, stdout: '' });
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toContain('Traceback');
    }
  });
});
