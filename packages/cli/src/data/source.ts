/**
 * Where `ctrkit train` and `ctrkit eval` read rows from: a log (a file, or for Arrow a
 * directory), or `synthetic:ROWS[:SEED]` traffic from the core generator.
 */
import { usageError } from '../args.js';

/**
 * Where rows come from: a log file, or the core traffic generator.
 *
 * @internal
 */
export type DataSource = { readonly kind: 'file'; readonly file: string } | { readonly kind: 'synthetic'; readonly rows: number; readonly seed: string };

/**
 * Parses `--data` (or `eval --data`): a path, or `synthetic:ROWS[:SEED]`.
 *
 * @param command - The command, for the usage error.
 * @param text - The option's value.
 * @returns The source.
 * @throws A usage error (exit 2) for a malformed `synthetic:` value.
 * @internal
 */
export function dataSourceOf(command: string, text: string): DataSource {
  if (!text.startsWith('synthetic:')) return { kind: 'file', file: text };
  const [, rowsText = '', seed = '1', ...extra] = text.split(':');
  const rows = Number(rowsText.replace(/[_,]/g, ''));
  if (extra.length > 0 || !Number.isInteger(rows) || rows < 1 || rows > 50_000_000) {
    usageError(command, `--data synthetic:ROWS[:SEED] needs a whole number of rows between 1 and 50,000,000 (and an optional seed), got ${JSON.stringify(text)}`);
  }
  if (seed === '') usageError(command, `--data ${text}: the seed after the second colon is empty`);
  return { kind: 'synthetic', rows, seed };
}

/**
 * The source as the summaries name it: the file as given, or `synthetic traffic (seed S)`.
 *
 * @param source - The source.
 * @returns Its name.
 * @internal
 */
export function describeSource(source: DataSource): string {
  return source.kind === 'synthetic' ? `synthetic traffic (seed ${source.seed})` : source.file;
}
