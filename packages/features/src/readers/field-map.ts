/** Field maps: which libsvm feature indices belong to which named field. */
import { CtrkitError } from '@ctrkit/core';

/** A libsvm field map: which field and value each one-hot index stands for.
 *
 * @example
 * ```ts
 * import { parseFieldMap, type FieldMap } from '@ctrkit/features';
 * const map: FieldMap = parseFieldMap('weekday:2\t1\nhour:00\t5\n');
 * console.log(map.fields); // ['weekday', 'hour']
 * ```
 */
export interface FieldMap {
  /** Field names, in order of first appearance. */
  readonly fields: readonly string[];
  /** Index → field position in `fields`. */
  readonly fieldOf: ReadonlyMap<number, number>;
  /** Index → the value's text. */
  readonly valueOf: ReadonlyMap<number, string>;
}

/**
 * Parses a field map (`field:value<TAB>index` per line, as iPinYou's `featindex.txt`).
 *
 * @param text - The map's text.
 * @returns The map.
 * @throws `CtrkitError` `E_PARSE` naming the first bad line (no `:`, no tab, index not a
 *   non-negative integer, or an index given twice).
 * @example
 * ```ts
 * import { parseFieldMap } from '@ctrkit/features';
 * const map = parseFieldMap('weekday:other\t0\nweekday:2\t1\n');
 * console.log(map.valueOf.get(1)); // '2'
 * ```
 */
export function parseFieldMap(text: string): FieldMap {
  const fields: string[] = [];
  const position = new Map<string, number>();
  const fieldOf = new Map<number, number>();
  const valueOf = new Map<number, string>();
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    let line = lines[n] as string;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim().length === 0) continue;
    const tab = line.lastIndexOf('\t');
    const colon = line.indexOf(':');
    if (tab < 0 || colon < 0 || colon > tab) {
      throw new CtrkitError('E_PARSE', `field map line ${n + 1}: expected 'field:value<TAB>index', got ${JSON.stringify(line.slice(0, 60))}`, { details: { line: n + 1 } });
    }
    const indexText = line.slice(tab + 1).trim();
    if (!/^\d+$/.test(indexText)) throw new CtrkitError('E_PARSE', `field map line ${n + 1}: index ${JSON.stringify(indexText)} is not a non-negative integer`, { details: { line: n + 1 } });
    const index = Number(indexText);
    if (fieldOf.has(index)) throw new CtrkitError('E_PARSE', `field map line ${n + 1}: index ${index} is listed twice`, { details: { line: n + 1 } });
    const field = line.slice(0, colon);
    let p = position.get(field);
    if (p === undefined) {
      p = fields.length;
      position.set(field, p);
      fields.push(field);
    }
    fieldOf.set(index, p);
    valueOf.set(index, line.slice(colon + 1, tab));
  }
  if (fields.length === 0) throw new CtrkitError('E_PARSE', 'field map is empty; expected lines of field:value<TAB>index');
  return { fields, fieldOf, valueOf };
}
