/**
 * onnxruntime-common's API as the shared ONNX backend uses it, and what each platform entry
 * supplies to it. onnxruntime-node and onnxruntime-web both re-export onnxruntime-common, so one
 * backend serves both (as onnxruntime's own `js/node` and `js/web` sit on `js/common`); the
 * shapes are written out here so that this package's published types name neither runtime (both
 * are optional peers). Internal.
 */
import type { RunnerOptions } from '../backend/types.js';
import type { InputType } from '../manifest.js';

/** @internal A tensor as onnxruntime-common shapes it. */
export interface OrtTensorLike {
  readonly data: unknown;
  readonly dims: readonly number[];
  readonly type: string;
}

/** @internal An inference session as onnxruntime-common shapes it. */
export interface OrtSessionLike {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, OrtTensorLike>, fetches: readonly string[]): Promise<Record<string, OrtTensorLike>>;
  release(): Promise<void>;
}

/** @internal The session options ctrkit sets (a subset of onnxruntime-common's `SessionOptions`). */
export interface OrtSessionOptions {
  readonly executionProviders: readonly string[];
  readonly graphOptimizationLevel: 'all';
  readonly intraOpNumThreads?: number;
  readonly interOpNumThreads?: number;
  readonly logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
}

/** @internal The part of an onnxruntime module (node or web) the backend calls. */
export interface OrtModule {
  readonly InferenceSession: {
    create(model: Uint8Array, options: OrtSessionOptions): Promise<OrtSessionLike>;
  };
  readonly Tensor: new (type: InputType, data: Int32Array | BigInt64Array | Float32Array, dims: readonly number[]) => OrtTensorLike;
}

/** @internal Session creation and tensor construction over one loaded onnxruntime module. */
export interface OrtRuntime {
  createSession(bytes: Uint8Array, provider: string, options: RunnerOptions): Promise<OrtSessionLike>;
  tensor(type: InputType, data: Int32Array | BigInt64Array | Float32Array, dims: readonly number[]): OrtTensorLike;
}

/** @internal What one platform entry (`./node`, `./browser`) supplies to the shared ONNX backend. */
export interface OrtPlatform<M extends OrtModule> {
  /** Registry name: `onnx-node`, `onnx-web`. */
  readonly name: string;
  /** The npm package of the runtime, for messages: `onnxruntime-node`. */
  readonly runtime: string;
  /** Providers to try, best first. */
  readonly providers: readonly string[];
  /** The backends to suggest when the runtime is not installed: `the native backend`. */
  readonly otherwise: string;
  /**
   * Imports the runtime: a literal `import('onnxruntime-…')` in the platform entry, so that a
   * bundler (and test/entries.test.ts) sees which runtime each entry can load, and nothing is
   * loaded before the backend initializes.
   */
  import(): Promise<M>;
  /** Sets the runtime's global options once, after loading (onnxruntime-web's `env.wasm`). */
  configure?(module: M): void;
  /** The platform's own session options for one runner. */
  sessionOptions(provider: string, options: RunnerOptions): Omit<OrtSessionOptions, 'executionProviders' | 'graphOptimizationLevel'>;
  /** Throws, with how to mend it, when a provider cannot work here before onnxruntime is asked. */
  checkProvider?(provider: string): void;
}
