/**
 * The bag kernel: a set of ids per row, with offsets and optional weights.
 *
 * @internal
 */
import { CtrkitError, type AdRequest } from '@ctrkit/core';
import { hashAfter, prefixState, missingIdOf, toId, inverseOf, type HashState } from '../../hash.js';
import type { LogChunk, LogColumn, SparseRows } from '../../log.js';
import type { BagFieldSpec, FieldSource } from '../../spec/field-spec.js';
import { LIST_SEPARATOR, type Reader, type Where, makeReader, numberToken, tokenOf } from '../tokens.js';
import { Kernel, type LookupView, type Target } from './kernel.js';

/** Reads list items: plain scalars, or one property of behavior events. */
export function listItem(element: unknown, item: string | undefined): unknown {
  if (item === undefined) return element;
  return typeof element === 'object' && element !== null ? (element as Record<string, unknown>)[item] : undefined;
}

export function listOf(value: unknown, where: Where, row: number): readonly unknown[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) return value;
  throw new CtrkitError('E_INPUT', `${where.describe(row)} must be a list, got ${typeof value}`);
}

/** @internal A bag of ids, padded to `maxSize`. */
export class BagKernel extends Kernel {
  private readonly read: Reader;
  readonly prefix: HashState;
  readonly missingId: number;
  readonly inverse: number;

  constructor(
    readonly spec: BagFieldSpec,
    readonly offset: number,
    seed: number,
    readonly modulus: number,
  ) {
    super(spec.name, spec.column ?? spec.name);
    this.read = makeReader(spec.source as Exclude<FieldSource, 'store'>, spec.path);
    this.inverse = inverseOf(modulus);
    this.prefix = prefixState(spec.name, seed);
    this.missingId = missingIdOf(spec.name, seed, modulus, this.inverse);
  }

  /** Writes one row's bag at `p`; `items` are raw values. */
  private writeList(items: readonly unknown[] | undefined, p: number, target: Target, row: number): void {
    const { ids, values } = target;
    const max = this.spec.maxSize;
    let count = 0;
    if (items !== undefined) {
      for (let i = 0; i < items.length && count < max; i++) {
        const token = tokenOf(listItem(items[i], this.spec.item), this, row);
        if (token === undefined) continue;
        ids[p + count] = toId(hashAfter(this.prefix, token), this.modulus, this.inverse);
        count++;
      }
      if (items.length > max) this.truncated++;
    }
    this.finishRow(count, p, ids, values, max);
  }

  private finishRow(count: number, p: number, ids: Int32Array, values: Float32Array, max: number): void {
    if (count === 0) {
      this.missing++;
      ids[p] = this.missingId;
      values[p] = 1;
      count = 1;
    } else {
      const weight = this.spec.combiner === 'mean' ? 1 / count : 1;
      for (let i = 0; i < count; i++) values[p + i] = weight;
    }
    for (let i = count; i < max; i++) {
      ids[p + i] = 0;
      values[p + i] = 0;
    }
  }

  encodeRequest(request: AdRequest, rows: number, _lookup: LookupView | undefined, target: Target): void {
    const { source } = this.spec;
    const { idWidth } = target;
    if (source !== 'candidate') {
      const items = listOf(this.read(source === 'user' ? request.user : request.context), this, -1);
      const missingBefore = this.missing;
      const truncatedBefore = this.truncated;
      this.writeList(items, this.offset, target, -1);
      const width = this.spec.maxSize;
      for (let r = 1; r < rows; r++) {
        target.ids.copyWithin(r * idWidth + this.offset, this.offset, this.offset + width);
        target.values.copyWithin(r * idWidth + this.offset, this.offset, this.offset + width);
      }
      // Every row carries the user's (or context's) bag: count it once per row, as candidate bags are.
      this.missing += (this.missing - missingBefore) * (rows - 1);
      this.truncated += (this.truncated - truncatedBefore) * (rows - 1);
      return;
    }
    for (let r = 0; r < rows; r++) this.writeList(listOf(this.read(request.candidates[r]), this, r), r * idWidth + this.offset, target, r);
  }

  encodeChunk(chunk: LogChunk, column: LogColumn | SparseRows | undefined, target: Target): void {
    const { ids, values, idWidth } = target;
    const max = this.spec.maxSize;
    if (column === undefined) throw new CtrkitError('E_INPUT', `log has no column '${this.column}' for field '${this.name}'`);
    if (!('type' in column)) {
      // libsvm pairs: the index is the token, the pair's value scales the weight.
      const { offsets, indices, values: pairValues } = column;
      for (let r = 0; r < chunk.rows; r++) {
        const p = r * idWidth + this.offset;
        const start = offsets[r] as number;
        const end = offsets[r + 1] as number;
        const n = Math.min(end - start, max);
        if (end - start > max) this.truncated++;
        const weight = this.spec.combiner === 'mean' && n > 0 ? 1 / n : 1;
        for (let i = 0; i < n; i++) {
          ids[p + i] = toId(hashAfter(this.prefix, numberToken(indices[start + i] as number) as string), this.modulus, this.inverse);
          values[p + i] = weight * (pairValues[start + i] as number);
        }
        if (n === 0) this.finishRow(0, p, ids, values, max);
        else for (let i = n; i < max; i++) {
          ids[p + i] = 0;
          values[p + i] = 0;
        }
      }
      return;
    }
    if (column.type !== 'string') throw new CtrkitError('E_INPUT', `bag field '${this.name}' needs a text column of '${LIST_SEPARATOR}'-separated items, but '${this.column}' is numeric`);
    for (let r = 0; r < chunk.rows; r++) {
      const cell = column.data[r] as string;
      this.writeList(cell.length === 0 ? undefined : cell.split(LIST_SEPARATOR), r * idWidth + this.offset, target, r);
    }
  }
}
