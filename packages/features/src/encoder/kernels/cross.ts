/**
 * The cross kernel: one hashed id for a combination of fields.
 *
 * @internal
 */
import type { AdRequest } from '@ctrkit/core';
import { hashAfter2, hashAfter3, toId } from '../../hash.js';
import type { LogChunk, LogColumn, SparseRows } from '../../log.js';
import type { CrossFieldSpec } from '../../spec/field-spec.js';
import { IdKernel, Kernel, type LookupView, type Target } from './kernel.js';

/** @internal A cross of two or three id fields. */
export class CrossKernel extends IdKernel {
  constructor(
    readonly spec: CrossFieldSpec,
    readonly parts: readonly Kernel[],
    offset: number,
    seed: number,
    modulus: number,
  ) {
    super(spec.name, spec.name, offset, seed, modulus);
  }

  private run(rows: number, target: Target): void {
    const { ids, values, idWidth } = target;
    const a = this.parts[0]?.tokens as (string | undefined)[];
    const b = this.parts[1]?.tokens as (string | undefined)[];
    const prefix = this.prefix;
    const modulus = this.modulus;
    const inverse = this.inverse;
    if (this.parts.length === 2) {
      for (let r = 0, p = this.offset; r < rows; r++, p += idWidth) {
        const ta = a[r];
        const tb = b[r];
        if (ta === undefined || tb === undefined) {
          this.missing++;
          ids[p] = this.missingId;
        } else {
          ids[p] = toId(hashAfter2(prefix, ta, tb), modulus, inverse);
        }
        values[p] = 1;
      }
      return;
    }
    const c = this.parts[2]?.tokens as (string | undefined)[];
    for (let r = 0, p = this.offset; r < rows; r++, p += idWidth) {
      const ta = a[r];
      const tb = b[r];
      const tc = c[r];
      if (ta === undefined || tb === undefined || tc === undefined) {
        this.missing++;
        ids[p] = this.missingId;
      } else {
        ids[p] = toId(hashAfter3(prefix, ta, tb, tc), modulus, inverse);
      }
      values[p] = 1;
    }
  }

  encodeRequest(_request: AdRequest, rows: number, _lookup: LookupView | undefined, target: Target): void {
    this.run(rows, target);
  }

  encodeChunk(chunk: LogChunk, _column: LogColumn | SparseRows | undefined, target: Target): void {
    this.run(chunk.rows, target);
  }
}
