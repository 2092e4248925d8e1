/**
 * Evidence an auditor can trust, tried as an attacker with write access to the data folder would:
 * the secrets are not there to re-sign with, a cut tail with the head rewound and a chain rewritten
 * wholesale are caught by the anchors published outside it, by the API and by the auditor's
 * script alike; keys can come from the Vault/OpenBao transit engine (its double here); one trace
 * cannot flood the chain with per-trace records.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import pino from 'pino';
import { TransitDouble, TransitDoubleHandle } from '../../../tests/support/transitDouble';
import { loadConfig } from '../src/config';
import { AnchorLog, anchorCanonicalForm, parseAnchorView, signAnchor } from '../src/evidence/anchor';
import { ExportTraceServiceRequest } from '../src/ingest/otlpProto';
import type { EvidenceDraft } from '../src/evidence/record';
import { EvidenceRecorder } from '../src/evidence/recorder';
import { EvidenceStore } from '../src/evidence/store';
import { createSidecar, Sidecar } from '../src/sidecar';
import { Store } from '../src/store';
import { HttpDouble } from './support/doubles';

const root = path.join(__dirname, '../../..');
const SCRIPT = path.join(root, 'docs/verify_evidence.py');
const TOKEN = 'trust-test-token-0123456789';
const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);
const python = spawnSync('python3', ['--version']).status === 0;
if (!python && process.env.CI) {
  throw new Error('python3 is needed to run the auditor’s script (docs/verify_evidence.py)');
}

const draft = (i: number, failed = 0): EvidenceDraft => ({
  framework: 'soc2',
  control: 'CC7.2',
  ruleId: 'audited',
  outcome: failed > 0 ? 'fail' : 'pass',
  evidenceType: 'summary',
  checkedTraces: 4,
  failedTraces: failed,
  windowStart: T0 + i * 60_000,
  windowEnd: T0 + (i + 1) * 60_000,
  sampleTraceIds: ['ab'.repeat(16)],
  traceId: 'cd'.repeat(16),
});

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) {
    await c();
  }
});

function tmp(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

interface Running {
  sidecar: Sidecar;
  api: string;
  clock: { now: number };
}

async function run(dataDir: string, env: Record<string, string> = {}): Promise<Running> {
  const clock = { now: T0 };
  const config = loadConfig({ EVAL_WORKERS: '0', DATA_DIR: dataDir, OTLP_PORT: '0', API_PORT: '0', OTLP_GRPC_PORT: 'off', HOST: '127.0.0.1', BETRACE_API_TOKEN: TOKEN, ...env });
  const sidecar = createSidecar(config, { now: () => clock.now, logger: pino({ level: 'silent' }), tickMs: 3_600_000, writerIntervalMs: 3_600_000, evidenceIntervalMs: 3_600_000 });
  const { apiPort } = await sidecar.start();
  let stopped = false;
  cleanups.push(async () => {
    if (!stopped) await sidecar.stop();
  });
  const stop = sidecar.stop.bind(sidecar);
  sidecar.stop = async () => {
    stopped = true;
    await stop();
  };
  return { sidecar, api: `http://127.0.0.1:${apiPort}`, clock };
}

interface Export {
  verification: { ok: boolean; missing: number[]; headMismatch: boolean; anchors: { anchors: number; truncated: number[]; mismatched: number[]; latest: { seq: number } | null } };
  head: { seq: number; hash: string };
  anchors: unknown[];
  records: unknown[];
}

async function exportJson(api: string): Promise<Export> {
  const res = await fetch(`${api}/api/v1/evidence/export?format=json`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as Export;
}

function script(exported: unknown, keys: Record<string, string>, extra: string[] = []): { status: number | null; out: string } {
  const dir = tmp('betrace-audit-');
  fs.writeFileSync(path.join(dir, 'export.json'), JSON.stringify(exported));
  fs.writeFileSync(path.join(dir, 'keys.json'), JSON.stringify(keys));
  const r = spawnSync('python3', [SCRIPT, path.join(dir, 'export.json'), path.join(dir, 'keys.json'), ...extra], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

const keysOf = (s: Sidecar): Record<string, string> => Object.fromEntries(s.evidence.store.keyring('default'));

describe('anchors published outside the data folder', () => {
  (python ? it : it.skip)('catch a cut tail with the head rewound, in the API and in the auditor’s script', async () => {
    const dataDir = tmp('betrace-trust-');
    const first = await run(dataDir);
    first.sidecar.evidence.store.append('default', [draft(0), draft(1, 1), draft(2)], [], T0);
    expect(first.sidecar.evidence.anchor()).toBe(1);
    expect(first.sidecar.evidence.anchor()).toBe(0); // the head did not move
    first.sidecar.evidence.store.append('default', [draft(3), draft(4)], [], T0 + 1);
    first.clock.now = T0 + 60_000;
    expect(first.sidecar.evidence.anchor()).toBe(1);
    const clean = await exportJson(first.api);
    expect(clean.verification).toMatchObject({ ok: true, headMismatch: false, anchors: { anchors: 2, truncated: [], mismatched: [], latest: { seq: 5 } } });
    expect(clean.anchors).toHaveLength(2);
    const keys = keysOf(first.sidecar);
    expect(script(clean, keys)).toMatchObject({ status: 0, out: expect.stringContaining('2 anchors, 0 anchor problems: OK') });
    // The anchor log is outside the data folder, one signed anchor per line, and matches the export.
    const log = fs.readFileSync(path.join(`${dataDir}-anchors`, 'default.jsonl'), 'utf8').trim().split('\n');
    expect(log.map((l) => JSON.parse(l) as unknown)).toEqual(clean.anchors);
    await first.sidecar.stop();

    // The attacker deletes records 4–5 and rewinds the stored head to record 3: the chain is consistent in itself.
    const db = new Store(path.join(dataDir, 'betrace.db')).db; // the tamperer has the database, whichever engine
    const third = db.prepare("SELECT prev FROM evidence WHERE tenant = 'default' AND seq = 4").get() as { prev: string };
    db.prepare("DELETE FROM evidence WHERE tenant = 'default' AND seq > 3").run();
    db.prepare("UPDATE evidence_heads SET seq = 3, hash = ? WHERE tenant = 'default'").run(third.prev);
    db.prepare("DELETE FROM evidence_anchors WHERE tenant = 'default'").run(); // and its own copy of the anchors
    db.close();

    const second = await run(dataDir);
    const cut = await exportJson(second.api);
    expect(cut.verification).toMatchObject({ ok: false, missing: [], headMismatch: false, anchors: { truncated: [5], mismatched: [] } });
    expect(script(cut, keys)).toMatchObject({ status: 1, out: expect.stringMatching(/TRUNCATED/) });
    // Without the anchors (the export's stripped by the attacker), the auditor's own copy still tells.
    const anchorFile = path.join(`${dataDir}-anchors`, 'default.jsonl');
    expect(script({ ...cut, anchors: [] }, keys, ['--anchors', anchorFile])).toMatchObject({ status: 1, out: expect.stringMatching(/TRUNCATED/) });
    expect(script({ ...cut, anchors: [] }, keys)).toMatchObject({ status: 0, out: expect.stringContaining('no anchors') });
  });

  (python ? it : it.skip)('catch a chain rewritten wholesale, even re-signed with the real key', async () => {
    const dataDir = tmp('betrace-trust-');
    const first = await run(dataDir);
    first.sidecar.evidence.store.append('default', [draft(0, 2), draft(1, 1)], [], T0);
    first.sidecar.evidence.anchor();
    const keys = keysOf(first.sidecar);
    await first.sidecar.stop();

    // Someone holding the key as well rebuilds the chain with failures turned into passes.
    const db = new Store(path.join(dataDir, 'betrace.db')).db; // the tamperer has the database, whichever engine
    db.prepare("DELETE FROM evidence WHERE tenant = 'default'").run();
    db.prepare("DELETE FROM evidence_heads WHERE tenant = 'default'").run();
    db.close();
    const forger = new EvidenceStore(new Store(path.join(dataDir, 'betrace.db')).db);
    forger.seedKeys('default', Object.entries(keys).map(([id, secret]) => ({ id, secret })), T0);
    forger.append('default', [draft(0), draft(1)], [], T0);
    forger.db.close();

    const second = await run(dataDir);
    const forged = await exportJson(second.api);
    expect(forged.verification).toMatchObject({ ok: false, missing: [], anchors: { mismatched: [2], truncated: [] } });
    expect(script(forged, keys)).toMatchObject({ status: 1, out: expect.stringMatching(/ANCHOR MISMATCH/) });
  });

  it('are signed over the records’ canonical form, and one altered in the log is reported, not trusted', async () => {
    const dataDir = tmp('betrace-trust-');
    const { sidecar, api } = await run(dataDir);
    sidecar.evidence.store.append('default', [draft(0)], [], T0);
    sidecar.evidence.anchor();
    const file = path.join(`${dataDir}-anchors`, 'default.jsonl');
    const view = JSON.parse(fs.readFileSync(file, 'utf8')) as { attributes: Record<string, { intValue?: string }> };
    const anchor = parseAnchorView('default', 1, view)!;
    expect(anchorCanonicalForm(anchor)).toMatch(/^\{"attributes":\{"betrace\.evidence\.anchored_at":\{"stringValue":"2026-11-25T12:00:00\.000Z"\},"betrace\.evidence\.head_hash":/);
    view.attributes['betrace.evidence.head_seq'] = { intValue: '9' };
    fs.appendFileSync(file, `${JSON.stringify(view)}\n`);
    expect((await exportJson(api)).verification).toMatchObject({ ok: false, anchors: { anchors: 2, truncated: [] } });
    expect(new AnchorLog(`${dataDir}-anchors`).read('default').anchors).toHaveLength(2);
  });
});

describe('the anchor log', () => {
  it('is read incrementally: appended lines, a line still being written, a file rewritten underneath', () => {
    const dir = tmp('betrace-anchorlog-');
    const log = new AnchorLog(dir);
    const anchor = (id: number, headSeq: number) => ({
      tenant: 't',
      id,
      headSeq,
      headHash: 'a'.repeat(64),
      anchoredAt: T0 + id,
      traceId: '1'.repeat(32),
      spanId: String(id).padStart(16, '0'),
      keyId: 'k1',
      signature: 'b'.repeat(64),
    });
    expect(log.read('t')).toEqual({ anchors: [], unreadable: 0 });
    log.append(anchor(1, 3));
    log.append(anchor(2, 5));
    expect(log.read('t').anchors.map((a) => a.headSeq)).toEqual([3, 5]);
    const file = log.file('t');
    const line = fs.readFileSync(file, 'utf8').split('\n')[0].replace('"3"', '"7"');
    fs.appendFileSync(file, line.slice(0, 40)); // half a line: not read yet
    expect(log.read('t').anchors.map((a) => a.headSeq)).toEqual([3, 5]);
    fs.appendFileSync(file, `${line.slice(40)}\nnot json\n`);
    expect(log.read('t')).toMatchObject({ unreadable: 1 });
    expect(log.read('t').anchors.map((a) => a.headSeq)).toEqual([3, 5, 7]);
    // Rewritten with other content (same length or shorter): read again from the start.
    fs.writeFileSync(file, `${line.replace('"7"', '"2"')}\n`);
    expect(log.read('t')).toMatchObject({ unreadable: 0 });
    expect(log.read('t').anchors.map((a) => a.headSeq)).toEqual([2]);
    // Rewritten in place, same size, same first bytes: a full read (what a full walk does) sees it.
    fs.writeFileSync(file, `${line.replace('"7"', '"4"')}\n`);
    expect(log.read('t', true).anchors.map((a) => a.headSeq)).toEqual([4]);
  });
});

describe('anchor spans', () => {
  it('go to OTLP_EXPORT_URL as signed compliance.evidence spans (evidence_type anchor) that verify as read back', async () => {
    const sink = new HttpDouble();
    const url = await sink.start();
    cleanups.push(() => sink.stop());
    const { sidecar } = await run(tmp('betrace-trust-'), { OTLP_EXPORT_URL: url });
    sidecar.evidence.store.append('default', [draft(0), draft(1)], [], T0);
    sidecar.evidence.anchor();
    const dispatcher = sidecar.dispatchers.find((d) => (d as unknown as { writer: { name: string } }).writer.name === 'evidence-anchor')!;
    await dispatcher.runOnce();
    const spans = sink.requests.map(
      (r) =>
        (ExportTraceServiceRequest.toObject(ExportTraceServiceRequest.decode(r.body), { longs: String, bytes: String }) as {
          resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<{ name: string; traceId: string; spanId: string; attributes: Array<{ key: string; value: Record<string, unknown> }> }> }> }>;
        }).resourceSpans[0].scopeSpans[0].spans[0],
    );
    expect(spans.map((x) => x.name)).toEqual(['compliance.evidence']);
    const hex = (b64: string) => Buffer.from(b64, 'base64').toString('hex');
    const attributes = Object.fromEntries(spans[0].attributes.map((a) => [a.key, a.value]));
    expect(attributes['compliance.evidence_type']).toEqual({ stringValue: 'anchor' });
    expect(attributes['betrace.evidence.head_seq']).toEqual({ intValue: '2' });
    const anchor = parseAnchorView('default', 1, { traceId: hex(spans[0].traceId), spanId: hex(spans[0].spanId), attributes })!;
    expect(signAnchor(anchor, sidecar.evidence.store.keyring('default').get(anchor.keyId)!)).toBe(anchor.signature);
  });
});

describe('evidence keys', () => {
  it('refuse a key folder or anchor folder inside the data folder', () => {
    expect(() => loadConfig({ DATA_DIR: '/var/lib/betrace', EVIDENCE_KEY_DIR: '/var/lib/betrace/keys' })).toThrow(/EVIDENCE_KEY_DIR: must be outside DATA_DIR/);
    expect(() => loadConfig({ DATA_DIR: '/var/lib/betrace', EVIDENCE_ANCHOR_DIR: '/var/lib/betrace' })).toThrow(/EVIDENCE_ANCHOR_DIR: must be outside DATA_DIR/);
    expect(loadConfig({ DATA_DIR: '/var/lib/betrace/' }).evidenceKeyDir).toBe('/var/lib/betrace-keys');
  });

  it('move out of a data folder written by 0.1, where the secrets sat in SQLite', async () => {
    const dataDir = tmp('betrace-legacy-');
    // A 0.1 data folder: the generated default key in the settings and in evidence_keys, with its secret.
    const old = new Store(path.join(dataDir, 'betrace.db'));
    const secret = 'legacy-secret-0123456789abcdef012345';
    old.setSetting('evidence_key:default', JSON.stringify({ id: 'default-1a2b3c4d', secret }));
    old.db.prepare("INSERT INTO evidence_keys (tenant, id, secret, source, created_at) VALUES ('default', 'default-1a2b3c4d', ?, 'tenants-file', ?)").run(secret, T0);
    old.close();
    const { sidecar, api } = await run(dataDir);
    expect(sidecar.evidence.store.keys('default')).toMatchObject([{ id: 'default-1a2b3c4d', source: 'generated' }]);
    sidecar.evidence.store.append('default', [draft(0)], [], T0);
    expect((await exportJson(api)).verification.ok).toBe(true);
    await sidecar.stop();
    const bytes = fs
      .readdirSync(dataDir, { withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => fs.readFileSync(path.join(dataDir, e.name)))
      .some((b) => b.includes(secret));
    expect(bytes).toBe(false);
    expect(JSON.parse(fs.readFileSync(path.join(`${dataDir}-keys`, 'default.json'), 'utf8'))).toEqual({ keys: { 'default-1a2b3c4d': secret } });
  });

  it('come from a file: reference in the tenants file', async () => {
    const dir = tmp('betrace-keyfile-');
    fs.writeFileSync(path.join(dir, 'k1.key'), 'file-key-0123456789abcdef0123456789\n');
    fs.writeFileSync(
      path.join(dir, 'tenants.yaml'),
      `tenants:\n  - id: default\n    apiTokens: [{ name: t, sha256: ${require('crypto').createHash('sha256').update(TOKEN).digest('hex') as string} }]\n    evidenceKeys: [{ id: k1, secret: file:k1.key }]\n`,
    );
    const { sidecar } = await run(path.join(dir, 'data'), { TENANTS_FILE: path.join(dir, 'tenants.yaml') });
    expect(sidecar.evidence.store.keyring('default').get('k1')).toBe('file-key-0123456789abcdef0123456789');
    fs.writeFileSync(path.join(dir, 'bad.yaml'), 'tenants:\n  - id: default\n    evidenceKeys: [{ id: k1, secret: file:nope.key }]\n');
    expect(() => loadConfig({ TENANTS_FILE: path.join(dir, 'bad.yaml') }) && createSidecar(loadConfig({ DATA_DIR: ':memory:', TENANTS_FILE: path.join(dir, 'bad.yaml') }), { logger: pino({ level: 'silent' }) })).toThrow(
      /evidenceKeys\[0\]\.secret.*cannot read .*nope\.key \(referenced as file:nope\.key\): ENOENT/,
    );
  });
});

describe('keys from the Vault/OpenBao transit engine', () => {
  let vault: TransitDoubleHandle;
  let double: TransitDouble;
  beforeEach(async () => {
    double = new TransitDouble();
    vault = await double.start();
    cleanups.push(() => vault.close());
  });

  it('sign with a key derived by the KMS, rotate to its next version, and verify after a restart', async () => {
    const dataDir = tmp('betrace-kms-');
    const env = { EVIDENCE_KMS: 'transit', VAULT_ADDR: vault.url, VAULT_TOKEN: vault.token };
    const first = await run(dataDir, env);
    const [r1] = first.sidecar.evidence.store.append('default', [draft(0)], [], T0);
    expect(r1.keyId).toBe('transit.betrace-evidence-default.v1');
    expect(vault.keyVersions('betrace-evidence-default')).toEqual([1]);
    const rotated = await fetch(`${first.api}/api/v1/evidence/keys/rotate`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(rotated.status).toBe(201);
    expect(await rotated.json()).toMatchObject({ id: 'transit.betrace-evidence-default.v2', previous: 'transit.betrace-evidence-default.v1' });
    expect(vault.keyVersions('betrace-evidence-default')).toEqual([1, 2]);
    const refused = await fetch(`${first.api}/api/v1/evidence/keys/rotate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ secret: 'x'.repeat(40) }),
    });
    expect([refused.status, ((await refused.json()) as { message: string }).message]).toEqual([400, 'with EVIDENCE_KMS=transit the KMS makes the keys: rotate without an id or a secret']);
    first.sidecar.evidence.store.append('default', [draft(1)], [], T0);
    await first.sidecar.stop();
    expect(fs.existsSync(`${dataDir}-keys`)).toBe(false); // nothing kept on disk: the KMS derives the secrets again

    const second = await run(dataDir, env);
    const exported = await exportJson(second.api);
    expect(exported.verification).toMatchObject({ ok: true, missing: [] });
    expect(exported.records).toHaveLength(2);
    await second.sidecar.stop();

    // A sealed Vault stops the start with the address and the cause, never the token.
    double.seal();
    const config = loadConfig({ EVAL_WORKERS: '0', DATA_DIR: dataDir, OTLP_PORT: '0', API_PORT: '0', OTLP_GRPC_PORT: 'off', HOST: '127.0.0.1', BETRACE_API_TOKEN: TOKEN, ...env });
    const third = createSidecar(config, { logger: pino({ level: 'silent' }) });
    cleanups.push(() => third.stop());
    const failure = await third.start().then(
      () => undefined,
      (e: Error) => e.message,
    );
    expect(failure).toMatch(new RegExp(`Vault transit at ${vault.url.replace(/[.]/g, '\\.')}/v1/transit/.*: 503 Vault is sealed`));
    expect(failure).not.toContain(vault.token);
  });
});

describe('per-trace evidence records', () => {
  it('are limited per trace; the rest are cut, counted, and the summary still counts the trace', () => {
    const store = new Store(':memory:');
    const evidence = new EvidenceStore(store.db);
    const recorder = new EvidenceRecorder(
      evidence,
      [],
      { windowMs: 60_000, samples: 10, perTraceFailures: true, maxRecordsPerTrace: 2, anchorIntervalMs: 60_000 },
      pino({ level: 'silent' }),
      () => T0,
    );
    const cut: Array<[string, number]> = [];
    recorder.onCut = (tenant, n) => cut.push([tenant, n]);
    const compliance = [1, 2, 3].map((i) => ({ framework: 'soc2', control: `CC${i}` }));
    const rule = { version: 1, compiled: { definition: { id: 'r', compliance, severity: 'high' } } } as unknown as Parameters<EvidenceRecorder['observe']>[2][number];
    const trace = { traceId: 'ef'.repeat(16), spans: [], rootSpan: undefined } as unknown as Parameters<EvidenceRecorder['observe']>[1];
    const signal = { traceId: 'ef'.repeat(16), ruleId: 'r' } as unknown as Parameters<EvidenceRecorder['observe']>[5][number];
    recorder.observe('acme', trace, [rule], ['r'], [{ ruleId: 'r' } as never], [signal]);
    expect(evidence.all('acme').map((r) => [r.evidenceType, r.control])).toEqual([
      ['trace', 'CC1'],
      ['trace', 'CC2'],
    ]);
    expect(cut).toEqual([['acme', 1]]);
    recorder.flush();
    const [w] = evidence.dueWindows(T0 + 60_000);
    expect(evidence.windowCounts(w, 10)).toMatchObject({ checked: 1, failed: 1 });
  });
});
