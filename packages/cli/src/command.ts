import type { OptionSpecs, ParsedArgs } from './args.js';
import type { CliIo } from './io.js';

/**
 * One `ctrkit` command. Each lives in its own file under `src/commands/` and is listed in
 * `src/commands/index.ts`; the dispatcher parses its options from `options`, prints its help and
 * turns its errors into one line and an exit status.
 *
 * @example
 * ```ts
 * import type { Command } from '@ctrkit/cli';
 * export const hello: Command = {
 *   name: 'hello',
 *   summary: 'print a greeting',
 *   usage: 'ctrkit hello [--name NAME]',
 *   options: { name: { type: 'string', description: 'who to greet', default: 'world' } },
 *   async run(args, io) {
 *     io.stdout.write(`hello, ${args.string('name')}\n`);
 *     return 0;
 *   },
 * };
 * ```
 */
export interface Command {
  /** The word after `ctrkit`. */
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** The synopsis, e.g. `ctrkit simulate --log FILE …`. */
  readonly usage: string;
  /** Its options. */
  readonly options: OptionSpecs;
  /** Paragraphs after the options in `--help`. */
  readonly details?: readonly string[];
  /** Example invocations for `--help`. */
  readonly examples?: readonly string[];
  /**
   * Runs the command.
   *
   * @param args - Parsed options.
   * @param io - Streams, directory, environment, clock.
   * @returns The exit status (0 on success).
   */
  run(args: ParsedArgs, io: CliIo): Promise<number>;
}

/**
 * Where the dispatcher finds a command: a lazy loader, so `ctrkit simulate` never loads the
 * modules of `ctrkit train`.
 *
 * @example
 * ```ts
 * import type { CommandLoader } from '@ctrkit/cli';
 * const load: CommandLoader = async () => (await import('@ctrkit/cli')).simulateCommand;
 * ```
 */
export type CommandLoader = () => Promise<Command>;

/**
 * Formats a command's `--help` text from its options.
 *
 * @param command - The command.
 * @returns The help text, ending with a newline.
 * @example
 * ```ts
 * import { formatCommandHelp, simulateCommand } from '@ctrkit/cli';
 * console.log(formatCommandHelp(simulateCommand).includes('--budget-ratio')); // true
 * ```
 */
export function formatCommandHelp(command: Command): string {
  const rows = Object.entries(command.options).map(([name, spec]) => {
    const value = spec.type === 'boolean' ? '' : ` ${spec.valueName ?? (spec.choices ? spec.choices.join('|') : spec.type === 'number' ? 'N' : 'VALUE')}`;
    const notes = [spec.required ? 'required' : undefined, spec.default !== undefined && spec.type !== 'boolean' ? `default ${String(spec.default)}` : undefined].filter(Boolean);
    return [`--${name}${value}`, `${spec.description}${notes.length > 0 ? ` (${notes.join(', ')})` : ''}`] as const;
  });
  const width = Math.max(...rows.map(([left]) => left.length), 10);
  const lines = [`ctrkit ${command.name} — ${command.summary}`, '', `usage: ${command.usage}`, '', 'options:'];
  for (const [left, right] of rows) lines.push(`  ${left.padEnd(width)}  ${right}`);
  lines.push(`  ${'--help'.padEnd(width)}  show this help`);
  for (const paragraph of command.details ?? []) lines.push('', paragraph);
  if (command.examples !== undefined && command.examples.length > 0) lines.push('', 'examples:', ...command.examples.map((e) => `  ${e}`));
  return `${lines.join('\n')}\n`;
}
