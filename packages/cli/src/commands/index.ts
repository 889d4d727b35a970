import type { CommandLoader } from '../command.js';

/**
 * Every `ctrkit` command, loaded lazily. To add one, create `src/commands/<name>.ts` exporting a
 * {@link Command} and add a line here.
 *
 * @example
 * ```ts
 * import { COMMANDS } from '@ctrkit/cli';
 * console.log(Object.keys(COMMANDS).includes('simulate')); // true
 * ```
 */
export const COMMANDS: Readonly<Record<string, CommandLoader>> = Object.freeze({
  simulate: async () => (await import('./simulate.js')).simulateCommand,
  train: async () => (await import('./train.js')).trainCommand,
  eval: async () => (await import('./eval.js')).evalCommand,
  report: async () => (await import('./report.js')).reportCommand,
});
