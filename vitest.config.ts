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
