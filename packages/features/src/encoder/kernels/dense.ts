/**
 * The dense kernel: a float value, transformed (log, clip, scale) as the spec says.
 *
 * @internal
 */
import { CtrkitError, type AdRequest } from '@ctrkit/core';
import type { LogChunk, LogColumn, SparseRows } from '../../log.js';
import type { DenseFieldSpec } from '../../spec/field-spec.js';
import { type Reader, makeReader, toNumber } from '../tokens.js';
import { Kernel, type LookupView, type Target } from './kernel.js';

function applyDense(spec: DenseFieldSpec): (x: number) => number {
  const [lo, hi] = spec.clip ?? [-Infinity, Infinity];
  const normalize = spec.normalize ?? { method: 'none' as const };
  switch (normalize.method) {
    case 'none':
      return (x) => Math.min(hi, Math.max(lo, x));
    case 'log1p':
      // log1p of a negative below −1 is NaN; sign-preserving keeps the map defined everywhere.
      return (x) => {
        const c = Math.min(hi, Math.max(lo, x));
        return c >= 0 ? Math.log1p(c) : -Math.log1p(-c);
      };
    case 'standard': {
      const { mean, std } = normalize;
      return (x) => (Math.min(hi, Math.max(lo, x)) - mean) / std;
    }
    case 'minmax': {
      const { min, max } = normalize;
      const span = max - min;
      return (x) => (Math.min(hi, Math.max(lo, x)) - min) / span;
    }
  }
}

/** @internal A dense (real-valued) field. */
export class DenseKernel extends Kernel {
  private readonly read: Reader | undefined;
  private readonly transform: (x: number) => number;
  private readonly missingValue: number;
  storeColumn = -1;

  constructor(
    readonly spec: DenseFieldSpec,
    readonly denseIndex: number,
  ) {
    super(spec.name, spec.column ?? spec.name);
    this.read = spec.source === 'store' ? undefined : makeReader(spec.source, spec.path);
    this.transform = applyDense(spec);
    this.missingValue = spec.missingValue ?? 0;
  }

  private value(x: number): number {
    if (x !== x || x === Infinity || x === -Infinity) {
      this.missing++;
      return this.missingValue;
    }
    return this.transform(x);
  }

  encodeRequest(request: AdRequest, rows: number, lookup: LookupView | undefined, target: Target): void {
    const { dense, denseWidth } = target;
    const { source } = this.spec;
    if (source === 'store') {
      for (let r = 0; r < rows; r++) {
        const x = lookup === undefined ? Number.NaN : (lookup.values[r * lookup.width + this.storeColumn] as number);
        dense[r * denseWidth + this.denseIndex] = this.value(x);
      }
      return;
    }
    const read = this.read as Reader;
    if (source !== 'candidate') {
      const missingBefore = this.missing;
      const v = this.value(toNumber(read(source === 'user' ? request.user : request.context), this, -1));
      if (this.missing !== missingBefore) this.missing += rows - 1;
      for (let r = 0; r < rows; r++) dense[r * denseWidth + this.denseIndex] = v;
      return;
    }
    for (let r = 0; r < rows; r++) {
      const x = toNumber(read(request.candidates[r]), this, r);
      dense[r * denseWidth + this.denseIndex] = this.value(x);
    }
  }

  encodeChunk(chunk: LogChunk, column: LogColumn | SparseRows | undefined, target: Target): void {
    const { dense, denseWidth } = target;
    if (column === undefined || !('type' in column)) throw new CtrkitError('E_INPUT', `log has no column '${this.column}' for field '${this.name}'`);
    for (let r = 0; r < chunk.rows; r++) {
      const x = column.type === 'number' ? (column.data[r] as number) : toNumber(column.data[r], this, r);
      dense[r * denseWidth + this.denseIndex] = this.value(x);
    }
  }
}
