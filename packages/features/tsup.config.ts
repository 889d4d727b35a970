import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.shared.js';

export default defineConfig(
  packageBuild({
    entry: { index: 'src/index.ts', node: 'src/node.ts', redis: 'src/redis.ts' },
  }),
);
