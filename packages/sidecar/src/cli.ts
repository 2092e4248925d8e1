#!/usr/bin/env node
import { commands } from './commands';
import { CommandIO, EXIT_BAD_INPUT } from './commands/io';

function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}\n           ${c.usage}`);
  return `usage: betrace <command> [arguments]\n\ncommands:\n${lines.join('\n')}\n`;
}

export async function main(argv: string[], io: CommandIO): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? io.stderr : io.stdout)(usage());
    return name === undefined ? EXIT_BAD_INPUT : 0;
  }
  const command = commands[name];
  if (command === undefined) {
    io.stderr(`betrace: unknown command ${JSON.stringify(name)}\n${usage()}`);
    return EXIT_BAD_INPUT;
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
