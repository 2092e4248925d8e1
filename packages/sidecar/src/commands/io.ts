import * as fs from 'fs';
import * as path from 'path';

/** Where a command writes; tests capture it, the binary passes the process streams. */
export interface CommandIO {
  stdout(text: string): void;
  stderr(text: string): void;
  cwd: string;
  env: Record<string, string | undefined>;
}

export type Command = (args: string[], io: CommandIO) => Promise<number>;

/** Exit codes shared by the commands. */
export const EXIT_OK = 0;
export const EXIT_FINDINGS = 1;
export const EXIT_BAD_INPUT = 2;

export class UsageError extends Error {}

/**
 * Expands files and directories (walked recursively, sorted) into the files with one of `extensions`.
 * A named file is taken whatever its extension; a missing path is a UsageError.
 */
export function expandPaths(paths: string[], extensions: string[], cwd: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        walk(full);
      } else if (extensions.some((e) => entry.name.endsWith(e))) {
        out.push(full);
      }
    }
  };
  for (const p of paths) {
    const full = path.resolve(cwd, p);
    let stat: fs.Stats;
    try {
      stat = fs.statSync(full);
    } catch {
      throw new UsageError(`${p}: no such file or directory`);
    }
    if (stat.isDirectory()) {
      walk(full);
    } else {
      out.push(full);
    }
  }
  return out;
}

/** A path as the user would recognise it: relative to where the command ran, when inside it. */
export function displayPath(file: string, cwd: string): string {
  const rel = path.relative(cwd, file);
  return rel.startsWith('..') || path.isAbsolute(rel) ? file : rel;
}
