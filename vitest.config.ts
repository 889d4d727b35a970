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
    // Tests pin behavior, never speed (benchmarks measure speed). CI shares two cores with
    // Redis, NATS and Chromium, so a test that takes 1 s on a quiet machine can take 8 s there;
    // vitest's 5 s default failed a correct run that way. A hung test still fails, after a minute.
    testTimeout: 60_000,
    hookTimeout: 60_000,
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
