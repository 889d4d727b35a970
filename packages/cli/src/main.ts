import { formatCommandHelp, type Command } from './command.js';
import { COMMANDS } from './commands/index.js';
import { parseArgs, suggest, usageError } from './args.js';
import { EXIT, reportError } from './errors.js';
import type { CliIo } from './io.js';

async function overview(): Promise<string> {
  const commands = await Promise.all(Object.values(COMMANDS).map((load) => load()));
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'ctrkit — click-through-rate prediction, auctions and pacing',
    '',
    'usage: ctrkit <command> [options]',
    '',
    'commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'run `ctrkit <command> --help` for a command\'s options',
    '',
  ].join('\n');
}

/**
 * Runs the `ctrkit` command line: picks the command, parses its options, runs it, and turns any
 * error into one line on stderr and an exit status (0 success, 1 failure, 2 usage error).
 *
 * @param argv - Arguments after `ctrkit` (for example `process.argv.slice(2)`).
 * @param io - Streams, directory, environment, clock.
 * @returns The exit status.
 * @example
 * ```ts
 * import { nodeIo, runCli } from '@ctrkit/cli';
 * const status = await runCli(['simulate', '--log', 'synthetic:10000', '--budget-ratio', '1/8', '--pacer', 'dual', '--json'], nodeIo());
 * ```
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [first, ...rest] = argv;
  let name: string | undefined;
  try {
    if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
      const topic = first === 'help' ? rest[0] : undefined;
      if (topic === undefined) {
        io.stdout.write(await overview());
        return first === undefined ? EXIT.USAGE : EXIT.OK;
      }
      name = topic;
      const load = COMMANDS[topic];
      if (load === undefined) usageError('', `no command ${JSON.stringify(topic)}`);
      io.stdout.write(formatCommandHelp(await load()));
      return EXIT.OK;
    }
    const load = COMMANDS[first];
    if (load === undefined) {
      const hint = suggest(first, Object.keys(COMMANDS));
      usageError('', `unknown command ${JSON.stringify(first)}${hint === undefined ? '' : `; did you mean ${hint}?`} (commands: ${Object.keys(COMMANDS).join(', ')})`);
    }
    name = first;
    const command: Command = await load();
    const args = parseArgs(rest, command.options, command.name);
    if (args.help) {
      io.stdout.write(formatCommandHelp(command));
      return EXIT.OK;
    }
    return await command.run(args, io);
  } catch (error) {
    return reportError(error, io, name);
  }
}
