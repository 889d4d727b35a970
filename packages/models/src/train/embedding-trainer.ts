/**
 * @internal What the mini-batch trainers over a shared embedding table (DCN-v2, DeepFM) have in
 * common: the `x0` gather (each field the `values`-weighted sum of its ids' embeddings, so a bag
 * sums its columns; each sequence the mean of its real items; then the dense columns), the
 * scatter of ∂loss/∂x0 back to the rows of the ids a batch touched, lazy Adam on those rows
 * (float32 moments; the rows a batch misses keep theirs), the embedding L2 and the
 * frequency-aware prior, Adam on the dense tensors, and the pass loop (seeded shuffle, one step
 * per mini-batch, per-pass learning-rate decay). A subclass supplies the network between `x0`
 * and the logit: {@link EmbeddingTrainer.forwardRows} and {@link EmbeddingTrainer.backwardRows}.
 *
 * Optionally every id also has a scalar linear weight (DeepFM's linear part,
 * `Σ_c values_c·w[id_c]` over the id columns), updated and regularised with its embedding row.
 */
import { createRandom, CtrkitError, type FeatureBatch, type FeatureLayout, type Random } from '@ctrkit/core';
import { BatchChecker, expectationFromLayout, sequenceStride } from '../batch-check.js';
import { outputFor } from '../runner-util.js';
import { modelInputWidth } from '../weights.js';
import { adamStep, type Param } from './adam.js';
import { checkLabels, type LabelledRows } from './rows.js';
import { logistic } from './sparse-row.js';

/** @internal The hyper-parameters the shared part reads. */
export interface EmbeddingTrainerSettings {
  readonly learningRate: number;
  readonly embeddingLearningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly batchSize: number;
  readonly l2: number;
  readonly embeddingL2: number;
  readonly frequencyL2: number;
  readonly epochDecay: number;
  readonly seed: number | string;
}

/** @internal Option values of the shared part, before validation. */
export interface EmbeddingTrainerValues extends EmbeddingTrainerSettings {
  readonly embeddingDim: number;
  readonly deep: readonly number[];
  readonly embeddingScale: number;
}

/** @internal Checks the shared options once (E_CONFIG naming the trainer and the option). */
export function checkEmbeddingTrainerValues(trainer: string, values: EmbeddingTrainerValues): void {
  const positiveInt = (value: number, name: string) => {
    if (!Number.isInteger(value) || value <= 0) throw new CtrkitError('E_CONFIG', `${trainer} trainer: ${name} must be a positive integer, got ${value}`);
  };
  const finite = (value: number, name: string, low: number, high: number, openLow: boolean) => {
    if (!Number.isFinite(value) || value < low || value > high || (openLow && value === low)) {
      throw new CtrkitError('E_CONFIG', `${trainer} trainer: ${name} must be in ${openLow ? '(' : '['}${low}, ${high}], got ${value}`);
    }
  };
  positiveInt(values.embeddingDim, 'embeddingDim');
  values.deep.forEach((width, i) => positiveInt(width, `deep[${i}]`));
  positiveInt(values.batchSize, 'batchSize');
  finite(values.learningRate, 'learningRate', 0, 10, true);
  finite(values.embeddingLearningRate, 'embeddingLearningRate', 0, 10, true);
  finite(values.beta1, 'beta1', 0, 0.999999, false);
  finite(values.beta2, 'beta2', 0, 0.999999999, false);
  finite(values.epsilon, 'epsilon', 0, 1, true);
  finite(values.l2, 'l2', 0, 1e6, false);
  finite(values.embeddingL2, 'embeddingL2', 0, 1e6, false);
  finite(values.frequencyL2, 'frequencyL2', 0, 1e9, false);
  finite(values.epochDecay, 'epochDecay', 0, 1, true);
  finite(values.embeddingScale, 'embeddingScale', 0, 1e3, false);
}

/** @internal Row index of batch position b: `indices[start + b]`, or `start + b` without indices. */
export function rowOf(indices: Int32Array | undefined, start: number, b: number): number {
  return indices === undefined ? start + b : (indices[start + b] as number);
}

/** @internal The shared part; see the file comment. */
export abstract class EmbeddingTrainer {
  steps = 0;
  readonly D: number;
  readonly d0: number;
  /** Master embedding table `[idSpace × D]`, float64. */
  readonly embedding: Float64Array;
  private readonly embeddingM: Float32Array;
  private readonly embeddingV: Float32Array;
  /** Master linear weight of every id, when the model has a linear part. */
  readonly linear: Float64Array | undefined;
  private readonly linearM: Float32Array | undefined;
  private readonly linearV: Float32Array | undefined;
  /** Every dense tensor, for Adam, L2 and the gradient checks (set by the subclass's constructor). */
  abstract readonly params: readonly Param[];
  private readonly random: Random;
  private readonly checker: BatchChecker;
  // Layout facts, resolved once.
  protected readonly idWidth: number;
  protected readonly denseWidth: number;
  protected readonly S: number;
  protected readonly L: number;
  /** Offset in `x0` of the block each id column adds into. */
  protected readonly columnBlock: Int32Array;
  /** Where the sequence blocks and the dense columns start in an `x0` row. */
  protected readonly sequenceBase: number;
  protected readonly denseBase: number;
  // Scratch, sized for `capacity` rows.
  protected capacity = 0;
  protected x0 = new Float64Array(0);
  /** ∂loss/∂x0, filled by `backwardRows`. */
  protected gx0 = new Float64Array(0);
  protected logits = new Float64Array(0);
  /** δ = (p − y) / rows: ∂(mean loss)/∂logit of each batch row. */
  protected delta = new Float64Array(0);
  // Sparse gradient: the distinct ids of a batch and their gradient rows.
  private readonly marks: Int32Array;
  private readonly slots: Int32Array;
  private stamp = 0;
  private touched = new Int32Array(0);
  private touchedCount = 0;
  private gE = new Float64Array(0);
  private gLinear = new Float64Array(0);
  /** Occurrences of each touched id in the batch (for the frequency-aware prior). */
  private touchedOccurrences = new Int32Array(0);
  /** Occurrences of every id over the rows of the current pass (frequency-aware prior only). */
  private counts: Int32Array | undefined;
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
    this.D = D;
    this.d0 = modelInputWidth(layout, D);
    this.embedding = Float64Array.from(embedding);
    this.embeddingM = new Float32Array(this.embedding.length);
    this.embeddingV = new Float32Array(this.embedding.length);
    this.linear = linear === undefined ? undefined : Float64Array.from(linear);
    this.linearM = linear === undefined ? undefined : new Float32Array(linear.length);
    this.linearV = linear === undefined ? undefined : new Float32Array(linear.length);
    this.random = createRandom(settings.seed).fork(shuffleStream);
    this.checker = new BatchChecker(expectationFromLayout(layout, ['ids', 'values', 'dense', 'sequenceIds', 'sequenceLengths']));
    this.idWidth = layout.idWidth;
    this.denseWidth = layout.denseWidth;
    this.S = layout.sequences.length;
    this.L = sequenceStride(layout);
    this.columnBlock = new Int32Array(layout.idWidth);
    layout.fields.forEach((field, f) => {
      for (let c = field.offset; c < field.offset + field.width; c++) this.columnBlock[c] = f * D;
    });
    this.sequenceBase = layout.fields.length * D;
    this.denseBase = this.sequenceBase + this.S * D;
    this.marks = new Int32Array(layout.idSpace);
    this.slots = new Int32Array(layout.idSpace);
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
    this.x0 = new Float64Array(B * this.d0);
    this.gx0 = new Float64Array(B * this.d0);
    this.logits = new Float64Array(B);
    this.delta = new Float64Array(B);
    const perRow = this.idWidth + this.S * this.L;
    this.touched = new Int32Array(B * perRow);
    this.touchedOccurrences = new Int32Array(B * perRow);
    this.gE = new Float64Array(B * perRow * this.D);
    if (this.linear !== undefined) this.gLinear = new Float64Array(B * perRow);
    this.allocate(B);
    this.capacity = B;
  }

  /** Forward pass over `rows` rows; leaves activations in the scratch and logits in `logits`. */
  forward(batch: FeatureBatch, indices: Int32Array | undefined, start: number, rows: number): void {
    this.ensureCapacity(rows);
    const { D, d0, idWidth, denseWidth, S, L, columnBlock, embedding, sequenceBase, denseBase } = this;
    const x0 = this.x0;
    const { ids, values, dense, sequenceIds, sequenceLengths } = batch;
    x0.fill(0, 0, rows * d0);
    for (let b = 0; b < rows; b++) {
      const r = rowOf(indices, start, b);
      const xb = b * d0;
      const cb = r * idWidth;
      for (let c = 0; c < idWidth; c++) {
        const value = values[cb + c] as number;
        if (value === 0) continue;
        const e = (ids[cb + c] as number) * D;
        const o = xb + (columnBlock[c] as number);
        for (let k = 0; k < D; k++) x0[o + k] = (x0[o + k] as number) + value * (embedding[e + k] as number);
      }
      for (let s = 0; s < S; s++) {
        const length = sequenceLengths[r * S + s] as number;
        if (length === 0) continue;
        const inverse = 1 / length;
        const o = xb + sequenceBase + s * D;
        const items = (r * S + s) * L;
        for (let t = L - length; t < L; t++) {
          const e = (sequenceIds[items + t] as number) * D;
          for (let k = 0; k < D; k++) x0[o + k] = (x0[o + k] as number) + inverse * (embedding[e + k] as number);
        }
      }
      for (let d = 0; d < denseWidth; d++) x0[xb + denseBase + d] = dense[r * denseWidth + d] as number;
    }
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

  /** Backward pass after `forward` and `lossAndDelta`: fills every `grad` and the sparse embedding (and linear) gradient. */
  backward(batch: FeatureBatch, indices: Int32Array | undefined, start: number, rows: number): void {
    const { D, d0, idWidth, S, L, columnBlock, sequenceBase } = this;
    for (const p of this.params) p.grad.fill(0);
    const gx0 = this.gx0;
    gx0.fill(0, 0, rows * d0);
    this.backwardRows(batch, indices, start, rows);
    // Embeddings: scatter ∂/∂x0 back to the ids of each row.
    if (this.stamp === 0x7fffffff) {
      this.marks.fill(0);
      this.stamp = 0;
    }
    const stamp = ++this.stamp;
    let count = 0;
    const { marks, slots, touched, touchedOccurrences, gE, delta } = this;
    const gLinear = this.linear === undefined ? undefined : this.gLinear;
    const { ids, values, sequenceIds, sequenceLengths } = batch;
    const slotOf = (id: number): number => {
      if (marks[id] === stamp) {
        const slot = slots[id] as number;
        touchedOccurrences[slot] = (touchedOccurrences[slot] as number) + 1;
        return slot;
      }
      marks[id] = stamp;
      slots[id] = count;
      touched[count] = id;
      touchedOccurrences[count] = 1;
      gE.fill(0, count * D, (count + 1) * D);
      if (gLinear !== undefined) gLinear[count] = 0;
      return count++;
    };
    for (let b = 0; b < rows; b++) {
      const r = rowOf(indices, start, b);
      const xb = b * d0;
      const cb = r * idWidth;
      for (let c = 0; c < idWidth; c++) {
        const value = values[cb + c] as number;
        if (value === 0) continue;
        const slot = slotOf(ids[cb + c] as number);
        const o = slot * D;
        const g = xb + (columnBlock[c] as number);
        for (let k = 0; k < D; k++) gE[o + k] = (gE[o + k] as number) + value * (gx0[g + k] as number);
        if (gLinear !== undefined) gLinear[slot] = (gLinear[slot] as number) + value * (delta[b] as number);
      }
      for (let s = 0; s < S; s++) {
        const length = sequenceLengths[r * S + s] as number;
        if (length === 0) continue;
        const inverse = 1 / length;
        const g = xb + sequenceBase + s * D;
        const items = (r * S + s) * L;
        for (let t = L - length; t < L; t++) {
          const o = slotOf(sequenceIds[items + t] as number) * D;
          for (let k = 0; k < D; k++) gE[o + k] = (gE[o + k] as number) + inverse * (gx0[g + k] as number);
        }
      }
    }
    this.touchedCount = count;
    // L2 terms. An id's linear weight is regularised with its embedding row, as one more entry of it.
    const { l2, embeddingL2 } = this.settings;
    if (l2 > 0) {
      for (const p of this.params) {
        if (!p.decay) continue;
        for (let i = 0; i < p.value.length; i++) p.grad[i] = (p.grad[i] as number) + l2 * (p.value[i] as number);
      }
    }
    const E = this.embedding;
    const linear = this.linear;
    if (embeddingL2 > 0) {
      for (let j = 0; j < count; j++) {
        const id = touched[j] as number;
        const e = id * D;
        for (let k = 0; k < D; k++) gE[j * D + k] = (gE[j * D + k] as number) + embeddingL2 * (E[e + k] as number);
        if (gLinear !== undefined && linear !== undefined) gLinear[j] = (gLinear[j] as number) + embeddingL2 * (linear[id] as number);
      }
    }
    const { frequencyL2 } = this.settings;
    const counts = this.counts;
    if (frequencyL2 > 0 && counts !== undefined) {
      // This batch's share of each id's once-a-pass penalty, on the mean-over-rows scale of the loss.
      const scale = frequencyL2 / rows;
      for (let j = 0; j < count; j++) {
        const id = touched[j] as number;
        const n = Math.max(counts[id] as number, touchedOccurrences[j] as number);
        const strength = (scale * (touchedOccurrences[j] as number)) / n;
        const e = id * D;
        for (let k = 0; k < D; k++) gE[j * D + k] = (gE[j * D + k] as number) + strength * (E[e + k] as number);
        if (gLinear !== undefined && linear !== undefined) gLinear[j] = (gLinear[j] as number) + strength * (linear[id] as number);
      }
    }
  }

  /** Counts every id's occurrences over `rows` (ids with a non-zero value, and sequence items). */
  private countIds(rows: LabelledRows): Int32Array {
    const counts = this.counts ?? new Int32Array(this.layout.idSpace);
    counts.fill(0);
    const { ids, values, sequenceIds, sequenceLengths } = rows.batch;
    const n = rows.batch.rows;
    for (let i = 0; i < n * this.idWidth; i++) if ((values[i] as number) !== 0) counts[ids[i] as number] = (counts[ids[i] as number] as number) + 1;
    for (let r = 0; r < n; r++) {
      for (let s = 0; s < this.S; s++) {
        const length = sequenceLengths[r * this.S + s] as number;
        const items = (r * this.S + s) * this.L;
        for (let t = this.L - length; t < this.L; t++) counts[sequenceIds[items + t] as number] = (counts[sequenceIds[items + t] as number] as number) + 1;
      }
    }
    this.counts = counts;
    return counts;
  }

  /** ‖row of `id`‖², its linear weight included. */
  private rowNormSquared(id: number): number {
    let sum = 0;
    for (let k = 0; k < this.D; k++) sum += (this.embedding[id * this.D + k] as number) ** 2;
    if (this.linear !== undefined) sum += (this.linear[id] as number) ** 2;
    return sum;
  }

  /** @internal The objective the gradients differentiate: mean log loss plus the L2 terms. */
  objective(rows: LabelledRows): number {
    const n = rows.batch.rows;
    this.forward(rows.batch, undefined, 0, n);
    let value = this.lossAndDelta(rows.labels, undefined, 0, n);
    const { l2, embeddingL2 } = this.settings;
    if (l2 > 0) for (const p of this.params) if (p.decay) for (let i = 0; i < p.value.length; i++) value += 0.5 * l2 * (p.value[i] as number) ** 2;
    // Occurrences of every id the rows touch (id columns with a non-zero value, sequence items).
    const here = new Map<number, number>();
    const { batch } = rows;
    const add = (id: number) => here.set(id, (here.get(id) ?? 0) + 1);
    for (let i = 0; i < n * this.idWidth; i++) if ((batch.values[i] as number) !== 0) add(batch.ids[i] as number);
    for (let r = 0; r < n; r++) {
      for (let s = 0; s < this.S; s++) {
        const length = batch.sequenceLengths[r * this.S + s] as number;
        for (let t = this.L - length; t < this.L; t++) add(batch.sequenceIds[(r * this.S + s) * this.L + t] as number);
      }
    }
    if (embeddingL2 > 0) for (const id of here.keys()) value += 0.5 * embeddingL2 * this.rowNormSquared(id);
    const counts = this.counts;
    if (this.settings.frequencyL2 > 0 && counts !== undefined) {
      // (frequencyL2 / 2n) Σ_j (occurrences in these rows / occurrences in the pass) ‖E_j‖².
      for (const [id, c] of here) value += ((0.5 * this.settings.frequencyL2 * c) / (n * Math.max(counts[id] as number, c))) * this.rowNormSquared(id);
    }
    return value;
  }

  /** @internal Counts ids over `rows` as `trainEpoch` does, so `objective` and `computeGradients` include the frequency-aware prior. */
  countPass(rows: LabelledRows): void {
    this.countIds(rows);
  }

  /** @internal Computes every gradient of `objective` on `rows` without stepping; returns the mean log loss. */
  computeGradients(rows: LabelledRows): number {
    const n = rows.batch.rows;
    this.forward(rows.batch, undefined, 0, n);
    const loss = this.lossAndDelta(rows.labels, undefined, 0, n);
    this.backward(rows.batch, undefined, 0, n);
    return loss;
  }

  /** @internal The gradient of embedding entry (id, k) after `computeGradients` (0 when the id was not touched). */
  embeddingGradient(id: number, k: number): number {
    if (this.marks[id] !== this.stamp) return 0;
    return this.gE[(this.slots[id] as number) * this.D + k] as number;
  }

  /** @internal The gradient of the linear weight of `id` after `computeGradients` (0 when the id was not touched). */
  linearGradient(id: number): number {
    if (this.linear === undefined || this.marks[id] !== this.stamp) return 0;
    return this.gLinear[this.slots[id] as number] as number;
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
    // Lazy Adam on the embedding rows (and linear weights) this batch touched: the others keep their moments.
    const stepSize = embeddingLearningRate / correction1;
    const { touched, gE, embedding, embeddingM, embeddingV, D } = this;
    for (let j = 0; j < this.touchedCount; j++) {
      const e = (touched[j] as number) * D;
      for (let k = 0; k < D; k++) {
        const g = gE[j * D + k] as number;
        const mi = beta1 * (embeddingM[e + k] as number) + (1 - beta1) * g;
        const vi = beta2 * (embeddingV[e + k] as number) + (1 - beta2) * g * g;
        embeddingM[e + k] = mi;
        embeddingV[e + k] = vi;
        embedding[e + k] = (embedding[e + k] as number) - (stepSize * mi) / (Math.sqrt(vi) / root2 + epsilon);
      }
    }
    const { linear, linearM, linearV, gLinear } = this;
    if (linear === undefined || linearM === undefined || linearV === undefined) return;
    for (let j = 0; j < this.touchedCount; j++) {
      const id = touched[j] as number;
      const g = gLinear[j] as number;
      const mi = beta1 * (linearM[id] as number) + (1 - beta1) * g;
      const vi = beta2 * (linearV[id] as number) + (1 - beta2) * g * g;
      linearM[id] = mi;
      linearV[id] = vi;
      linear[id] = (linear[id] as number) - (stepSize * mi) / (Math.sqrt(vi) / root2 + epsilon);
    }
  }

  private checkRows(rows: LabelledRows, what: string): void {
    if (typeof rows !== 'object' || rows === null || typeof rows.batch !== 'object' || !(rows.labels instanceof Float32Array)) {
      throw new CtrkitError('E_INPUT', `${what}: pass LabelledRows { batch, labels }`);
    }
    this.checker.check(rows.batch);
    if (rows.labels.length !== rows.batch.rows) throw new CtrkitError('E_INPUT', `${what}: ${rows.labels.length} labels for ${rows.batch.rows} rows`);
    checkLabels(rows.labels, 0, rows.batch.rows, what);
  }

  private stepOn(rows: LabelledRows, indices: Int32Array | undefined, start: number, count: number): number {
    this.forward(rows.batch, indices, start, count);
    const loss = this.lossAndDelta(rows.labels, indices, start, count);
    if (loss - loss !== 0) {
      throw new CtrkitError('E_CONFIG', `${this.name} trainer: the loss became ${loss} at step ${this.steps + 1}; training diverged — lower the learning rate`);
    }
    this.backward(rows.batch, indices, start, count);
    this.adam();
    return loss;
  }

  trainEpoch(rows: LabelledRows, onProgress?: (done: number, total: number) => void): number {
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

  step(rows: LabelledRows): number {
    this.checkRows(rows, `${this.name}.step`);
    if (rows.batch.rows === 0) throw new CtrkitError('E_INPUT', `${this.name}.step: the mini-batch has no rows`);
    return this.stepOn(rows, undefined, 0, rows.batch.rows);
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
