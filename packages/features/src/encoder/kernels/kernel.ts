/**
 * The kernel base classes: one kernel per field writes its columns of the batch.
 *
 * @internal
 */
import type { AdRequest } from '@ctrkit/core';
import { prefixState, missingIdOf, inverseOf, type HashState } from '../../hash.js';
import type { LogChunk, LogColumn, SparseRows } from '../../log.js';
import type { Where } from '../tokens.js';

/** @internal Where kernels write: the batch's arrays and the widths they index with. */
export interface Target {
  ids: Int32Array<ArrayBufferLike>;
  values: Float32Array<ArrayBufferLike>;
  dense: Float32Array<ArrayBufferLike>;
  sequenceIds: Int32Array<ArrayBufferLike>;
  sequenceLengths: Int32Array<ArrayBufferLike>;
  idWidth: number;
  denseWidth: number;
  sequences: number;
  /** Stride of one sequence: the longest `maxLength` of the layout (shorter sequences pad more). */
  sequenceStride: number;
}

/** How kernels see a store lookup: its values and the column of each store field. */
export interface LookupView {
  readonly values: Float32Array;
  readonly width: number;
}

/** @internal Base of every field kernel. */
export abstract class Kernel implements Where {
  missing = 0;
  truncated = 0;
  /** Per-row tokens, kept only when a cross reads this field. */
  tokens: (string | undefined)[] | undefined;
  /** Line numbers of the chunk being encoded, for messages; undefined while encoding a request. */
  lines: Float64Array | undefined;
  /** `source.path` of the field, for messages. */
  sourceText = '';

  constructor(
    readonly name: string,
    readonly column: string,
  ) {}

  /** Names the value at `row` (−1: the request's user or context) in an error message. */
  describe(row: number): string {
    if (this.lines !== undefined) return `line ${this.lines[row]} column '${this.column}' (field '${this.name}')`;
    const [source, ...rest] = this.sourceText.split('.');
    return row < 0 ? `${this.sourceText} (field '${this.name}')` : `${source === 'candidate' ? `candidates[${row}]` : source}.${rest.join('.')} (field '${this.name}')`;
  }

  abstract encodeRequest(request: AdRequest, rows: number, lookup: LookupView | undefined, target: Target): void;
  abstract encodeChunk(chunk: LogChunk, column: LogColumn | SparseRows | undefined, target: Target): void;

  protected ensureTokens(rows: number): (string | undefined)[] {
    let tokens = this.tokens as (string | undefined)[];
    if (tokens.length < rows) tokens = this.tokens = new Array<string | undefined>(rows * 2).fill(undefined);
    return tokens;
  }
}

/** Shared parts of the kernels that write one id per row. */
export abstract class IdKernel extends Kernel {
  readonly prefix: HashState;
  readonly missingId: number;
  readonly inverse: number;
  storeColumn = -1;

  constructor(
    name: string,
    column: string,
    readonly offset: number,
    readonly seed: number,
    readonly modulus: number,
  ) {
    super(name, column);
    this.inverse = inverseOf(modulus);
    this.prefix = prefixState(name, seed);
    this.missingId = missingIdOf(name, seed, modulus, this.inverse);
  }

  protected fill(target: Target, rows: number, id: number, token: string | undefined): void {
    const { ids, values, idWidth } = target;
    for (let r = 0, p = this.offset; r < rows; r++, p += idWidth) {
      ids[p] = id;
      values[p] = 1;
    }
    if (this.tokens !== undefined) {
      const tokens = this.ensureTokens(rows);
      for (let r = 0; r < rows; r++) tokens[r] = token;
    }
  }
}
