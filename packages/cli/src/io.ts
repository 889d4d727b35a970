import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { systemClock, toCtrkitError, type Clock } from '@ctrkit/core';

/**
 * A writable text stream (process.stdout, process.stderr, or a test's buffer).
 *
 * @example
 * ```ts
 * import type { TextSink } from '@ctrkit/cli';
 * const lines: string[] = [];
 * const sink: TextSink = { write: (text) => lines.push(text), isTTY: false };
 * ```
 */
export interface TextSink {
  /** Writes text as is (no newline added). */
  write(text: string): unknown;
  /** Whether it is an interactive terminal (progress bars redraw in place only then). */
  readonly isTTY?: boolean;
  /** Terminal width, when known. */
  readonly columns?: number;
}

/**
 * Everything a command touches outside itself, injected so tests can run commands in process.
 *
 * @example
 * ```ts
 * import { createManualClock } from '@ctrkit/core';
 * import type { CliIo } from '@ctrkit/cli';
 * let out = '';
 * const io: CliIo = {
 *   stdout: { write: (t) => (out += t) },
 *   stderr: { write: () => true, isTTY: false },
 *   cwd: '/tmp',
 *   env: {},
 *   clock: createManualClock(0),
 * };
 * ```
 */
export interface CliIo {
  /** Results (what a script pipes onward). */
  readonly stdout: TextSink;
  /** Progress, notices and errors. */
  readonly stderr: TextSink;
  /** Directory relative paths are resolved against. */
  readonly cwd: string;
  /** Environment variables (`CTRKIT_DEBUG=1` prints stack traces of unexpected errors). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Time source for progress rates and ETAs. */
  readonly clock: Clock;
}

/**
 * The real process's streams, directory, environment and clock.
 *
 * @returns An {@link CliIo} over `process`.
 * @example
 * ```ts
 * import { nodeIo, runCli } from '@ctrkit/cli';
 * process.exitCode = await runCli(['--help'], nodeIo());
 * ```
 */
export function nodeIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    cwd: process.cwd(),
    env: process.env,
    clock: systemClock,
  };
}

/**
 * Reads a UTF-8 text file named on the command line.
 *
 * @param io - For the working directory.
 * @param file - The path as given.
 * @param option - The option that named it, for the message.
 * @returns The file's text.
 * @throws CtrkitError `E_IO` saying which file (resolved path) could not be read and why.
 * @example
 * ```ts
 * import { nodeIo, readTextFile } from '@ctrkit/cli';
 * const text = await readTextFile(nodeIo(), 'package.json', '--config');
 * ```
 */
export async function readTextFile(io: CliIo, file: string, option: string): Promise<string> {
  const resolved = path.resolve(io.cwd, file);
  try {
    return await readFile(resolved, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : undefined;
    throw toCtrkitError(why === undefined ? error : new Error(why), 'E_IO', `cannot read ${option} ${file} (${resolved})`);
  }
}

/**
 * Writes a UTF-8 text file named on the command line.
 *
 * @param io - For the working directory.
 * @param file - The path as given.
 * @param text - What to write.
 * @param option - The option that named it, for the message.
 * @returns The resolved path written.
 * @throws CtrkitError `E_IO` saying which file could not be written and why.
 * @example
 * ```ts
 * import { nodeIo, writeTextFile } from '@ctrkit/cli';
 * await writeTextFile(nodeIo(), '/tmp/out.txt', 'hello', '--out');
 * ```
 */
export async function writeTextFile(io: CliIo, file: string, text: string, option: string): Promise<string> {
  const resolved = path.resolve(io.cwd, file);
  try {
    await writeFile(resolved, text, 'utf8');
    return resolved;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'its directory does not exist' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : undefined;
    throw toCtrkitError(why === undefined ? error : new Error(why), 'E_IO', `cannot write ${option} ${file} (${resolved})`);
  }
}
