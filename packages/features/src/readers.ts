/**
 * Streaming readers for real click logs: Criteo TSV, CSV with a header (Avazu-style) and libsvm
 * one-hot. They take bytes from any async source (a Node file stream, a `fetch` body, a string),
 * parse them into column-major {@link LogChunk}s, and report progress. A malformed line is
 * counted and reported with its line number; it never stops the reader and never shifts columns.
 * No Node-only API: the same readers run in browsers.
 */
import { CtrkitError } from '@ctrkit/core';
import type { LogChunk, LogColumn, SparseRows } from './log.js';
import { utf8Length } from './utf8.js';

/** Bytes or text to read, whole or in pieces.
 *
 * @example
 * ```ts
 * import type { ByteSource } from '@ctrkit/features';
 * const source: ByteSource = '0\t1\t2\n';
 * ```
 */
export type ByteSource =
  | string
  | Uint8Array
  | Iterable<Uint8Array | string>
  | AsyncIterable<Uint8Array | string>
  | ReadableStream<Uint8Array>;

/** How far a reader has got.
 *
 * @example
 * ```ts
 * import type { ReaderProgress } from '@ctrkit/features';
 * const percent = (p: ReaderProgress) => (p.totalBytes ? (100 * p.bytes) / p.totalBytes : Number.NaN);
 * ```
 */
export interface ReaderProgress {
  /** Bytes consumed so far. */
  readonly bytes: number;
  /** Total bytes, when the caller said (file size). */
  readonly totalBytes?: number;
  /** Lines seen (including blank and malformed ones). */
  readonly lines: number;
  /** Rows parsed. */
  readonly rows: number;
  /** Lines rejected. */
  readonly malformed: number;
  /** Blank lines skipped. */
  readonly blank: number;
}

/** A rejected line.
 *
 * @example
 * ```ts
 * import type { MalformedLine } from '@ctrkit/features';
 * const describe = (m: MalformedLine) => `line ${m.line}: ${m.reason}`;
 * ```
 */
export interface MalformedLine {
  /** 1-based line number in the source (the header is line 1 of a CSV). */
  readonly line: number;
  /** What was wrong. */
  readonly reason: string;
  /** The line's first 200 characters. */
  readonly text: string;
}

/** Everything a reader has counted, with the first malformed lines as examples.
 *
 * @example
 * ```ts
 * import type { ReaderStats } from '@ctrkit/features';
 * const summary = (s: ReaderStats) => `${s.rows} rows, ${s.malformed} malformed`;
 * ```
 */
export interface ReaderStats extends ReaderProgress {
  /** Up to `keepExamples` malformed lines, in order. */
  readonly examples: readonly MalformedLine[];
  /** The label column's positives, among parsed rows. */
  readonly positives: number;
}

/** Options every reader takes.
 *
 * @example
 * ```ts
 * import type { ReaderOptions } from '@ctrkit/features';
 * const options: ReaderOptions = { chunkRows: 4096, onProgress: (p) => console.log(p.rows) };
 * ```
 */
export interface ReaderOptions {
  /** Rows per chunk (default 8,192). */
  readonly chunkRows?: number;
  /** Total size of the source in bytes, for progress fractions. */
  readonly totalBytes?: number;
  /** Called after each chunk, and once at the end. */
  readonly onProgress?: (progress: ReaderProgress) => void;
  /** Called for every malformed line. */
  readonly onMalformed?: (line: MalformedLine) => void;
  /** Stop with `E_PARSE` once more lines than this are malformed (default: never). */
  readonly maxMalformed?: number;
  /** Malformed lines kept in `stats.examples` (default 20). */
  readonly keepExamples?: number;
}

/** A stream of chunks whose counts can be read at any time (also after the last chunk).
 *
 * @example
 * ```ts
 * import { readCriteo, type LogReader } from '@ctrkit/features';
 * const reader: LogReader = readCriteo('0\t1\t\t\t\t\t\t\t\t\t\t\t\t\ta\tb\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\n');
 * ```
 */
export interface LogReader extends AsyncIterable<LogChunk> {
  /** Counts so far. */
  readonly stats: ReaderStats;
}

/** A line parser: appends a row to its builders, or says why it cannot. */
interface RowParser {
  /** Parses one non-blank line; returns undefined on success or the reason it is malformed. */
  parse(line: string, lineNumber: number): string | undefined;
  /** Rows held. */
  readonly rows: number;
  /** Hands the rows over as a chunk and starts afresh. */
  flush(): LogChunk;
}

async function* textOf(source: ByteSource): AsyncGenerator<[text: string, bytes: number]> {
  if (typeof source === 'string') {
    yield [source, utf8Length(source)];
    return;
  }
  const decoder = new TextDecoder('utf-8');
  if (source instanceof Uint8Array) {
    yield [decoder.decode(source), source.byteLength];
    return;
  }
  if (typeof (source as ReadableStream<Uint8Array>).getReader === 'function') {
    const reader = (source as ReadableStream<Uint8Array>).getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        yield [decoder.decode(value, { stream: true }), value.byteLength];
      }
    } finally {
      reader.releaseLock();
    }
    const tail = decoder.decode();
    if (tail.length > 0) yield [tail, 0];
    return;
  }
  const iterable = source as AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>;
  if (typeof (iterable as AsyncIterable<unknown>)[Symbol.asyncIterator] !== 'function' && typeof (iterable as Iterable<unknown>)[Symbol.iterator] !== 'function') {
    throw new CtrkitError('E_INPUT', 'reader: the source must be a string, bytes, a ReadableStream or an (async) iterable of bytes or strings');
  }
  for await (const piece of iterable) {
    if (typeof piece === 'string') yield [piece, utf8Length(piece)];
    else if (piece instanceof Uint8Array) yield [decoder.decode(piece, { stream: true }), piece.byteLength];
    else throw new CtrkitError('E_INPUT', `reader: the source yielded ${typeof piece}; yield Uint8Array or string pieces`);
  }
  const tail = decoder.decode();
  if (tail.length > 0) yield [tail, 0];
}


interface MutableStats {
  bytes: number;
  totalBytes?: number;
  lines: number;
  rows: number;
  malformed: number;
  blank: number;
  positives: number;
  examples: MalformedLine[];
}

function checkOptions(what: string, options: ReaderOptions): number {
  const chunkRows = options.chunkRows ?? 8192;
  if (!Number.isInteger(chunkRows) || chunkRows < 1) throw new CtrkitError('E_CONFIG', `${what}: chunkRows must be a positive integer, got ${chunkRows}`);
  if (options.maxMalformed !== undefined && !(options.maxMalformed >= 0)) throw new CtrkitError('E_CONFIG', `${what}: maxMalformed must be ≥ 0, got ${options.maxMalformed}`);
  return chunkRows;
}

/**
 * Drives a parser over the lines of a source. `prepare` sees the first line (a CSV header) and
 * returns the parser, or returns a parser right away and lets the first line through.
 */
function makeReader(
  what: string,
  source: ByteSource,
  options: ReaderOptions,
  prepare: (chunkRows: number) => { parser?: RowParser; header?: (line: string) => RowParser },
): LogReader {
  const chunkRows = checkOptions(what, options);
  const stats: MutableStats = { bytes: 0, lines: 0, rows: 0, malformed: 0, blank: 0, positives: 0, examples: [] };
  if (options.totalBytes !== undefined) stats.totalBytes = options.totalBytes;
  const keep = options.keepExamples ?? 20;
  const maxMalformed = options.maxMalformed ?? Infinity;
  let started = false;
  const progress = () => options.onProgress?.({ ...stats, examples: undefined } as ReaderProgress);

  async function* run(): AsyncGenerator<LogChunk> {
    if (started) throw new CtrkitError('E_STATE', `${what}: a reader can be iterated once; create another for a second pass`);
    started = true;
    const setup = prepare(chunkRows);
    let parser = setup.parser;
    let carry = '';
    const emit = (chunk: LogChunk) => {
      stats.rows += chunk.rows;
      for (let i = 0; i < chunk.rows; i++) if (chunk.labels[i] === 1) stats.positives++;
      return chunk;
    };
    const handle = (line: string): void => {
      stats.lines++;
      if (parser === undefined) {
        parser = (setup.header as (line: string) => RowParser)(line);
        return;
      }
      if (line.length === 0 || (line.length < 4 && line.trim().length === 0)) {
        stats.blank++;
        return;
      }
      const reason = parser.parse(line, stats.lines);
      if (reason === undefined) return;
      stats.malformed++;
      const report: MalformedLine = { line: stats.lines, reason, text: line.slice(0, 200) };
      if (stats.examples.length < keep) stats.examples.push(report);
      options.onMalformed?.(report);
      if (stats.malformed > maxMalformed) {
        throw new CtrkitError('E_PARSE', `${what}: more than ${maxMalformed} malformed lines; the latest, line ${report.line}: ${reason}. Check the file's format`, {
          details: { line: report.line, malformed: stats.malformed },
        });
      }
    };
    for await (const [text, bytes] of textOf(source)) {
      stats.bytes += bytes;
      const block = carry.length > 0 ? carry + text : text;
      carry = '';
      let start = 0;
      for (;;) {
        const newline = block.indexOf('\n', start);
        if (newline < 0) {
          carry = block.slice(start);
          break;
        }
        const end = newline > start && block.charCodeAt(newline - 1) === 13 ? newline - 1 : newline;
        handle(block.slice(start, end));
        start = newline + 1;
        if (parser !== undefined && parser.rows >= chunkRows) {
          yield emit(parser.flush());
          progress();
        }
      }
    }
    if (carry.length > 0) handle(carry.charCodeAt(carry.length - 1) === 13 ? carry.slice(0, -1) : carry);
    if (parser === undefined) throw new CtrkitError('E_PARSE', `${what}: the source is empty; a header line was expected`);
    if (parser.rows > 0) yield emit(parser.flush());
    progress();
  }

  return {
    stats: stats as ReaderStats,
    [Symbol.asyncIterator]: run,
  };
}

/** Growing column storage for one chunk. */
class Builders {
  labels: Float32Array;
  lines: Float64Array;
  numbers: Float64Array[];
  strings: string[][];
  rows = 0;

  constructor(
    private readonly chunkRows: number,
    readonly numberNames: readonly string[],
    readonly stringNames: readonly string[],
    /** Column order of the chunk: `[isNumber, index]` per column. */
    readonly order: readonly (readonly [boolean, number])[],
  ) {
    this.labels = new Float32Array(chunkRows);
    this.lines = new Float64Array(chunkRows);
    this.numbers = numberNames.map(() => new Float64Array(chunkRows));
    this.strings = stringNames.map(() => new Array<string>(chunkRows).fill(''));
  }

  flush(sparse?: SparseRows): LogChunk {
    const rows = this.rows;
    const columns: LogColumn[] = this.order.map(([isNumber, index]) =>
      isNumber
        ? { name: this.numberNames[index] as string, type: 'number', data: (this.numbers[index] as Float64Array).slice(0, rows) }
        : { name: this.stringNames[index] as string, type: 'string', data: (this.strings[index] as string[]).slice(0, rows) },
    );
    const chunk: LogChunk = { rows, labels: this.labels.slice(0, rows), lines: this.lines.slice(0, rows), columns, ...(sparse ? { sparse } : {}) };
    this.rows = 0;
    return chunk;
  }

  get capacity(): number {
    return this.chunkRows;
  }
}

const INTEGER = /^[-+]?\d+$/;

/** Parses a label cell: `0`/`1` (and `-1`/`+1` where allowed); NaN when invalid. */
function labelOf(cell: string, signed: boolean): number {
  if (cell === '0') return 0;
  if (cell === '1') return 1;
  if (signed) {
    if (cell === '-1') return 0;
    if (cell === '+1') return 1;
  }
  return Number.NaN;
}

/** Options for {@link readCriteo}.
 *
 * @example
 * ```ts
 * import type { CriteoReaderOptions } from '@ctrkit/features';
 * const options: CriteoReaderOptions = { labelled: false };
 * ```
 */
export interface CriteoReaderOptions extends ReaderOptions {
  /** Whether column 1 is the label (true for train.txt, false for the challenge's test.txt). Default true. */
  readonly labelled?: boolean;
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
 * A line is malformed when it does not have exactly 40 (39 unlabelled) fields, its label is not 0
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
  const labelled = options.labelled ?? true;
  const expected = labelled ? 40 : 39;
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
        let field = labelled ? -1 : 0;
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
        if (field !== 39) return `expected ${expected} tab-separated fields, found ${field + (labelled ? 1 : 0)}`;
        if (!labelled) builders.labels[row] = Number.NaN;
        builders.lines[row] = lineNumber;
        builders.rows = row + 1;
        return undefined;
      },
    };
    return { parser };
  });
}

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
