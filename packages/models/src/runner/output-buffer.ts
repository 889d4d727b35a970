/** The `out` buffer every runner (and trainer) writes a batch's scores into. */
import { CtrkitError } from '@ctrkit/core';

/**
 * @internal The buffer a call writes `rows` probabilities into: `out` itself when it has exactly
 * `rows` values, a view of its first `rows` values when longer, a new array when absent.
 *
 * @throws `CtrkitError` `E_INPUT` when `out` is not a Float32Array or is too short.
 */
export function outputFor(out: Float32Array | undefined, rows: number): Float32Array {
  if (out === undefined) return new Float32Array(rows);
  if (!(out instanceof Float32Array)) throw new CtrkitError('E_INPUT', 'out must be a Float32Array');
  if (out.length === rows) return out;
  if (out.length < rows) {
    throw new CtrkitError('E_INPUT', `out holds ${out.length} values but the batch has ${rows} rows; pass a Float32Array of at least batch.rows values`);
  }
  return out.subarray(0, rows);
}
