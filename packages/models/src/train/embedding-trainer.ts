/**
 * What the mini-batch trainers over a shared embedding table (DCN-v2, DeepFM) promise alike: the
 * options and settings every one of them takes (embedding size, tower widths, Adam, batch size,
 * the regularizers, per-pass decay, seed), the trainer interface, and the one place the shared
 * options get their defaults and are checked. Each architecture adds its own options and sets
 * the defaults that differ; the step and pass code they share is `mini-batch-trainer.ts`.
 */
import { CtrkitError, type FeatureBatch, type FeatureLayout } from '@ctrkit/core';
import type { DenseLayerWeights, ModelWeights } from '../weights.js';
import type { LabeledRows } from './rows.js';

/** Options every mini-batch trainer over a shared embedding table takes (DCN-v2's and DeepFM's extend it and state the defaults that differ).
 *
 * @example
 * ```ts
 * import type { EmbeddingTrainerOptions } from '@ctrkit/models';
 * const adam: EmbeddingTrainerOptions = { learningRate: 1e-3, embeddingLearningRate: 5e-4, batchSize: 512, embeddingL2: 1e-6, seed: 1 };
 * ```
 */
export interface EmbeddingTrainerOptions {
  /** Embedding dimension D (default: the architecture's). */
  readonly embeddingDim?: number;
  /** Widths of the ReLU tower over `x0` (default: the architecture's). */
  readonly deep?: readonly number[];
  /** Standard deviation of the initial embeddings (default 0.01). */
  readonly embeddingScale?: number;
  /** Adam learning rate of the dense tensors (default: the architecture's). */
  readonly learningRate?: number;
  /**
   * Adam learning rate of the embedding rows, and of the ids' linear weights where the model has
   * them (default: `learningRate`). Rare ids get a full-size Adam step each time they appear; a
   * lower rate here curbs their memorizing.
   */
  readonly embeddingLearningRate?: number;
  /** Adam β₁ (default 0.9). */
  readonly beta1?: number;
  /** Adam β₂ (default 0.999). */
  readonly beta2?: number;
  /** Adam ε (default 1e-8). */
  readonly epsilon?: number;
  /** Rows per mini-batch (default 256). */
  readonly batchSize?: number;
  /** L2 strength on the dense weights: every layer's weights and, where the model has them, the dense columns' linear weights (not biases; default 0). */
  readonly l2?: number;
  /** L2 strength on the embedding rows (and linear weights) of the ids a batch touches (default 0). */
  readonly embeddingL2?: number;
  /**
   * A frequency-aware L2 prior on the embeddings (DIN's mini-batch aware regularizer, Zhou et al.
   * 2018; default: the architecture's): over one pass every id's row (and linear weight) is
   * penalized `frequencyL2 / 2 · ‖E_j‖²` once, however often it appears — spread over the
   * batches that touch it in proportion to its occurrences — against a data term summed over
   * rows. So a rare id's row is held near zero unless its few rows insist, while a frequent id's
   * row is free. In the units of one row's log loss (a Gaussian prior of variance 1 / frequencyL2
   * per entry). `trainEpoch` counts the ids of its rows for it; `step` alone applies no such prior.
   */
  readonly frequencyL2?: number;
  /** Learning rates of pass k (from 0; `trainEpoch` calls) are multiplied by `epochDecay^k` (default 1: constant). */
  readonly epochDecay?: number;
  /** Seed of the initial weights and of the shuffling (default 0). */
  readonly seed?: number | string;
  /**
   * Threads the dense products (cross layers, deep tower, their gradients) run on (default 1).
   * More than one starts `threads − 1` helper threads (Node ≥ 20.16: `worker_threads` over
   * `SharedArrayBuffer`), each taking a share of every product's rows; the embedding gather,
   * scatter and Adam stay on the calling thread. The results are bit-for-bit those of one
   * thread: only the speed changes. {@link EmbeddingTrainer.close} stops the helpers.
   */
  readonly threads?: number;
}

/** {@link EmbeddingTrainerOptions} with every default filled in.
 *
 * @example
 * ```ts
 * import type { EmbeddingTrainerSettings } from '@ctrkit/models';
 * const describe = (s: EmbeddingTrainerSettings) => `D=${s.embeddingDim} deep=${s.deep.join('-')} lr=${s.learningRate} batch=${s.batchSize}`;
 * ```
 */
export interface EmbeddingTrainerSettings {
  /** Embedding dimension D. */
  readonly embeddingDim: number;
  /** Tower widths. */
  readonly deep: readonly number[];
  /** Standard deviation of the initial embeddings. */
  readonly embeddingScale: number;
  /** Adam learning rate. */
  readonly learningRate: number;
  /** Adam learning rate of the embeddings (and linear weights). */
  readonly embeddingLearningRate: number;
  /** Adam β₁. */
  readonly beta1: number;
  /** Adam β₂. */
  readonly beta2: number;
  /** Adam ε. */
  readonly epsilon: number;
  /** Rows per mini-batch. */
  readonly batchSize: number;
  /** L2 on the dense weights. */
  readonly l2: number;
  /** L2 on touched embedding rows (and linear weights). */
  readonly embeddingL2: number;
  /** Frequency-aware L2 prior on the embeddings. */
  readonly frequencyL2: number;
  /** Per-pass learning-rate decay. */
  readonly epochDecay: number;
  /** Seed. */
  readonly seed: number | string;
  /** Threads of the dense products. */
  readonly threads: number;
}

/**
 * A mini-batch Adam trainer over a shared embedding table: what `createDcnV2Trainer` and
 * `createDeepFmTrainer` return (`DcnV2Trainer`, `DeepFmTrainer`).
 *
 * @typeParam Settings - The trainer's settings.
 * @typeParam Weights - The weights it trains.
 * @example
 * ```ts
 * import { createDeepFmTrainer, type EmbeddingTrainer, type LabeledRows } from '@ctrkit/models';
 * import type { FeatureLayout } from '@ctrkit/core';
 * declare const layout: FeatureLayout;
 * declare const train: LabeledRows;
 * const passes = (trainer: EmbeddingTrainer, rows: LabeledRows, n: number) => Array.from({ length: n }, () => trainer.trainEpoch(rows));
 * console.log(passes(createDeepFmTrainer(layout, { seed: 1 }), train, 2));
 * ```
 */
export interface EmbeddingTrainer<Settings extends EmbeddingTrainerSettings = EmbeddingTrainerSettings, Weights extends ModelWeights = ModelWeights> {
  /** The layout of the batches it learns from. */
  readonly layout: FeatureLayout;
  /** The hyper-parameters in use. */
  readonly settings: Settings;
  /** Adam steps taken. */
  readonly steps: number;
  /**
   * One pass over `rows` in a seeded random order, one Adam step per mini-batch.
   *
   * @param rows - Training rows (the trainer's layout).
   * @param onProgress - Called after each mini-batch with the rows done so far and the total.
   * @returns The mean training log loss over the pass (each batch's loss before its step).
   * @throws `CtrkitError` `E_INPUT` on rows of another spec, bad ids, values or labels, or no rows;
   *   `E_CONFIG` when training diverges (a non-finite loss: lower the learning rate).
   */
  trainEpoch(rows: LabeledRows, onProgress?: (done: number, total: number) => void): number;
  /**
   * One Adam step on all of `rows` as one mini-batch.
   *
   * @param rows - The mini-batch.
   * @returns Its mean log loss before the step.
   * @throws `CtrkitError` as for `trainEpoch`.
   */
  step(rows: LabeledRows): number;
  /**
   * Scores a batch with the current weights.
   *
   * @param batch - Encoded rows.
   * @param out - Optional buffer.
   * @returns Click probabilities.
   * @throws `CtrkitError` `E_INPUT` on a batch of another spec or with bad ids or values.
   */
  predict(batch: FeatureBatch, out?: Float32Array): Float32Array;
  /**
   * A float32 copy of the current weights, for the architecture's ONNX builder (`buildModel`) and
   * the manifest.
   *
   * @returns The weights.
   */
  weights(): Weights;
  /**
   * Stops the helper threads of a trainer made with `threads > 1` (a no-op otherwise); the
   * trainer still works afterwards, on the calling thread alone. Helpers never hold the process
   * open, and a trainer that is garbage-collected stops its own.
   */
  close(): void;
}

/** @internal The defaults an architecture sets where the shared options leave them to it. */
export interface EmbeddingTrainerDefaults {
  readonly embeddingDim: number;
  readonly deep: readonly number[];
  readonly learningRate: number;
  readonly frequencyL2: number;
}

/** @internal What starting weights say about the shared options: D and the tower's widths. */
export interface EmbeddingTrainerStart {
  readonly embeddingDim: number;
  readonly deep: readonly DenseLayerWeights[];
}

/**
 * @internal Fills in the shared options (from `initial` weights, then the architecture's defaults)
 * and checks them once: `E_CONFIG` naming the trainer and the option.
 */
export function embeddingTrainerSettings(
  trainer: string,
  options: EmbeddingTrainerOptions,
  initial: EmbeddingTrainerStart | undefined,
  defaults: EmbeddingTrainerDefaults,
): EmbeddingTrainerSettings {
  const {
    embeddingDim = initial?.embeddingDim ?? defaults.embeddingDim,
    deep = initial?.deep.map((layer) => layer.outputs) ?? defaults.deep,
    embeddingScale = 0.01,
    learningRate = defaults.learningRate,
    beta1 = 0.9,
    beta2 = 0.999,
    epsilon = 1e-8,
    batchSize = 256,
    l2 = 0,
    embeddingL2 = 0,
    frequencyL2 = defaults.frequencyL2,
    epochDecay = 1,
    seed = 0,
    threads = 1,
  } = options;
  const embeddingLearningRate = options.embeddingLearningRate ?? learningRate;
  const positiveInt = (value: number, name: string) => {
    if (!Number.isInteger(value) || value <= 0) throw new CtrkitError('E_CONFIG', `${trainer} trainer: ${name} must be a positive integer, got ${value}`);
  };
  const finite = (value: number, name: string, low: number, high: number, openLow: boolean) => {
    if (!Number.isFinite(value) || value < low || value > high || (openLow && value === low)) {
      throw new CtrkitError('E_CONFIG', `${trainer} trainer: ${name} must be in ${openLow ? '(' : '['}${low}, ${high}], got ${value}`);
    }
  };
  positiveInt(embeddingDim, 'embeddingDim');
  deep.forEach((width, i) => positiveInt(width, `deep[${i}]`));
  positiveInt(batchSize, 'batchSize');
  finite(learningRate, 'learningRate', 0, 10, true);
  finite(embeddingLearningRate, 'embeddingLearningRate', 0, 10, true);
  finite(beta1, 'beta1', 0, 0.999999, false);
  finite(beta2, 'beta2', 0, 0.999999999, false);
  finite(epsilon, 'epsilon', 0, 1, true);
  finite(l2, 'l2', 0, 1e6, false);
  finite(embeddingL2, 'embeddingL2', 0, 1e6, false);
  finite(frequencyL2, 'frequencyL2', 0, 1e9, false);
  finite(epochDecay, 'epochDecay', 0, 1, true);
  finite(embeddingScale, 'embeddingScale', 0, 1e3, false);
  if (!Number.isInteger(threads) || threads < 1 || threads > 64) throw new CtrkitError('E_CONFIG', `${trainer} trainer: threads must be an integer in [1, 64], got ${threads}`);
  return { embeddingDim, deep: [...deep], embeddingScale, learningRate, embeddingLearningRate, beta1, beta2, epsilon, batchSize, l2, embeddingL2, frequencyL2, epochDecay, seed, threads };
}

/** @internal Refuses anything but a layout with a positive id space, naming the factory. */
export function checkTrainerLayout(layout: FeatureLayout, factory: string): void {
  if (typeof layout !== 'object' || layout === null || !Number.isInteger(layout.idSpace) || layout.idSpace <= 0) {
    throw new CtrkitError('E_CONFIG', `${factory}: pass the encoder's FeatureLayout`);
  }
}
