/**
 * A factorization machine (Rendle 2010) trained online: the intercept and linear weights by
 * FTRL-Proximal (as the LR trainer, so they stay sparse under L1), the factor vectors by AdaGrad
 * with L2. One row at a time, gradients derived by hand:
 *
 * logit = b + Σ_i w_i·x_i + ½ Σ_f [S_f² − Σ_i v_if²·x_i²],  S_f = Σ_i v_if·x_i
 * ∂logit/∂v_if = x_i·S_f − v_if·x_i²
 *
 * where i runs over the row's columns (ids, then dense columns) exactly as the ONNX graph and the
 * native runner compute it; columns sharing an id share a factor vector, so their gradients add up.
 */
import { createRandom, CtrkitError, type FeatureBatch, type FeatureLayout, type OnlineTrainer } from '@ctrkit/core';
import type { NativeRunner } from '../native-runner/types.js';
import type { FmWeights } from '../weights.js';
import { FtrlCore, ftrlSettings, type FtrlOptions, type FtrlSettings } from './ftrl.js';
import { OnlineRowTrainer } from './online-row-trainer.js';

/** Options of {@link createFmTrainer}.
 *
 * @example
 * ```ts
 * import type { FmTrainerOptions } from '@ctrkit/models';
 * const options: FmTrainerOptions = { dim: 8, linear: { alpha: 0.05, l1: 1 }, learningRate: 0.05, factorL2: 1e-4, seed: 1 };
 * ```
 */
export interface FmTrainerOptions {
  /** Factor dimension k (default 8). */
  readonly dim?: number;
  /** FTRL-Proximal hyper-parameters of the intercept and linear weights. */
  readonly linear?: FtrlOptions;
  /** AdaGrad learning rate η of the factors (default 0.02). */
  readonly learningRate?: number;
  /** L2 strength on the factors, per update (default 1e-3). */
  readonly factorL2?: number;
  /**
   * A frequency-aware L2 on the factors (default 3): the n-th update of a coordinate adds
   * `factorPrior / n · v` to its gradient, so over its first n rows a coordinate is pulled to zero
   * about `factorPrior · (1 + ln n)` in all — a rare id's factors stay near zero unless its few
   * rows insist, a frequent id's are nearly free (the online form of DIN's mini-batch aware
   * regularizer, Zhou et al. 2018). Counts carry over from pass to pass.
   */
  readonly factorPrior?: number;
  /** AdaGrad's starting sum of squared gradients (default 1e-3): the first step is at most η·g/√(this + g²). */
  readonly initialAccumulator?: number;
  /** Standard deviation of the initial factors (default 0.01). */
  readonly initScale?: number;
  /** Seed of the initial factors (default 0). */
  readonly seed?: number | string;
}

/** {@link FmTrainerOptions} with every default filled in.
 *
 * @example
 * ```ts
 * import type { FmTrainerSettings } from '@ctrkit/models';
 * const describe = (s: FmTrainerSettings) => `k=${s.dim} η=${s.learningRate}`;
 * ```
 */
export interface FmTrainerSettings {
  /** Factor dimension k. */
  readonly dim: number;
  /** FTRL hyper-parameters of the linear part. */
  readonly linear: FtrlSettings;
  /** AdaGrad learning rate of the factors. */
  readonly learningRate: number;
  /** L2 strength on the factors. */
  readonly factorL2: number;
  /** Frequency-aware L2 on the factors. */
  readonly factorPrior: number;
  /** AdaGrad's starting accumulator. */
  readonly initialAccumulator: number;
  /** Standard deviation of the initial factors. */
  readonly initScale: number;
  /** Seed of the initial factors. */
  readonly seed: number | string;
}

/**
 * An online factorization-machine trainer of {@link FmWeights}.
 *
 * @example
 * ```ts
 * import { createFmTrainer, createNativeRunner } from '@ctrkit/models';
 * import type { FeatureBatch, FeatureLayout } from '@ctrkit/core';
 * declare const layout: FeatureLayout;
 * declare const batch: FeatureBatch;
 * declare const clicks: Float32Array;
 * const trainer = createFmTrainer(layout, { dim: 8, seed: 1 });
 * const progressive = trainer.update(batch, clicks);
 * const runner = createNativeRunner({ layout, weights: trainer.weights() });
 * ```
 */
export interface FmTrainer extends OnlineTrainer {
  /** The layout of the batches it learns from. */
  readonly layout: FeatureLayout;
  /** The hyper-parameters in use. */
  readonly settings: FmTrainerSettings;
  /** Rows learned from so far. */
  readonly rowsSeen: number;
  /**
   * Learns from every row of a batch, in order, one row at a time.
   *
   * @param batch - Encoded rows (the trainer's layout).
   * @param labels - One 0/1 label per row.
   * @param out - Optional buffer for the predictions.
   * @returns Each row's click probability before learning from it (progressive validation).
   * @throws `CtrkitError` `E_INPUT` on a batch of another spec, a label other than 0/1, an id
   *   outside the id space, or a non-finite value.
   */
  update(batch: FeatureBatch, labels: ArrayLike<number>, out?: Float32Array): Float32Array;
  /**
   * Learns from one row of a batch.
   *
   * @param batch - The batch the row belongs to.
   * @param row - Its index.
   * @param label - 1 for a click, 0 for none.
   * @returns The row's click probability before the update.
   * @throws `CtrkitError` `E_INPUT` as for `update`, or when `row` is not a row of the batch.
   */
  updateRow(batch: FeatureBatch, row: number, label: number): number;
  /**
   * Scores a batch with the current weights, learning nothing.
   *
   * @param batch - Encoded rows.
   * @param out - Optional buffer.
   * @returns Click probabilities.
   * @throws `CtrkitError` `E_INPUT` on a bad batch or `out`.
   */
  predict(batch: FeatureBatch, out?: Float32Array): Float32Array;
  /**
   * Copies every weight into {@link FmWeights} (O(idSpace · dim)).
   *
   * @param into - Weights whose arrays are overwritten and reused (double buffering for hot swap).
   * @returns A new weights object (over `into`'s arrays when given).
   * @throws `CtrkitError` `E_INPUT` when `into` has the wrong shape.
   */
  weights(into?: FmWeights): FmWeights;
  /**
   * A native runner over a copy of the current weights, reporting `version`; later updates do
   * not touch it. It scores as {@link FmTrainer.predict} does at the time of the snapshot, up to
   * the float32 rounding of the weights.
   *
   * @param version - The version its `info` reports.
   * @returns A runner owning its weights (O(idSpace · dim) to make).
   * @throws `CtrkitError` `E_INPUT` on an empty version.
   */
  snapshot(version: string): NativeRunner;
  /** True once {@link FmTrainer.freezeFactors} was called: updates train only the intercept and linear weights. */
  readonly factorsFrozen: boolean;
  /**
   * Stops the factors learning; the intercept and linear weights go on. The batch trainer
   * (`fitModel`) calls it when another pass would let the factors memorize the pairs they have
   * seen (the "one-epoch phenomenon" of embedding models: Zhang et al., CIKM 2022) while the
   * linear part still gains from more passes.
   */
  freezeFactors(): void;
  /**
   * A deep copy of the trainer: weights, optimizer state, counts and settings. Learning on
   * either leaves the other as it was (`fitModel` keeps one to step back a pass).
   *
   * @returns A trainer in the same state, owning its own arrays (about the size of this one).
   */
  clone(): FmTrainer;
}

function fmSettings(options: FmTrainerOptions): FmTrainerSettings {
  const { dim = 8, learningRate = 0.02, factorL2 = 1e-3, factorPrior = 3, initialAccumulator = 1e-3, initScale = 0.01, seed = 0 } = options;
  if (!Number.isInteger(dim) || dim <= 0) throw new CtrkitError('E_CONFIG', `fm: dim must be a positive integer, got ${dim}`);
  const check = (value: number, name: string, positive: boolean) => {
    if (!Number.isFinite(value) || value < 0 || (positive && value === 0)) {
      throw new CtrkitError('E_CONFIG', `fm: ${name} must be a finite number ${positive ? '> 0' : '≥ 0'}, got ${value}`);
    }
  };
  check(learningRate, 'learningRate', true);
  check(factorL2, 'factorL2', false);
  check(factorPrior, 'factorPrior', false);
  check(initialAccumulator, 'initialAccumulator', true);
  check(initScale, 'initScale', false);
  return { dim, linear: ftrlSettings(options.linear ?? {}, 'fm.linear'), learningRate, factorL2, factorPrior, initialAccumulator, initScale, seed };
}

class Fm extends OnlineRowTrainer implements FmTrainer {
  factorsFrozen = false;
  private readonly core: FtrlCore;
  /** `[(idSpace + denseWidth) × dim]`: id factors, then dense-column factors. */
  private readonly factors: Float32Array;
  /** AdaGrad sums of squared gradients, same shape. */
  private readonly accumulators: Float32Array;
  /** S_f of the last scored row. */
  private readonly sums: Float64Array;
  /** Updates of each coordinate so far (frequency-aware prior only; else empty). */
  private readonly counts: Uint32Array;

  /** @param from - A trainer to copy every weight and optimizer state from (for {@link Fm.clone}). */
  constructor(
    layout: FeatureLayout,
    readonly settings: FmTrainerSettings,
    from?: Fm,
  ) {
    super(layout, 'fm');
    this.core = new FtrlCore(layout, settings.linear);
    this.sums = new Float64Array(settings.dim);
    if (from !== undefined) {
      this.core.zn.set(from.core.zn);
      this.core.biasZ = from.core.biasZ;
      this.core.biasN = from.core.biasN;
      this.factors = from.factors.slice();
      this.accumulators = from.accumulators.slice();
      this.counts = from.counts.slice();
      return;
    }
    const size = (layout.idSpace + layout.denseWidth) * settings.dim;
    this.factors = new Float32Array(size);
    const random = createRandom(settings.seed).fork('fm-factors');
    if (settings.initScale > 0) for (let i = 0; i < size; i++) this.factors[i] = random.normal() * settings.initScale;
    this.accumulators = new Float32Array(size).fill(settings.initialAccumulator);
    this.counts = new Uint32Array(settings.factorPrior > 0 ? layout.idSpace + layout.denseWidth : 0);
  }

  freezeFactors(): void {
    this.factorsFrozen = true;
  }

  clone(): FmTrainer {
    const copy = new Fm(this.layout, this.settings, this);
    copy.rowsSeen = this.rowsSeen;
    copy.factorsFrozen = this.factorsFrozen;
    return copy;
  }

  /** Logit of the gathered row; leaves S_f in `sums` and the linear weights in the core. */
  protected logit(): number {
    const { row, factors, sums } = this;
    const dim = this.settings.dim;
    const { coords, xs, squares, count } = row;
    sums.fill(0);
    let selfTerms = 0;
    for (let j = 0; j < count; j++) {
      const base = (coords[j] as number) * dim;
      const x = xs[j] as number;
      const q = squares[j] as number;
      for (let f = 0; f < dim; f++) {
        const v = factors[base + f] as number;
        sums[f] = (sums[f] as number) + v * x;
        selfTerms += v * v * q;
      }
    }
    let square = 0;
    for (let f = 0; f < dim; f++) square += (sums[f] as number) * (sums[f] as number);
    return this.core.linear(row) + 0.5 * (square - selfTerms);
  }

  /** One AdaGrad step on the factors and an FTRL step on the linear part, for dLoss/dLogit = g0. */
  protected learn(g0: number): void {
    const { row, factors, accumulators, sums } = this;
    const { dim, learningRate, factorL2, factorPrior } = this.settings;
    const { coords, xs, squares, count } = row;
    const counts = this.counts;
    const prior = factorPrior > 0;
    if (this.factorsFrozen) {
      this.core.step(row, g0);
      return;
    }
    for (let j = 0; j < count; j++) {
      const coord = coords[j] as number;
      const base = coord * dim;
      const x = xs[j] as number;
      const q = squares[j] as number;
      let decay = factorL2;
      if (prior) {
        const n = (counts[coord] as number) + 1;
        counts[coord] = n;
        decay += factorPrior / n;
      }
      for (let f = 0; f < dim; f++) {
        const v = factors[base + f] as number;
        const g = g0 * (x * (sums[f] as number) - v * q) + decay * v;
        const sum = (accumulators[base + f] as number) + g * g;
        accumulators[base + f] = sum;
        factors[base + f] = v - (learningRate * g) / Math.sqrt(sum);
      }
    }
    this.core.step(row, g0);
  }

  /**
   * @internal ∂logit/∂v for every factor of row `r` (no update): `out[j·dim + f]` for the j-th
   * distinct coordinate, returned with the coordinates. For gradient checks.
   */
  logitGradient(batch: FeatureBatch, r: number): { logit: number; coords: Int32Array; factorGradient: Float64Array; xs: Float64Array } {
    this.row.gather(batch, r);
    const logit = this.logit();
    const { dim } = this.settings;
    const { coords, xs, squares, count } = this.row;
    const out = new Float64Array(count * dim);
    for (let j = 0; j < count; j++) {
      const base = (coords[j] as number) * dim;
      for (let f = 0; f < dim; f++) out[j * dim + f] = (xs[j] as number) * (this.sums[f] as number) - (this.factors[base + f] as number) * (squares[j] as number);
    }
    return { logit, coords: coords.slice(0, count), factorGradient: out, xs: xs.slice(0, count) };
  }

  weights(into?: FmWeights): FmWeights {
    const { idSpace, denseWidth } = this.layout;
    const dim = this.settings.dim;
    const ids = into?.ids ?? new Float32Array(idSpace);
    const dense = into?.dense ?? new Float32Array(denseWidth);
    const idFactors = into?.idFactors ?? new Float32Array(idSpace * dim);
    const denseFactors = into?.denseFactors ?? new Float32Array(denseWidth * dim);
    if (
      (into !== undefined && into.dim !== dim) ||
      ids.length !== idSpace ||
      dense.length !== denseWidth ||
      idFactors.length !== idSpace * dim ||
      denseFactors.length !== denseWidth * dim
    ) {
      throw new CtrkitError('E_INPUT', `fm.weights: into must be FmWeights of this layout with dim ${dim}`);
    }
    const bias = this.core.materialize(ids, dense);
    idFactors.set(this.factors.subarray(0, idSpace * dim));
    denseFactors.set(this.factors.subarray(idSpace * dim));
    return { kind: 'fm', idSpace, denseWidth, dim, bias: Math.fround(bias), ids, dense, idFactors, denseFactors };
  }
}

/**
 * Creates an online factorization-machine trainer: FTRL-Proximal on the intercept and linear
 * weights, AdaGrad with L2 on seeded random factors.
 *
 * @param layout - The encoder's layout (sequences are ignored, as FM ignores them).
 * @param options - Factor dimension, FTRL and AdaGrad hyper-parameters, seed.
 * @returns The trainer.
 * @throws `CtrkitError` `E_CONFIG` on a non-positive dimension or learning rate, or negative strengths.
 * @remarks Holds `(idSpace + denseWidth) · dim` factors and as many accumulators (float32), plus
 *   the FTRL state; allocates nothing per row. Same seed, same rows in the same order: same weights.
 * @example
 * ```ts
 * import { createFmTrainer } from '@ctrkit/models';
 * import { createFeatureEncoder, criteoSpec, readCriteo } from '@ctrkit/features';
 * async function train(text: string) {
 *   const encoder = createFeatureEncoder(criteoSpec({ idSpace: 1 << 18 }));
 *   const trainer = createFmTrainer(encoder.layout, { dim: 8, learningRate: 0.05, seed: 7 });
 *   for await (const chunk of readCriteo(text)) trainer.update(encoder.encodeChunk(chunk), chunk.labels);
 *   return trainer.weights();
 * }
 * ```
 */
export function createFmTrainer(layout: FeatureLayout, options: FmTrainerOptions = {}): FmTrainer {
  if (typeof layout !== 'object' || layout === null || !Number.isInteger(layout.idSpace) || layout.idSpace <= 0) {
    throw new CtrkitError('E_CONFIG', 'createFmTrainer: pass the encoder\'s FeatureLayout');
  }
  return new Fm(layout, fmSettings(options));
}
