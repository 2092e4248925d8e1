/** `npm test` leaves no temporary folders behind: the run's temporary folder is in force here. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';

describe('temporary folders of a test run', () => {
  it('are all under the one folder the run removes at its end', () => {
    const run = process.env.BETRACE_JEST_TMP;
    expect(run).toBeDefined();
    expect(path.basename(run!)).toMatch(/^betrace-jest-/);
    expect(os.tmpdir()).toBe(run);
    const made = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-x-'));
    expect(path.dirname(made)).toBe(run);
    // And in the processes tests start.
    const child = spawnSync(process.execPath, ['-p', 'require("os").tmpdir()'], { encoding: 'utf8' });
    expect(child.stdout.trim()).toBe(run);
  });
});
