/**
 * Bags in a batch are padded to their field's width (id 0, weight 0), which suits fixed-shape
 * tensors. Models that pool variable-length bags (an `EmbeddingBag`) want them as offsets into a
 * flat list instead; this converts one field.
 */
import { CtrkitError, type FeatureBatch } from '@ctrkit/core';

/** A bag field in CSR form: row r's ids are `ids[offsets[r] .. offsets[r + 1])`.
 *
 * @example
 * ```ts
 * import type { BagOffsets } from '@ctrkit/features';
 * const sizeOf = (bag: BagOffsets, row: number) => (bag.offsets[row + 1] as number) - (bag.offsets[row] as number);
 * ```
 */
export interface BagOffsets {
  /** `rows + 1` offsets into `ids` and `weights`. */
  readonly offsets: Int32Array;
  /** The bag's ids, row after row, padding left out. */
  readonly ids: Int32Array;
  /** Their weights (1, or 1/n for a `mean` bag). */
  readonly weights: Float32Array;
}

/**
 * Extracts one bag field of a batch as offsets and a flat list of ids, leaving the padding out.
 *
 * @param batch - An encoded batch.
 * @param field - The bag field's name.
 * @returns The field in CSR form (new arrays, sized to the present ids).
 * @throws `CtrkitError` `E_INPUT` when the layout has no bag field of that name.
 * @remarks One pass to count and one to copy; allocates only the result.
 * @example
 * ```ts
 * import { bagOffsets, createFeatureEncoder } from '@ctrkit/features';
 * const encoder = createFeatureEncoder({ version: 1, idSpace: 1 << 16, fields: [{ name: 'interests', kind: 'bag', source: 'user', path: 'interests', maxSize: 4 }] });
 * const batch = encoder.encode({
 *   requestId: 'r', user: { id: 'u', interests: ['travel', 'food'] }, context: { timestamp: 0 },
 *   candidates: [{ adId: 'a', advertiserId: 'x', campaignId: 'c', format: 'display', category: 'travel', bid: 1, bidType: 'CPC' }],
 * });
 * console.log(Array.from(bagOffsets(batch, 'interests').offsets)); // [0, 2]
 * ```
 */
export function bagOffsets(batch: FeatureBatch, field: string): BagOffsets {
  const slot = batch.layout.fields.find((f) => f.name === field);
  if (slot === undefined || slot.kind !== 'bag') {
    const bags = batch.layout.fields.filter((f) => f.kind === 'bag').map((f) => f.name);
    throw new CtrkitError('E_INPUT', `bagOffsets: the batch has no bag field '${field}'; its bags are ${bags.length > 0 ? bags.join(', ') : 'none'}`);
  }
  const { rows, values } = batch;
  const ids = batch.ids;
  const W = batch.layout.idWidth;
  const offsets = new Int32Array(rows + 1);
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const p = r * W + slot.offset;
    for (let i = 0; i < slot.width; i++) if ((values[p + i] as number) !== 0) total++;
    offsets[r + 1] = total;
  }
  const flat = new Int32Array(total);
  const weights = new Float32Array(total);
  let at = 0;
  for (let r = 0; r < rows; r++) {
    const p = r * W + slot.offset;
    for (let i = 0; i < slot.width; i++) {
      const weight = values[p + i] as number;
      if (weight === 0) continue;
      flat[at] = ids[p + i] as number;
      weights[at++] = weight;
    }
  }
  return { offsets, ids: flat, weights };
}
