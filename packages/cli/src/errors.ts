import { isCtrkitError } from '@ctrkit/core';
import type { CliIo } from './io.js';

/**
 * Exit statuses of the `ctrkit` command.
 *
 * @example
 * ```ts
 * import { EXIT } from '@ctrkit/cli';
 * if (EXIT.USAGE === 2) console.log('bad arguments exit with 2');
 * ```
 */
export const EXIT = Object.freeze({
  /** Success. */
  OK: 0,
  /** The command ran and failed (a bad file, an unreachable service, …). */
  FAILURE: 1,
  /** The command line was wrong: see `--help`. */
  USAGE: 2,
});

/**
 * Prints an error as one line on stderr — `ctrkit <command>: <message> [<code>]` — plus a
 * `--help` hint for usage errors, and returns the exit status. No stack trace for ctrkit errors;
 * unexpected errors get one only with `CTRKIT_DEBUG=1`.
 *
 * @param error - What was thrown.
 * @param io - Where to print.
 * @param command - The command that failed (or `undefined` before one was chosen).
 * @returns {@link EXIT}.USAGE for usage errors, {@link EXIT}.FAILURE otherwise.
 * @example
 * ```ts
 * import { CtrkitError } from '@ctrkit/core';
 * import { nodeIo, reportError } from '@ctrkit/cli';
 * const status = reportError(new CtrkitError('E_IO', 'cannot read x.log'), nodeIo(), 'simulate'); // 1
 * ```
 */
export function reportError(error: unknown, io: CliIo, command: string | undefined): number {
  const who = command === undefined ? 'ctrkit' : `ctrkit ${command}`;
  if (isCtrkitError(error)) {
    // Usage errors are E_INPUT errors whose typed details name the command (args.ts usageError).
    const usage = isCtrkitError(error, 'E_INPUT') ? error.details?.usage : undefined;
    io.stderr.write(`${who}: ${error.message} [${error.code}]\n`);
    if (typeof usage === 'string') {
      io.stderr.write(`run \`ctrkit ${usage === '' ? '' : `${usage} `}--help\` for usage\n`);
      return EXIT.USAGE;
    }
    return EXIT.FAILURE;
  }
  const message = error instanceof Error ? error.message : String(error);
  io.stderr.write(`${who}: unexpected error: ${message}\n`);
  if (io.env.CTRKIT_DEBUG === '1' && error instanceof Error && error.stack !== undefined) io.stderr.write(`${error.stack}\n`);
  else io.stderr.write('set CTRKIT_DEBUG=1 for a stack trace, and please report it\n');
  return EXIT.FAILURE;
}
