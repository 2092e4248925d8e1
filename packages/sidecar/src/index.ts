/** @betrace/sidecar: the `betrace` command and, as it grows, the sidecar service. */
export { main } from './cli';
export { commands } from './commands';
export type { CommandIO, Command } from './commands/io';
