import type { Options } from 'tsup';

/**
 * The build every published package shares: ESM + CJS with `.d.ts` / `.d.cts`, source maps, a
 * clean `dist/`, ES2022, tree-shaken. A package's `tsup.config.ts` passes its entries and anything
 * of its own (externals, shims, a narrower `dts`).
 *
 * @param options - The package's entries and overrides.
 * @returns tsup options.
 */
export function packageBuild(options: Options & { entry: Record<string, string> }): Options {
  return {
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'es2022',
    treeshake: true,
    ...options,
  };
}
