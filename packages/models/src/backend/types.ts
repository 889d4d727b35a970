/**
 * What a backend is and what the registry that picks one promises, after onnxruntime's
 * `js/common`: each platform entry registers its backends with a priority; resolution
 * initializes each backend once, skips the ones that fail, and throws one error listing every
 * cause when none can run. Interfaces only; ./registry.ts implements the registry.
 */
import type { FeatureLayout, ModelRunner } from '@ctrkit/core';
import type { ModelManifest } from '../manifest.js';

/** What a backend's one-time initialization found: the providers that work here, and why the others do not.
 *
 * @example
 * ```ts
 * import type { BackendStatus } from '@ctrkit/models';
 * const status: BackendStatus = { available: ['cpu'], unavailable: [{ provider: 'cuda', reason: 'CUDA provider library not installed' }] };
 * ```
 */
export interface BackendStatus {
  /** Providers that initialized, best first. */
  readonly available: readonly string[];
  /** Providers that did not, with the reason. */
  readonly unavailable: readonly { readonly provider: string; readonly reason: string }[];
}

/** A model handed to a backend: its ONNX bytes and its validated manifest.
 *
 * @example
 * ```ts
 * import type { ModelSource, ModelManifest } from '@ctrkit/models';
 * declare const bytes: Uint8Array;
 * declare const manifest: ModelManifest;
 * const source: ModelSource = { bytes, manifest };
 * ```
 */
export interface ModelSource {
  /** The `model.onnx` bytes. */
  readonly bytes: Uint8Array;
  /** The parsed `model.json`. */
  readonly manifest: ModelManifest;
  /** The encoder's layout, when the loader was given one. */
  readonly layout?: FeatureLayout;
}

/** Options a backend receives for one runner.
 *
 * @example
 * ```ts
 * import type { RunnerOptions } from '@ctrkit/models';
 * const options: RunnerOptions = { provider: 'cpu', intraOpThreads: 1 };
 * ```
 */
export interface RunnerOptions {
  /** The execution provider to use (one the backend reported available). */
  readonly provider: string;
  /** Threads inside one operator (default 1: the host usually runs one model per core). */
  readonly intraOpThreads?: number;
  /** Threads across operators (default 1). */
  readonly interOpThreads?: number;
  // LoadModelOptions is named in the link below, not imported: load.ts imports this module, and a
  // type import back would make a cycle (typedoc resolves the name from the package's exports).
  /**
   * Scan every id and value of every batch before running (default true). The loader passes
   * {@link LoadModelOptions.checkValues} here, whose comment says what the scan costs and what
   * skipping it gives up.
   */
  readonly checkValues?: boolean;
}

/**
 * A way to run models: `onnx-node`, `onnx-web`, `native`, or one of your own.
 *
 * @example
 * ```ts
 * import { createBackendRegistry, createNativeBackend, type Backend } from '@ctrkit/models';
 * const backend: Backend = createNativeBackend();
 * createBackendRegistry().register(backend, 10);
 * ```
 */
export interface Backend {
  /** Registry name. */
  readonly name: string;
  /** Providers it can try, best first (e.g. `['cuda', 'cpu']`). */
  readonly providers: readonly string[];
  /**
   * Loads the runtime and probes each provider. The registry calls it once; it rejects when the
   * backend cannot run here at all.
   */
  init(): Promise<BackendStatus>;
  /**
   * Creates a runner for a model on one provider. Rejects with `E_MODEL_LOAD` when the runtime
   * refuses the model, or `E_BACKEND_UNAVAILABLE` when this backend cannot run such a model.
   */
  createRunner(model: ModelSource, options: RunnerOptions): Promise<ModelRunner>;
}

/** A backend and provider that initialized, in the order a loader should try them.
 *
 * @example
 * ```ts
 * import { createBackendRegistry, createNativeBackend, resolveBackend } from '@ctrkit/models';
 * const registry = createBackendRegistry();
 * registry.register(createNativeBackend(), 10);
 * const first = await resolveBackend(['native'], registry);
 * console.log(first.backend.name, first.provider); // native js
 * ```
 */
export interface BackendCandidate {
  /** The backend. */
  readonly backend: Backend;
  /** One of its available providers. */
  readonly provider: string;
}

/** What {@link BackendRegistry.resolve} found.
 *
 * @example
 * ```ts
 * import { createBackendRegistry, createNativeBackend } from '@ctrkit/models';
 * const registry = createBackendRegistry();
 * registry.register(createNativeBackend(), 10);
 * const { candidates, skipped } = await registry.resolve();
 * console.log(candidates.length, skipped); // 1 []
 * ```
 */
export interface BackendResolution {
  /** Usable (backend, provider) pairs, best first. */
  readonly candidates: readonly BackendCandidate[];
  /** `name:provider — reason` for every requested pair that cannot run here. */
  readonly skipped: readonly string[];
}

/** A registered backend as {@link BackendRegistry.list} shows it.
 *
 * @example
 * ```ts
 * import type { RegisteredBackend } from '@ctrkit/models';
 * const entry: RegisteredBackend = { name: 'native', priority: 10, providers: ['js'] };
 * ```
 */
export interface RegisteredBackend {
  /** Registry name. */
  readonly name: string;
  /** Higher runs first. */
  readonly priority: number;
  /** Providers it can try. */
  readonly providers: readonly string[];
}

/**
 * Backends by priority. Preferences name a backend (`onnx-node`) or a backend and provider
 * (`onnx-node:cuda`); without preferences every backend is tried, highest priority first.
 *
 * @example
 * ```ts
 * import { createBackendRegistry, createNativeBackend } from '@ctrkit/models';
 * const registry = createBackendRegistry();
 * registry.register(createNativeBackend(), 10);
 * const { candidates } = await registry.resolve(['onnx-node:cuda', 'native']);
 * ```
 */
export interface BackendRegistry {
  /** Adds a backend (replacing one of the same name). */
  register(backend: Backend, priority: number): void;
  /** Removes a backend; returns whether it was there. */
  unregister(name: string): boolean;
  /** Whether a backend of that name is registered. */
  has(name: string): boolean;
  /** Registered backends, highest priority first. */
  list(): readonly RegisteredBackend[];
  /**
   * Initializes the requested backends (each once per registry), and returns the usable
   * (backend, provider) pairs in preference order. Rejects with `E_BACKEND_UNAVAILABLE`, listing
   * every cause, when none is usable.
   */
  resolve(preferences?: readonly string[]): Promise<BackendResolution>;
}
