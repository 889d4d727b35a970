/**
 * The reader driver shared by every log format: byte sources, progress and malformed-line
 * reports, the chunk builders and the loop that feeds lines to a format's row parser. No Node-only
 * API: the same readers run in browsers.
 */
import { CtrkitError } from '@ctrkit/core';
import type { LogChunk, LogColumn, SparseRows } from '../log.js';
import { utf8Length } from '../utf8.js';

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
export interface RowParser {
  /** Parses one non-blank line; returns undefined on success or the reason it is malformed. */
  parse(line: string, lineNumber: number): string | undefined;
  /** Rows held. */
  readonly rows: number;
  /** Hands the rows over as a chunk and starts afresh. */
  flush(): LogChunk;
}

/** Decodes a byte source into text pieces, with the byte count of each (for progress). */
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

/** The reader's running counts, filled in as lines go by. */
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

/** Checks the options every reader shares; returns the chunk size in rows. */
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
export function makeReader(
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
export class Builders {
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

/** A decimal integer cell, as the formats' integer columns hold. */
export const INTEGER = /^[-+]?\d+$/;

/** Parses a label cell: `0`/`1` (and `-1`/`+1` where allowed); NaN when invalid. */
export function labelOf(cell: string, signed: boolean): number {
  if (cell === '0') return 0;
  if (cell === '1') return 1;
  if (signed) {
    if (cell === '-1') return 0;
    if (cell === '+1') return 1;
  }
  return Number.NaN;
}
