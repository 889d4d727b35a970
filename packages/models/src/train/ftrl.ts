/**
 * FTRL-Proximal logistic regression (McMahan et al., "Ad Click Prediction: a View from the
 * Trenches", KDD 2013, Algorithm 1): online, one row at a time, with per-coordinate learning
 * rates `α / (β + √n_i)`, L1 (sparsity) and L2 regularization, and lazy weights — a weight is
 * never stored, only computed from its `z_i` and `n_i` when a row touches it.
 */
import { CtrkitError, type FeatureBatch, type FeatureLayout, type OnlineTrainer } from '@ctrkit/core';
import type { NativeRunner } from '../native-runner/types.js';
import type { LrWeights } from '../weights.js';
import { OnlineRowTrainer } from './online-row-trainer.js';
import type { SparseRow } from './sparse-row.js';

/** Hyper-parameters of FTRL-Proximal (the paper's names).
 *
 * @example
 * ```ts
 * import type { FtrlOptions } from '@ctrkit/models';
 * const options: FtrlOptions = { alpha: 0.05, beta: 1, l1: 1, l2: 1 };
 * ```
 */
export interface FtrlOptions {
  /** Learning-rate scale α (default 0.05). */
  readonly alpha?: number;
  /** Learning-rate smoothing β (default 1). */
  readonly beta?: number;
  /** L1 strength λ₁ (default 1): coordinates with |z| ≤ λ₁ are exactly zero. */
  readonly l1?: number;
  /** L2 strength λ₂ (default 1). */
  readonly l2?: number;
}

/** {@link FtrlOptions} with every default filled in.
 *
 * @example
 * ```ts
 * import type { FtrlSettings } from '@ctrkit/models';
 * const settings: FtrlSettings = { alpha: 0.05, beta: 1, l1: 1, l2: 1 };
 * ```
 */
export interface FtrlSettings {
  /** Learning-rate scale α. */
  readonly alpha: number;
  /** Learning-rate smoothing β. */
  readonly beta: number;
  /** L1 strength λ₁. */
  readonly l1: number;
  /** L2 strength λ₂. */
  readonly l2: number;
}

/**
 * An online FTRL-Proximal trainer of {@link LrWeights}: learns from each labeled row as it
 * arrives, and hands out weights for a `NativeRunner` (`updateWeights`) or an ONNX export.
 * The intercept is one more coordinate, always present, that L1 and L2 leave alone.
 *
 * @example
 * ```ts
 * import { createFtrlTrainer, createNativeRunner } from '@ctrkit/models';
 * import type { FeatureBatch, FeatureLayout } from '@ctrkit/core';
 * declare const layout: FeatureLayout;
 * declare const batch: FeatureBatch;
 * const trainer = createFtrlTrainer(layout, { alpha: 0.05, l1: 1 });
 * const runner = createNativeRunner({ layout, weights: trainer.weights() });
 * trainer.update(batch, new Float32Array(batch.rows)); // clicks and non-clicks, as they come
 * runner.updateWeights(trainer.weights(), { version: 'ftrl-2', checkValues: false });
 * const frozen = trainer.snapshot('ftrl-3'); // or a runner of its own, untouched by later updates
 * ```
 */
export interface FtrlTrainer extends OnlineTrainer {
  /** The layout of the batches it learns from. */
  readonly layout: FeatureLayout;
  /** The hyper-parameters in use. */
  readonly settings: FtrlSettings;
  /** Rows learned from so far. */
  readonly rowsSeen: number;
  /**
   * Learns from every row of a batch, in order, one row at a time.
   *
   * @param batch - Encoded rows (the trainer's layout).
   * @param labels - One 0/1 label per row.
   * @param out - Optional buffer for the predictions.
   * @returns Each row's click probability as predicted *before* learning from it (progressive
   *   validation: a fair estimate of the online model's quality).
   * @throws `CtrkitError` `E_INPUT` on a batch of another spec, a label other than 0/1, an id
   *   outside the id space, or a non-finite value (rows before the bad one are learned).
   */
  update(batch: FeatureBatch, labels: ArrayLike<number>, out?: Float32Array): Float32Array;
  /**
   * Learns from one row of a batch (a served candidate whose click or non-click is now known).
   *
   * @param batch - The batch the row belongs to.
   * @param row - Its index.
   * @param label - 1 for a click, 0 for none.
   * @returns The row's click probability before the update.
   * @throws `CtrkitError` `E_INPUT` as for `update`, or when `row` is not a row of the batch.
   */
  updateRow(batch: FeatureBatch, row: number, label: number): number;
  /**
   * Scores a batch with the current (lazy) weights, learning nothing.
   *
   * @param batch - Encoded rows.
   * @param out - Optional buffer.
   * @returns Click probabilities.
   * @throws `CtrkitError` `E_INPUT` on a bad batch or `out`.
   */
  predict(batch: FeatureBatch, out?: Float32Array): Float32Array;
  /**
   * Materializes every weight into {@link LrWeights} (O(idSpace)).
   *
   * @param into - Weights whose `ids` and `dense` arrays are overwritten and reused, so two
   *   buffers can alternate: give the runner one while the next snapshot is written into the other.
   * @returns A new weights object (over `into`'s arrays when given).
   * @throws `CtrkitError` `E_INPUT` when `into` has the wrong shape.
   */
  weights(into?: LrWeights): LrWeights;
  /**
   * A native runner over a copy of the current weights, reporting `version`; later updates do
   * not touch it. It scores as {@link FtrlTrainer.predict} does at the time of the snapshot, up
   * to the float32 rounding of the weights.
   *
   * @param version - The version its `info` reports.
   * @returns A runner owning its weights (O(idSpace) to make).
   * @throws `CtrkitError` `E_INPUT` on an empty version.
   */
  snapshot(version: string): NativeRunner;
  /**
   * Forgets part of what the per-coordinate learning rates remember: every accumulated squared
   * gradient (n) is scaled by `factor`, and z is adjusted so that every weight stays exactly as it
   * is. Later rows then move each coordinate as if it had seen fewer rows — the learning rate
   * recovers — which is how a model keeps up with a drifting stream (call it after each batch with
   * `0.5 ** (rows / halfLifeRows)`). O(idSpace).
   *
   * @param factor - In (0, 1]; 1 changes nothing.
   * @throws `CtrkitError` `E_INPUT` when `factor` is not in (0, 1].
   */
  forget(factor: number): void;
}

/** @internal Validates and fills in FTRL hyper-parameters. */
export function ftrlSettings(options: FtrlOptions, what = 'ftrl'): FtrlSettings {
  const { alpha = 0.05, beta = 1, l1 = 1, l2 = 1 } = options;
  const check = (value: number, name: string, positive: boolean) => {
    if (!Number.isFinite(value) || value < 0 || (positive && value === 0)) {
      throw new CtrkitError('E_CONFIG', `${what}: ${name} must be a finite number ${positive ? '> 0' : '≥ 0'}, got ${value}`);
    }
  };
  check(alpha, 'alpha', true);
  check(beta, 'beta', false);
  check(l1, 'l1', false);
  check(l2, 'l2', false);
  return { alpha, beta, l1, l2 };
}

/**
 * @internal The per-coordinate FTRL-Proximal state over `idSpace + denseWidth` coordinates plus the
 * intercept, shared by the LR and FM trainers.
 */
export class FtrlCore {
  /**
   * z_i at [2i] and n_i at [2i + 1]: a coordinate's pair shares one cache line, so a row costs
   * one miss per coordinate instead of two (on a 2^20 id space the arrays do not fit in cache).
   */
  readonly zn: Float64Array;
  biasZ = 0;
  biasN = 0;
  /** Lazy weights of the coordinates of the last gathered row, filled by {@link FtrlCore.linear}. */
  readonly ws: Float64Array;
  private readonly alpha: number;
  private readonly beta: number;
  private readonly l1: number;
  private readonly l2: number;

  constructor(
    readonly layout: FeatureLayout,
    readonly settings: FtrlSettings,
  ) {
    this.zn = new Float64Array(2 * (layout.idSpace + layout.denseWidth));
    this.ws = new Float64Array(layout.idWidth + layout.denseWidth);
    this.alpha = settings.alpha;
    this.beta = settings.beta;
    this.l1 = settings.l1;
    this.l2 = settings.l2;
  }

  /** w = 0 when |z| ≤ λ₁, else −(z − sgn(z)·λ₁) / ((β + √n)/α + λ₂). */
  weightOf(i: number): number {
    const zi = this.zn[2 * i] as number;
    const l1 = this.l1;
    if (zi <= l1 && zi >= -l1) return 0;
    return -(zi - (zi > 0 ? l1 : -l1)) / ((this.beta + Math.sqrt(this.zn[2 * i + 1] as number)) / this.alpha + this.l2);
  }

  /** The intercept: the same rule without L1 or L2. */
  biasWeight(): number {
    return -this.biasZ / ((this.beta + Math.sqrt(this.biasN)) / this.alpha);
  }

  /** Linear logit of the gathered row; leaves each coordinate's weight in `ws`. */
  linear(row: SparseRow): number {
    const { coords, xs, count } = row;
    const { zn, ws, l1, l2, alpha, beta } = this;
    let logit = this.biasWeight();
    for (let j = 0; j < count; j++) {
      const i = 2 * (coords[j] as number);
      const zi = zn[i] as number;
      let w = 0;
      if (zi > l1) w = -(zi - l1) / ((beta + Math.sqrt(zn[i + 1] as number)) / alpha + l2);
      else if (zi < -l1) w = -(zi + l1) / ((beta + Math.sqrt(zn[i + 1] as number)) / alpha + l2);
      ws[j] = w;
      logit += w * (xs[j] as number);
    }
    return logit;
  }

  /** FTRL-Proximal step for gradient `g0 · x_i` on every gathered coordinate (after `linear`). */
  step(row: SparseRow, g0: number): void {
    const { coords, xs, count } = row;
    const { zn, ws, alpha } = this;
    for (let j = 0; j < count; j++) {
      const i = 2 * (coords[j] as number);
      const g = g0 * (xs[j] as number);
      const ni = zn[i + 1] as number;
      const next = ni + g * g;
      const sigma = (Math.sqrt(next) - Math.sqrt(ni)) / alpha;
      zn[i] = (zn[i] as number) + g - sigma * (ws[j] as number);
      zn[i + 1] = next;
    }
    const wb = this.biasWeight();
    const nb = this.biasN + g0 * g0;
    this.biasZ += g0 - ((Math.sqrt(nb) - Math.sqrt(this.biasN)) / alpha) * wb;
    this.biasN = nb;
  }

  /** Scales every n by `f` (0 < f ≤ 1), moving z so that every weight, the intercept's too, is unchanged. */
  forget(f: number): void {
    const { zn, l1, l2, alpha, beta } = this;
    for (let i = 0; i < zn.length; i += 2) {
      const n = zn[i + 1] as number;
      if (n === 0) continue;
      const z = zn[i] as number;
      const scaled = n * f;
      // w = −(z − sgn(z)·λ₁) / ((β + √n)/α + λ₂): keep the numerator's ratio to the denominator.
      if (z > l1 || z < -l1) {
        const s = z > 0 ? l1 : -l1;
        zn[i] = s + ((z - s) * ((beta + Math.sqrt(scaled)) / alpha + l2)) / ((beta + Math.sqrt(n)) / alpha + l2);
      }
      zn[i + 1] = scaled;
    }
    if (this.biasN > 0) {
      const scaled = this.biasN * f;
      this.biasZ = (this.biasZ * (beta + Math.sqrt(scaled))) / (beta + Math.sqrt(this.biasN));
      this.biasN = scaled;
    }
  }

  /** Writes every weight into `ids` and `dense`; returns the intercept. */
  materialize(ids: Float32Array, dense: Float32Array): number {
    const { idSpace, denseWidth } = this.layout;
    const { zn, l1, l2, alpha, beta } = this;
    for (let i = 0; i < idSpace; i++) {
      const zi = zn[2 * i] as number;
      ids[i] = zi <= l1 && zi >= -l1 ? 0 : -(zi - (zi > 0 ? l1 : -l1)) / ((beta + Math.sqrt(zn[2 * i + 1] as number)) / alpha + l2);
    }
    for (let d = 0; d < denseWidth; d++) dense[d] = this.weightOf(idSpace + d);
    return this.biasWeight();
  }
}

class Ftrl extends OnlineRowTrainer implements FtrlTrainer {
  private readonly core: FtrlCore;

  constructor(
    layout: FeatureLayout,
    readonly settings: FtrlSettings,
  ) {
    super(layout, 'ftrl');
    this.core = new FtrlCore(layout, settings);
  }

  protected logit(): number {
    return this.core.linear(this.row);
  }

  protected learn(g0: number): void {
    this.core.step(this.row, g0);
  }

  forget(factor: number): void {
    if (!(factor > 0 && factor <= 1)) throw new CtrkitError('E_INPUT', `ftrl.forget: factor must be in (0, 1], got ${factor}`);
    if (factor < 1) this.core.forget(factor);
  }

  weights(into?: LrWeights): LrWeights {
    const { idSpace, denseWidth } = this.layout;
    const ids = into?.ids ?? new Float32Array(idSpace);
    const dense = into?.dense ?? new Float32Array(denseWidth);
    if (!(ids instanceof Float32Array) || ids.length !== idSpace || !(dense instanceof Float32Array) || dense.length !== denseWidth) {
      throw new CtrkitError('E_INPUT', `ftrl.weights: into must hold ids [${idSpace}] and dense [${denseWidth}] Float32Arrays (weights of this layout)`);
    }
    const bias = this.core.materialize(ids, dense);
    return { kind: 'lr', idSpace, denseWidth, bias: Math.fround(bias), ids, dense };
  }
}

/**
 * Creates an FTRL-Proximal logistic-regression trainer, starting from all-zero weights.
 *
 * @param layout - The encoder's layout (sequences are ignored, as LR ignores them).
 * @param options - α, β, λ₁, λ₂.
 * @returns The trainer.
 * @throws `CtrkitError` `E_CONFIG` on a non-positive α or a negative β, λ₁ or λ₂.
 * @remarks Holds 2 float64 values per coordinate (16 MiB for 2^20 ids) and
 *   allocates nothing per row. Cost per row: one pass over its columns to gather distinct ids,
 *   one to score, one to update.
 * @example
 * ```ts
 * import { createFtrlTrainer } from '@ctrkit/models';
 * import { createFeatureEncoder, criteoSpec, readCriteo } from '@ctrkit/features';
 * async function train(text: string) {
 *   const encoder = createFeatureEncoder(criteoSpec());
 *   const trainer = createFtrlTrainer(encoder.layout, { alpha: 0.05, beta: 1, l1: 1, l2: 1 });
 *   for await (const chunk of readCriteo(text)) trainer.update(encoder.encodeChunk(chunk), chunk.labels);
 *   return trainer.weights();
 * }
 * ```
 */
export function createFtrlTrainer(layout: FeatureLayout, options: FtrlOptions = {}): FtrlTrainer {
  if (typeof layout !== 'object' || layout === null || !Number.isInteger(layout.idSpace) || layout.idSpace <= 0) {
    throw new CtrkitError('E_CONFIG', 'createFtrlTrainer: pass the encoder\'s FeatureLayout');
  }
  return new Ftrl(layout, ftrlSettings(options));
}
