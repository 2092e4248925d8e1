import { Command, EXIT_BAD_INPUT, EXIT_FINDINGS, EXIT_OK, UsageError } from './io';
import { loadRules } from './rules';

export const checkUsage = 'betrace check <rule files or directories...>';

/** Validates rule files; the thing a team runs in CI on its rules repository. */
export const check: Command = async (args, io) => {
  if (args.length === 0 || args.some((a) => a.startsWith('-'))) {
    io.stderr(`usage: ${checkUsage}\n`);
    return EXIT_BAD_INPUT;
  }
  let loaded;
  try {
    loaded = loadRules(args, io.cwd);
  } catch (e) {
    io.stderr(`betrace check: ${e instanceof UsageError || e instanceof Error ? e.message : String(e)}\n`);
    return EXIT_BAD_INPUT;
  }
  for (const line of loaded.lines) {
    io.stdout(`${line}\n`);
  }
  io.stderr(
    `${loaded.files} file(s), ${loaded.rules.length} valid rule(s): ${loaded.errors} error(s), ${loaded.warnings} warning(s)\n`,
  );
  return loaded.errors > 0 ? EXIT_FINDINGS : EXIT_OK;
};
