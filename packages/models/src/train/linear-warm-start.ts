/**
 * Starting a deep model from a trained logistic regression (the "wide" model of Wide & Deep,
 * Cheng et al. 2016, trained by FTRL as there): the fresh weights of DCN-v2 or DeepFM are set so
 * that the model scores exactly what the LR scores, and mini-batch training goes on from there.
 * On sparse logs most of what a CTR model learns is first order (the ids' own rates), which FTRL
 * learns well and a deep model reaches slowly through its embeddings; started here, the deep part
 * only has the interactions left to learn, and the LR itself is a point early stopping can keep.
 *
 * - **DCN-v2**: column 0 of every id's embedding row holds its LR weight; the output layer reads
 *   column 0 of every field's block of `x_L` with weight 1 and the dense columns with the LR's
 *   dense weights, its bias is the LR's intercept and its weights on the deep tower are 0; every
 *   cross layer starts as the identity (`U` or full-rank `W` and the bias at 0, so `x_{l+1} = x_l`;
 *   low rank keeps its random `V`, so `U` has a gradient from the first step). The other
 *   embedding columns, `V` and the tower keep their seeded values.
 * - **DeepFM**: its linear part is the LR, and the MLP's output layer starts at 0. The FM term
 *   reads the seeded small embeddings, so the start is the LR within that term (about 0.01 in the
 *   logit at the default init scale), not bit for bit.
 */
import { CtrkitError, type FeatureLayout } from '@ctrkit/core';
import type { DcnV2Weights, DeepFmWeights, LrWeights } from '../weights.js';

function checkLinear(layout: FeatureLayout, lr: LrWeights, what: string): void {
  if (lr.kind !== 'lr' || lr.idSpace !== layout.idSpace || lr.denseWidth !== layout.denseWidth || lr.ids.length !== layout.idSpace || lr.dense.length !== layout.denseWidth) {
    throw new CtrkitError('E_CONFIG', `${what}: the warm-start LR must be LR weights of this layout (idSpace ${layout.idSpace}, denseWidth ${layout.denseWidth})`);
  }
}

/**
 * DCN-v2 weights that score exactly as `lr` does (see the file comment), built on `base`.
 *
 * @param layout - The layout both models read.
 * @param lr - The trained LR.
 * @param base - Seeded DCN-v2 weights of the layout (`initDcnV2Weights`); not modified.
 * @returns New weights.
 * @throws `CtrkitError` `E_CONFIG` when `lr` is not LR weights of the layout.
 * @internal
 */
export function dcnV2FromLinear(layout: FeatureLayout, lr: LrWeights, base: DcnV2Weights): DcnV2Weights {
  checkLinear(layout, lr, 'dcnv2 warm start');
  const D = base.embeddingDim;
  const embedding = base.embedding.slice();
  for (let id = 0; id < layout.idSpace; id++) embedding[id * D] = lr.ids[id] as number;
  const cross = base.cross.map((layer) =>
    layer.kind === 'full'
      ? { ...layer, w: new Float32Array(layer.w.length), bias: new Float32Array(layer.bias.length) }
      : { ...layer, u: new Float32Array(layer.u.length), bias: new Float32Array(layer.bias.length) },
  );
  // The output reads [x_L, h]: x_L's blocks are the fields, then the sequences, then the dense columns.
  const weight = new Float32Array(base.output.weight.length);
  for (let f = 0; f < layout.fields.length; f++) weight[f * D] = 1;
  const denseBase = (layout.fields.length + layout.sequences.length) * D;
  for (let d = 0; d < layout.denseWidth; d++) weight[denseBase + d] = lr.dense[d] as number;
  return { ...base, embedding, cross, output: { ...base.output, weight, bias: Float32Array.of(lr.bias) } };
}

/**
 * DeepFM weights whose linear part is `lr` and whose MLP starts silent (see the file comment), built on `base`.
 *
 * @param layout - The layout both models read.
 * @param lr - The trained LR.
 * @param base - Seeded DeepFM weights of the layout (`initDeepFmWeights`); not modified.
 * @returns New weights.
 * @throws `CtrkitError` `E_CONFIG` when `lr` is not LR weights of the layout.
 * @internal
 */
export function deepFmFromLinear(layout: FeatureLayout, lr: LrWeights, base: DeepFmWeights): DeepFmWeights {
  checkLinear(layout, lr, 'deepfm warm start');
  return {
    ...base,
    bias: lr.bias,
    ids: lr.ids.slice(),
    dense: lr.dense.slice(),
    output: { ...base.output, weight: new Float32Array(base.output.weight.length), bias: new Float32Array(base.output.bias.length) },
  };
}
