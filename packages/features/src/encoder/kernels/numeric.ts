/**
 * Numeric kernels: bucket boundaries and the Criteo log rule, each bucket one id.
 *
 * @internal
 */
import { CtrkitError, type AdRequest } from '@ctrkit/core';
import { hashAfter, toId } from '../../hash.js';
import type { LogChunk, LogColumn, SparseRows } from '../../log.js';
import type { NumericFieldSpec } from '../../spec/field-spec.js';
import { type Reader, makeReader, numberToken, toNumber } from '../tokens.js';
import { IdKernel, type LookupView, type Target } from './kernel.js';

/** Upper bound of the Criteo log-rule token table: ⌊ln(x)²⌋ for x up to 2^53 is 1,349. */
const CRITEO_LOG_TABLE = 2048;
/** The `SP⌊x⌋` tokens precomputed for x in [-256, 2]. */
const CRITEO_SP_MIN = -256;

/** @internal A numeric field cut into buckets (from the request, a log, or the store). */
export abstract class NumericKernel extends IdKernel {
  private readonly read: Reader | undefined;

  constructor(
    readonly spec: NumericFieldSpec,
    offset: number,
    seed: number,
    modulus: number,
  ) {
    super(spec.name, spec.column ?? spec.name, offset, seed, modulus);
    this.read = spec.source === 'store' ? undefined : makeReader(spec.source, spec.path);
  }

  /** The ids of `tokens`, index for index: a kernel's lookup table, built once when it is compiled. */
  protected idTable(tokens: readonly string[]): Int32Array {
    return Int32Array.from(tokens, (token) => toId(hashAfter(this.prefix, token), this.modulus, this.inverse));
  }

  /** The id of a value (NaN is missing). */
  abstract idOf(x: number): number;
  /** The token of a value (for crosses). */
  abstract tokenOfValue(x: number): string | undefined;

  encodeRequest(request: AdRequest, rows: number, lookup: LookupView | undefined, target: Target): void {
    const { source } = this.spec;
    const { ids, values, idWidth } = target;
    const tokens = this.tokens === undefined ? undefined : this.ensureTokens(rows);
    if (source === 'store') {
      for (let r = 0, p = this.offset; r < rows; r++, p += idWidth) {
        const x = lookup === undefined ? Number.NaN : (lookup.values[r * lookup.width + this.storeColumn] as number);
        ids[p] = this.idOf(x);
        values[p] = 1;
        if (tokens !== undefined) tokens[r] = this.tokenOfValue(x);
      }
      return;
    }
    const read = this.read as Reader;
    if (source !== 'candidate') {
      const x = toNumber(read(source === 'user' ? request.user : request.context), this, -1);
      const missingBefore = this.missing;
      const id = this.idOf(x);
      if (this.missing !== missingBefore) this.missing += rows - 1;
      this.fill(target, rows, id, this.tokens === undefined ? undefined : this.tokenOfValue(x));
      return;
    }
    const candidates = request.candidates;
    for (let r = 0, p = this.offset; r < rows; r++, p += idWidth) {
      const x = toNumber(read(candidates[r]), this, r);
      ids[p] = this.idOf(x);
      values[p] = 1;
      if (tokens !== undefined) tokens[r] = this.tokenOfValue(x);
    }
  }

  encodeChunk(chunk: LogChunk, column: LogColumn | SparseRows | undefined, target: Target): void {
    const rows = chunk.rows;
    const { ids, values, idWidth } = target;
    const tokens = this.tokens === undefined ? undefined : this.ensureTokens(rows);
    if (column === undefined || !('type' in column)) throw new CtrkitError('E_INPUT', `log has no column '${this.column}' for field '${this.name}'`);
    if (column.type === 'number') {
      const data = column.data;
      for (let r = 0, p = this.offset; r < rows; r++, p += idWidth) {
        const x = data[r] as number;
        ids[p] = this.idOf(x);
        values[p] = 1;
        if (tokens !== undefined) tokens[r] = this.tokenOfValue(x);
      }
      return;
    }
    const data = column.data;
    for (let r = 0, p = this.offset; r < rows; r++, p += idWidth) {
      const x = toNumber(data[r], this, r);
      ids[p] = this.idOf(x);
      values[p] = 1;
      if (tokens !== undefined) tokens[r] = this.tokenOfValue(x);
    }
  }
}

/** @internal Bucketized by explicit boundaries. */
export class BoundariesKernel extends NumericKernel {
  private readonly boundaries: Float64Array;
  private readonly bucketIds: Int32Array;
  private readonly bucketTokens: readonly string[];

  constructor(spec: NumericFieldSpec, offset: number, seed: number, modulus: number) {
    super(spec, offset, seed, modulus);
    const boundaries = (spec.bucketize as { boundaries: readonly number[] }).boundaries;
    this.boundaries = Float64Array.from(boundaries);
    this.bucketTokens = Array.from({ length: boundaries.length + 1 }, (_, i) => String(i));
    this.bucketIds = this.idTable(this.bucketTokens);
  }

  private bucket(x: number): number {
    const b = this.boundaries;
    let lo = 0;
    let hi = b.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((b[mid] as number) <= x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  idOf(x: number): number {
    if (x !== x) {
      this.missing++;
      return this.missingId;
    }
    return this.bucketIds[this.bucket(x)] as number;
  }

  tokenOfValue(x: number): string | undefined {
    return x !== x ? undefined : this.bucketTokens[this.bucket(x)];
  }
}

/** @internal The Criteo rule: `x > 2 ? ⌊ln(x)²⌋ : SP⌊x⌋`. */
export class CriteoLogKernel extends NumericKernel {
  private readonly logIds: Int32Array;
  private readonly spIds: Int32Array;
  private readonly spTokens: readonly string[];

  constructor(spec: NumericFieldSpec, offset: number, seed: number, modulus: number) {
    super(spec, offset, seed, modulus);
    this.logIds = this.idTable(Array.from({ length: CRITEO_LOG_TABLE }, (_, k) => String(k)));
    this.spTokens = Array.from({ length: 2 - CRITEO_SP_MIN + 1 }, (_, i) => `SP${i + CRITEO_SP_MIN}`);
    this.spIds = this.idTable(this.spTokens);
  }

  idOf(x: number): number {
    if (x > 2) {
      if (x === Infinity) {
        this.missing++;
        return this.missingId;
      }
      const l = Math.log(x);
      const k = Math.floor(l * l);
      return k < CRITEO_LOG_TABLE ? (this.logIds[k] as number) : toId(hashAfter(this.prefix, String(k)), this.modulus, this.inverse);
    }
    if (x !== x || x === -Infinity) {
      this.missing++;
      return this.missingId;
    }
    const f = Math.floor(x);
    return f >= CRITEO_SP_MIN ? (this.spIds[f - CRITEO_SP_MIN] as number) : toId(hashAfter(this.prefix, `SP${f}`), this.modulus, this.inverse);
  }

  tokenOfValue(x: number): string | undefined {
    if (x !== x || x === Infinity || x === -Infinity) return undefined;
    if (x > 2) {
      const l = Math.log(x);
      return numberToken(Math.floor(l * l));
    }
    const f = Math.floor(x);
    return f >= CRITEO_SP_MIN ? this.spTokens[f - CRITEO_SP_MIN] : `SP${f}`;
  }
}
