import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.shared.js';

export default defineConfig(
  packageBuild({
    entry: { index: 'src/index.ts', sim: 'src/sim/index.ts', bench: 'src/bench.ts', prometheus: 'src/prometheus.ts', nats: 'src/nats.ts', internal: 'src/internal.ts' },
  }),
);
