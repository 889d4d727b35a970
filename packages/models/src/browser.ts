/**
 * `@ctrkit/models/browser` — the browser platform entry: the `onnx-web` backend
 * (onnxruntime-web; providers webgpu where the browser gives an adapter, and wasm), registration,
 * and loading a model from URLs or bytes. Never loads onnxruntime-node; loads onnxruntime-web
 * only when the backend initializes. Also runs in Node (onnxruntime-web's wasm build works there).
 *
 * @packageDocumentation
 */
import { CtrkitError } from '@ctrkit/core';
import { defaultBackendRegistry } from './backend/registry.js';
import type { Backend, BackendRegistry } from './backend/types.js';
import { loadModelFromBytes, type LoadedModel, type LoadModelOptions } from './load.js';
import { createNativeBackend } from './native-runner/backend.js';
import { createOrtBackend } from './ort/backend.js';

/** Execution providers the onnx-web backend can try.
 *
 * @example
 * ```ts
 * import type { WebProvider } from '@ctrkit/models/browser';
 * const providers: WebProvider[] = ['webgpu', 'wasm'];
 * ```
 */
export type WebProvider = 'webgpu' | 'wasm';

/** Options for {@link createOnnxWebBackend}. They set onnxruntime-web's global `env.wasm` once, when the backend initializes.
 *
 * @example
 * ```ts
 * import type { OnnxWebBackendOptions } from '@ctrkit/models/browser';
 * const options: OnnxWebBackendOptions = { providers: ['wasm'], wasmPaths: '/static/ort/', numThreads: 1 };
 * ```
 */
export interface OnnxWebBackendOptions {
  /** Providers to try, best first (default `['webgpu', 'wasm']`). */
  readonly providers?: readonly WebProvider[];
  /**
   * Where the `ort-wasm-*.wasm` / `.mjs` files are served from: a URL prefix ending in `/`, or one
   * URL per file. Default: onnxruntime-web's own location (its `dist/` folder in Node, which needs
   * no network; the bundler's output in a browser).
   */
  readonly wasmPaths?: string | { readonly wasm?: string; readonly mjs?: string };
  /** The wasm binary itself, when the page has it already (overrides `wasmPaths`). */
  readonly wasmBinary?: Uint8Array;
  /** wasm threads (default 1: multi-threading needs a cross-origin-isolated page). */
  readonly numThreads?: number;
}

type OrtWeb = typeof import('onnxruntime-web');

/**
 * Creates the `onnx-web` backend (onnxruntime-web). Its initialization imports the runtime,
 * applies the wasm options, and probes each provider with a one-node model.
 *
 * @param options - Providers, wasm location, threads.
 * @returns A backend to register (priority 90 by convention).
 * @throws `CtrkitError` `E_CONFIG` on a non-positive thread count.
 * @example
 * ```ts
 * import { createBackendRegistry } from '@ctrkit/models';
 * import { createOnnxWebBackend } from '@ctrkit/models/browser';
 * const registry = createBackendRegistry();
 * registry.register(createOnnxWebBackend({ providers: ['wasm'], wasmPaths: '/ort/' }), 90);
 * ```
 */
export function createOnnxWebBackend(options: OnnxWebBackendOptions = {}): Backend {
  const numThreads = options.numThreads ?? 1;
  if (!Number.isInteger(numThreads) || numThreads < 1) throw new CtrkitError('E_CONFIG', `numThreads must be a positive integer, got ${numThreads}`);
  return createOrtBackend<OrtWeb>({
    name: 'onnx-web',
    runtime: 'onnxruntime-web',
    providers: options.providers ?? ['webgpu', 'wasm'],
    otherwise: 'the native backend',
    import: () => import('onnxruntime-web'),
    configure(ort: OrtWeb): void {
      ort.env.wasm.numThreads = numThreads;
      ort.env.logLevel = 'error';
      if (options.wasmPaths !== undefined) ort.env.wasm.wasmPaths = options.wasmPaths as string;
      if (options.wasmBinary !== undefined) ort.env.wasm.wasmBinary = options.wasmBinary;
    },
    // Threads are onnxruntime-web's global env.wasm.numThreads (set in configure), not per session.
    sessionOptions: () => ({}),
  });
}

/**
 * Registers the browser backends — `onnx-web` (priority 90) and `native` (priority 10) — in a
 * registry, leaving backends already registered under those names in place.
 *
 * @param registry - Where to register (default: the default registry).
 * @param options - Options of the onnx-web backend.
 * @returns The registry.
 * @example
 * ```ts
 * import { registerWebBackends } from '@ctrkit/models/browser';
 * registerWebBackends(undefined, { wasmPaths: '/static/ort/' });
 * ```
 */
export function registerWebBackends(registry: BackendRegistry = defaultBackendRegistry, options: OnnxWebBackendOptions = {}): BackendRegistry {
  if (!registry.has('onnx-web')) registry.register(createOnnxWebBackend(options), 90);
  if (!registry.has('native')) registry.register(createNativeBackend(), 10);
  return registry;
}

/** Where a model comes from in a browser: a base URL holding `model.onnx` and `model.json`, or each part as a URL, bytes or (for the manifest) an object.
 *
 * @example
 * ```ts
 * import type { WebModelSource } from '@ctrkit/models/browser';
 * const a: WebModelSource = '/models/dcnv2/3/';
 * const b: WebModelSource = { model: '/m/model.onnx', manifest: { format: 'ctrkit.model' } };
 * ```
 */
export type WebModelSource =
  | string
  | URL
  | {
      /** URL of `model.onnx`, or its bytes. */
      readonly model: string | URL | Uint8Array | ArrayBuffer;
      /** URL of `model.json`, or the manifest (text or object). */
      readonly manifest: string | URL | object;
    };

async function fetchBytes(url: string | URL, what: string): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new CtrkitError('E_IO', `cannot fetch ${what} from ${String(url)}: ${(error as Error).message}`, { cause: error });
  }
  if (!response.ok) throw new CtrkitError('E_IO', `cannot fetch ${what} from ${String(url)}: HTTP ${response.status}; serve model.onnx and model.json side by side`);
  return new Uint8Array(await response.arrayBuffer());
}

function isUrlText(value: string): boolean {
  return !value.trimStart().startsWith('{');
}

/**
 * Loads a model in a browser (or in Node through onnxruntime-web). When no registry is given and
 * the default one lacks them, registers the browser backends first.
 *
 * @param source - Base URL, or model and manifest as URLs, bytes or objects.
 * @param options - Expected layout or fingerprint, backend preferences, warm-up.
 * @returns The runner, the manifest and the calibrator.
 * @throws `CtrkitError` `E_IO` when a download fails; `E_MODEL_LOAD` for a corrupt or mismatched model;
 * `E_BACKEND_UNAVAILABLE` listing every cause when no backend can run it.
 * @example
 * ```ts
 * import { loadModel } from '@ctrkit/models/browser';
 * import type { FeatureLayout } from '@ctrkit/core';
 * declare const layout: FeatureLayout;
 * const { runner, calibrator } = await loadModel('/models/dcnv2/3/', { expect: layout });
 * ```
 */
export async function loadModel(source: WebModelSource, options: LoadModelOptions): Promise<LoadedModel> {
  if (options?.registry === undefined) registerWebBackends(defaultBackendRegistry);
  let model: Uint8Array;
  let manifest: unknown;
  if (typeof source === 'string' || source instanceof URL) {
    const base = String(source).endsWith('/') ? String(source) : `${String(source)}/`;
    [model, manifest] = await Promise.all([
      fetchBytes(`${base}model.onnx`, 'model.onnx'),
      fetchBytes(`${base}model.json`, 'model.json').then((bytes) => new TextDecoder().decode(bytes)),
    ]);
  } else {
    const m = source.model;
    model = m instanceof Uint8Array ? m : m instanceof ArrayBuffer ? new Uint8Array(m) : await fetchBytes(m, 'model.onnx');
    const j = source.manifest;
    manifest =
      j instanceof URL || (typeof j === 'string' && isUrlText(j)) ? new TextDecoder().decode(await fetchBytes(j as string | URL, 'model.json')) : j;
  }
  return loadModelFromBytes({ model, manifest }, options);
}
