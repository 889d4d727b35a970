/**
 * Batch assembly: request checks, the typed arrays of one batch, and store lookups bound to it.
 *
 * @internal
 */
import { CtrkitError, type AdRequest, type FeatureBatch, type FeatureLayout, type StoreLookup } from '@ctrkit/core';
import { IdKernel, type LookupView, type Target } from './kernels/kernel.js';
import { DenseKernel } from './kernels/dense.js';

/** @internal Checks the shape of a request before any kernel reads it. */
export function checkRequest(request: AdRequest): number {
  if (typeof request !== 'object' || request === null) throw new CtrkitError('E_INPUT', `encode: request must be an object with user, context and candidates, got ${String(request)}`);
  if (typeof request.user !== 'object' || request.user === null) throw new CtrkitError('E_INPUT', `encode: request ${String(request.requestId)} has no user object; pass { user: { id }, … }`);
  if (typeof request.context !== 'object' || request.context === null) throw new CtrkitError('E_INPUT', `encode: request ${String(request.requestId)} has no context object; pass { context: { timestamp }, … }`);
  const candidates = request.candidates;
  if (!Array.isArray(candidates)) throw new CtrkitError('E_INPUT', `encode: request ${String(request.requestId)}.candidates must be an array`);
  for (let r = 0; r < candidates.length; r++) {
    const candidate = candidates[r];
    if (typeof candidate !== 'object' || candidate === null) throw new CtrkitError('E_INPUT', `encode: request ${String(request.requestId)}.candidates[${r}] must be an object, got ${String(candidate)}`);
  }
  return candidates.length;
}

/** @internal The byte room left in a typed array's buffer from its offset. */
function room(array: ArrayBufferView, bytes: number): boolean {
  return array.buffer.byteLength - array.byteOffset >= bytes;
}

/** @internal Returns `out` when it fits `rows`, views over its buffers when they are larger, else fresh arrays. */
export function batchFor(layout: FeatureLayout, rows: number, out: FeatureBatch | undefined): FeatureBatch {
  const S = layout.sequences.length;
  const L = layout.sequences.reduce((max, s) => Math.max(max, s.maxLength), 0);
  const nIds = rows * layout.idWidth;
  const nDense = rows * layout.denseWidth;
  const nSeq = rows * S * L;
  const nLen = rows * S;
  if (out !== undefined) {
    if (out.layout.fingerprint !== layout.fingerprint || out.layout.idWidth !== layout.idWidth) {
      throw new CtrkitError('E_INPUT', `encode: the out batch was made for spec ${out.layout.fingerprint}, this encoder's is ${layout.fingerprint}; allocate it with allocateBatch(encoder.layout, rows)`);
    }
    if (out.rows === rows) return out;
    if (room(out.ids, nIds * 4) && room(out.values, nIds * 4) && room(out.dense, nDense * 4) && room(out.sequenceIds, nSeq * 4) && room(out.sequenceLengths, nLen * 4)) {
      return {
        layout,
        rows,
        ids: new Int32Array(out.ids.buffer, out.ids.byteOffset, nIds),
        values: new Float32Array(out.values.buffer, out.values.byteOffset, nIds),
        dense: new Float32Array(out.dense.buffer, out.dense.byteOffset, nDense),
        sequenceIds: new Int32Array(out.sequenceIds.buffer, out.sequenceIds.byteOffset, nSeq),
        sequenceLengths: new Int32Array(out.sequenceLengths.buffer, out.sequenceLengths.byteOffset, nLen),
      };
    }
  }
  return {
    layout,
    rows,
    ids: new Int32Array(nIds),
    values: new Float32Array(nIds),
    dense: new Float32Array(nDense),
    sequenceIds: new Int32Array(nSeq),
    sequenceLengths: new Int32Array(nLen),
  };
}

/** @internal The writable view kernels use. */
export function targetOf(batch: FeatureBatch): Target {
  return {
    ids: batch.ids,
    values: batch.values,
    dense: batch.dense,
    sequenceIds: batch.sequenceIds,
    sequenceLengths: batch.sequenceLengths,
    idWidth: batch.layout.idWidth,
    denseWidth: batch.layout.denseWidth,
    sequences: batch.layout.sequences.length,
    sequenceStride: batch.layout.sequences.reduce((max, s) => Math.max(max, s.maxLength), 0),
  };
}

/** @internal Resolves the store columns of the kernels against a lookup's counter names. */
export function bindLookup(storeKernels: readonly (IdKernel | DenseKernel)[], lookup: StoreLookup, rows: number): LookupView {
  if (lookup.rows !== rows) {
    throw new CtrkitError('E_INPUT', `encode: the store lookup has ${lookup.rows} rows but the request has ${rows} candidates; look up the same candidates you encode`);
  }
  const width = lookup.names.length;
  if (lookup.values.length < rows * width) {
    throw new CtrkitError('E_INPUT', `encode: the store lookup holds ${lookup.values.length} values, fewer than rows × names (${rows} × ${width})`);
  }
  for (const kernel of storeKernels) {
    const counter = (kernel as unknown as { spec: { path: string } }).spec.path;
    const column = lookup.names.indexOf(counter);
    if (column < 0) {
      throw new CtrkitError('E_INPUT', `encode: field '${kernel.name}' reads counter '${counter}', which the store does not provide; it provides ${lookup.names.slice(0, 8).join(', ')}${width > 8 ? ', …' : ''}`, {
        details: { field: kernel.name, counter },
      });
    }
    kernel.storeColumn = column;
  }
  return { values: lookup.values, width };
}
