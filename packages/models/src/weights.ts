/**
 * The weight structures of the built-in architectures. Trainers fill them, the ONNX builders turn
 * them into models, and the native runner scores LR and FM straight from them.
 *
 * Conventions, shared by every structure:
 * - All arrays are `Float32Array`, row-major.
 * - A fully connected layer stores `weight` as `[outputs × inputs]` — the layout of PyTorch's
 *   `nn.Linear.weight` — so `y = W·x + b`, i.e. `y[o] = b[o] + Σ_i weight[o·inputs + i]·x[i]`.
 * - The model input `x0` of DCN-v2, DeepFM and DIN is, in this order: one `embeddingDim` block per field
 *   of the layout (the `values`-weighted sum of its ids' embeddings; a bag sums its columns), one
 *   block per behavior sequence (pooled), then the `denseWidth` dense columns. Its width is
 *   {@link modelInputWidth}.
 *
 * The code lives in `weights/`, one architecture a file (`lr`, `fm`, `dcnv2`, `deepfm`, `din`:
 * its weights, init options, initializer and shape check) beside what they share (`dense-layer`,
 * `model-input`, the seeded draws of `init`, the checks of `validation`, and `model-weights`: the
 * union and `checkWeights`); this module is where the package's entry and its other modules
 * import them from.
 */
export type { DenseLayerWeights } from './weights/dense-layer.js';
export { modelInputWidth } from './weights/model-input.js';
export type { EmbeddingInitOptions, EmbeddingModelWeights } from './weights/model-input.js';
export { initLrWeights } from './weights/lr.js';
export type { LinearInitOptions, LrWeights } from './weights/lr.js';
export { initFmWeights } from './weights/fm.js';
export type { FmInitOptions, FmWeights } from './weights/fm.js';
export { initDcnV2Weights } from './weights/dcnv2.js';
export type { CrossLayerWeights, DcnV2InitOptions, DcnV2Weights } from './weights/dcnv2.js';
export { initDeepFmWeights } from './weights/deepfm.js';
export type { DeepFmInitOptions, DeepFmWeights } from './weights/deepfm.js';
export { initDinWeights } from './weights/din.js';
export type { DinInitOptions, DinSequencePooling, DinWeights } from './weights/din.js';
export { checkWeights } from './weights/model-weights.js';
export type { ModelWeights } from './weights/model-weights.js';
