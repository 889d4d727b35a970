/**
 * `@ctrkit/models/node` — the Node platform entry: the `onnx-node` backend (onnxruntime-node;
 * providers cuda where installed, and cpu), registration, and loading/saving `model.onnx` +
 * `model.json` from disk. Never loads onnxruntime-web or wasm; loads onnxruntime-node only when
 * the backend initializes, so a host without the native binding still imports this module.
 *
 * @packageDocumentation
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { CtrkitError } from '@ctrkit/core';
import { defaultBackendRegistry } from './backend/registry.js';
import type { Backend, BackendRegistry } from './backend/types.js';
import { loadModelFromBytes, type LoadedModel, type LoadModelOptions } from './load.js';
import { manifestToJSON, parseManifest, type ModelManifest } from './manifest.js';
import { createNativeBackend } from './native-runner/backend.js';
import { createOrtBackend } from './ort/backend.js';

/** Execution providers the onnx-node backend can try.
 *
 * @example
 * ```ts
 * import type { NodeProvider } from '@ctrkit/models/node';
 * const providers: NodeProvider[] = ['cuda', 'cpu'];
 * ```
 */
export type NodeProvider = 'cuda' | 'cpu' | 'webgpu';

/** Options for {@link createOnnxNodeBackend}.
 *
 * @example
 * ```ts
 * import type { OnnxNodeBackendOptions } from '@ctrkit/models/node';
 * const options: OnnxNodeBackendOptions = { providers: ['cpu'], logSeverityLevel: 3 };
 * ```
 */
export interface OnnxNodeBackendOptions {
  /** Providers to try, best first (default `['cuda', 'cpu']`). */
  readonly providers?: readonly NodeProvider[];
  /** onnxruntime's log level for sessions: 0 verbose … 4 fatal (default 3: errors). */
  readonly logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
}

type OrtNode = typeof import('onnxruntime-node');

const SHARED_LIBRARY: Partial<Record<NodeJS.Platform, string>> = {
  linux: 'libonnxruntime_providers_cuda.so',
  win32: 'onnxruntime_providers_cuda.dll',
};

/** Where onnxruntime-node keeps its binaries, or undefined when that cannot be told. */
function bindingDirectory(): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    return join(dirname(require.resolve('onnxruntime-node/package.json')), 'bin', 'napi-v6', process.platform, process.arch);
  } catch {
    return undefined;
  }
}

/** Refuses the CUDA provider, saying how to install it, where its library is missing. */
function checkCudaInstalled(provider: string): void {
  if (provider !== 'cuda') return;
  const library = SHARED_LIBRARY[process.platform];
  const directory = bindingDirectory();
  if (library === undefined) throw new Error(`onnxruntime-node has no CUDA provider on ${process.platform}`);
  if (directory !== undefined && !existsSync(join(directory, library))) {
    throw new Error(`the CUDA execution provider is not installed (${library} missing); install it with ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node`);
  }
}

/**
 * Creates the `onnx-node` backend (onnxruntime-node). Its initialization imports the native
 * binding and probes each provider with a one-node model; a provider that fails is skipped with
 * its reason (a missing CUDA library says how to install it).
 *
 * @param options - Providers and log level.
 * @returns A backend to register (priority 100 by convention).
 * @example
 * ```ts
 * import { createBackendRegistry } from '@ctrkit/models';
 * import { createOnnxNodeBackend } from '@ctrkit/models/node';
 * const registry = createBackendRegistry();
 * registry.register(createOnnxNodeBackend({ providers: ['cpu'] }), 100);
 * ```
 */
export function createOnnxNodeBackend(options: OnnxNodeBackendOptions = {}): Backend {
  const providers = options.providers ?? ['cuda', 'cpu'];
  const logSeverityLevel = options.logSeverityLevel ?? 3;
  return createOrtBackend<OrtNode>({
    name: 'onnx-node',
    runtime: 'onnxruntime-node',
    providers,
    otherwise: 'the native or onnx-web backend',
    import: () => import('onnxruntime-node'),
    sessionOptions: (_provider, runner) => ({
      intraOpNumThreads: runner.intraOpThreads ?? 1,
      interOpNumThreads: runner.interOpThreads ?? 1,
      logSeverityLevel,
    }),
    checkProvider: checkCudaInstalled,
  });
}

/**
 * Registers the Node backends — `onnx-node` (priority 100) and `native` (priority 10) — in a
 * registry, leaving backends already registered under those names in place.
 *
 * @param registry - Where to register (default: the default registry).
 * @param options - Options of the onnx-node backend.
 * @returns The registry.
 * @example
 * ```ts
 * import { registerNodeBackends } from '@ctrkit/models/node';
 * const registry = registerNodeBackends();
 * console.log(registry.list().map((b) => b.name)); // ['onnx-node', 'native']
 * ```
 */
export function registerNodeBackends(registry: BackendRegistry = defaultBackendRegistry, options: OnnxNodeBackendOptions = {}): BackendRegistry {
  if (!registry.has('onnx-node')) registry.register(createOnnxNodeBackend(options), 100);
  if (!registry.has('native')) registry.register(createNativeBackend(), 10);
  return registry;
}

/** Where a model lives on disk: a directory holding `model.onnx` and `model.json`, a path to the `.onnx` file (its manifest is the `.json` beside it), or both paths.
 *
 * @example
 * ```ts
 * import type { ModelLocation } from '@ctrkit/models/node';
 * const a: ModelLocation = './models/dcnv2/3';
 * const b: ModelLocation = { model: './m/model.onnx', manifest: './m/model.json' };
 * ```
 */
export type ModelLocation = string | { readonly model: string; readonly manifest: string };

async function paths(location: ModelLocation): Promise<{ model: string; manifest: string }> {
  if (typeof location !== 'string') return { model: location.model, manifest: location.manifest };
  if (location.endsWith('.onnx')) return { model: location, manifest: `${location.slice(0, -'.onnx'.length)}.json` };
  let isDirectory = false;
  try {
    isDirectory = (await stat(location)).isDirectory();
  } catch (error) {
    throw new CtrkitError('E_IO', `cannot read model location ${location}: ${(error as Error).message}; pass the directory that holds model.onnx and model.json`, { cause: error });
  }
  if (!isDirectory) throw new CtrkitError('E_IO', `${location} is neither a directory nor a .onnx file; pass the directory that holds model.onnx and model.json`);
  return { model: join(location, 'model.onnx'), manifest: join(location, 'model.json') };
}

async function read(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new CtrkitError('E_IO', `cannot read ${what} at ${path}: ${(error as Error).message}; model.onnx and model.json must sit side by side`, { cause: error });
  }
}

/**
 * Loads `model.onnx` + `model.json` from disk. When no registry is given and the default one
 * lacks them, registers the Node backends first.
 *
 * @param location - Directory, `.onnx` path, or both paths.
 * @param options - Expected layout or fingerprint, backend preferences, threads, warm-up.
 * @returns The runner, the manifest and the calibrator.
 * @throws `CtrkitError` `E_IO` when a file cannot be read; `E_MODEL_LOAD` for a corrupt or mismatched model;
 * `E_BACKEND_UNAVAILABLE` listing every cause when no backend can run it.
 * @example
 * ```ts
 * import { loadModel } from '@ctrkit/models/node';
 * import type { FeatureLayout } from '@ctrkit/core';
 * declare const layout: FeatureLayout;
 * const { runner, manifest, calibrator } = await loadModel('./models/dcnv2', { expect: layout });
 * console.log(runner.info.backend, manifest.version, calibrator.kind);
 * ```
 */
export async function loadModel(location: ModelLocation, options: LoadModelOptions): Promise<LoadedModel> {
  if (options?.registry === undefined) registerNodeBackends(defaultBackendRegistry);
  const { model, manifest } = await paths(location);
  const [modelBytes, manifestBytes] = await Promise.all([read(model, 'model.onnx'), read(manifest, 'model.json')]);
  const bytes = new Uint8Array(modelBytes.buffer, modelBytes.byteOffset, modelBytes.byteLength);
  return loadModelFromBytes({ model: bytes, manifest: manifestBytes.toString('utf8') }, options);
}

/** What {@link saveModel} wrote.
 *
 * @example
 * ```ts
 * import type { SavedModel } from '@ctrkit/models/node';
 * const saved: SavedModel = { model: '/m/model.onnx', manifest: '/m/model.json' };
 * ```
 */
export interface SavedModel {
  /** Path of `model.onnx`. */
  readonly model: string;
  /** Path of `model.json`. */
  readonly manifest: string;
}

/**
 * Writes `model.onnx` and `model.json` into a directory (created if needed). Each file is written
 * under a temporary name and renamed, model first, so a watcher never reads half a file or a
 * manifest ahead of its model.
 *
 * @param directory - Target directory.
 * @param files - The ONNX bytes and the manifest.
 * @returns The paths written.
 * @throws `CtrkitError` `E_IO` when writing fails; `E_MODEL_LOAD` when the manifest is invalid.
 * @example
 * ```ts
 * import { buildLrModel, createManifest, initLrWeights } from '@ctrkit/models';
 * import { saveModel } from '@ctrkit/models/node';
 * import type { FeatureLayout } from '@ctrkit/core';
 * declare const layout: FeatureLayout;
 * const weights = initLrWeights(layout);
 * await saveModel('./models/lr/1', { model: buildLrModel(layout, weights), manifest: createManifest(layout, weights, { version: '1' }) });
 * ```
 */
export async function saveModel(directory: string, files: { readonly model: Uint8Array; readonly manifest: ModelManifest }): Promise<SavedModel> {
  const manifest = parseManifest(files.manifest);
  const modelPath = join(directory, 'model.onnx');
  const manifestPath = join(directory, 'model.json');
  const suffix = `.tmp-${process.pid}-${Date.now().toString(36)}`;
  try {
    await mkdir(directory, { recursive: true });
    await writeFile(modelPath + suffix, files.model);
    await writeFile(manifestPath + suffix, manifestToJSON(manifest), 'utf8');
    await rename(modelPath + suffix, modelPath);
    await rename(manifestPath + suffix, manifestPath);
  } catch (error) {
    throw new CtrkitError('E_IO', `cannot write the model into ${directory}: ${(error as Error).message}`, { cause: error });
  }
  return { model: modelPath, manifest: manifestPath };
}
