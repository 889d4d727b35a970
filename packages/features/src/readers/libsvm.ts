/** The libsvm reader: one-hot `index:value` rows, grouped into fields by a field map. */
import { CtrkitError } from '@ctrkit/core';
import type { SparseRows } from '../log.js';
import { Builders, type ByteSource, type LogReader, type ReaderOptions, type RowParser, labelOf, makeReader } from './driver.js';
import { type FieldMap, parseFieldMap } from './field-map.js';

/** Options for {@link readLibsvm}.
 *
 * @example
 * ```ts
 * import { parseFieldMap, type LibsvmReaderOptions } from '@ctrkit/features';
 * const options: LibsvmReaderOptions = { fieldMap: parseFieldMap('weekday:2\t1\n') };
 * ```
 */
export interface LibsvmReaderOptions extends ReaderOptions {
  /**
   * With a map, each index becomes its field's text value (one text column per field, `''` when
   * the row has none); without, rows keep their raw `index:value` pairs in `chunk.sparse`.
   */
  readonly fieldMap?: FieldMap;
  /** Name of the sparse pairs when there is no map (default `features`). */
  readonly sparseName?: string;
}

/**
 * Reads libsvm one-hot lines: `label idx:val idx:val …` (label 0/1, or −1/+1 read as 0/1).
 *
 * A line is malformed when its label is not one of those, a pair is not `integer:number`, an index
 * is missing from the field map, or two indices of one row map to the same field.
 *
 * @param source - The file's bytes or text.
 * @param options - An optional field map, plus the common reader options.
 * @returns A reader to iterate with `for await`.
 * @throws `CtrkitError` `E_CONFIG` for invalid options; while iterating, `E_PARSE` past `maxMalformed`.
 * @example
 * ```ts
 * import { readLibsvm } from '@ctrkit/features';
 * for await (const chunk of readLibsvm('1 3:1 7:0.5\n0 2:1\n')) console.log(chunk.sparse?.indices); // Int32Array [3, 7, 2]
 * ```
 */
export function readLibsvm(source: ByteSource, options: LibsvmReaderOptions = {}): LogReader {
  const map = options.fieldMap;
  const sparseName = options.sparseName ?? 'features';
  return makeReader('readLibsvm', source, options, (chunkRows) => {
    const fields = map?.fields ?? [];
    const builders = new Builders(chunkRows, [], fields, fields.map((_, i) => [false, i] as const));
    let offsets = new Int32Array(chunkRows + 1);
    let indices = new Int32Array(chunkRows * 16);
    let values = new Float32Array(chunkRows * 16);
    let pairs = 0;
    /** Per field, the parse call that last filled it: a fresh stamp per line spots duplicates without clearing. */
    const filled = new Float64Array(fields.length).fill(-1);
    let stamp = 0;
    const parser: RowParser = {
      get rows() {
        return builders.rows;
      },
      flush: () => {
        const sparse: SparseRows | undefined =
          map === undefined ? { name: sparseName, offsets: offsets.slice(0, builders.rows + 1), indices: indices.slice(0, pairs), values: values.slice(0, pairs) } : undefined;
        pairs = 0;
        offsets = new Int32Array(chunkRows + 1);
        return builders.flush(sparse);
      },
      parse(line, lineNumber) {
        const row = builders.rows;
        stamp++;
        const tokens = line.trim().split(/[ \t]+/);
        const label = labelOf(tokens[0] as string, true);
        if (label !== label) return `label is ${JSON.stringify((tokens[0] as string).slice(0, 20))}; expected 0, 1, -1 or +1`;
        const start = pairs;
        for (let t = 1; t < tokens.length; t++) {
          const token = tokens[t] as string;
          const colon = token.indexOf(':');
          const indexText = colon < 0 ? '' : token.slice(0, colon);
          const value = colon < 0 ? Number.NaN : Number(token.slice(colon + 1));
          if (!/^\d+$/.test(indexText) || !Number.isFinite(value) || colon === token.length - 1) {
            pairs = start;
            return `pair ${t} is ${JSON.stringify(token.slice(0, 30))}; expected index:value`;
          }
          const index = Number(indexText);
          if (map !== undefined) {
            const field = map.fieldOf.get(index);
            if (field === undefined) return `index ${index} is not in the field map`;
            if (filled[field] === stamp) return `two indices of field '${fields[field]}' on one line`;
            filled[field] = stamp;
            (builders.strings[field] as string[])[row] = map.valueOf.get(index) as string;
          } else {
            if (pairs === indices.length) {
              const grownIndices = new Int32Array(indices.length * 2);
              grownIndices.set(indices);
              indices = grownIndices;
              const grownValues = new Float32Array(values.length * 2);
              grownValues.set(values);
              values = grownValues;
            }
            indices[pairs] = index;
            values[pairs] = value;
            pairs++;
          }
        }
        if (map !== undefined) {
          for (let f = 0; f < fields.length; f++) if (filled[f] !== stamp) (builders.strings[f] as string[])[row] = '';
        }
        offsets[row + 1] = pairs;
        builders.labels[row] = label;
        builders.lines[row] = lineNumber;
        builders.rows = row + 1;
        return undefined;
      },
    };
    return { parser };
  });
}
