/**
 * The native runner: LR and FM logits computed in TypeScript from weights held in memory, with
 * weights swapped in place between calls (see ./types.ts for the interface).
 */
import { CtrkitError, type FeatureBatch, type ModelInfo } from '@ctrkit/core';
import { BatchChecker, checkLayout, expectationFromLayout, type BatchExpectation } from '../batch-check.js';
import { Lifecycle } from '../runner/lifecycle.js';
import { outputFor } from '../runner/output-buffer.js';
import { sigmoid } from '../runner/sigmoid.js';
import { checkWeights } from '../weights.js';
import type { NativeRunner, NativeRunnerOptions, NativeWeights, UpdateWeightsOptions } from './types.js';

function shapeCheck(expected: BatchExpectation, weights: NativeWeights, kind: NativeWeights['kind']): void {
  if (typeof weights !== 'object' || weights === null || (weights.kind !== 'lr' && weights.kind !== 'fm')) {
    throw new CtrkitError('E_INPUT', 'the native runner scores lr or fm weights only');
  }
  if (weights.kind !== kind) throw new CtrkitError('E_INPUT', `this native runner scores ${kind} weights; got ${weights.kind} (create a new runner to change architecture)`);
  const dense = expected.denseWidth ?? 0;
  const ok =
    weights.idSpace === expected.idSpace &&
    weights.denseWidth === dense &&
    weights.ids instanceof Float32Array &&
    weights.ids.length === expected.idSpace &&
    weights.dense instanceof Float32Array &&
    weights.dense.length === dense &&
    typeof weights.bias === 'number' &&
    Number.isFinite(weights.bias) &&
    (weights.kind === 'lr' ||
      (Number.isInteger(weights.dim) &&
        weights.dim > 0 &&
        weights.idFactors instanceof Float32Array &&
        weights.idFactors.length === expected.idSpace * weights.dim &&
        weights.denseFactors instanceof Float32Array &&
        weights.denseFactors.length === dense * weights.dim));
  if (!ok) {
    throw new CtrkitError(
      'E_INPUT',
      `${weights.kind} weights do not fit the runner's layout (idSpace ${expected.idSpace}, denseWidth ${dense}); check array lengths with checkWeights(layout, weights)`,
    );
  }
}

/**
 * Adds one feature's factor row `factors[row .. row + k)`, scaled by its value `x`, to FM's
 * per-factor sums and sums of squares; the pairwise term is then ½·Σ_f (sums² − squares), O(k) a
 * feature instead of O(k) a pair. Categorical ids and dense columns both go through here (V8
 * inlines it: small and monomorphic, so the loop costs what the two copies it replaced did).
 */
function addFactors(sums: Float64Array, squares: Float64Array, factors: Float32Array, row: number, x: number, k: number): void {
  for (let f = 0; f < k; f++) {
    const t = x * (factors[row + f] as number);
    sums[f] = (sums[f] as number) + t;
    squares[f] = (squares[f] as number) + t * t;
  }
}

/** @internal The native runner; also built by the native backend from an ONNX file's initializers. */
export class NativeRunnerImpl implements NativeRunner {
  private current: NativeWeights;
  private version: string;
  private readonly checker: BatchChecker;
  private readonly lifecycle = new Lifecycle(() => `native ${this.current.kind} runner`);
  /** FM's per-row accumulators, reused by every call (scoring is synchronous, so never shared). */
  private sums = new Float64Array(0);
  private squares = new Float64Array(0);

  constructor(
    private readonly expected: BatchExpectation,
    weights: NativeWeights,
    version: string,
  ) {
    shapeCheck(expected, weights, weights?.kind);
    this.current = weights;
    this.version = version;
    this.checker = new BatchChecker(expected);
    this.prepare(weights);
  }

  get info(): ModelInfo {
    return { architecture: this.current.kind, version: this.version, backend: 'native', provider: 'js', fingerprint: this.expected.fingerprint };
  }

  get weights(): NativeWeights {
    return this.current;
  }

  private prepare(weights: NativeWeights): void {
    if (weights.kind === 'fm' && this.sums.length !== weights.dim) {
      this.sums = new Float64Array(weights.dim);
      this.squares = new Float64Array(weights.dim);
    }
  }

  updateWeights(weights: NativeWeights, options: UpdateWeightsOptions = {}): void {
    if (this.lifecycle.isDisposed) throw new CtrkitError('E_STATE', 'native runner was disposed; create a new one');
    shapeCheck(this.expected, weights, this.current.kind);
    if (options.checkValues !== false) {
      const layoutLike = {
        fingerprint: this.expected.fingerprint,
        idSpace: this.expected.idSpace,
        idWidth: this.expected.idWidth ?? 0,
        fields: [],
        denseWidth: this.expected.denseWidth ?? 0,
        denseNames: [],
        sequences: [],
      };
      checkWeights(layoutLike, weights);
    }
    this.prepare(weights);
    // One reference assignment: calls are synchronous, so each sees the old or the new weights whole.
    this.current = weights;
    if (options.version !== undefined) this.version = options.version;
  }

  async predict(batch: FeatureBatch, out?: Float32Array): Promise<Float32Array> {
    return this.predictSync(batch, out);
  }

  predictSync(batch: FeatureBatch, out?: Float32Array): Float32Array {
    const target = this.logitsSync(batch, out);
    for (let r = 0; r < target.length; r++) target[r] = sigmoid(target[r] as number);
    return target;
  }

  logitsSync(batch: FeatureBatch, out?: Float32Array): Float32Array {
    this.lifecycle.enter();
    try {
      this.checker.check(batch);
      const target = outputFor(out, batch.rows);
      const weights = this.current;
      if (weights.kind === 'lr') this.lrLogits(batch, weights.bias, weights.ids, weights.dense, target);
      else this.fmLogits(batch, weights.bias, weights.ids, weights.dense, weights.idFactors, weights.denseFactors, weights.dim, target);
      return target;
    } finally {
      this.lifecycle.exit();
    }
  }

  private lrLogits(batch: FeatureBatch, bias: number, w: Float32Array, wDense: Float32Array, out: Float32Array): void {
    const { ids, values, dense, rows } = batch;
    const width = batch.layout.idWidth;
    const denseWidth = wDense.length;
    for (let r = 0; r < rows; r++) {
      let s = bias;
      const base = r * width;
      for (let c = 0; c < width; c++) s += (values[base + c] as number) * (w[ids[base + c] as number] as number);
      const dBase = r * denseWidth;
      for (let d = 0; d < denseWidth; d++) s += (dense[dBase + d] as number) * (wDense[d] as number);
      out[r] = s;
    }
  }

  private fmLogits(
    batch: FeatureBatch,
    bias: number,
    w: Float32Array,
    wDense: Float32Array,
    factors: Float32Array,
    denseFactors: Float32Array,
    k: number,
    out: Float32Array,
  ): void {
    const { ids, values, dense, rows } = batch;
    const width = batch.layout.idWidth;
    const denseWidth = wDense.length;
    const sums = this.sums;
    const squares = this.squares;
    for (let r = 0; r < rows; r++) {
      sums.fill(0);
      squares.fill(0);
      let s = bias;
      const base = r * width;
      for (let c = 0; c < width; c++) {
        const x = values[base + c] as number;
        const id = ids[base + c] as number;
        s += x * (w[id] as number);
        addFactors(sums, squares, factors, id * k, x, k);
      }
      const dBase = r * denseWidth;
      for (let d = 0; d < denseWidth; d++) {
        const x = dense[dBase + d] as number;
        s += x * (wDense[d] as number);
        addFactors(sums, squares, denseFactors, d * k, x, k);
      }
      let pairs = 0;
      for (let f = 0; f < k; f++) pairs += (sums[f] as number) * (sums[f] as number) - (squares[f] as number);
      out[r] = s + 0.5 * pairs;
    }
  }

  dispose(): Promise<void> {
    return this.lifecycle.dispose(() => undefined);
  }
}

/**
 * Creates a native runner over LR or FM weights.
 *
 * @param options - Layout, weights and version.
 * @returns A {@link NativeRunner}.
 * @throws `CtrkitError` `E_CONFIG` on an inconsistent layout; `E_INPUT` on weights that do not fit it.
 * @remarks Allocates nothing per call when `out` is given. Cost per row: O(idWidth + denseWidth) for LR, O((idWidth + denseWidth)·k) for FM.
 * @example
 * ```ts
 * import { createNativeRunner, initFmWeights } from '@ctrkit/models';
 * import type { FeatureBatch, FeatureLayout } from '@ctrkit/core';
 * declare const layout: FeatureLayout;
 * declare const batch: FeatureBatch;
 * const runner = createNativeRunner({ layout, weights: initFmWeights(layout, { dim: 8 }) });
 * const probabilities = await runner.predict(batch, new Float32Array(batch.rows));
 * ```
 */
export function createNativeRunner(options: NativeRunnerOptions): NativeRunner {
  checkLayout(options.layout);
  checkWeights(options.layout, options.weights);
  return new NativeRunnerImpl(expectationFromLayout(options.layout, ['ids', 'values', 'dense']), options.weights, options.version ?? 'native');
}
