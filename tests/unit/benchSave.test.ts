/**
 * `npm run bench` writes bench/results/ only when asked (`-- --save`): a run to look at the
 * numbers leaves the working tree as it was.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const bench = path.join(__dirname, '../../bench');
const { saveResult } = require(path.join(bench, 'save.js')) as { saveResult: (file: string, data: unknown) => boolean };

describe('bench results', () => {
  const saved = process.env.BETRACE_BENCH_SAVE;
  afterEach(() => {
    if (saved === undefined) delete process.env.BETRACE_BENCH_SAVE;
    else process.env.BETRACE_BENCH_SAVE = saved;
  });

  it('are written only with --save', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-bench-save-')), 'x.json');
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      delete process.env.BETRACE_BENCH_SAVE;
      expect(saveResult(file, { a: 1 })).toBe(false);
      expect(fs.existsSync(file)).toBe(false);
      expect(log.mock.calls[0][0]).toMatch(/results not saved \(add --save to write /);
      process.env.BETRACE_BENCH_SAVE = '1';
      expect(saveResult(file, { a: 1 })).toBe(true);
      expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({ a: 1 });
    } finally {
      log.mockRestore();
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    }
  });

  it('go through saveResult in every benchmark: none writes bench/results/ by itself', () => {
    const offenders = fs
      .readdirSync(bench)
      .filter((f) => f.endsWith('.bench.js'))
      .filter((f) => {
        const text = fs.readFileSync(path.join(bench, f), 'utf8');
        return /results'/.test(text) && !/saveResult\(/.test(text);
      });
    expect(offenders).toEqual([]);
  });

  it('are asked for by bench/run.js passing --save on to each benchmark', () => {
    const run = fs.readFileSync(path.join(bench, 'run.js'), 'utf8');
    expect(run).toMatch(/BETRACE_BENCH_SAVE: '1'/);
  });
});
