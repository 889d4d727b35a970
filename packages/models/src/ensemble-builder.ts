/**
 * The ONNX builder of a stacked ensemble: the members' logits (any built-in architectures, on the
 * same layout and inputs) combined as `bias + Σ wᵢ·logitᵢ` in one graph, so an ensemble is one
 * `model.onnx` that every runner, `ctrkit eval` and the ad server load as they load one model.
 */
import { CtrkitError, type FeatureLayout } from '@ctrkit/core';
import { logitOfWeights, type BuildOptions } from './builders.js';
import { checkInputs, finish, idInputs } from './onnx-subgraphs.js';
import { GraphBuilder } from './onnx-graph-writer.js';
import type { StackedMember } from './stacked-member.js';


/**
 * Builds a stacked ensemble: `logit = bias + Σ wᵢ·logitᵢ`, `probability = sigmoid(logit)`, every
 * member's subgraph reading the same inputs, member `i`'s initializers named `m<i>.<kind>.…`.
 *
 * @param layout - The layout every member was trained on.
 * @param members - At least two members.
 * @param bias - The stacker's intercept.
 * @param options - Description.
 * @returns The ONNX model's bytes.
 * @throws `CtrkitError` `E_CONFIG` with fewer than two members or an inconsistent layout; `E_INPUT`
 *   on a non-finite coefficient or bias, or on member weights of the wrong shape.
 * @example
 * ```ts
 * import { buildStackedEnsembleModel, initDeepFmWeights, initFmWeights } from '@ctrkit/models';
 * import type { FeatureLayout } from '@ctrkit/core';
 * declare const layout: FeatureLayout;
 * const bytes = buildStackedEnsembleModel(layout, [{ weights: initFmWeights(layout), weight: 0.5 }, { weights: initDeepFmWeights(layout), weight: 0.5 }], 0);
 * ```
 */
export function buildStackedEnsembleModel(layout: FeatureLayout, members: readonly StackedMember[], bias: number, options: BuildOptions = {}): Uint8Array {
  if (!Array.isArray(members) || members.length < 2) throw new CtrkitError('E_CONFIG', `a stacked ensemble needs at least two members, got ${Array.isArray(members) ? members.length : typeof members}`);
  if (!Number.isFinite(bias)) throw new CtrkitError('E_INPUT', `the ensemble's bias must be finite, got ${bias}`);
  for (const [i, member] of members.entries()) {
    if (!Number.isFinite(member.weight)) throw new CtrkitError('E_INPUT', `ensemble member ${i} has coefficient ${member.weight}; coefficients must be finite`);
    checkInputs(layout, member.weights);
  }
  const g = new GraphBuilder('ctrkit_ensemble');
  const inputs = idInputs(g, layout);
  let logit = g.floatConst([bias], []);
  members.forEach((member, i) => {
    const memberLogit = logitOfWeights(g, layout, inputs, member.weights, `m${i}.${member.weights.kind}`);
    logit = g.op('Add', [logit, g.op('Mul', [memberLogit, g.floatConst([member.weight], [])])]);
  });
  return finish(g, layout, 'ensemble', logit, {
    description: options.description ?? `ctrkit stacked ensemble of ${members.map((m) => m.weights.kind).join(', ')} for feature spec ${layout.fingerprint}`,
  });
}
