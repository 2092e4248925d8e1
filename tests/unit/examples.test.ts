/**
 * The example rules and traces are documentation users copy from, so they are tested:
 * every rule file is clean, every `violates-*` trace fires exactly its rule, every
 * `satisfies-*` trace fires nothing, and the generator reproduces the committed traces.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { execFileSync } from 'child_process';
import { compileRule, decodeOtlpJsonText, evaluateTrace, parseRuleFile, RuleDefinition } from '@betrace/evaluator';

const root = path.join(__dirname, '../..');
const rulesDir = path.join(root, 'examples/rules');
const tracesDir = path.join(root, 'examples/traces');

const ruleFiles = fs.readdirSync(rulesDir).filter((f) => f.endsWith('.yaml'));
const rules: RuleDefinition[] = [];
for (const f of ruleFiles) {
  rules.push(...parseRuleFile(fs.readFileSync(path.join(rulesDir, f), 'utf8')).rules);
}
const compiled = rules.map((r) => compileRule(r).rule!);

describe('example rules', () => {
  it.each(ruleFiles)('%s has no diagnostics at all', (f) => {
    expect(parseRuleFile(fs.readFileSync(path.join(rulesDir, f), 'utf8')).diagnostics).toEqual([]);
  });

  it('cover SRE invariants, API contracts and compliance controls', () => {
    expect(rules.length).toBeGreaterThanOrEqual(12);
    const controls = rules.flatMap((r) => r.compliance ?? []).map((c) => `${c.framework} ${c.control}`);
    expect(controls).toEqual(expect.arrayContaining(['soc2 CC6.1', 'soc2 CC7.2', 'hipaa 164.312(b)']));
  });

  it('each has a violating and a satisfying example trace', () => {
    for (const r of rules) {
      const files = fs.readdirSync(path.join(tracesDir, r.id));
      expect(files.some((f) => f.startsWith('violates-'))).toBe(true);
      expect(files.some((f) => f.startsWith('satisfies-'))).toBe(true);
    }
  });
});

const cases = rules.flatMap((r) =>
  fs
    .readdirSync(path.join(tracesDir, r.id))
    .filter((f) => f.endsWith('.json'))
    .map((f) => [r.id, f] as const),
);

describe('example traces', () => {
  it.each(cases)('%s/%s fires exactly what its name says', (ruleId, file) => {
    const traces = decodeOtlpJsonText(fs.readFileSync(path.join(tracesDir, ruleId, file), 'utf8'));
    const fired = traces.flatMap((t) => evaluateTrace(compiled, t)).map((v) => v.ruleId);
    expect([...new Set(fired)]).toEqual(file.startsWith('violates-') ? [ruleId] : []);
  });

  it('are reproduced byte for byte by generate.js', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-examples-'));
    fs.copyFileSync(path.join(tracesDir, 'generate.js'), path.join(tmp, 'generate.js'));
    execFileSync(process.execPath, [path.join(tmp, 'generate.js')]);
    for (const [ruleId, file] of cases) {
      expect(fs.readFileSync(path.join(tmp, ruleId, file), 'utf8')).toBe(fs.readFileSync(path.join(tracesDir, ruleId, file), 'utf8'));
    }
    fs.rmSync(tmp, { recursive: true, force: true });
  });
});
