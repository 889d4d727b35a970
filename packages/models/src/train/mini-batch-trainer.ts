/**
 * @internal The step and pass code of the mini-batch trainers over a shared embedding table
 * (DCN-v2, DeepFM): forward (the table's `x0` gather, then the network), the mean log loss and
 * δ = (p − y) / rows, backward (the network, then the table's scatter and regularizers), Adam on
 * the dense tensors beside the table's lazy Adam, and the pass loop (seeded shuffle, one step per
 * mini-batch, per-pass learning-rate decay). A subclass supplies the network between `x0` and the
 * logit: {@link MiniBatchTrainer.forwardRows} and {@link MiniBatchTrainer.backwardRows}.
 */
import { createRandom, CtrkitError, type FeatureBatch, type FeatureLayout, type Random } from '@ctrkit/core';
import { BatchChecker, expectationFromLayout } from '../batch-check.js';
import { outputFor } from '../runner/output-buffer.js';
import { adamStep, type Param } from './adam.js';
import { EmbeddingTable } from './embedding-table.js';
import { createDenseKernels, type DenseKernels } from './kernel-threads.js';
import type { EmbeddingTrainerSettings } from './embedding-trainer.js';
import { checkLabels, rowOf, type LabeledRows } from './rows.js';
import { logistic } from './sparse-row.js';

/** Stops a trainer's helper threads once the trainer itself is garbage (they are unref'd, so they never hold the process open either). */
const closeWhenCollected = new FinalizationRegistry<DenseKernels>((kernels) => kernels.close());

/** @internal The shared part; see the file comment. */
export abstract class MiniBatchTrainer {
  steps = 0;
  readonly D: number;
  readonly d0: number;
  /** Master embedding table `[idSpace × D]`, float64 (the table's). */
  readonly embedding: Float64Array;
  /** Master linear weight of every id, when the model has a linear part (the table's). */
  readonly linear: Float64Array | undefined;
  /** Every dense tensor, for Adam, L2 and the gradient checks (set by the subclass's constructor). */
  abstract readonly params: readonly Param[];
  private readonly table: EmbeddingTable;
  private readonly random: Random;
  private readonly checker: BatchChecker;
  /** Where the dense columns start in an `x0` row. */
  protected readonly denseBase: number;
  /** Allocates the dense tensors and scratch and runs the products, on `settings.threads` threads. */
  protected readonly kernels: DenseKernels;
  // Scratch, sized for `capacity` rows.
  protected capacity = 0;
  /** The model input of the last forward pass, `[rows × d0]`: gathered once, read by the network. */
  protected x0: Float64Array<ArrayBufferLike> = new Float64Array(0);
  /** ∂loss/∂x0, filled by `backwardRows`. */
  protected gx0: Float64Array<ArrayBufferLike> = new Float64Array(0);
  protected logits = new Float64Array(0);
  /** δ = (p − y) / rows: ∂(mean loss)/∂logit of each batch row. */
  protected delta = new Float64Array(0);
  private passes = 0;
  private rate = 1;
  private order = new Int32Array(0);

  /**
   * @param name - Prefix of error messages (`dcnv2`, `deepfm`).
   * @param shuffleStream - Name of the random stream forked from the seed for shuffling.
   */
  protected constructor(
    readonly layout: FeatureLayout,
    readonly settings: EmbeddingTrainerSettings,
    D: number,
    embedding: Float32Array,
    linear: Float32Array | undefined,
    private readonly name: string,
    shuffleStream: string,
  ) {
    this.table = new EmbeddingTable(layout, D, embedding, linear);
    this.D = D;
    this.d0 = this.table.d0;
    this.embedding = this.table.embedding;
    this.linear = this.table.linear;
    this.random = createRandom(settings.seed).fork(shuffleStream);
    this.checker = new BatchChecker(expectationFromLayout(layout, ['ids', 'values', 'dense', 'sequenceIds', 'sequenceLengths']));
    this.denseBase = this.table.denseBase;
    this.kernels = createDenseKernels(settings.threads, name);
    if (this.kernels.threads > 1) closeWhenCollected.register(this, this.kernels);
  }

  /** Sizes the subclass's scratch for `rows` rows (called once per growth, before any pass over them). */
  protected abstract allocate(rows: number): void;

  /** Forward from `x0` (already gathered, `[rows × d0]`) to `logits`, keeping what `backwardRows` needs. */
  protected abstract forwardRows(batch: FeatureBatch, indices: Int32Array | undefined, start: number, rows: number): void;

  /** Backward after `forwardRows`, with δ in `delta`: adds to every param's `grad` and to `gx0` (zeroed before). */
  protected abstract backwardRows(batch: FeatureBatch, indices: Int32Array | undefined, start: number, rows: number): void;

  private ensureCapacity(rows: number): void {
    if (rows <= this.capacity) return;
    const B = Math.max(rows, this.settings.batchSize);
    this.x0 = this.kernels.f64(B * this.d0);
    this.gx0 = this.kernels.f64(B * this.d0);
    this.logits = new Float64Array(B);
    this.delta = new Float64Array(B);
    this.table.allocate(B);
    this.allocate(B);
    this.capacity = B;
  }

  /** Forward pass over `rows` rows; leaves activations in the scratch and logits in `logits`. */
  forward(batch: FeatureBatch, indices: Int32Array | undefined, start: number, rows: number): void {
    this.ensureCapacity(rows);
    this.table.gather(batch, indices, start, rows, this.x0);
    this.forwardRows(batch, indices, start, rows);
  }

  /** Mean log loss of the last forward pass against `labels`; leaves δ = (p − y) / rows in `delta`. */
  private lossAndDelta(labels: Float32Array, indices: Int32Array | undefined, start: number, rows: number): number {
    let loss = 0;
    for (let b = 0; b < rows; b++) {
      const z = this.logits[b] as number;
      const y = labels[rowOf(indices, start, b)] as number;
      // log(1 + e^z) − y·z, stable for large |z|.
      loss += (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z))) - y * z;
      this.delta[b] = (logistic(z) - y) / rows;
    }
    return loss / rows;
  }

  /** Backward pass after `forward` and `lossAndDelta`: fills every `grad` and the table's sparse gradient. */
  backward(batch: FeatureBatch, indices: Int32Array | undefined, start: number, rows: number): void {
    for (const p of this.params) p.grad.fill(0);
    this.gx0.fill(0, 0, rows * this.d0);
    this.backwardRows(batch, indices, start, rows);
    const { l2, embeddingL2, frequencyL2 } = this.settings;
    this.table.scatter(rows, this.gx0, this.delta, embeddingL2, frequencyL2);
    if (l2 > 0) {
      for (const p of this.params) {
        if (!p.decay) continue;
        for (let i = 0; i < p.value.length; i++) p.grad[i] = (p.grad[i] as number) + l2 * (p.value[i] as number);
      }
    }
  }

  /** Counts every id's occurrences over `rows` for the frequency-aware prior. */
  private countIds(rows: LabeledRows): void {
    this.ensureCapacity(1);
    this.table.countPass(rows.batch);
  }

  /** @internal The objective the gradients differentiate: mean log loss plus the L2 terms. */
  objective(rows: LabeledRows): number {
    const n = rows.batch.rows;
    this.forward(rows.batch, undefined, 0, n);
    let value = this.lossAndDelta(rows.labels, undefined, 0, n);
    const { l2, embeddingL2, frequencyL2 } = this.settings;
    if (l2 > 0) for (const p of this.params) if (p.decay) for (let i = 0; i < p.value.length; i++) value += 0.5 * l2 * (p.value[i] as number) ** 2;
    return this.table.addPenalties(value, rows.batch, embeddingL2, frequencyL2);
  }

  /** @internal Counts ids over `rows` as `trainEpoch` does, so `objective` and `computeGradients` include the frequency-aware prior. */
  countPass(rows: LabeledRows): void {
    this.countIds(rows);
  }

  /** @internal Computes every gradient of `objective` on `rows` without stepping; returns the mean log loss. */
  computeGradients(rows: LabeledRows): number {
    const n = rows.batch.rows;
    this.forward(rows.batch, undefined, 0, n);
    const loss = this.lossAndDelta(rows.labels, undefined, 0, n);
    this.backward(rows.batch, undefined, 0, n);
    return loss;
  }

  /** @internal The gradient of embedding entry (id, k) after `computeGradients` (0 when the id was not touched). */
  embeddingGradient(id: number, k: number): number {
    return this.table.embeddingGradient(id, k);
  }

  /** @internal The gradient of the linear weight of `id` after `computeGradients` (0 when the id was not touched). */
  linearGradient(id: number): number {
    return this.table.linearGradient(id);
  }

  private adam(): void {
    this.steps++;
    const { beta1, beta2, epsilon } = this.settings;
    const learningRate = this.settings.learningRate * this.rate;
    const embeddingLearningRate = this.settings.embeddingLearningRate * this.rate;
    const t = this.steps;
    const correction1 = 1 - Math.pow(beta1, t);
    const root2 = Math.sqrt(1 - Math.pow(beta2, t));
    adamStep(this.params, learningRate / correction1, beta1, beta2, epsilon, root2);
    this.table.adam(embeddingLearningRate / correction1, beta1, beta2, epsilon, root2);
  }

  private checkRows(rows: LabeledRows, what: string): void {
    if (typeof rows !== 'object' || rows === null || typeof rows.batch !== 'object' || !(rows.labels instanceof Float32Array)) {
      throw new CtrkitError('E_INPUT', `${what}: pass LabeledRows { batch, labels }`);
    }
    this.checker.check(rows.batch);
    if (rows.labels.length !== rows.batch.rows) throw new CtrkitError('E_INPUT', `${what}: ${rows.labels.length} labels for ${rows.batch.rows} rows`);
    checkLabels(rows.labels, 0, rows.batch.rows, what);
  }

  private stepOn(rows: LabeledRows, indices: Int32Array | undefined, start: number, count: number): number {
    this.forward(rows.batch, indices, start, count);
    const loss = this.lossAndDelta(rows.labels, indices, start, count);
    if (loss - loss !== 0) {
      throw new CtrkitError('E_CONFIG', `${this.name} trainer: the loss became ${loss} at step ${this.steps + 1}; training diverged — lower the learning rate`);
    }
    this.backward(rows.batch, indices, start, count);
    this.adam();
    return loss;
  }

  trainEpoch(rows: LabeledRows, onProgress?: (done: number, total: number) => void): number {
    this.checkRows(rows, `${this.name}.trainEpoch`);
    const n = rows.batch.rows;
    if (n === 0) throw new CtrkitError('E_INPUT', `${this.name}.trainEpoch: no rows to train on`);
    if (this.settings.frequencyL2 > 0) this.countIds(rows);
    this.rate = Math.pow(this.settings.epochDecay, this.passes);
    this.passes++;
    if (this.order.length < n) this.order = new Int32Array(n);
    const order = this.order.subarray(0, n);
    for (let i = 0; i < n; i++) order[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.random.int(i + 1);
      const swap = order[i] as number;
      order[i] = order[j] as number;
      order[j] = swap;
    }
    const B = this.settings.batchSize;
    let total = 0;
    for (let start = 0; start < n; start += B) {
      const count = Math.min(B, n - start);
      total += this.stepOn(rows, order, start, count) * count;
      onProgress?.(start + count, n);
    }
    return total / n;
  }

  step(rows: LabeledRows): number {
    this.checkRows(rows, `${this.name}.step`);
    if (rows.batch.rows === 0) throw new CtrkitError('E_INPUT', `${this.name}.step: the mini-batch has no rows`);
    return this.stepOn(rows, undefined, 0, rows.batch.rows);
  }

  close(): void {
    this.kernels.close();
  }

  predict(batch: FeatureBatch, out?: Float32Array): Float32Array {
    this.checker.check(batch);
    const predictions = outputFor(out, batch.rows);
    const B = Math.max(this.capacity, this.settings.batchSize);
    for (let start = 0; start < batch.rows; start += B) {
      const count = Math.min(B, batch.rows - start);
      this.forward(batch, undefined, start, count);
      for (let b = 0; b < count; b++) predictions[start + b] = logistic(this.logits[b] as number);
    }
    return predictions;
  }
}
