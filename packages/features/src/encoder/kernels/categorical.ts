/**
 * The categorical kernel: one hashed id per value (or a vocabulary index).
 *
 * @internal
 */
import { CtrkitError, type AdCandidate, type AdRequest } from '@ctrkit/core';
import { hashAfter, toId } from '../../hash.js';
import type { LogChunk, LogColumn, SparseRows } from '../../log.js';
import type { CategoricalFieldSpec, FieldSource } from '../../spec/field-spec.js';
import { type Reader, makeReader, numberToken, tokenOf } from '../tokens.js';
import { IdKernel, type LookupView, type Target } from './kernel.js';

/** @internal A categorical field. */
export class CategoricalKernel extends IdKernel {
  private readonly read: Reader;

  constructor(
    readonly spec: CategoricalFieldSpec,
    offset: number,
    seed: number,
    modulus: number,
  ) {
    super(spec.name, spec.column ?? spec.name, offset, seed, modulus);
    this.read = makeReader(spec.source as Exclude<FieldSource, 'store'>, spec.path);
  }

  idOfToken(token: string | undefined): number {
    if (token === undefined) {
      this.missing++;
      return this.missingId;
    }
    return toId(hashAfter(this.prefix, token), this.modulus, this.inverse);
  }

  encodeRequest(request: AdRequest, rows: number, _lookup: LookupView | undefined, target: Target): void {
    const { source } = this.spec;
    if (source !== 'candidate') {
      const token = tokenOf(this.read(source === 'user' ? request.user : request.context), this, -1);
      const missingBefore = this.missing;
      const id = this.idOfToken(token);
      if (this.missing !== missingBefore) this.missing += rows - 1;
      this.fill(target, rows, id, token);
      return;
    }
    const { ids, values, idWidth } = target;
    const tokens = this.tokens === undefined ? undefined : this.ensureTokens(rows);
    const candidates = request.candidates;
    for (let r = 0, p = this.offset; r < rows; r++, p += idWidth) {
      const token = tokenOf(this.read(candidates[r] as AdCandidate), this, r);
      ids[p] = this.idOfToken(token);
      values[p] = 1;
      if (tokens !== undefined) tokens[r] = token;
    }
  }

  encodeChunk(chunk: LogChunk, column: LogColumn | SparseRows | undefined, target: Target): void {
    const rows = chunk.rows;
    const { ids, values, idWidth } = target;
    const tokens = this.tokens === undefined ? undefined : this.ensureTokens(rows);
    if (column === undefined || !('type' in column)) throw new CtrkitError('E_INPUT', `log has no column '${this.column}' for field '${this.name}'`);
    if (column.type === 'string') {
      const data = column.data;
      const prefix = this.prefix;
      const modulus = this.modulus;
      const inverse = this.inverse;
      for (let r = 0, p = this.offset; r < rows; r++, p += idWidth) {
        const cell = data[r] as string;
        let id: number;
        if (cell.length === 0) {
          this.missing++;
          id = this.missingId;
        } else {
          id = toId(hashAfter(prefix, cell), modulus, inverse);
        }
        ids[p] = id;
        values[p] = 1;
        if (tokens !== undefined) tokens[r] = cell.length === 0 ? undefined : cell;
      }
      return;
    }
    const data = column.data;
    for (let r = 0, p = this.offset; r < rows; r++, p += idWidth) {
      const token = numberToken(data[r] as number);
      ids[p] = this.idOfToken(token);
      values[p] = 1;
      if (tokens !== undefined) tokens[r] = token;
    }
  }
}
