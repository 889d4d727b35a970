import { CtrkitError } from '@ctrkit/core';
import { closestMatch } from '@ctrkit/core/internal';

/**
 * How one command-line option is read.
 *
 * @example
 * ```ts
 * import type { OptionSpec } from '@ctrkit/cli';
 * const ratio: OptionSpec = { type: 'number', description: 'budget as a share of market cost', required: true, fraction: true, min: 0, exclusiveMin: true };
 * ```
 */
export interface OptionSpec {
  /** `string` and `number` take a value (`--name value` or `--name=value`); `boolean` is a flag. */
  readonly type: 'string' | 'number' | 'boolean';
  /** One line for `--help`. */
  readonly description: string;
  /** Must be given. */
  readonly required?: boolean;
  /** The allowed values (strings only). */
  readonly choices?: readonly string[];
  /** Used when the option is absent. */
  readonly default?: string | number | boolean;
  /** Name of the value in help (default `VALUE`, or `N` for numbers). */
  readonly valueName?: string;
  /** Numbers: also accept fractions such as `1/32`. */
  readonly fraction?: boolean;
  /** Numbers: must be whole. */
  readonly integer?: boolean;
  /** Numbers: lower bound (inclusive unless `exclusiveMin`). */
  readonly min?: number;
  /** Numbers: the lower bound is excluded. */
  readonly exclusiveMin?: boolean;
  /** Numbers: upper bound (inclusive). */
  readonly max?: number;
}

/**
 * A command's options by name (without the leading `--`).
 *
 * @example
 * ```ts
 * import type { OptionSpecs } from '@ctrkit/cli';
 * const specs: OptionSpecs = { json: { type: 'boolean', description: 'print JSON' } };
 * ```
 */
export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

/**
 * Parsed options, read through typed getters.
 *
 * @example
 * ```ts
 * import { parseArgs } from '@ctrkit/cli';
 * const args = parseArgs(['--rows', '10', '--json'], { rows: { type: 'number', description: 'rows' }, json: { type: 'boolean', description: 'JSON' } }, 'demo');
 * console.log(args.number('rows'), args.flag('json')); // 10 true
 * ```
 */
export interface ParsedArgs {
  /** Whether `--help` (or `-h`) was given. */
  readonly help: boolean;
  /**
   * A string option's value.
   *
   * @param name - The option's name.
   * @returns Its value, or `undefined` when absent without a default.
   */
  string(name: string): string | undefined;
  /**
   * A number option's value.
   *
   * @param name - The option's name.
   * @returns Its value, or `undefined` when absent without a default.
   */
  number(name: string): number | undefined;
  /**
   * A flag's value.
   *
   * @param name - The option's name.
   * @returns `true` when given.
   */
  flag(name: string): boolean;
  /**
   * Whether the option was given on the command line (not defaulted).
   *
   * @param name - The option's name.
   * @returns `true` when given.
   */
  given(name: string): boolean;
}

/**
 * The closest of `candidates` to `word`, if it is close enough to be a typo.
 *
 * @param word - What was typed.
 * @param candidates - What exists.
 * @returns The best match within an edit distance of 2 (or a prefix match), else `undefined`.
 * @example
 * ```ts
 * import { suggest } from '@ctrkit/cli';
 * console.log(suggest('budget-ration', ['budget-ratio', 'pacer'])); // budget-ratio
 * ```
 */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  return closestMatch(word, candidates);
}

/**
 * Raises a usage error: a `CtrkitError` `E_INPUT` marked so the CLI exits with status 2 and
 * points at `--help`.
 *
 * @param command - The command (for the hint), e.g. `simulate`.
 * @param message - What was wrong and how to fix it.
 * @returns Never.
 * @throws CtrkitError `E_INPUT` always.
 * @example
 * ```ts
 * import { usageError } from '@ctrkit/cli';
 * const ratio = -1;
 * if (ratio <= 0) usageError('simulate', '--budget-ratio must be positive');
 * ```
 */
export function usageError(command: string, message: string): never {
  throw new CtrkitError('E_INPUT', message, { details: { usage: command } });
}

function parseNumber(command: string, name: string, spec: OptionSpec, raw: string): number {
  const text = raw.trim();
  let value: number;
  const fraction = /^([+-]?\d+(?:\.\d+)?)\s*\/\s*(\d+(?:\.\d+)?)$/.exec(text);
  if (fraction !== null && spec.fraction === true) {
    value = Number(fraction[1]) / Number(fraction[2]);
  } else if (/^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i.test(text.replace(/_/g, ''))) {
    value = Number(text.replace(/_/g, ''));
  } else {
    value = Number.NaN;
  }
  const expects = `${spec.integer ? 'a whole number' : 'a number'}${spec.fraction ? ' or a fraction such as 1/32' : ''}`;
  if (!Number.isFinite(value)) usageError(command, `--${name} needs ${expects}, got ${JSON.stringify(raw)}`);
  if (spec.integer && !Number.isInteger(value)) usageError(command, `--${name} needs a whole number, got ${raw}`);
  if (spec.min !== undefined && (spec.exclusiveMin ? value <= spec.min : value < spec.min)) {
    usageError(command, `--${name} must be ${spec.exclusiveMin ? 'greater than' : 'at least'} ${spec.min}, got ${raw}`);
  }
  if (spec.max !== undefined && value > spec.max) usageError(command, `--${name} must be at most ${spec.max}, got ${raw}`);
  return value;
}

/**
 * Parses `--name value`, `--name=value` and `--flag` arguments against a command's specs, with
 * errors that name the option and say what it expects.
 *
 * @param argv - Arguments after the command name.
 * @param specs - The command's options.
 * @param command - The command's name, for messages.
 * @returns The parsed options (required options are checked unless `--help` was given).
 * @throws CtrkitError `E_INPUT` (a usage error) for an unknown option (with a suggestion), a
 * missing value, a value outside the choices or bounds, an option given twice, a stray positional
 * argument, or a missing required option.
 * @example
 * ```ts
 * import { parseArgs } from '@ctrkit/cli';
 * const args = parseArgs(['--budget-ratio=1/8'], { 'budget-ratio': { type: 'number', description: 'ratio', fraction: true } }, 'simulate');
 * console.log(args.number('budget-ratio')); // 0.125
 * ```
 */
export function parseArgs(argv: readonly string[], specs: OptionSpecs, command: string): ParsedArgs {
  const values = new Map<string, string | number | boolean>();
  let help = false;
  const names = Object.keys(specs);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    if (!arg.startsWith('--') || arg === '--') {
      usageError(command, `unexpected argument ${JSON.stringify(arg)}: ${command} takes only --options`);
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const spec = specs[name];
    if (spec === undefined) {
      const hint = suggest(name, names);
      usageError(command, `unknown option --${name}${hint === undefined ? '' : `; did you mean --${hint}?`}`);
    }
    if (values.has(name)) usageError(command, `--${name} is given twice; give it once`);
    if (spec.type === 'boolean') {
      if (eq !== -1) usageError(command, `--${name} is a flag and takes no value`);
      values.set(name, true);
      continue;
    }
    let raw: string;
    if (eq !== -1) raw = arg.slice(eq + 1);
    else {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('--') && next.length > 2)) {
        usageError(command, `--${name} needs a value (${spec.valueName ?? (spec.type === 'number' ? 'N' : 'VALUE')})`);
      }
      raw = next;
      i++;
    }
    if (raw === '') usageError(command, `--${name} needs a non-empty value`);
    if (spec.type === 'number') values.set(name, parseNumber(command, name, spec, raw));
    else {
      if (spec.choices !== undefined && !spec.choices.includes(raw)) {
        const hint = suggest(raw, spec.choices);
        usageError(command, `--${name} must be one of ${spec.choices.join(', ')}; got ${JSON.stringify(raw)}${hint === undefined ? '' : ` (did you mean ${hint}?)`}`);
      }
      values.set(name, raw);
    }
  }
  if (!help) {
    for (const [name, spec] of Object.entries(specs)) {
      if (spec.required === true && !values.has(name)) {
        usageError(command, `missing required option --${name} ${spec.valueName ?? ''}`.trimEnd() + ` (${spec.description})`);
      }
    }
  }
  const valueOf = (name: string, type: OptionSpec['type']): string | number | boolean | undefined => {
    const spec = specs[name];
    if (spec === undefined || spec.type !== type) throw new CtrkitError('E_STATE', `command ${command} reads --${name} as a ${type}, but it is not declared so`);
    return values.has(name) ? values.get(name) : spec.default;
  };
  return {
    help,
    string: (name) => valueOf(name, 'string') as string | undefined,
    number: (name) => valueOf(name, 'number') as number | undefined,
    flag: (name) => valueOf(name, 'boolean') === true,
    given: (name) => values.has(name),
  };
}
