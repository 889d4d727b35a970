/** The CSV reader (a header row, Avazu-style), with quoting per RFC 4180. */
import { CtrkitError } from '@ctrkit/core';
import { Builders, type ByteSource, type LogReader, type ReaderOptions, type RowParser, labelOf, makeReader } from './driver.js';

/** Options for {@link readCsv}.
 *
 * @example
 * ```ts
 * import type { CsvReaderOptions } from '@ctrkit/features';
 * const avazu: CsvReaderOptions = { label: 'click', ignore: ['id'], numeric: ['hour'] };
 * ```
 */
export interface CsvReaderOptions extends ReaderOptions {
  /** The label column (values 0 or 1). Without it, labels are NaN. */
  readonly label?: string;
  /** Columns to drop. */
  readonly ignore?: readonly string[];
  /** Columns parsed as numbers (others stay text). */
  readonly numeric?: readonly string[];
  /** Field separator (default `,`). */
  readonly delimiter?: string;
  /** Column names, when the file has no header line (every line is then data). */
  readonly columns?: readonly string[];
}

/** Splits a CSV line: RFC 4180 quoting within one line (`""` is a quote); `undefined` on an unterminated quote. */
function splitCsv(line: string, delimiter: string, out: string[]): number | undefined {
  let count = 0;
  if (line.indexOf('"') < 0) {
    let start = 0;
    for (;;) {
      const end = line.indexOf(delimiter, start);
      if (end < 0) {
        out[count++] = line.slice(start);
        return count;
      }
      out[count++] = line.slice(start, end);
      start = end + delimiter.length;
    }
  }
  let i = 0;
  for (;;) {
    if (line.charCodeAt(i) === 34) {
      let value = '';
      let j = i + 1;
      for (;;) {
        const quote = line.indexOf('"', j);
        if (quote < 0) return undefined;
        value += line.slice(j, quote);
        if (line.charCodeAt(quote + 1) === 34) {
          value += '"';
          j = quote + 2;
          continue;
        }
        i = quote + 1;
        break;
      }
      out[count++] = value;
      if (i >= line.length) return count;
      if (!line.startsWith(delimiter, i)) return -1;
      i += delimiter.length;
    } else {
      const end = line.indexOf(delimiter, i);
      if (end < 0) {
        out[count++] = line.slice(i);
        return count;
      }
      out[count++] = line.slice(i, end);
      i = end + delimiter.length;
    }
  }
}

/**
 * Reads a delimited file with a header line (or given column names): Avazu-style logs. Choose the
 * label column, drop columns, and mark which are numbers; the rest stay text.
 *
 * A line is malformed when its field count differs from the header's, a quote is left open,
 * the label is not 0 or 1, or a numeric column holds something that is not a number.
 *
 * @param source - The file's bytes or text.
 * @param options - Label, ignored and numeric columns, delimiter, plus the common reader options.
 * @returns A reader to iterate with `for await`.
 * @throws `CtrkitError` `E_CONFIG` (while iterating, once the header is read) when an option names a
 *   column the header lacks, or a column is both ignored and used; `E_PARSE` on an empty source or past `maxMalformed`.
 * @example
 * ```ts
 * import { readCsv } from '@ctrkit/features';
 * const text = 'id,click,hour,site\n1,0,14102100,abc\n2,1,14102101,def\n';
 * for await (const chunk of readCsv(text, { label: 'click', ignore: ['id'], numeric: ['hour'] })) {
 *   console.log(chunk.columns.map((c) => `${c.name}:${c.type}`).join(' ')); // hour:number site:string
 * }
 * ```
 */
export function readCsv(source: ByteSource, options: CsvReaderOptions = {}): LogReader {
  const delimiter = options.delimiter ?? ',';
  if (delimiter.length === 0 || delimiter === '"' || delimiter.includes('\n')) throw new CtrkitError('E_CONFIG', `readCsv: delimiter must be a non-empty string without quotes or newlines, got ${JSON.stringify(delimiter)}`);
  const build = (names: readonly string[], chunkRows: number): RowParser => {
    const seen = new Set<string>();
    for (const name of names) {
      if (seen.has(name)) throw new CtrkitError('E_CONFIG', `readCsv: the header names column '${name}' twice; rename one`);
      seen.add(name);
    }
    const need = (option: string, list: readonly string[] | undefined) => {
      for (const name of list ?? []) {
        if (!seen.has(name)) throw new CtrkitError('E_CONFIG', `readCsv: ${option} names column '${name}', which the header lacks; columns are ${names.slice(0, 30).join(', ')}`);
      }
    };
    if (options.label !== undefined) need('label', [options.label]);
    need('ignore', options.ignore);
    need('numeric', options.numeric);
    const ignored = new Set(options.ignore ?? []);
    const numeric = new Set(options.numeric ?? []);
    if (options.label !== undefined && ignored.has(options.label)) throw new CtrkitError('E_CONFIG', `readCsv: '${options.label}' is both the label and ignored; pick one`);
    if (options.label !== undefined && numeric.has(options.label)) throw new CtrkitError('E_CONFIG', `readCsv: '${options.label}' is the label; do not list it as numeric`);
    const labelIndex = options.label === undefined ? -1 : names.indexOf(options.label);
    const numberNames: string[] = [];
    const stringNames: string[] = [];
    const order: (readonly [boolean, number])[] = [];
    /** Per file column: −1 skip, −2 label, else a slot: numbers at 2k, strings at 2k + 1. */
    const route = new Int32Array(names.length);
    names.forEach((name, i) => {
      if (i === labelIndex) route[i] = -2;
      else if (ignored.has(name)) route[i] = -1;
      else if (numeric.has(name)) {
        route[i] = 2 * numberNames.length;
        order.push([true, numberNames.length]);
        numberNames.push(name);
      } else {
        route[i] = 2 * stringNames.length + 1;
        order.push([false, stringNames.length]);
        stringNames.push(name);
      }
    });
    const builders = new Builders(chunkRows, numberNames, stringNames, order);
    const cells: string[] = new Array<string>(names.length + 1).fill('');
    return {
      get rows() {
        return builders.rows;
      },
      flush: () => builders.flush(),
      parse(line, lineNumber) {
        const count = splitCsv(line, delimiter, cells);
        if (count === undefined) return 'a quoted field is not closed on this line';
        if (count === -1) return 'text follows a closing quote; quote the whole field';
        if (count !== names.length) return `expected ${names.length} fields, found ${count}`;
        const row = builders.rows;
        for (let i = 0; i < count; i++) {
          const slot = route[i] as number;
          if (slot === -1) continue;
          const cell = cells[i] as string;
          if (slot === -2) {
            const label = labelOf(cell.trim(), false);
            if (label !== label) return `label '${names[i]}' is ${JSON.stringify(cell.slice(0, 20))}; expected 0 or 1`;
            builders.labels[row] = label;
          } else if ((slot & 1) === 0) {
            const trimmed = cell.trim();
            const x = trimmed.length === 0 ? Number.NaN : Number(trimmed);
            if (trimmed.length > 0 && !Number.isFinite(x)) return `column '${names[i]}' is ${JSON.stringify(cell.slice(0, 20))}; expected a number or nothing`;
            (builders.numbers[slot >> 1] as Float64Array)[row] = x;
          } else {
            (builders.strings[slot >> 1] as string[])[row] = cell;
          }
        }
        if (labelIndex < 0) builders.labels[row] = Number.NaN;
        builders.lines[row] = lineNumber;
        builders.rows = row + 1;
        return undefined;
      },
    };
  };
  return makeReader('readCsv', source, options, (chunkRows) => {
    if (options.columns !== undefined) return { parser: build(options.columns, chunkRows) };
    return {
      header: (line) => {
        const names: string[] = [];
        const count = splitCsv(line, delimiter, names);
        if (count === undefined || count < 0) throw new CtrkitError('E_PARSE', 'readCsv: the header line has an unclosed or misplaced quote');
        return build(names.slice(0, count).map((n) => n.trim()), chunkRows);
      },
    };
  });
}
