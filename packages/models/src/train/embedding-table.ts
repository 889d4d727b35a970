/**
 * @internal The sparse half of the mini-batch trainers (DCN-v2, DeepFM): the float64 master
 * embedding table `[idSpace × D]` — and, for a model with a linear part, one weight per id — with
 * float32 Adam moments, and what a mini-batch does to it.
 *
 * A batch's id occurrences are listed once: every id column with a non-zero value (weight: the
 * value) and every real item of each sequence (weight: 1 / its length), each with the `x0` block
 * it adds into. That one list drives both directions: the `x0` gather (each field the
 * `values`-weighted sum of its ids' embeddings, so a bag sums its columns; each sequence the mean
 * of its real items; then the dense columns) and the scatter of ∂loss/∂x0 back to the rows of
 * the ids the batch touched, which then get the embedding L2, the frequency-aware prior and lazy
 * Adam (rows a batch misses keep their moments). An id's linear weight, `Σ_c values_c·w[id_c]`
 * over the id columns, is updated and regularized with its embedding row, as one more entry of it.
 */
import { CtrkitError, type FeatureBatch, type FeatureLayout } from '@ctrkit/core';
import { sequenceStride } from '../batch-check.js';
import { modelInputWidth } from '../weights.js';
import { adamUpdate } from './adam.js';
import { rowOf } from './rows.js';

/** @internal See the file comment. */
export class EmbeddingTable {
  readonly D: number;
  /** Width of an `x0` row. */
  readonly d0: number;
  /** Where the dense columns start in an `x0` row. */
  readonly denseBase: number;
  /** Master embedding table `[idSpace × D]`. */
  readonly embedding: Float64Array;
  /** Master linear weight of every id, when the model has a linear part. */
  readonly linear: Float64Array | undefined;
  private readonly embeddingM: Float32Array;
  private readonly embeddingV: Float32Array;
  private readonly linearM: Float32Array | undefined;
  private readonly linearV: Float32Array | undefined;
  // Layout facts, resolved once.
  private readonly idSpace: number;
  private readonly idWidth: number;
  private readonly denseWidth: number;
  private readonly S: number;
  private readonly L: number;
  /** Offset in `x0` of the block each id column adds into. */
  private readonly columnBlock: Int32Array;
  /** Where the sequence blocks start in an `x0` row. */
  private readonly sequenceBase: number;
  /** Rows the per-batch arrays hold. */
  private capacity = 0;
  // The occurrences of the last collected rows: id, offset in `x0` (row base included), weight.
  // Row b's id columns are [rowsEnd[b − 1], columnsEnd[b]), its sequence items [columnsEnd[b], rowsEnd[b]).
  private occurrenceIds = new Int32Array(0);
  private occurrenceOffsets = new Int32Array(0);
  private occurrenceWeights = new Float64Array(0);
  private columnsEnd = new Int32Array(0);
  private rowsEnd = new Int32Array(0);
  private occurrences = 0;
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

  constructor(layout: FeatureLayout, D: number, embedding: Float32Array, linear: Float32Array | undefined) {
    this.D = D;
    this.d0 = modelInputWidth(layout, D);
    this.embedding = Float64Array.from(embedding);
    this.embeddingM = new Float32Array(this.embedding.length);
    this.embeddingV = new Float32Array(this.embedding.length);
    this.linear = linear === undefined ? undefined : Float64Array.from(linear);
    this.linearM = linear === undefined ? undefined : new Float32Array(linear.length);
    this.linearV = linear === undefined ? undefined : new Float32Array(linear.length);
    this.idSpace = layout.idSpace;
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

  /** Sizes the per-batch arrays for `rows` rows (the trainer calls it when its scratch grows). */
  allocate(rows: number): void {
    const perRow = this.idWidth + this.S * this.L;
    this.occurrenceIds = new Int32Array(rows * perRow);
    this.occurrenceOffsets = new Int32Array(rows * perRow);
    this.occurrenceWeights = new Float64Array(rows * perRow);
    this.columnsEnd = new Int32Array(rows);
    this.rowsEnd = new Int32Array(rows);
    this.touched = new Int32Array(rows * perRow);
    this.touchedOccurrences = new Int32Array(rows * perRow);
    this.gE = new Float64Array(rows * perRow * this.D);
    if (this.linear !== undefined) this.gLinear = new Float64Array(rows * perRow);
    this.capacity = rows;
  }

  /** Lists the id occurrences of `rows` batch positions (at most the allocated rows). */
  private collect(batch: FeatureBatch, indices: Int32Array | undefined, start: number, rows: number): void {
    const { D, d0, idWidth, S, L, columnBlock, sequenceBase, occurrenceIds, occurrenceOffsets, occurrenceWeights, columnsEnd, rowsEnd } = this;
    const { ids, values, sequenceIds, sequenceLengths } = batch;
    let n = 0;
    for (let b = 0; b < rows; b++) {
      const r = rowOf(indices, start, b);
      const xb = b * d0;
      const cb = r * idWidth;
      for (let c = 0; c < idWidth; c++) {
        const value = values[cb + c] as number;
        if (value === 0) continue;
        occurrenceIds[n] = ids[cb + c] as number;
        occurrenceOffsets[n] = xb + (columnBlock[c] as number);
        occurrenceWeights[n] = value;
        n++;
      }
      columnsEnd[b] = n;
      for (let s = 0; s < S; s++) {
        const length = sequenceLengths[r * S + s] as number;
        if (length === 0) continue;
        const inverse = 1 / length;
        const o = xb + sequenceBase + s * D;
        const items = (r * S + s) * L;
        for (let t = L - length; t < L; t++) {
          occurrenceIds[n] = sequenceIds[items + t] as number;
          occurrenceOffsets[n] = o;
          occurrenceWeights[n] = inverse;
          n++;
        }
      }
      rowsEnd[b] = n;
    }
    this.occurrences = n;
  }

  /** Writes `x0` (`[rows × d0]`) of `rows` batch positions and keeps their occurrences for {@link EmbeddingTable.scatter}. */
  gather(batch: FeatureBatch, indices: Int32Array | undefined, start: number, rows: number, x0: Float64Array): void {
    this.collect(batch, indices, start, rows);
    const { D, d0, denseWidth, denseBase, embedding, occurrenceIds, occurrenceOffsets, occurrenceWeights } = this;
    x0.fill(0, 0, rows * d0);
    for (let j = 0; j < this.occurrences; j++) {
      const o = occurrenceOffsets[j] as number;
      const e = (occurrenceIds[j] as number) * D;
      const weight = occurrenceWeights[j] as number;
      for (let k = 0; k < D; k++) x0[o + k] = (x0[o + k] as number) + weight * (embedding[e + k] as number);
    }
    const dense = batch.dense;
    for (let b = 0; b < rows; b++) {
      const r = rowOf(indices, start, b);
      for (let d = 0; d < denseWidth; d++) x0[b * d0 + denseBase + d] = dense[r * denseWidth + d] as number;
    }
  }

  /** The gradient slot of `id` in this batch, taking one the first time the id is met. */
  private slotOf(id: number): number {
    const { marks, slots, touched, touchedOccurrences } = this;
    if (marks[id] === this.stamp) {
      const slot = slots[id] as number;
      touchedOccurrences[slot] = (touchedOccurrences[slot] as number) + 1;
      return slot;
    }
    const count = this.touchedCount++;
    marks[id] = this.stamp;
    slots[id] = count;
    touched[count] = id;
    touchedOccurrences[count] = 1;
    this.gE.fill(0, count * this.D, (count + 1) * this.D);
    if (this.linear !== undefined) this.gLinear[count] = 0;
    return count;
  }

  /**
   * Scatters ∂loss/∂x0 (`gx0`, of the last {@link EmbeddingTable.gather}) to the embedding rows
   * of the ids it touched, and δ to their linear weights; then adds the embedding L2 and the
   * frequency-aware prior on those rows.
   */
  scatter(rows: number, gx0: Float64Array, delta: Float64Array, embeddingL2: number, frequencyL2: number): void {
    if (this.stamp === 0x7fffffff) {
      this.marks.fill(0);
      this.stamp = 0;
    }
    this.stamp++;
    this.touchedCount = 0;
    const { D, gE, occurrenceIds, occurrenceOffsets, occurrenceWeights, columnsEnd, rowsEnd } = this;
    const gLinear = this.linear === undefined ? undefined : this.gLinear;
    let j = 0;
    for (let b = 0; b < rows; b++) {
      for (; j < (columnsEnd[b] as number); j++) {
        const slot = this.slotOf(occurrenceIds[j] as number);
        const o = slot * D;
        const g = occurrenceOffsets[j] as number;
        const value = occurrenceWeights[j] as number;
        for (let k = 0; k < D; k++) gE[o + k] = (gE[o + k] as number) + value * (gx0[g + k] as number);
        if (gLinear !== undefined) gLinear[slot] = (gLinear[slot] as number) + value * (delta[b] as number);
      }
      for (; j < (rowsEnd[b] as number); j++) {
        const o = this.slotOf(occurrenceIds[j] as number) * D;
        const g = occurrenceOffsets[j] as number;
        const inverse = occurrenceWeights[j] as number;
        for (let k = 0; k < D; k++) gE[o + k] = (gE[o + k] as number) + inverse * (gx0[g + k] as number);
      }
    }
    this.regularize(rows, embeddingL2, frequencyL2);
  }

  /** The L2 terms of the touched rows. An id's linear weight is regularized with its embedding row, as one more entry of it. */
  private regularize(rows: number, embeddingL2: number, frequencyL2: number): void {
    const { D, gE, touched, touchedOccurrences, embedding: E, linear } = this;
    const count = this.touchedCount;
    const gLinear = linear === undefined ? undefined : this.gLinear;
    if (embeddingL2 > 0) {
      for (let j = 0; j < count; j++) {
        const id = touched[j] as number;
        const e = id * D;
        for (let k = 0; k < D; k++) gE[j * D + k] = (gE[j * D + k] as number) + embeddingL2 * (E[e + k] as number);
        if (gLinear !== undefined && linear !== undefined) gLinear[j] = (gLinear[j] as number) + embeddingL2 * (linear[id] as number);
      }
    }
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

  /**
   * Adds every id's occurrences over all rows of `batch` into `counts`, a chunk of allocated rows
   * at a time (the trainer allocates before it counts); `firstSeen`, when given, receives each id
   * the first time it is met (row order).
   */
  private countOccurrences(batch: FeatureBatch, counts: Int32Array, firstSeen: number[] | undefined): void {
    const n = batch.rows;
    const chunk = this.capacity;
    if (chunk === 0 && n > 0) throw new CtrkitError('E_STATE', 'EmbeddingTable: allocate rows before counting ids');
    for (let start = 0; start < n; start += chunk) {
      this.collect(batch, undefined, start, Math.min(chunk, n - start));
      for (let j = 0; j < this.occurrences; j++) {
        const id = this.occurrenceIds[j] as number;
        if (firstSeen !== undefined && counts[id] === 0) firstSeen.push(id);
        counts[id] = (counts[id] as number) + 1;
      }
    }
  }

  /** Counts every id's occurrences over the rows of a pass, for the frequency-aware prior. */
  countPass(batch: FeatureBatch): void {
    const counts = this.counts ?? new Int32Array(this.idSpace);
    counts.fill(0);
    this.countOccurrences(batch, counts, undefined);
    this.counts = counts;
  }

  /** ‖row of `id`‖², its linear weight included. */
  private rowNormSquared(id: number): number {
    let sum = 0;
    for (let k = 0; k < this.D; k++) sum += (this.embedding[id * this.D + k] as number) ** 2;
    if (this.linear !== undefined) sum += (this.linear[id] as number) ** 2;
    return sum;
  }

  /**
   * `value` plus the embedding L2 and frequency-aware penalties of the rows of `batch` (for the
   * objective the gradient checks differentiate); the terms are added id by id, in the order the
   * ids are first met.
   */
  addPenalties(value: number, batch: FeatureBatch, embeddingL2: number, frequencyL2: number): number {
    const here = new Int32Array(this.idSpace);
    const order: number[] = [];
    this.countOccurrences(batch, here, order);
    if (embeddingL2 > 0) for (const id of order) value += 0.5 * embeddingL2 * this.rowNormSquared(id);
    const counts = this.counts;
    if (frequencyL2 > 0 && counts !== undefined) {
      // (frequencyL2 / 2n) Σ_j (occurrences in these rows / occurrences in the pass) ‖E_j‖².
      const n = batch.rows;
      for (const id of order) {
        const c = here[id] as number;
        value += ((0.5 * frequencyL2 * c) / (n * Math.max(counts[id] as number, c))) * this.rowNormSquared(id);
      }
    }
    return value;
  }

  /** Lazy Adam on the rows (and linear weights) the last scatter touched: the others keep their moments. */
  adam(stepSize: number, beta1: number, beta2: number, epsilon: number, root2: number): void {
    const { touched, D, linear, linearM, linearV } = this;
    for (let j = 0; j < this.touchedCount; j++) {
      adamUpdate(this.embedding, this.embeddingM, this.embeddingV, this.gE, (touched[j] as number) * D, j * D, D, stepSize, beta1, beta2, epsilon, root2);
    }
    if (linear === undefined || linearM === undefined || linearV === undefined) return;
    for (let j = 0; j < this.touchedCount; j++) adamUpdate(linear, linearM, linearV, this.gLinear, touched[j] as number, j, 1, stepSize, beta1, beta2, epsilon, root2);
  }

  /** The gradient of embedding entry (id, k) after the last scatter (0 when the id was not touched). */
  embeddingGradient(id: number, k: number): number {
    if (this.marks[id] !== this.stamp) return 0;
    return this.gE[(this.slots[id] as number) * this.D + k] as number;
  }

  /** The gradient of the linear weight of `id` after the last scatter (0 when the id was not touched). */
  linearGradient(id: number): number {
    if (this.linear === undefined || this.marks[id] !== this.stamp) return 0;
    return this.gLinear[this.slots[id] as number] as number;
  }
}
