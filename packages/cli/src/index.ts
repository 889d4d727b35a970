/**
 * `@ctrkit/cli` — the `ctrkit` command and the helpers its commands share: a dispatcher
 * ({@link runCli}), option parsing with clear errors ({@link parseArgs}), a progress reporter for
 * stderr ({@link createProgress}), and one-line error reporting with exit statuses
 * ({@link reportError}). Node only.
 *
 * @packageDocumentation
 */
export { runCli } from './main.js';
export { COMMANDS } from './commands/index.js';
export { simulateCommand } from './commands/simulate.js';
export { trainCommand } from './commands/train.js';
export { evalCommand } from './commands/eval.js';
export { reportCommand } from './commands/report.js';
export { formatCommandHelp } from './command.js';
export type { Command, CommandLoader } from './command.js';
export { parseArgs, suggest, usageError } from './args.js';
export type { OptionSpec, OptionSpecs, ParsedArgs } from './args.js';
export { createProgress } from './progress.js';
export type { Progress, ProgressOptions } from './progress.js';
export { EXIT, reportError } from './errors.js';
export { nodeIo, readTextFile, writeTextFile } from './io.js';
export type { CliIo, TextSink } from './io.js';
