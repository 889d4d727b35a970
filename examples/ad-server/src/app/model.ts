/**
 * The serving model: the first load (the encoder from the model's own spec, DCN-v2 through a
 * hot-swap runner, calibrated by each version's own calibrator), the warm-up, hot swaps below
 * `MODEL_ROOT`, the drift monitor's profile, and the online loop started with the first model.
 *
 * @internal
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import {
  createPredictor,
  CtrkitError,
  type AdRequest,
  type Clock,
  type FeatureBatch,
  type FeatureEncoder,
  type FeatureLayout,
  type FeatureProfile,
  type FeatureStore,
  type ModelRunner,
  type PipelineMetrics,
  type Predictor,
} from '@ctrkit/core';
import { adRequestSpec, createFeatureEncoder, type FeatureSpecJSON } from '@ctrkit/features';
import { createHotSwapRunner, type HotSwapRunner, type LoadedModel, type SwapResult } from '@ctrkit/models';
import { loadModel } from '@ctrkit/models/node';
import type { ServerConfig } from '../config.js';
import type { ServerMetrics } from '../metrics.js';
import { createOnlineLoop, type OnlineLoop } from '../online.js';
import type { World } from '../world.js';
import { describe } from './describe.js';
import type { Lifecycle } from './lifecycle.js';
import type { DriftHolder } from './monitors.js';

/** What {@link createModelHost} needs. */
export interface ModelHostDeps {
  readonly config: Pick<ServerConfig, 'modelDir' | 'modelRoot' | 'modelThreads' | 'stageBudgets' | 'online' | 'attributionWindowMs' | 'eventStream'>;
  readonly world: World;
  readonly clock: Clock;
  readonly log: FastifyBaseLogger;
  readonly store: FeatureStore;
  readonly pipeline: PipelineMetrics;
  readonly drift: DriftHolder;
  readonly metrics: Pick<ServerMetrics, 'modelSwaps'>;
  /** Moved from `starting` to `serving` once the first model is warm. */
  readonly lifecycle: Lifecycle;
  /** Logged with the first load (whether the store and ledger are in Redis). */
  readonly redis: boolean;
}

/** The model as the routes and the server see it. */
export interface ModelHost {
  /** Loads and warms the model in `MODEL_DIR` (once; later calls get the same promise). */
  ready(): Promise<void>;
  /** The predictor, once the first model is loaded and warmed. */
  predictor(): Predictor | undefined;
  /** The version serving now, undefined before the first load. */
  version(): string | undefined;
  /** Loads a model (default `MODEL_DIR` again) beside the serving one, warms it, then swaps. */
  swapModel(dir?: string): Promise<SwapResult>;
  /** The online-learning loop, once the first model is loaded (undefined when `ONLINE_LEARNING` is off). */
  online(): OnlineLoop | undefined;
  /** The hot-swap runner, the encoder's layout and the warm-up batch, once the first model is loaded (the fleet stream's model feed swaps into it). */
  serving(): { readonly hot: HotSwapRunner; readonly layout: FeatureLayout; readonly warmBatch: FeatureBatch | undefined } | undefined;
  /** Disposes of the serving runner (shutdown). */
  dispose(): Promise<void>;
}

/** The feature spec a model was trained on, from its manifest's `config.spec` (ctrkit's ad-request spec when absent). */
export async function specOf(dir: string): Promise<FeatureSpecJSON> {
  let text: string;
  try {
    text = await readFile(path.join(dir, 'model.json'), 'utf8');
  } catch (error) {
    throw new CtrkitError('E_MODEL_LOAD', `cannot read ${path.join(dir, 'model.json')}: ${(error as Error).message}; train a model first (npm run model -w @ctrkit/example-ad-server) or set MODEL_DIR`, { cause: error });
  }
  const manifest = JSON.parse(text) as { config?: { spec?: FeatureSpecJSON } };
  return manifest.config?.spec ?? adRequestSpec();
}

/**
 * Creates the model host; nothing is loaded until {@link ModelHost.ready}.
 *
 * @param deps - Settings, catalog, clock, logger, store, monitors, lifecycle.
 * @returns The host.
 */
export function createModelHost(deps: ModelHostDeps): ModelHost {
  const { config, world, clock, log, store, pipeline, drift, metrics, lifecycle } = deps;
  const state: { encoder?: FeatureEncoder; hot?: HotSwapRunner; predictor?: Predictor; warmBatch?: FeatureBatch; readying?: Promise<void>; online?: OnlineLoop } = {};

  const loadVersion = async (dir: string): Promise<LoadedModel> => {
    if (state.encoder === undefined) throw new CtrkitError('E_STATE', 'no encoder: the first model has not loaded');
    return loadModel(dir, { expect: state.encoder.layout, backends: ['onnx-node'], intraOpThreads: config.modelThreads });
  };

  /** A banner request with every display creative, to warm the model on the shape it serves (a request scores the creatives of its formats: 100 each). */
  const warmRequest = (): AdRequest => ({
    requestId: 'warm-up',
    user: world.generator.userProfile('u-0'),
    context: { timestamp: clock.now(), publisherId: world.generator.publishers[1]?.id ?? 'pub', slots: [{ id: '1', format: 'display', position: 0 }] },
    candidates: world.catalog.filter((c) => c.format === 'display'),
  });

  async function loadFirstModel(): Promise<void> {
    const spec = await specOf(config.modelDir);
    const encoder = createFeatureEncoder(spec);
    state.encoder = encoder;
    const loaded = await loadVersion(config.modelDir);
    const hot = createHotSwapRunner(loaded);
    state.hot = hot;
    drift.use(loaded.manifest.config?.featureProfile as FeatureProfile | undefined);
    let served = 0;
    // Each call scores with the version active when it starts, calibrated by that version's own
    // calibrator; one batch in ten goes to the drift monitor.
    const runner: ModelRunner = {
      get info() {
        return hot.info;
      },
      async predict(batch, out) {
        const scores = await hot.predictCalibrated(batch, out);
        if (++served % 10 === 0) drift.observe(batch, scores);
        return scores;
      },
      dispose: () => hot.dispose(),
    };
    // With online learning the predictor hands back each request's encoded rows: a winning bid's row is kept for training.
    // With the fleet stream too: the row is published for the learner.
    const predictor = createPredictor({ encoder, store, runner, metrics: pipeline, budgets: config.stageBudgets, clock, keepBatch: config.online.enabled || config.eventStream !== undefined });
    // Warm up: JIT, onnxruntime's arenas at the served batch size, the store's scripts.
    const warm = warmRequest();
    state.warmBatch = encoder.encode(warm);
    for (let i = 0; i < 20; i++) await predictor.predict({ ...warm, requestId: `warm-up-${i}` });
    pipeline.reset();
    if (config.online.enabled) {
      state.online = createOnlineLoop({
        config: config.online,
        layout: encoder.layout,
        target: hot,
        windowMs: config.attributionWindowMs,
        clock,
        log: (line) => log.info({ serving: hot.info.version }, line),
        warn: (line) => log.warn(line),
      });
    }
    state.predictor = predictor;
    if (lifecycle.phase === 'starting') lifecycle.phase = 'serving';
    log.info({ model: hot.info.version, dir: config.modelDir, candidates: world.catalog.length, redis: deps.redis }, 'model loaded and warmed');
  }

  async function swapModel(dir?: string): Promise<SwapResult> {
    const hot = state.hot;
    if (hot === undefined || state.predictor === undefined) throw new CtrkitError('E_STATE', 'the first model has not loaded yet');
    const target = dir === undefined ? config.modelDir : path.resolve(config.modelRoot, dir);
    if (target !== config.modelRoot && !target.startsWith(config.modelRoot + path.sep)) {
      throw new CtrkitError('E_INPUT', `model directory ${target} is outside MODEL_ROOT (${config.modelRoot})`);
    }
    try {
      const result = await hot.swap(() => loadVersion(target), state.warmBatch === undefined ? {} : { warmup: state.warmBatch });
      drift.use(hot.active.manifest?.config?.featureProfile as FeatureProfile | undefined);
      metrics.modelSwaps.inc({ result: 'ok' });
      log.info({ previous: result.previous.version, current: result.current.version, dir: target }, 'model swapped');
      return result;
    } catch (error) {
      metrics.modelSwaps.inc({ result: 'refused' });
      log.warn({ dir: target, err: describe(error) }, 'model swap refused; the serving model stays');
      throw error;
    }
  }

  return {
    ready() {
      state.readying ??= loadFirstModel();
      return state.readying;
    },
    predictor: () => state.predictor,
    version: () => state.hot?.info.version,
    swapModel,
    online: () => state.online,
    serving: () => (state.hot === undefined || state.encoder === undefined ? undefined : { hot: state.hot, layout: state.encoder.layout, warmBatch: state.warmBatch }),
    async dispose() {
      await state.hot?.dispose();
    },
  };
}
