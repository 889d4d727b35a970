/**
 * Hot swap: a new model version loads and warms up beside the serving one, then takes over in one
 * reference assignment. Calls already running finish on the old version, which is disposed once
 * they have.
 */
import { createIdentityCalibrator, CtrkitError, type Calibrator, type FeatureBatch, type ModelInfo, type ModelRunner } from '@ctrkit/core';
import type { LoadedModel } from './load.js';
import type { ModelManifest } from './manifest.js';
import { outputFor } from './runner/output-buffer.js';

/** One servable model version: its runner and the calibrator that belongs to it.
 *
 * @example
 * ```ts
 * import { createIdentityCalibrator } from '@ctrkit/core';
 * import type { ModelVersion } from '@ctrkit/models';
 * import type { ModelRunner } from '@ctrkit/core';
 * declare const runner: ModelRunner;
 * const version: ModelVersion = { runner, calibrator: createIdentityCalibrator() };
 * ```
 */
export interface ModelVersion {
  /** The runner. */
  readonly runner: ModelRunner;
  /** Its calibrator. */
  readonly calibrator: Calibrator;
  /** Its manifest, when loaded from one. */
  readonly manifest?: ModelManifest;
}

/** What {@link HotSwapRunner.swap} accepts: a runner, a loaded model, or a function that loads one.
 *
 * @example
 * ```ts
 * import type { SwapSource } from '@ctrkit/models';
 * import { loadModel } from '@ctrkit/models/node';
 * import type { FeatureLayout } from '@ctrkit/core';
 * declare const layout: FeatureLayout;
 * const next: SwapSource = () => loadModel('./models/dcnv2/4', { expect: layout });
 * ```
 */
export type SwapSource = ModelRunner | LoadedModel | ModelVersion | (() => Promise<ModelRunner | LoadedModel | ModelVersion>);

/** Options of {@link HotSwapRunner.swap}.
 *
 * @example
 * ```ts
 * import type { SwapOptions } from '@ctrkit/models';
 * import type { FeatureBatch } from '@ctrkit/core';
 * declare const recent: FeatureBatch;
 * const options: SwapOptions = { warmup: recent };
 * ```
 */
export interface SwapOptions {
  /** A batch the new version must score (all probabilities in [0, 1]) before it takes over. */
  readonly warmup?: FeatureBatch;
  /** Accept a version trained on another feature spec (default false: refused). */
  readonly allowFingerprintChange?: boolean;
  /**
   * Hand the version that was serving back to the caller instead of disposing it (default false):
   * it comes back as {@link SwapResult.retained}, and the caller owns it — swaps it in again to
   * roll back, or disposes it. Calls already running on it finish normally; dispose it only once
   * they have (a version kept for rollback is disposed a whole swap later).
   */
  readonly keepPrevious?: boolean;
}

/** What a swap did.
 *
 * @example
 * ```ts
 * import type { SwapResult } from '@ctrkit/models';
 * const log = (r: SwapResult) => console.log(`${r.previous.version} → ${r.current.version}`);
 * ```
 */
export interface SwapResult {
  /** The version that was serving. */
  readonly previous: ModelInfo;
  /** The version serving now. */
  readonly current: ModelInfo;
  /** The version that was serving, when the swap was asked to keep it (`keepPrevious`); the caller owns it. */
  readonly retained?: ModelVersion;
}

/** A runner whose model can be replaced while it serves.
 *
 * @example
 * ```ts
 * import type { HotSwapRunner } from '@ctrkit/models';
 * import { loadModel } from '@ctrkit/models/node';
 * import type { FeatureLayout } from '@ctrkit/core';
 * declare const hot: HotSwapRunner;
 * declare const layout: FeatureLayout;
 * await hot.swap(() => loadModel('./models/dcnv2/4', { expect: layout }));
 * ```
 */
export interface HotSwapRunner extends ModelRunner {
  /** The version serving now. */
  readonly active: ModelVersion;
  /**
   * Loads (if given a function), checks and warms up the next version beside the active one, then
   * makes it active. On any failure the active version keeps serving, the candidate is disposed,
   * and the promise rejects. Swaps run one at a time.
   */
  swap(next: SwapSource, options?: SwapOptions): Promise<SwapResult>;
  /** Scores with the active version and applies that same version's calibrator. */
  predictCalibrated(batch: FeatureBatch, out?: Float32Array): Promise<Float32Array>;
}

function toVersion(value: ModelRunner | LoadedModel | ModelVersion): ModelVersion {
  if (typeof value !== 'object' || value === null) throw new CtrkitError('E_CONFIG', 'swap needs a ModelRunner, a LoadedModel or a function returning one');
  if ('runner' in value) {
    const v = value as ModelVersion;
    return { runner: v.runner, calibrator: v.calibrator ?? createIdentityCalibrator(), ...(v.manifest === undefined ? {} : { manifest: v.manifest }) };
  }
  if (typeof (value as ModelRunner).predict === 'function') return { runner: value as ModelRunner, calibrator: createIdentityCalibrator() };
  throw new CtrkitError('E_CONFIG', 'swap needs a ModelRunner, a LoadedModel or a function returning one');
}

class HotSwap implements HotSwapRunner {
  private current: ModelVersion;
  private readonly inflight = new Map<ModelVersion, number>();
  private readonly retired = new Set<ModelVersion>();
  private swapping: Promise<unknown> = Promise.resolve();
  private disposed = false;

  constructor(initial: ModelVersion) {
    this.current = initial;
  }

  get active(): ModelVersion {
    return this.current;
  }

  get info(): ModelInfo {
    return this.current.runner.info;
  }

  private enter(): ModelVersion {
    if (this.disposed) throw new CtrkitError('E_STATE', 'hot-swap runner was disposed');
    const version = this.current;
    this.inflight.set(version, (this.inflight.get(version) ?? 0) + 1);
    return version;
  }

  private exit(version: ModelVersion): void {
    const left = (this.inflight.get(version) ?? 1) - 1;
    if (left > 0) {
      this.inflight.set(version, left);
      return;
    }
    this.inflight.delete(version);
    if (this.retired.has(version)) this.release(version);
  }

  private release(version: ModelVersion): void {
    this.retired.delete(version);
    version.runner.dispose().catch(() => undefined);
  }

  async predict(batch: FeatureBatch, out?: Float32Array): Promise<Float32Array> {
    const version = this.enter();
    try {
      return await version.runner.predict(batch, out);
    } finally {
      this.exit(version);
    }
  }

  async predictCalibrated(batch: FeatureBatch, out?: Float32Array): Promise<Float32Array> {
    const version = this.enter();
    try {
      const raw = await version.runner.predict(batch, out === undefined ? undefined : outputFor(out, batch.rows));
      return version.calibrator.apply(raw, raw);
    } finally {
      this.exit(version);
    }
  }

  swap(next: SwapSource, options: SwapOptions = {}): Promise<SwapResult> {
    const run = this.swapping.then(() => this.swapNow(next, options));
    this.swapping = run.catch(() => undefined);
    return run;
  }

  private async swapNow(next: SwapSource, options: SwapOptions): Promise<SwapResult> {
    if (this.disposed) throw new CtrkitError('E_STATE', 'hot-swap runner was disposed');
    const candidate = toVersion(typeof next === 'function' ? await next() : next);
    const previous = this.current;
    // Checked before the try: its cleanup disposes the candidate, which here is the active runner.
    if (candidate.runner === previous.runner) throw new CtrkitError('E_CONFIG', 'swap was given the runner that is already active');
    try {
      if (!options.allowFingerprintChange && candidate.runner.info.fingerprint !== previous.runner.info.fingerprint) {
        throw new CtrkitError(
          'E_MODEL_LOAD',
          `new model was trained on feature spec ${candidate.runner.info.fingerprint} but the serving one (and so the encoder) uses ${previous.runner.info.fingerprint}; swap the encoder first, or pass allowFingerprintChange`,
        );
      }
      if (options.warmup !== undefined) {
        try {
          await candidate.runner.predict(options.warmup);
        } catch (error) {
          throw new CtrkitError('E_MODEL_LOAD', `new model failed its warm-up batch, so the serving one stays: ${(error as Error).message}`, { cause: error });
        }
      }
      if (this.disposed) throw new CtrkitError('E_STATE', 'hot-swap runner was disposed during the swap');
      // The swap itself: one assignment. Calls that already took `previous` keep it until they finish.
      this.current = candidate;
      if (options.keepPrevious === true) return { previous: previous.runner.info, current: candidate.runner.info, retained: previous };
      if (this.inflight.has(previous)) this.retired.add(previous);
      else this.release(previous);
      return { previous: previous.runner.info, current: candidate.runner.info };
    } catch (error) {
      await candidate.runner.dispose().catch(() => undefined);
      throw error;
    }
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.swapping;
    const version = this.current;
    if (this.inflight.has(version)) this.retired.add(version);
    else await version.runner.dispose();
  }
}

/**
 * Creates a {@link HotSwapRunner} serving `initial`.
 *
 * @param initial - A runner, a loaded model (runner + calibrator + manifest) or a version.
 * @returns The hot-swap runner; `info` always describes the active version.
 * @throws `CtrkitError` `E_CONFIG` when `initial` is not a runner or loaded model.
 * @example
 * ```ts
 * import { createHotSwapRunner } from '@ctrkit/models';
 * import { loadModel } from '@ctrkit/models/node';
 * import type { FeatureLayout } from '@ctrkit/core';
 * declare const layout: FeatureLayout;
 * const hot = createHotSwapRunner(await loadModel('./models/dcnv2/3', { expect: layout }));
 * await hot.swap(() => loadModel('./models/dcnv2/4', { expect: layout }));
 * console.log(hot.info.version);
 * ```
 */
export function createHotSwapRunner(initial: ModelRunner | LoadedModel | ModelVersion): HotSwapRunner {
  return new HotSwap(toVersion(initial));
}
