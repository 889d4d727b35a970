import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.shared.js';

export default defineConfig(
  packageBuild({
    entry: { index: 'src/index.ts', node: 'src/node.ts', browser: 'src/browser.ts' },
    // The runtimes stay dependencies: the platform entries import them lazily, and bundling them
    // would copy native bindings and wasm loaders into our dist.
    external: ['onnxruntime-node', 'onnxruntime-web', 'onnx-proto', '@ctrkit/core', '@ctrkit/features'],
    // import.meta.url (used to find onnxruntime-node's binaries) gets a CJS shim.
    shims: true,
  }),
);
