/**
 * Exact per-field contributions of linear models (LR) and factorization machines: the logit is
 * a sum of field terms, so no approximation is needed.
 */
import { CtrkitError, type FeatureBatch, type FeatureContribution } from '@ctrkit/core';
import type { FmWeights, LrWeights } from './weights.js';

/** The logit of one row split into the intercept and per-field terms that sum to it.
 *
 * @example
 * ```ts
 * import type { LinearExplanation } from '@ctrkit/models';
 * const check = (e: LinearExplanation) => e.bias + e.contributions.reduce((s, c) => s + c.contribution, 0) - e.logit;
 * ```
 */
export interface LinearExplanation {
  /** The model's logit for the row. */
  readonly logit: number;
  /** The intercept. */
  readonly bias: number;
  /** One term per layout field and dense column (`dense:<name>`), largest magnitude first. */
  readonly contributions: readonly FeatureContribution[];
}

/**
 * Splits an LR or FM logit into exact per-field terms. For LR a field's term is
 * Σ values·w over its columns. For an FM each pairwise interaction ⟨v_i, v_j⟩·x_i·x_j is shared
 * half and half between the two fields, so the terms still sum to the logit exactly.
 *
 * @param weights - LR or FM weights (what the model was built from).
 * @param batch - Encoded rows (the layout's id space must match the weights).
 * @param row - Which row.
 * @returns The logit, the intercept and the field terms.
 * @throws `CtrkitError` `E_INPUT` when the row is outside the batch or the weights do not fit the layout.
 * @remarks O(idWidth² × dim) for an FM row; meant for a few winners, not every candidate.
 * @example
 * ```ts
 * import { explainLinearModel, initLrWeights } from '@ctrkit/models';
 * import type { FeatureBatch } from '@ctrkit/core';
 * declare const batch: FeatureBatch;
 * const weights = initLrWeights(batch.layout, { seed: 1 });
 * const { contributions } = explainLinearModel(weights, batch, 0);
 * ```
 */
export function explainLinearModel(weights: LrWeights | FmWeights, batch: FeatureBatch, row: number): LinearExplanation {
  const { layout } = batch;
  if (!Number.isInteger(row) || row < 0 || row >= batch.rows) throw new CtrkitError('E_INPUT', `row ${row} is outside the batch of ${batch.rows}`);
  if (weights.idSpace !== layout.idSpace || weights.denseWidth !== layout.denseWidth) {
    throw new CtrkitError('E_INPUT', `weights (id space ${weights.idSpace}, ${weights.denseWidth} dense) do not fit the layout (id space ${layout.idSpace}, ${layout.denseWidth} dense)`);
  }
  const W = layout.idWidth;
  const D = layout.denseWidth;
  const terms: { field: string; value: number }[] = [];
  const fieldOfColumn = new Int32Array(W);
  layout.fields.forEach((field, f) => {
    for (let c = 0; c < field.width; c++) fieldOfColumn[field.offset + c] = f;
    terms.push({ field: field.name, value: 0 });
  });
  layout.denseNames.forEach((name) => terms.push({ field: `dense:${name}`, value: 0 }));
  const F = layout.fields.length;
  // Linear terms.
  for (let c = 0; c < W; c++) {
    const x = batch.values[row * W + c] as number;
    if (x === 0) continue;
    (terms[fieldOfColumn[c] as number] as { value: number }).value += x * (weights.ids[batch.ids[row * W + c] as number] as number);
  }
  for (let d = 0; d < D; d++) (terms[F + d] as { value: number }).value += (batch.dense[row * D + d] as number) * (weights.dense[d] as number);
  // Pairwise terms of an FM, half to each side.
  if (weights.kind === 'fm') {
    const k = weights.dim;
    const inputs: { term: number; factor: Float32Array; offset: number; x: number }[] = [];
    for (let c = 0; c < W; c++) {
      const x = batch.values[row * W + c] as number;
      if (x !== 0) inputs.push({ term: fieldOfColumn[c] as number, factor: weights.idFactors, offset: (batch.ids[row * W + c] as number) * k, x });
    }
    for (let d = 0; d < D; d++) {
      const x = batch.dense[row * D + d] as number;
      if (x !== 0) inputs.push({ term: F + d, factor: weights.denseFactors, offset: d * k, x });
    }
    for (let a = 0; a < inputs.length; a++) {
      const p = inputs[a] as (typeof inputs)[number];
      for (let b = a + 1; b < inputs.length; b++) {
        const q = inputs[b] as (typeof inputs)[number];
        let dot = 0;
        for (let j = 0; j < k; j++) dot += (p.factor[p.offset + j] as number) * (q.factor[q.offset + j] as number);
        const share = 0.5 * dot * p.x * q.x;
        (terms[p.term] as { value: number }).value += share;
        (terms[q.term] as { value: number }).value += share;
      }
    }
  }
  const logit = terms.reduce((sum, t) => sum + t.value, weights.bias);
  return {
    logit,
    bias: weights.bias,
    contributions: terms
      .map((t) => ({ field: t.field, contribution: t.value }))
      .sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution) || (a.field < b.field ? -1 : 1)),
  };
}
