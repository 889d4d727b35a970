import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', sim: 'src/sim/index.ts', bench: 'src/bench.ts', prometheus: 'src/prometheus.ts', nats: 'src/nats.ts', internal: 'src/internal.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  treeshake: true,
});
