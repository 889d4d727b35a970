/**
 * The demo's Vite config. Three things matter:
 * - packages resolve through the `@ctrkit/source` condition, so the page runs ctrkit's sources
 *   (the same code as the server) without a build of the packages;
 * - the dev and preview servers send COOP/COEP headers, so the page is cross-origin isolated and
 *   onnxruntime-web may run its WASM kernels on several threads;
 * - onnxruntime-web's wasm files are served by the page itself under `ort/` — from node_modules
 *   in development, copied into `dist/ort/` by the build — never from a CDN.
 */
import { createReadStream, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultClientConditions, defineConfig, type Connect, type Plugin } from 'vite';

const require = createRequire(import.meta.url);
/** onnxruntime-web's `dist/` folder, wherever npm put it. */
const ortDist = path.dirname(require.resolve('onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm'));
/** The files `onnxruntime-web`'s default (WebGPU + WASM) build loads at run time. */
const ORT_FILES = ['ort-wasm-simd-threaded.jsep.mjs', 'ort-wasm-simd-threaded.jsep.wasm'];

/** The headers that make the page cross-origin isolated (SharedArrayBuffer, hence wasm threads). */
const crossOriginIsolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/** Serves (dev) and emits (build) onnxruntime-web's wasm files under `ort/`. */
function onnxruntimeWasm(): Plugin {
  const serve: Connect.NextHandleFunction = (request, response, next) => {
    const name = /\/ort\/([^/?#]+)(?:[?#].*)?$/.exec(request.url ?? '')?.[1];
    if (name === undefined || !ORT_FILES.includes(name)) return next();
    response.setHeader('Content-Type', name.endsWith('.wasm') ? 'application/wasm' : 'text/javascript');
    // This answer skips Vite's own header middleware, and the .mjs starts the pthread workers:
    // a worker script without COEP is blocked on an isolated page.
    for (const [header, value] of Object.entries(crossOriginIsolation)) response.setHeader(header, value);
    createReadStream(path.join(ortDist, name)).pipe(response);
  };
  return {
    name: 'ctrkit-onnxruntime-wasm',
    configureServer(server) {
      server.middlewares.use(serve);
    },
    generateBundle() {
      for (const name of ORT_FILES) this.emitFile({ type: 'asset', fileName: `ort/${name}`, source: readFileSync(path.join(ortDist, name)) });
    },
  };
}

export default defineConfig({
  root: path.dirname(fileURLToPath(import.meta.url)),
  base: './',
  // `onnxruntime-web-use-extern-wasm` picks onnxruntime-web's build that loads its wasm module
  // from `wasmPaths` (our `ort/`) instead of embedding it: one copy of the files, and pthread
  // workers start from a plain script URL.
  resolve: { conditions: ['@ctrkit/source', 'onnxruntime-web-use-extern-wasm', ...defaultClientConditions] },
  plugins: [onnxruntimeWasm()],
  // Pre-bundling would move onnxruntime-web away from the files it loads beside itself.
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  server: { headers: crossOriginIsolation },
  preview: { headers: crossOriginIsolation },
  build: { target: 'es2022', chunkSizeWarningLimit: 2048 },
  logLevel: 'warn',
});
