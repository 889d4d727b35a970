/**
 * The sequence kernel: the last N ids of a history, in order, with lengths.
 *
 * @internal
 */
import { CtrkitError, type AdRequest } from '@ctrkit/core';
import { hashAfter, prefixState, missingIdOf, toId, inverseOf, type HashState } from '../../hash.js';
import type { LogChunk, LogColumn, SparseRows } from '../../log.js';
import type { FieldSource, SequenceFieldSpec } from '../../spec/field-spec.js';
import { LIST_SEPARATOR, type Reader, makeReader, tokenOf } from '../tokens.js';
import { Kernel, type LookupView, type Target } from './kernel.js';
import { listItem, listOf } from './bag.js';

/** @internal A behavior sequence, left-padded to `maxLength`. */
export class SequenceKernel extends Kernel {
  private readonly read: Reader;
  readonly prefix: HashState;
  readonly missingId: number;
  readonly inverse: number;

  constructor(
    readonly spec: SequenceFieldSpec,
    readonly sequenceIndex: number,
    seed: number,
    readonly modulus: number,
  ) {
    super(spec.name, spec.column ?? spec.name);
    this.read = makeReader(spec.source as Exclude<FieldSource, 'store'>, spec.path);
    const keyName = spec.sharesIdsWith ?? spec.name;
    this.inverse = inverseOf(modulus);
    this.prefix = prefixState(keyName, seed);
    this.missingId = missingIdOf(keyName, seed, modulus, this.inverse);
  }

  /** Writes one row's sequence; returns nothing, fills ids and length. */
  private writeRow(items: readonly unknown[] | undefined, row: number, target: Target, at: number): void {
    const L = target.sequenceStride;
    const max = this.spec.maxLength;
    const base = (row * target.sequences + this.sequenceIndex) * L;
    const n = items === undefined ? 0 : Math.min(items.length, max);
    if (items !== undefined && items.length > max) this.truncated++;
    if (n === 0) this.missing++;
    const ids = target.sequenceIds;
    const pad = L - n;
    for (let t = 0; t < pad; t++) ids[base + t] = 0;
    if (items !== undefined) {
      const first = items.length - n;
      for (let t = 0; t < n; t++) {
        const token = tokenOf(listItem(items[first + t], this.spec.item), this, at);
        ids[base + pad + t] = token === undefined ? this.missingId : toId(hashAfter(this.prefix, token), this.modulus, this.inverse);
      }
    }
    target.sequenceLengths[row * target.sequences + this.sequenceIndex] = n;
  }

  encodeRequest(request: AdRequest, rows: number, _lookup: LookupView | undefined, target: Target): void {
    const { source } = this.spec;
    if (source !== 'candidate') {
      const items = listOf(this.read(source === 'user' ? request.user : request.context), this, -1);
      const missingBefore = this.missing;
      const truncatedBefore = this.truncated;
      this.writeRow(items, 0, target, -1);
      const L = target.sequenceStride;
      const S = target.sequences;
      const from = this.sequenceIndex * L;
      for (let r = 1; r < rows; r++) {
        target.sequenceIds.copyWithin((r * S + this.sequenceIndex) * L, from, from + L);
        target.sequenceLengths[r * S + this.sequenceIndex] = target.sequenceLengths[this.sequenceIndex] as number;
      }
      this.missing += (this.missing - missingBefore) * (rows - 1);
      this.truncated += (this.truncated - truncatedBefore) * (rows - 1);
      return;
    }
    for (let r = 0; r < rows; r++) {
      this.writeRow(listOf(this.read(request.candidates[r]), this, r), r, target, r);
    }
  }

  encodeChunk(chunk: LogChunk, column: LogColumn | SparseRows | undefined, target: Target): void {
    if (column === undefined || !('type' in column) || column.type !== 'string') {
      throw new CtrkitError('E_INPUT', `sequence field '${this.name}' needs a text column '${this.column}' of '${LIST_SEPARATOR}'-separated items (oldest first)`);
    }
    for (let r = 0; r < chunk.rows; r++) {
      const cell = column.data[r] as string;
      this.writeRow(cell.length === 0 ? undefined : cell.split(LIST_SEPARATOR), r, target, r);
    }
  }
}
