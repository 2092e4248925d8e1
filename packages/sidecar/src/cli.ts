#!/usr/bin/env node
import { commands } from './commands';
import { CommandIO, EXIT_BAD_INPUT } from './commands/io';

/** The version of the sidecar package: what `betrace --version` prints. */
export function version(): string {
  return (require('../package.json') as { version: string }).version;
}

const HELP_FLAGS = new Set(['--help', '-h']);

function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}\n           ${c.usage}`);
  return `usage: betrace <command> [arguments]\n\ncommands:\n${lines.join('\n')}\n`;
}

export async function main(argv: string[], io: CommandIO): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || HELP_FLAGS.has(name) || name === 'help') {
    (name === undefined ? io.stderr : io.stdout)(usage());
    return name === undefined ? EXIT_BAD_INPUT : 0;
  }
  if (name === '--version' || name === '-V' || name === 'version') {
    io.stdout(`betrace ${version()}\n`);
    return 0;
  }
  const command = commands[name];
  if (command === undefined) {
    io.stderr(`betrace: unknown command ${JSON.stringify(name)}\n${usage()}`);
    return EXIT_BAD_INPUT;
  }
  // `--help` anywhere asks for help, never for work: `tenants hash-token --help` must not hash the
  // string "--help", nor `tenants check --help` open a file of that name. A value that really is
  // "--help" can follow `--` (POSIX end of options).
  const dashdash = args.indexOf('--');
  const options = dashdash < 0 ? args : args.slice(0, dashdash);
  if (options.some((a) => HELP_FLAGS.has(a))) {
    io.stdout(`usage: ${command.usage}\n\n${command.summary}\n`);
    return 0;
  }
  return command.run(args, io);
}

/** Runs the command line of this process: the `betrace` bin (bin/betrace.js) and `node dist/cli.js` both land here. */
export function run(): void {
  main(process.argv.slice(2), {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    cwd: process.cwd(),
    env: process.env,
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`betrace: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 70;
    },
  );
}

if (require.main === module) {
  run();
}
