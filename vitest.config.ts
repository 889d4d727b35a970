import { fileURLToPath } from 'node:url';
import { defaultClientConditions, defaultServerConditions, defineConfig } from 'vite';

/** Every workspace package resolves siblings from `src/` through this export condition. */
const sourceCondition = '@ctrkit/source';

const packages = ['core', 'features', 'models', 'auction', 'pacing', 'cli'];
const examples = ['quickstart', 'ad-server', 'browser-demo'];

export default defineConfig({
  resolve: { conditions: [sourceCondition, ...defaultClientConditions] },
  ssr: { resolve: { conditions: [sourceCondition, ...defaultServerConditions] } },
  test: {
    passWithNoTests: true,
    // One block at the end lists the tests skipped for want of a data file, Redis or Chromium.
    // (Absolute: every project inherits it, and the setup runs once however many projects do.)
    globalSetup: [fileURLToPath(new URL('packages/test-support/src/vitest-setup.ts', import.meta.url))],
    projects: [
      ...packages.map((name) => ({
        extends: true as const,
        test: { name, root: `packages/${name}`, include: ['test/**/*.test.ts'], environment: 'node' as const },
      })),
      ...examples.map((name) => ({
        extends: true as const,
        test: { name: `example-${name}`, root: `examples/${name}`, include: ['test/**/*.test.ts'], environment: 'node' as const },
      })),
      { extends: true as const, test: { name: 'docs', root: 'docs', include: ['test/**/*.test.ts'], environment: 'node' as const } },
    ],
  },
});
