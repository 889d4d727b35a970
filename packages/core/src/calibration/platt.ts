/**
 * Platt scaling: p = σ(a·f + b) on the score's logit, fitted by Newton's method with a
 * backtracking line search on Platt's smoothed targets.
 */
import { ensure } from '../errors.js';
import type { Numbers } from '../metrics/numbers.js';
import { checkScoredRows } from '../validate.js';
import { BaseCalibrator, type Calibrator, type CalibratorJSON } from './calibrator.js';

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

/**
 * Platt scaling, fitted or not; {@link calibratorFromJSON} builds a fitted one.
 *
 * @internal
 */
export class PlattCalibrator extends BaseCalibrator {
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
    // parameterization p = sigmoid(a·f + b).
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
