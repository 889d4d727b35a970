import { CtrkitError, ensure } from './errors.js';
import type { Numbers } from './metrics.js';
import { argsort } from './sort.js';
import { checkScoredRows } from './validate.js';

/** The JSON form of every calibrator; {@link calibratorFromJSON} turns it back into one.
 *
 * @example
 * ```ts
 * import type { CalibratorJSON } from '@ctrkit/core';
 * const json: CalibratorJSON = { kind: 'downsampling', negativeRate: 0.1 };
 * ```
 */
export type CalibratorJSON =
  | { readonly kind: 'identity' }
  | { readonly kind: 'platt'; readonly a: number; readonly b: number; readonly input: 'probability' | 'logit' }
  | { readonly kind: 'isotonic'; readonly x: readonly number[]; readonly y: readonly number[] }
  | { readonly kind: 'downsampling'; readonly negativeRate: number }
  | { readonly kind: 'chain'; readonly steps: readonly CalibratorJSON[] };

/**
 * Maps a model's scores to calibrated click probabilities. Fitted on held-out rows, applied
 * after the model on every request.
 *
 * @example
 * ```ts
 * import { createIsotonicCalibrator } from '@ctrkit/core';
 * const calibrator = createIsotonicCalibrator().fit([0.1, 0.4, 0.6, 0.9], [0, 0, 1, 1]);
 * const calibrated = calibrator.apply(new Float32Array([0.2, 0.7]));
 * ```
 */
export interface Calibrator {
  /** Which kind of calibrator this is. */
  readonly kind: CalibratorJSON['kind'];
  /**
   * Fits the calibrator to held-out scores and labels, replacing earlier parameters.
   * Returns itself, fitted.
   */
  fit(scores: Numbers, labels: Numbers, weights?: Numbers): Calibrator;
  /** Calibrates `scores` into `out` (allocated when absent) and returns it. NaN stays NaN. */
  apply<T extends Float32Array | Float64Array = Float32Array>(scores: Numbers, out?: T): T;
  /** Calibrates one score. */
  applyOne(score: number): number;
  /** Whether `fit` has run (or the calibrator needs no fitting). */
  isFitted(): boolean;
  /** The JSON form, for a model manifest. */
  toJSON(): CalibratorJSON;
}

abstract class BaseCalibrator implements Calibrator {
  abstract readonly kind: CalibratorJSON['kind'];
  abstract fit(scores: Numbers, labels: Numbers, weights?: Numbers): Calibrator;
  abstract applyOne(score: number): number;
  abstract isFitted(): boolean;
  abstract toJSON(): CalibratorJSON;

  apply<T extends Float32Array | Float64Array = Float32Array>(scores: Numbers, out?: T): T {
    ensure(this.isFitted(), 'E_STATE', () => `${this.kind} calibrator: call fit() before apply()`);
    const n = scores.length;
    const target = (out ?? new Float32Array(n)) as T;
    ensure(target.length >= n, 'E_INPUT', () => `out holds ${target.length} values but ${n} scores were given`);
    for (let i = 0; i < n; i++) target[i] = this.applyOne(scores[i] as number);
    return target;
  }
}

/** Options for {@link createPlattCalibrator}.
 *
 * @example
 * ```ts
 * import type { PlattOptions } from '@ctrkit/core';
 * const options: PlattOptions = { input: 'logit', maxIterations: 50 };
 * ```
 */
export interface PlattOptions {
  /** Scores are probabilities (their logit is used; default) or raw logits. */
  readonly input?: 'probability' | 'logit';
  /** Newton iterations at most (default 100). */
  readonly maxIterations?: number;
}

const LOGIT_CLIP = 1e-7;

function logit(p: number): number {
  const q = p < LOGIT_CLIP ? LOGIT_CLIP : p > 1 - LOGIT_CLIP ? 1 - LOGIT_CLIP : p;
  return Math.log(q / (1 - q));
}

function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

class PlattCalibrator extends BaseCalibrator {
  readonly kind = 'platt' as const;
  private a = Number.NaN;
  private b = Number.NaN;

  constructor(
    private readonly input: 'probability' | 'logit',
    private readonly maxIterations: number,
    fitted?: { a: number; b: number },
  ) {
    super();
    if (fitted) {
      this.a = fitted.a;
      this.b = fitted.b;
    }
  }

  fit(scores: Numbers, labels: Numbers, weights?: Numbers): Calibrator {
    const n = checkScoredRows('platt.fit', labels, scores, weights, this.input === 'probability' ? 'probability' : 'finite');
    const f = new Float64Array(n);
    for (let i = 0; i < n; i++) f[i] = this.input === 'probability' ? logit(scores[i] as number) : (scores[i] as number);
    let positives = 0;
    let negatives = 0;
    for (let i = 0; i < n; i++) {
      const w = weights === undefined ? 1 : (weights[i] as number);
      if (labels[i] === 1) positives += w;
      else negatives += w;
    }
    // Platt's smoothed targets keep the optimum finite even on separable data.
    const hiTarget = (positives + 1) / (positives + 2);
    const loTarget = 1 / (negatives + 2);
    const t = new Float64Array(n);
    for (let i = 0; i < n; i++) t[i] = labels[i] === 1 ? hiTarget : loTarget;
    // Newton's method with backtracking line search (Lin, Lin & Weng, 2007), in the
    // parameterisation p = sigmoid(a·f + b).
    let a = 0;
    let b = Math.log((positives + 1) / (negatives + 1));
    const sigma = 1e-12;
    const objective = (pa: number, pb: number): number => {
      let value = 0;
      for (let i = 0; i < n; i++) {
        const w = weights === undefined ? 1 : (weights[i] as number);
        const z = pa * (f[i] as number) + pb;
        // −[t·log σ(z) + (1−t)·log(1−σ(z))] = log(1+e^z) − t·z, computed stably.
        const softplus = z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
        value += w * (softplus - (t[i] as number) * z);
      }
      return value;
    };
    let current = objective(a, b);
    for (let iteration = 0; iteration < this.maxIterations; iteration++) {
      let gA = 0;
      let gB = 0;
      let hAA = sigma;
      let hBB = sigma;
      let hAB = 0;
      for (let i = 0; i < n; i++) {
        const w = weights === undefined ? 1 : (weights[i] as number);
        const fi = f[i] as number;
        const p = sigmoid(a * fi + b);
        const d1 = w * (p - (t[i] as number));
        const d2 = w * p * (1 - p);
        gA += d1 * fi;
        gB += d1;
        hAA += d2 * fi * fi;
        hBB += d2;
        hAB += d2 * fi;
      }
      if (Math.abs(gA) < 1e-9 && Math.abs(gB) < 1e-9) break;
      const det = hAA * hBB - hAB * hAB;
      const dA = -(hBB * gA - hAB * gB) / det;
      const dB = -(-hAB * gA + hAA * gB) / det;
      const slope = gA * dA + gB * dB;
      let step = 1;
      let improved = false;
      while (step >= 1e-10) {
        const candidate = objective(a + step * dA, b + step * dB);
        if (candidate < current + 1e-4 * step * slope) {
          a += step * dA;
          b += step * dB;
          current = candidate;
          improved = true;
          break;
        }
        step /= 2;
      }
      if (!improved) break;
    }
    ensure(Number.isFinite(a) && Number.isFinite(b), 'E_INPUT', () => 'platt.fit diverged; check the scores');
    this.a = a;
    this.b = b;
    return this;
  }

  applyOne(score: number): number {
    const f = this.input === 'probability' ? logit(score) : score;
    return sigmoid(this.a * f + this.b);
  }

  isFitted(): boolean {
    return Number.isFinite(this.a);
  }

  toJSON(): CalibratorJSON {
    ensure(this.isFitted(), 'E_STATE', () => 'platt calibrator: call fit() before toJSON()');
    return { kind: 'platt', a: this.a, b: this.b, input: this.input };
  }
}

/**
 * Creates an unfitted Platt-scaling calibrator: p = σ(a·f + b), with f the score's logit (or the
 * score itself for `input: 'logit'`), fitted by Newton's method on Platt's smoothed targets.
 *
 * @param options - Input kind and iteration cap.
 * @returns A calibrator to `fit`.
 * @example
 * ```ts
 * import { createPlattCalibrator } from '@ctrkit/core';
 * const platt = createPlattCalibrator().fit([0.2, 0.3, 0.7, 0.8], [0, 1, 0, 1]);
 * console.log(platt.applyOne(0.5) > 0 && platt.applyOne(0.5) < 1); // true
 * ```
 */
export function createPlattCalibrator(options: PlattOptions = {}): Calibrator {
  const { input = 'probability', maxIterations = 100 } = options;
  ensure(
    Number.isInteger(maxIterations) && maxIterations > 0,
    'E_CONFIG',
    () => `maxIterations must be a positive integer, got ${maxIterations}`,
  );
  return new PlattCalibrator(input, maxIterations);
}

/**
 * Pool-adjacent-violators: the least-squares non-decreasing (or non-increasing) fit to `y` in the
 * given order, with optional weights. scikit-learn's `isotonic_regression` computes the same.
 *
 * @param y - Values in their x order.
 * @param weights - Optional positive weight per value.
 * @param increasing - Fit a non-decreasing sequence (default) or a non-increasing one.
 * @returns The fitted values, one per input.
 * @throws {@link CtrkitError} `E_INPUT` on an empty or non-finite input or mismatched weights.
 * @remarks O(n) time.
 * @example
 * ```ts
 * import { isotonicRegression } from '@ctrkit/core';
 * const fitted = isotonicRegression([5, 3, 1, 2, 8, 10, 7, 9, 6, 4]);
 * console.log(Array.from(fitted, (v) => v.toFixed(2)).join(' '));
 * // 2.75 2.75 2.75 2.75 7.33 7.33 7.33 7.33 7.33 7.33
 * ```
 */
export function isotonicRegression(y: Numbers, weights?: Numbers, increasing = true): Float64Array {
  const n = y.length;
  ensure(n > 0, 'E_INPUT', () => 'isotonicRegression: y is empty');
  ensure(weights === undefined || weights.length === n, 'E_INPUT', () => 'isotonicRegression: weights length differs from y');
  const sign = increasing ? 1 : -1;
  // Blocks on a stack: mean, weight and start index.
  const means = new Float64Array(n);
  const blockWeights = new Float64Array(n);
  const starts = new Int32Array(n);
  let blocks = 0;
  for (let i = 0; i < n; i++) {
    const value = sign * (y[i] as number);
    const w = weights === undefined ? 1 : (weights[i] as number);
    ensure(Number.isFinite(value) && Number.isFinite(w) && w >= 0, 'E_INPUT', () => `isotonicRegression: row ${i} is not finite`);
    let mean = value;
    let weight = w;
    let start = i;
    while (blocks > 0 && (means[blocks - 1] as number) >= mean) {
      const previousWeight = blockWeights[blocks - 1] as number;
      const total = previousWeight + weight;
      mean = total > 0 ? ((means[blocks - 1] as number) * previousWeight + mean * weight) / total : mean;
      weight = total;
      start = starts[blocks - 1] as number;
      blocks--;
    }
    means[blocks] = mean;
    blockWeights[blocks] = weight;
    starts[blocks] = start;
    blocks++;
  }
  const out = new Float64Array(n);
  for (let b = 0; b < blocks; b++) {
    const end = b + 1 < blocks ? (starts[b + 1] as number) : n;
    out.fill(sign * (means[b] as number), starts[b] as number, end);
  }
  return out;
}

class IsotonicCalibrator extends BaseCalibrator {
  readonly kind = 'isotonic' as const;
  private x: Float64Array = new Float64Array(0);
  private y: Float64Array = new Float64Array(0);

  constructor(fitted?: { x: Float64Array; y: Float64Array }) {
    super();
    if (fitted) {
      this.x = fitted.x;
      this.y = fitted.y;
    }
  }

  fit(scores: Numbers, labels: Numbers, weights?: Numbers): Calibrator {
    const n = checkScoredRows('isotonic.fit', labels, scores, weights, 'finite');
    const order = argsort(scores);
    // Merge rows with equal scores first (weighted mean label), as scikit-learn does.
    const ux = new Float64Array(n);
    const uy = new Float64Array(n);
    const uw = new Float64Array(n);
    let m = 0;
    for (let k = 0; k < n; k++) {
      const index = order[k] as number;
      const s = scores[index] as number;
      const w = weights === undefined ? 1 : (weights[index] as number);
      const label = labels[index] as number;
      if (m > 0 && ux[m - 1] === s) {
        uy[m - 1] = (uy[m - 1] as number) + w * label;
        uw[m - 1] = (uw[m - 1] as number) + w;
      } else {
        ux[m] = s;
        uy[m] = w * label;
        uw[m] = w;
        m++;
      }
    }
    let kept = 0;
    for (let i = 0; i < m; i++) {
      const w = uw[i] as number;
      if (w <= 0) continue;
      ux[kept] = ux[i] as number;
      uy[kept] = (uy[i] as number) / w;
      uw[kept] = w;
      kept++;
    }
    ensure(kept > 0, 'E_INPUT', () => 'isotonic.fit: every weight is zero');
    const fitted = isotonicRegression(uy.subarray(0, kept), uw.subarray(0, kept));
    // Keep only the ends of each constant run: interpolation between them is the same function.
    const keepX: number[] = [];
    const keepY: number[] = [];
    for (let i = 0; i < kept; i++) {
      const value = fitted[i] as number;
      const interior = i > 0 && i < kept - 1 && fitted[i - 1] === value && fitted[i + 1] === value;
      if (!interior) {
        keepX.push(ux[i] as number);
        keepY.push(Math.min(1, Math.max(0, value)));
      }
    }
    this.x = Float64Array.from(keepX);
    this.y = Float64Array.from(keepY);
    return this;
  }

  applyOne(score: number): number {
    const x = this.x;
    const y = this.y;
    const last = x.length - 1;
    if (score !== score) return Number.NaN;
    if (score <= (x[0] as number)) return y[0] as number;
    if (score >= (x[last] as number)) return y[last] as number;
    let lo = 0;
    let hi = last;
    while (hi - lo > 1) {
      const mid = (lo + hi) >>> 1;
      if ((x[mid] as number) <= score) lo = mid;
      else hi = mid;
    }
    const x0 = x[lo] as number;
    const x1 = x[hi] as number;
    const y0 = y[lo] as number;
    return y0 + ((score - x0) * ((y[hi] as number) - y0)) / (x1 - x0);
  }

  isFitted(): boolean {
    return this.x.length > 0;
  }

  toJSON(): CalibratorJSON {
    ensure(this.isFitted(), 'E_STATE', () => 'isotonic calibrator: call fit() before toJSON()');
    return { kind: 'isotonic', x: Array.from(this.x), y: Array.from(this.y) };
  }
}

/**
 * Creates an unfitted isotonic-regression calibrator: a non-decreasing step function fitted by
 * pool-adjacent-violators (weighted), linearly interpolated between steps, clamped outside the
 * fitted range, with outputs in [0, 1].
 *
 * @returns A calibrator to `fit`.
 * @example
 * ```ts
 * import { createIsotonicCalibrator } from '@ctrkit/core';
 * const iso = createIsotonicCalibrator().fit([0.1, 0.2, 0.3, 0.4], [0, 1, 0, 1]);
 * console.log(iso.applyOne(0.05), iso.applyOne(0.4)); // 0 1
 * ```
 */
export function createIsotonicCalibrator(): Calibrator {
  return new IsotonicCalibrator();
}

class DownsamplingCorrection extends BaseCalibrator {
  readonly kind = 'downsampling' as const;
  constructor(private readonly negativeRate: number) {
    super();
  }
  fit(): Calibrator {
    return this;
  }
  applyOne(p: number): number {
    return p / (p + (1 - p) / this.negativeRate);
  }
  isFitted(): boolean {
    return true;
  }
  toJSON(): CalibratorJSON {
    return { kind: 'downsampling', negativeRate: this.negativeRate };
  }
}

/**
 * The correction for negative downsampling: a model trained on all clicks and a fraction `w` of
 * non-clicks predicts p; the true rate is q = p / (p + (1 − p) / w). Needs no fitting.
 *
 * @param negativeRate - The fraction of negatives kept in training, in (0, 1].
 * @returns A calibrator (its `fit` does nothing).
 * @throws {@link CtrkitError} `E_CONFIG` when the rate is not in (0, 1].
 * @example
 * ```ts
 * import { createDownsamplingCorrection } from '@ctrkit/core';
 * const correction = createDownsamplingCorrection(0.1);
 * console.log(correction.applyOne(0.5).toFixed(4)); // 0.0909
 * ```
 */
export function createDownsamplingCorrection(negativeRate: number): Calibrator {
  ensure(
    Number.isFinite(negativeRate) && negativeRate > 0 && negativeRate <= 1,
    'E_CONFIG',
    () => `negativeRate must be in (0, 1], got ${negativeRate}`,
  );
  return new DownsamplingCorrection(negativeRate);
}

class IdentityCalibrator extends BaseCalibrator {
  readonly kind = 'identity' as const;
  fit(): Calibrator {
    return this;
  }
  applyOne(p: number): number {
    return p;
  }
  isFitted(): boolean {
    return true;
  }
  toJSON(): CalibratorJSON {
    return { kind: 'identity' };
  }
}

/**
 * A calibrator that returns scores unchanged: the default when a model needs none.
 *
 * @returns The identity calibrator.
 * @example
 * ```ts
 * import { createIdentityCalibrator } from '@ctrkit/core';
 * console.log(createIdentityCalibrator().applyOne(0.3)); // 0.3
 * ```
 */
export function createIdentityCalibrator(): Calibrator {
  return new IdentityCalibrator();
}

class ChainCalibrator extends BaseCalibrator {
  readonly kind = 'chain' as const;
  constructor(private readonly steps: readonly Calibrator[]) {
    super();
  }
  fit(scores: Numbers, labels: Numbers, weights?: Numbers): Calibrator {
    let current: Numbers = scores;
    for (const step of this.steps) {
      step.fit(current, labels, weights);
      current = step.apply(current, new Float64Array(current.length));
    }
    return this;
  }
  applyOne(score: number): number {
    let value = score;
    for (const step of this.steps) value = step.applyOne(value);
    return value;
  }
  isFitted(): boolean {
    return this.steps.every((step) => step.isFitted());
  }
  toJSON(): CalibratorJSON {
    return { kind: 'chain', steps: this.steps.map((step) => step.toJSON()) };
  }
}

/**
 * Chains calibrators: each applies to the previous one's output. `fit` fits them in order, each
 * on the output of those before it (fit a downsampling correction first, then isotonic).
 *
 * @param steps - The calibrators, first applied first.
 * @returns The chain.
 * @throws {@link CtrkitError} `E_CONFIG` when `steps` is empty.
 * @example
 * ```ts
 * import { chainCalibrators, createDownsamplingCorrection, createPlattCalibrator } from '@ctrkit/core';
 * const chain = chainCalibrators([createDownsamplingCorrection(0.5), createPlattCalibrator()]);
 * chain.fit([0.2, 0.4, 0.6, 0.8], [0, 0, 1, 1]);
 * ```
 */
export function chainCalibrators(steps: readonly Calibrator[]): Calibrator {
  ensure(steps.length > 0, 'E_CONFIG', () => 'chainCalibrators needs at least one step');
  return new ChainCalibrator([...steps]);
}

function finiteArray(value: unknown, what: string): Float64Array {
  if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    throw new CtrkitError('E_INPUT', `calibrator JSON: ${what} must be a non-empty array of finite numbers`);
  }
  return Float64Array.from(value as number[]);
}

/**
 * Rebuilds a calibrator from its JSON form (as stored in a model manifest), validating it.
 *
 * @param json - What `toJSON()` returned, possibly parsed from a file.
 * @returns A fitted calibrator.
 * @throws {@link CtrkitError} `E_INPUT` when the JSON is malformed: unknown kind, non-finite or
 * unsorted isotonic points, a downsampling rate outside (0, 1].
 * @example
 * ```ts
 * import { calibratorFromJSON } from '@ctrkit/core';
 * const calibrator = calibratorFromJSON({ kind: 'platt', a: 1, b: 0, input: 'logit' });
 * console.log(calibrator.applyOne(0)); // 0.5
 * ```
 */
export function calibratorFromJSON(json: unknown): Calibrator {
  if (typeof json !== 'object' || json === null) throw new CtrkitError('E_INPUT', 'calibrator JSON must be an object');
  const value = json as Record<string, unknown>;
  switch (value.kind) {
    case 'identity':
      return new IdentityCalibrator();
    case 'platt': {
      const { a, b, input } = value;
      if (typeof a !== 'number' || typeof b !== 'number' || !Number.isFinite(a) || !Number.isFinite(b)) {
        throw new CtrkitError('E_INPUT', 'platt calibrator JSON: a and b must be finite numbers');
      }
      if (input !== 'probability' && input !== 'logit') {
        throw new CtrkitError('E_INPUT', `platt calibrator JSON: input must be "probability" or "logit", got ${String(input)}`);
      }
      return new PlattCalibrator(input, 100, { a, b });
    }
    case 'isotonic': {
      const x = finiteArray(value.x, 'x');
      const y = finiteArray(value.y, 'y');
      if (x.length !== y.length) throw new CtrkitError('E_INPUT', 'isotonic calibrator JSON: x and y differ in length');
      for (let i = 1; i < x.length; i++) {
        if (!((x[i] as number) > (x[i - 1] as number)) || (y[i] as number) < (y[i - 1] as number)) {
          throw new CtrkitError('E_INPUT', `isotonic calibrator JSON: points must increase in x and not decrease in y (at ${i})`);
        }
      }
      return new IsotonicCalibrator({ x, y });
    }
    case 'downsampling': {
      const rate = value.negativeRate;
      if (typeof rate !== 'number' || !(rate > 0 && rate <= 1)) {
        throw new CtrkitError('E_INPUT', `downsampling calibrator JSON: negativeRate must be in (0, 1], got ${String(rate)}`);
      }
      return new DownsamplingCorrection(rate);
    }
    case 'chain': {
      if (!Array.isArray(value.steps) || value.steps.length === 0) {
        throw new CtrkitError('E_INPUT', 'chain calibrator JSON: steps must be a non-empty array');
      }
      return new ChainCalibrator(value.steps.map((step) => calibratorFromJSON(step)));
    }
    default:
      throw new CtrkitError(
        'E_INPUT',
        `calibrator JSON: unknown kind ${JSON.stringify(value.kind)}; expected identity, platt, isotonic, downsampling or chain`,
      );
  }
}
