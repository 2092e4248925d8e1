import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { main } from '../src/cli';
import { commands } from '../src/commands';
import type { CommandIO } from '../src/commands/io';

const root = path.join(__dirname, '../../..');

async function run(args: string[], cwd = root): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CommandIO = { stdout: (t) => (out += t), stderr: (t) => (err += t), cwd, env: {} };
  const code = await main(args, io);
  return { code, out, err };
}

function tmpDir(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-cli-'));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

describe('--help and --version', () => {
  it.each(Object.keys(commands))('betrace %s --help prints its usage on stdout and exits 0', async (name) => {
    const r = await run([name, '--help']);
    expect(r).toEqual({ code: 0, out: `usage: ${commands[name].usage}\n\n${commands[name].summary}\n`, err: '' });
  });

  it('answers --help after a subcommand instead of doing the work', async () => {
    const hash = await run(['tenants', 'hash-token', '--help']);
    expect(hash.code).toBe(0);
    expect(hash.out).toMatch(/^usage: betrace tenants hash-token/);
    expect(hash.out).not.toMatch(/^[0-9a-f]{64}$/m);
    const check = await run(['tenants', 'check', '-h']);
    expect(check.code).toBe(0);
    expect(check.err).toBe('');
    expect((await run(['test', 'examples/rules', '--traces', 'examples/traces', '--help'])).out).toMatch(/^usage: betrace test/);
  });

  it('hashes a token that looks like a flag when it follows --', async () => {
    const r = await run(['tenants', 'hash-token', '--', '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^[0-9a-f]{64}\n$/);
  });

  it('prints the version of the package', async () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'packages/sidecar/package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      expect(await run([flag])).toEqual({ code: 0, out: `betrace ${pkg.version}\n`, err: '' });
    }
  });
});

describe('betrace check', () => {
  it('passes the example rules', async () => {
    const r = await run(['check', 'examples/rules']);
    expect(r).toEqual({ code: 0, out: '', err: '3 file(s), 13 valid rule(s): 0 error(s), 0 warning(s)\n' });
  });

  it('prints file:line:col: severity: message and exits 1 on errors', async () => {
    const dir = tmpDir({
      'rules/a.yaml': 'rules:\n  - id: big-payment\n    name: Big payment\n    severity: high\n    condition: |\n      payment.amount > 1000\n',
      'rules/b.yml': 'rules:\n  - id: ok\n    name: Fine\n    severity: low\n    condtion: x\n    condition: checkout\n',
    });
    const r = await run(['check', 'rules'], dir);
    expect(r.code).toBe(1);
    expect(r.out).toBe(
      'rules/a.yaml:6:7: error: a span selector cannot be compared directly; did you mean `payment.where(amount > 1000)`? [big-payment.condition]\n' +
        'rules/b.yml:5:15: warning: unknown field `condtion` is ignored (known: id, name, severity, description, message, compliance, slo, enabled, condition) [ok.condtion]\n',
    );
    expect(r.err).toBe('2 file(s), 1 valid rule(s): 1 error(s), 1 warning(s)\n');
  });

  it('refuses the same rule id in two files', async () => {
    const rule = 'rules:\n  - { id: same, name: n, severity: low, condition: a }\n';
    const dir = tmpDir({ 'a.yaml': rule, 'b.yaml': rule });
    const r = await run(['check', '.'], dir);
    expect(r.code).toBe(1);
    expect(r.out).toBe('b.yaml:2:11: error: rule id `same` is already defined in a.yaml [same.id]\n');
  });

  it('reports every schema error of every rule and file, sorted by file and line', async () => {
    const dir = tmpDir({
      'rules/a.yaml': [
        'rules:',
        '  - id: Bad_Id',
        '    condition: "trace.cnt(http.retry) > 3"',
        '    name: 5',
        '    severity: urgent',
        '  - id: two',
        '    severity: high',
        '    enabled: yes',
        '    condition: "when { p: payment.charge } always { fraud.check.before(q) }"',
        '',
      ].join('\n'),
      'rules/b.yaml': [
        'rules:',
        '  - name: three',
        '    severity: low',
        '    condition: "payment.charge.before(fraud.check, within 5 s)"',
        '  - id: four',
        '    name: four',
        '    severity: low',
        '    message: "{nope.x}"',
        '    compliance: soc2',
        '    condition: payment.charge',
        '',
      ].join('\n'),
    });
    const r = await run(['check', 'rules'], dir);
    expect(r.code).toBe(1);
    expect(r.out.split('\n')).toEqual([
      "rules/a.yaml:2:9: error: rule id `Bad_Id` must match [a-z0-9][a-z0-9-_.]* (lowercase letters, digits, '-', '_', '.') [Bad_Id.id]",
      'rules/a.yaml:3:23: error: unknown function `trace.cnt`; did you mean `trace.count`? [Bad_Id.condition]',
      'rules/a.yaml:4:11: error: `name` must be a string [Bad_Id.name]',
      'rules/a.yaml:5:15: error: severity must be one of info, low, medium, high, critical; got "urgent" [Bad_Id.severity]',
      'rules/a.yaml:6:5: error: rule `two` needs a `name` [two.name]',
      'rules/a.yaml:8:14: error: `enabled` must be true or false [two.enabled]',
      'rules/a.yaml:9:72: warning: `q` is read as a span name, and no known span has that name; did you mean the bound span `p`? [two.condition]',
      'rules/b.yaml:2:5: error: rule #1 needs an `id` [id]',
      'rules/b.yaml:4:59: error: a duration is written without a space before its unit: `5s` [condition]',
      'rules/b.yaml:8:15: error: unknown variable in placeholder `{nope.x}`: the condition binds no span (`when { p: … }`) [four.message]',
      'rules/b.yaml:9:17: error: `compliance` must be a list of { framework, control } [four.compliance]',
      '',
    ]);
    expect(r.err).toBe('2 file(s), 0 valid rule(s): 10 error(s), 1 warning(s)\n');
  });

  it('exits 2 on usage errors and missing files', async () => {
    expect((await run(['check'])).code).toBe(2);
    const missing = await run(['check', 'nope.yaml']);
    expect(missing).toEqual({ code: 2, out: '', err: 'betrace check: nope.yaml: no such file or directory\n' });
  });
});

describe('betrace test', () => {
  it('--json prints exactly one JSON array of the violations and nothing else', async () => {
    const r = await run(['test', 'examples/rules', '--traces', 'examples/traces/payment-fraud-check', 'examples/traces/no-auto-approve', '--json']);
    expect(r.code).toBe(0);
    const parsed = JSON.parse(r.out) as Array<{ ruleId: string; traceId: string; spanIds: string[] }>;
    expect(r.out.trim()).toBe(JSON.stringify(parsed));
    expect(parsed.map((v) => v.ruleId).sort()).toEqual(['no-auto-approve', 'payment-fraud-check']);
    for (const v of parsed) {
      expect(Object.keys(v)).toEqual(['ruleId', 'traceId', 'spanIds']);
      expect(v.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(v.spanIds.length).toBeGreaterThan(0);
      expect([...v.spanIds].sort()).toEqual(v.spanIds);
      v.spanIds.forEach((id) => expect(id).toMatch(/^[0-9a-f]{16}$/));
    }
    expect(r.err).toMatch(/13 rule\(s\) over 4 trace\(s\) in 4 file\(s\): 2 violation\(s\)/);
  });

  it('warns about a trace file that holds no resourceSpans instead of counting it as zero traces', async () => {
    const dir = tmpDir({ 'search.json': '{"traces":[{"traceID":"abc"}]}', 'empty.json': '{"resourceSpans":[]}' });
    const r = await run(['test', path.join(root, 'examples/rules'), '--traces', '.'], dir);
    expect(r.code).toBe(0);
    expect(r.err).toContain('warning: empty.json: no traces read: its `resourceSpans` hold no spans\n');
    expect(r.err).toContain('warning: search.json: no traces read: it has no `resourceSpans` (is it an OTLP/JSON trace export?)\n');
    expect(r.err).toMatch(/over 0 trace\(s\) in 2 file\(s\)/);
  });

  it('prints a readable list with the rendered message', async () => {
    const r = await run(['test', 'examples/rules/api-contracts.yaml', '--traces', 'examples/traces/payment-fraud-check/violates-1.json']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^CRITICAL payment-fraud-check {2}trace [0-9a-f]{32} span [0-9a-f]{16} {2}\(examples\/traces\/payment-fraud-check\/violates-1\.json\)\n {9}charge of 1250 USD for order ord-1001 without a fraud check\n$/);
  });

  it('reads NDJSON', async () => {
    const one = fs.readFileSync(path.join(root, 'examples/traces/no-auto-approve/violates-1.json'), 'utf8');
    const two = fs.readFileSync(path.join(root, 'examples/traces/no-auto-approve/satisfies-1.json'), 'utf8');
    const dir = tmpDir({ 't.ndjson': `${JSON.stringify(JSON.parse(one))}\n${JSON.stringify(JSON.parse(two))}\n` });
    const r = await run(['test', path.join(root, 'examples/rules'), '--traces', 't.ndjson', '--json'], dir);
    expect((JSON.parse(r.out) as unknown[]).length).toBe(1);
  });

  it.each<[string[], string]>([
    [['test', 'examples/rules'], 'betrace test: needs rule files and --traces'],
    [['test', 'examples/rules', '--traces', 'nope'], 'betrace test: nope: no such file or directory'],
    [['test', 'examples/rules', '--bogus', '--traces', 'x'], 'betrace test: unknown option --bogus'],
  ])('exits 2 on bad input: %j', async (args, message) => {
    const r = await run(args);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err.split('\n')[0]).toBe(message);
  });

  it('exits 2 on a malformed trace, naming the file and the field', async () => {
    const dir = tmpDir({ 'bad.json': JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: 'zz', spanId: '0000000000000001' }] }] }] }) });
    const r = await run(['test', path.join(root, 'examples/rules'), '--traces', 'bad.json', '--json'], dir);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toBe('bad.json: resourceSpans[0].scopeSpans[0].spans[0].traceId: expected 32 hex characters, got "zz"\n');
  });
});

describe('betrace replay', () => {
  it('without TEMPO_URL says so, and where the history is replayed instead (exit 2)', async () => {
    const r = await run(['replay', '--rules', 'examples/rules', '--from', '-1h', '--to', 'now', '--dry-run']);
    expect(r.code).toBe(2);
    expect(r.err).toBe("betrace replay: set TEMPO_URL (and TEMPO_ORG_ID for a multi-tenant Tempo); without Tempo, replay the sidecar's history of recent traces with POST /api/v1/replay\n");
  });
});

describe('the built binary', () => {
  it('runs `betrace test --json` as a process (build first: npm run build:packages)', () => {
    const cli = path.join(root, 'packages/sidecar/dist/cli.js');
    if (!fs.existsSync(cli)) {
      throw new Error(`${cli} is missing: run \`npm run build:packages\` before the tests (npm test does)`);
    }
    const r = spawnSync(process.execPath, [cli, 'test', 'examples/rules', '--traces', 'examples/traces', '--json'], { cwd: root, encoding: 'utf8' });
    expect(r.status).toBe(0);
    const violations = JSON.parse(r.stdout) as Array<{ ruleId: string }>;
    expect(violations).toHaveLength(13);
    expect(new Set(violations.map((v) => v.ruleId)).size).toBe(13);
  });
});
