/**
 * How a log is read: its format and the CSV and libsvm reader settings, from the command line or,
 * for `ctrkit eval`, from the manifest of the model being evaluated. One place declares the
 * options ({@link readerOptions}) and reads them ({@link readSettingsOf}), so `train` and `eval`
 * accept the same ones.
 */
import path from 'node:path';
import { usageError, type OptionSpecs, type ParsedArgs } from '../args.js';
import type { CliIo } from '../io.js';
import type { DataSource } from './source.js';

/**
 * The log formats `train` and `eval` read.
 *
 * @internal
 */
export const DATA_FORMATS = ['criteo', 'csv', 'libsvm', 'arrow'] as const;

/**
 * How a log is read and encoded; stored in the manifest (`config.data`) so `eval` reads alike.
 *
 * @internal
 */
export interface ReadSettings {
  /** `criteo`, `csv`, `libsvm`, `arrow` (encoded, labeled ctrkit Arrow logs: a file or a served-log directory), or `synthetic`. */
  readonly format: (typeof DATA_FORMATS)[number] | 'synthetic';
  /** CSV: the label column. */
  readonly label?: string;
  /** CSV: columns to drop. */
  readonly ignore?: readonly string[];
  /** CSV: columns read as numbers (bucketized by the Criteo log rule). */
  readonly numeric?: readonly string[];
  /** CSV: the field separator. */
  readonly delimiter?: string;
  /** libsvm: the field map (`field:value<TAB>index` lines), as an absolute path. */
  readonly fieldMap?: string;
  /** Synthetic: `plain` (`syntheticSpec`) or `ad-request` (`adRequestSpec({ store: false })`). */
  readonly syntheticSpec?: 'plain' | 'ad-request';
}

/**
 * The `--help` line of each reader option a command lists (the commands word them apart: `eval`
 * says its defaults come from training).
 *
 * @internal
 */
export interface ReaderOptionHelp {
  readonly label: string;
  readonly ignore: string;
  readonly numeric: string;
  readonly delimiter: string;
  readonly fieldMap: string;
}

/**
 * The CSV and libsvm options {@link readSettingsOf} reads, in the order `--help` lists them.
 *
 * @param help - Each option's help line.
 * @returns `label`, `ignore`, `numeric`, `delimiter` and `field-map`.
 * @internal
 */
export function readerOptions(help: ReaderOptionHelp): OptionSpecs {
  return {
    label: { type: 'string', valueName: 'COL', description: help.label },
    ignore: { type: 'string', valueName: 'A,B', description: help.ignore },
    numeric: { type: 'string', valueName: 'A,B', description: help.numeric },
    delimiter: { type: 'string', valueName: 'CHAR', description: help.delimiter },
    'field-map': { type: 'string', valueName: 'FILE', description: help.fieldMap },
  };
}

function listOf(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
}

/**
 * Reads `--format`, `--label`, `--ignore`, `--numeric`, `--delimiter`, `--field-map` (and for
 * synthetic data `--synthetic-spec`) into settings.
 *
 * @param command - The command, for usage errors.
 * @param args - Its parsed options.
 * @param source - Where the rows come from.
 * @param io - For the working directory the field map resolves against.
 * @param stored - `eval`: the settings the model was trained with, the defaults of every option.
 * @returns The settings.
 * @throws A usage error (exit 2) for an option that does not apply to the format, a missing
 * `--format` or CSV `--label`, or a format other than the model's.
 * @internal
 */
export function readSettingsOf(command: string, args: ParsedArgs, source: DataSource, io: CliIo, stored?: ReadSettings): ReadSettings {
  if (source.kind === 'synthetic') {
    if (args.given('format')) usageError(command, '--format applies to files; synthetic data needs none');
    const kind = args.given('synthetic-spec') ? args.string('synthetic-spec') : undefined;
    return { format: 'synthetic', ...(kind === undefined ? {} : { syntheticSpec: kind as 'plain' | 'ad-request' }) };
  }
  if (args.given('synthetic-spec')) usageError(command, '--synthetic-spec applies to --data synthetic:ROWS[:SEED] only');
  const format = (args.string('format') ?? stored?.format) as ReadSettings['format'] | undefined;
  if (format === undefined) usageError(command, `--format is required for a file: one of ${DATA_FORMATS.join(', ')}`);
  if (format === 'synthetic') usageError(command, 'this model was trained on synthetic traffic; evaluate it with --data synthetic:ROWS[:SEED]');
  if (stored !== undefined && stored.format !== format) {
    usageError(command, `the model was trained on ${stored.format} logs; --format ${format} would feed it different columns`);
  }
  const pick = <T>(name: string, value: T | undefined, fallback: T | undefined): T | undefined => (args.given(name) ? value : fallback);
  const label = pick('label', args.string('label'), stored?.label);
  const ignore = pick('ignore', listOf(args.string('ignore')), stored?.ignore);
  const numeric = pick('numeric', listOf(args.string('numeric')), stored?.numeric);
  const delimiter = pick('delimiter', args.string('delimiter'), stored?.delimiter);
  const mapArg = args.string('field-map');
  const fieldMap = mapArg !== undefined ? path.resolve(io.cwd, mapArg) : stored?.fieldMap;
  if (format !== 'csv') {
    for (const name of ['label', 'ignore', 'numeric', 'delimiter']) if (args.given(name)) usageError(command, `--${name} applies to --format csv only`);
  } else if (label === undefined) {
    usageError(command, '--format csv needs --label COL: the column that holds the 0/1 click');
  }
  if (format !== 'libsvm' && mapArg !== undefined) usageError(command, '--field-map applies to --format libsvm only');
  return {
    format,
    ...(label === undefined ? {} : { label }),
    ...(ignore === undefined ? {} : { ignore }),
    ...(numeric === undefined ? {} : { numeric }),
    ...(delimiter === undefined ? {} : { delimiter }),
    ...(fieldMap === undefined ? {} : { fieldMap }),
  };
}
