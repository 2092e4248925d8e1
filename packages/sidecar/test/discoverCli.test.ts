/**
 * `betrace discover`: the built CLI spawned on trace files the test writes. With --json stdout is
 * exactly one JSON array (the contract's fields first, best first); without it a ranked list;
 * progress and notes on stderr only; exit 2 with one line naming the problem on bad input.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { compileRule } from '@betrace/evaluator';
import { fileSource } from '../src/discovery/sources';
import { cli, requireBuiltCli } from './support/serve';
import { shopCorpus } from './support/discoverCorpus';

const START = Date.parse('2025-03-01T10:00:00Z');
const CONTRACT = ['id', 'kind', 'condition', 'support', 'confidence', 'violations', 'exampleTraceIds'];

function betrace(args: string[], cwd: string, env: Record<string, string> = {}): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', ...env }, timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

let dir: string;
beforeAll(() => {
  requireBuiltCli();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-discover-cli-'));
  // 300 traces in three files (one of them NDJSON, in a subdirectory); 2 % lack the fraud check.
  const corpus = shopCorpus(300, START, (i) => i % 50 === 7);
  fs.mkdirSync(path.join(dir, 'traces/more'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'traces/a.json'), JSON.stringify({ resourceSpans: corpus.slice(0, 100).flatMap((t) => t.resourceSpans) }));
  fs.writeFileSync(path.join(dir, 'traces/b.json'), JSON.stringify({ resourceSpans: corpus.slice(100, 200).flatMap((t) => t.resourceSpans) }));
  fs.writeFileSync(path.join(dir, 'traces/more/c.ndjson'), corpus.slice(200).map((t) => JSON.stringify(t)).join('\n'));
  fs.writeFileSync(path.join(dir, 'broken.json'), '{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": 7}]}]}]}');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('betrace discover --json', () => {
  let first: Array<Record<string, unknown>>;

  it('prints exactly one JSON array of suggestions that compile, best first, and notes on stderr', () => {
    const r = betrace(['discover', '--traces', 'traces', '--json', '--seed', '7'], dir);
    expect(r.err).not.toMatch(/Error:|at .*\.js:\d+/);
    expect(r.code).toBe(0);
    first = JSON.parse(r.out) as Array<Record<string, unknown>>;
    expect(Array.isArray(first)).toBe(true);
    expect(r.out.trim().startsWith('[')).toBe(true);
    expect(r.out.endsWith(']\n')).toBe(true);
    expect(first.length).toBeGreaterThan(0);
    for (const s of first) {
      expect(Object.keys(s).slice(0, CONTRACT.length)).toEqual(CONTRACT);
      expect(s.id).toMatch(/^sg-[0-9a-f]{16}$/);
      expect(typeof s.support).toBe('number');
      expect(s.confidence as number).toBeGreaterThan(0);
      expect(s.confidence as number).toBeLessThanOrEqual(1);
      const compiled = compileRule({ id: 'x', name: 'x', severity: 'low', enabled: true, condition: s.condition as string });
      expect([s.condition, compiled.diagnostics.filter((d) => d.severity === 'error')]).toEqual([s.condition, []]);
    }
    const scores = first.map((s) => s.score as number);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    // The fraud check is missing in 6 of 300 traces: an almost invariant, with its violations.
    const fraud = first.find((s) => /payment\.fraud_check/.test(s.condition as string) && (s.violations as number) > 0);
    expect(fraud).toBeDefined();
    expect(r.err).toMatch(/3 file\(s\): 300 trace\(s\)/);
  });

  it('is deterministic for a seed', () => {
    const r = betrace(['discover', '--traces', 'traces', '--json', '--seed', '7'], dir);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual(first);
  });

  it('--top limits the list; --rules drops a suggestion equivalent to an existing rule', () => {
    const top = betrace(['discover', '--traces', 'traces/a.json', 'traces/b.json', 'traces/more', '--json', '--seed', '7', '--top', '2'], dir);
    expect(top.code).toBe(0);
    expect((JSON.parse(top.out) as unknown[]).length).toBe(Math.min(2, first.length));
    const taken = first[0];
    fs.writeFileSync(
      path.join(dir, 'existing.yaml'),
      `rules:\n  - id: existing\n    name: Existing\n    severity: low\n    enabled: false\n    condition: |\n${(taken.condition as string)
        .split('\n')
        .map((l) => `      ${l}`)
        .join('\n')}\n`,
    );
    const again = betrace(['discover', '--traces', 'traces', '--json', '--seed', '7', '--rules', 'existing.yaml'], dir);
    expect(again.code).toBe(0);
    const ids = (JSON.parse(again.out) as Array<{ id: string }>).map((s) => s.id);
    expect(ids).not.toContain(taken.id);
  });

  it('--kinds mines only those kinds', () => {
    const r = betrace(['discover', '--traces', 'traces', '--json', '--kinds', 'structure,attribute'], dir);
    expect(r.code).toBe(0);
    const kinds = new Set((JSON.parse(r.out) as Array<{ kind: string }>).map((s) => s.kind));
    expect([...kinds].sort()).toEqual(['attribute', 'structure']);
    expect(new Set(first.map((s) => s.kind)).size).toBeGreaterThan(2);
  });
});

describe('betrace discover, readable', () => {
  it('prints a ranked list with kind, support, confidence, violations and the rule text', () => {
    const r = betrace(['discover', '--traces', 'traces', '--seed', '7'], dir);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^ {2}1\. [a-z]+ +support \d+ {2}confidence [01]\.\d{3} \(≥ [01]\.\d{3}\) {2}violations \d+/);
    expect(r.out).toMatch(/\n {5}(when|never|count|[a-z])/);
    expect(r.err).toMatch(/suggestion\(s\)/);
  });
});

describe('betrace discover: bad input exits 2 with one line naming the problem', () => {
  it.each<[string, string[], RegExp]>([
    ['an unknown flag', ['--traces', 'traces', '--bogus'], /^betrace discover: unknown option --bogus$/],
    ['a missing file', ['--traces', 'nope.json'], /^betrace discover: nope\.json: no such file or directory$/],
    ['a bad --top', ['--traces', 'traces', '--top', 'ten'], /^betrace discover: --top must be a whole number from 1 to 10000, got "ten"$/],
    ['a zero --top', ['--traces', 'traces', '--top', '0'], /^betrace discover: --top must be a whole number/],
    ['a bad --min-support', ['--traces', 'traces', '--min-support', '2.5'], /^betrace discover: --min-support must be a whole number/],
    ['a bad --min-confidence', ['--traces', 'traces', '--min-confidence', '1.5'], /^betrace discover: --min-confidence must be a number from 0 to 1, got "1.5"$/],
    ['a bad --seed', ['--traces', 'traces', '--seed', 'x'], /^betrace discover: --seed must be a whole number/],
    ['an unknown kind', ['--traces', 'traces', '--kinds', 'implication,telepathy'], /^betrace discover: --kinds: unknown kind "telepathy"/],
    ['no source', ['--json'], /^betrace discover: needs --traces, or --from and --to$/],
    ['both sources', ['--traces', 'traces', '--from', '-1h', '--to', 'now'], /^betrace discover: give --traces or --from\/--to, not both$/],
    ['a malformed trace file', ['--traces', 'broken.json', '--json'], /^betrace discover: broken\.json: /],
    ['a bad time', ['--from', 'yesterday-ish', '--to', 'now'], /^betrace discover: --from must be ISO 8601/],
    ['Tempo without TEMPO_URL', ['--from', '-1h', '--to', 'now'], /^betrace discover: --from\/--to read Tempo: set TEMPO_URL/],
    ['a rule file with errors', ['--traces', 'traces', '--rules', 'bad-rules'], /the rules have 1 error\(s\)/],
  ])('%s', (_what, args, message) => {
    fs.mkdirSync(path.join(dir, 'bad-rules'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'bad-rules/r.yaml'), 'rules:\n  - { id: r, name: r, severity: low, condition: "when {" }\n');
    const r = betrace(['discover', ...args], dir);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err.split('\n').find((l) => l.startsWith('betrace discover:')) ?? r.err).toMatch(message);
  });
});

describe('the file source', () => {
  it('reads the files again on every pass', async () => {
    const files = [path.join(dir, 'traces/a.json'), path.join(dir, 'traces/more/c.ndjson')];
    const source = fileSource(files);
    const ids = async () => {
      const out: string[] = [];
      for await (const t of source()) out.push(t.traceId);
      return out;
    };
    const once = await ids();
    expect(once.length).toBe(200);
    expect(await ids()).toEqual(once);
    // A file rewritten between passes is read anew (nothing is kept from the first pass).
    fs.writeFileSync(path.join(dir, 'pass.json'), JSON.stringify(shopCorpus(3, START)[0]));
    const changing = fileSource([path.join(dir, 'pass.json')]);
    const first: string[] = [];
    for await (const t of changing()) first.push(t.traceId);
    fs.writeFileSync(path.join(dir, 'pass.json'), JSON.stringify(shopCorpus(3, START)[2]));
    const second: string[] = [];
    for await (const t of changing()) second.push(t.traceId);
    expect(first).not.toEqual(second);
  });
});
