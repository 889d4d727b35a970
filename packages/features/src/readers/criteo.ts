/** The Criteo TSV reader: label, 13 integer and 26 categorical columns. */
import { CtrkitError } from '@ctrkit/core';
import { Builders, type ByteSource, INTEGER, type LogReader, type ReaderOptions, type RowParser, labelOf, makeReader } from './driver.js';

/** Options for {@link readCriteo}.
 *
 * @example
 * ```ts
 * import type { CriteoReaderOptions } from '@ctrkit/features';
 * const options: CriteoReaderOptions = { labeled: false };
 * ```
 */
export interface CriteoReaderOptions extends ReaderOptions {
  /** Whether column 1 is the label (true for train.txt, false for the challenge's test.txt). Default true. */
  readonly labeled?: boolean;
}

/** The 13 integer columns of a Criteo log: `I1`–`I13`.
 *
 * @example
 * ```ts
 * import { CRITEO_INTEGER_COLUMNS } from '@ctrkit/features';
 * console.log(CRITEO_INTEGER_COLUMNS[0], CRITEO_INTEGER_COLUMNS.length); // I1 13
 * ```
 */
export const CRITEO_INTEGER_COLUMNS: readonly string[] = Array.from({ length: 13 }, (_, i) => `I${i + 1}`);
/** The 26 categorical columns of a Criteo log: `C1`–`C26`.
 *
 * @example
 * ```ts
 * import { CRITEO_CATEGORICAL_COLUMNS } from '@ctrkit/features';
 * console.log(CRITEO_CATEGORICAL_COLUMNS.at(-1)); // C26
 * ```
 */
export const CRITEO_CATEGORICAL_COLUMNS: readonly string[] = Array.from({ length: 26 }, (_, i) => `C${i + 1}`);

/**
 * Reads a Criteo Display Advertising Challenge log: tab-separated, no header, the label, then
 * integer columns `I1`–`I13` (number columns, NaN when empty) and hashed categorical columns
 * `C1`–`C26` (text columns, `''` when empty).
 *
 * A line is malformed when it does not have exactly 40 (39 unlabeled) fields, its label is not 0
 * or 1, or an integer column holds anything but an integer.
 *
 * @param source - The log's bytes or text.
 * @param options - Chunk size, progress and malformed-line callbacks.
 * @returns A reader to iterate with `for await`.
 * @throws `CtrkitError` `E_CONFIG` for invalid options; while iterating, `E_PARSE` past `maxMalformed`.
 * @example
 * ```ts
 * import { readCriteo } from '@ctrkit/features';
 * const line = ['1', '5', ...Array(12).fill(''), '68fd1e64', ...Array(25).fill('')].join('\t');
 * for await (const chunk of readCriteo(line + '\n')) console.log(chunk.rows, chunk.labels[0]); // 1 1
 * ```
 */
export function readCriteo(source: ByteSource, options: CriteoReaderOptions = {}): LogReader {
  const labeled = options.labeled ?? true;
  const expected = labeled ? 40 : 39;
  return makeReader('readCriteo', source, options, (chunkRows) => {
    const order = [...CRITEO_INTEGER_COLUMNS.map((_, i) => [true, i] as const), ...CRITEO_CATEGORICAL_COLUMNS.map((_, i) => [false, i] as const)];
    const builders = new Builders(chunkRows, CRITEO_INTEGER_COLUMNS, CRITEO_CATEGORICAL_COLUMNS, order);
    const parser: RowParser = {
      get rows() {
        return builders.rows;
      },
      flush: () => builders.flush(),
      parse(line, lineNumber) {
        const row = builders.rows;
        let start = 0;
        let field = labeled ? -1 : 0;
        // field −1 is the label, 0–12 the integers, 13–38 the categories.
        for (;;) {
          let end = line.indexOf('\t', start);
          const last = end < 0;
          if (last) end = line.length;
          if (field >= 39) return `expected ${expected} tab-separated fields, found more`;
          const cell = line.slice(start, end);
          if (field < 0) {
            const label = labelOf(cell, false);
            if (label !== label) return `label is ${JSON.stringify(cell.slice(0, 20))}; expected 0 or 1`;
            builders.labels[row] = label;
          } else if (field < 13) {
            if (cell.length === 0) (builders.numbers[field] as Float64Array)[row] = Number.NaN;
            else if (INTEGER.test(cell)) (builders.numbers[field] as Float64Array)[row] = Number(cell);
            else return `I${field + 1} is ${JSON.stringify(cell.slice(0, 20))}; expected an integer or nothing`;
          } else {
            (builders.strings[field - 13] as string[])[row] = cell;
          }
          field++;
          if (last) break;
          start = end + 1;
        }
        if (field !== 39) return `expected ${expected} tab-separated fields, found ${field + (labeled ? 1 : 0)}`;
        if (!labeled) builders.labels[row] = Number.NaN;
        builders.lines[row] = lineNumber;
        builders.rows = row + 1;
        return undefined;
      },
    };
    return { parser };
  });
}
