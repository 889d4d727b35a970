import { defineConfig } from 'tsup';

export default defineConfig({
  // bin.ts starts with `#!/usr/bin/env node`, which esbuild keeps at the top of dist/bin.js.
  entry: { index: 'src/index.ts', bin: 'src/bin.ts' },
  format: ['esm', 'cjs'],
  dts: { entry: { index: 'src/index.ts' } },
  sourcemap: true,
  clean: true,
  target: 'es2022',
  treeshake: true,
});
