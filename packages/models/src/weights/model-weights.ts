/**
 * Any built-in architecture's weights, and the one check that they fit a layout: each
 * architecture's own shape check behind a common front (an object with the layout's id space).
 */
import { CtrkitError, type FeatureLayout } from '@ctrkit/core';
import { checkDcnV2Weights, type DcnV2Weights } from './dcnv2.js';
import { checkDeepFmWeights, type DeepFmWeights } from './deepfm.js';
import { checkDinWeights, type DinWeights } from './din.js';
import { checkFmWeights, type FmWeights } from './fm.js';
import { checkLrWeights, type LrWeights } from './lr.js';
import { checkLayoutBasics } from './validation.js';

/** Any built-in architecture's weights.
 *
 * @example
 * ```ts
 * import type { ModelWeights } from '@ctrkit/models';
 * const describe = (weights: ModelWeights) => `${weights.kind} over ${weights.idSpace} ids`;
 * ```
 */
export type ModelWeights = LrWeights | FmWeights | DcnV2Weights | DeepFmWeights | DinWeights;

/**
 * Checks that weights fit a layout: every array present, of the stated shape, and finite.
 * Builders and the native runner call it; trainers may call it before exporting.
 *
 * @param layout - The layout the model will read.
 * @param weights - Weights of any built-in architecture.
 * @throws `CtrkitError` `E_INPUT` naming the first array of the wrong type or length, or the first non-finite value.
 * @example
 * ```ts
 * import { checkWeights, initLrWeights } from '@ctrkit/models';
 * import type { FeatureLayout } from '@ctrkit/core';
 * declare const layout: FeatureLayout;
 * checkWeights(layout, initLrWeights(layout));
 * ```
 */
export function checkWeights(layout: FeatureLayout, weights: ModelWeights): void {
  if (typeof weights !== 'object' || weights === null) throw new CtrkitError('E_INPUT', 'weights must be an object with a kind (lr, fm, dcnv2, deepfm, din)');
  checkLayoutBasics(layout);
  if (weights.idSpace !== layout.idSpace) {
    throw new CtrkitError(
      'E_INPUT',
      `${weights.kind} weights cover an id space of ${weights.idSpace} but the layout's is ${layout.idSpace}; weights and encoder come from different feature specs`,
      { details: { weights: weights.idSpace, layout: layout.idSpace } },
    );
  }
  switch (weights.kind) {
    case 'lr':
      return checkLrWeights(layout, weights);
    case 'fm':
      return checkFmWeights(layout, weights);
    case 'dcnv2':
      return checkDcnV2Weights(layout, weights);
    case 'deepfm':
      return checkDeepFmWeights(layout, weights);
    case 'din':
      return checkDinWeights(layout, weights);
    default:
      throw new CtrkitError('E_INPUT', `unknown weights kind "${String((weights as { kind?: unknown }).kind)}"; expected lr, fm, dcnv2, deepfm or din`);
  }
}
