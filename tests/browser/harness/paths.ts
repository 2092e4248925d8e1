import * as path from 'path';

/** The repository, and the suite's output folder (gitignored): host bundle, webpack cache, screenshots. */
export const ROOT = path.join(__dirname, '../../..');
export const OUTPUT = path.join(ROOT, 'tests/browser/output');
