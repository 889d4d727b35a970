/**
 * What each entry may load: the main entry neither onnxruntime flavor (nor Node built-ins, so it
 * bundles for browsers); `./node` never onnxruntime-web; `./browser` never onnxruntime-node nor a
 * Node built-in. Checked on the import graph of the sources, static and dynamic imports alike.
 * Only the main entry (the builders) reaches onnx-proto: the loaders read graphs with
 * onnx-graph-reader.ts, so a page importing `./browser` ships no protobuf runtime.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');

/** Module specifiers reachable from an entry: local files are followed, packages are listed. */
interface Reach extends Set<string> {
  /** The packages some reachable file imports statically (loaded as soon as the entry is). */
  readonly eager: Set<string>;
}

/** Every module specifier reachable from `entry`: local files are followed, packages are listed. */
function reachable(entry: string): Reach {
  const packages = Object.assign(new Set<string>(), { eager: new Set<string>() });
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    // Type-only imports vanish at runtime; `typeof import('x')` in a type position too.
    const eager = [
      ...text.matchAll(/^import\s+(?!type\s)[^;]*?from\s+'([^']+)'/gms),
      ...text.matchAll(/^export\s+(?!type\s)[^;]*?from\s+'([^']+)'/gms),
    ].map((m) => m[1] as string);
    const lazy = [...text.matchAll(/(?<!typeof )\bimport\(\s*'([^']+)'\s*\)/g)].map((m) => m[1] as string);
    for (const specifier of [...eager, ...lazy]) {
      if (specifier.startsWith('.')) visit(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')));
      else packages.add(specifier);
    }
    for (const specifier of eager) if (!specifier.startsWith('.')) packages.eager.add(specifier);
  };
  visit(join(src, entry));
  return packages;
}

describe('entry points', () => {
  it('the main entry loads no runtime and no Node built-in', () => {
    const loaded = [...reachable('index.ts')];
    expect(loaded.filter((p) => p.startsWith('onnxruntime') || p.startsWith('node:'))).toEqual([]);
    expect(loaded).toContain('onnx-proto');
  });

  it('./node loads onnxruntime-node (lazily), never onnxruntime-web nor onnx-proto', () => {
    const loaded = reachable('node.ts');
    expect(loaded.has('onnxruntime-node')).toBe(true);
    expect(loaded.has('onnxruntime-web')).toBe(false);
    expect(loaded.has('onnx-proto')).toBe(false);
    // Lazily: no file the entry reaches (node.ts, the shared ort/ adapter, …) imports it statically.
    expect([...loaded.eager].filter((p) => p.startsWith('onnxruntime'))).toEqual([]);
  });

  it('./browser loads onnxruntime-web (lazily), never onnxruntime-node, onnx-proto nor Node built-ins', () => {
    const loaded = [...reachable('browser.ts')];
    expect(loaded).toContain('onnxruntime-web');
    expect(loaded.filter((p) => p === 'onnxruntime-node' || p.startsWith('node:'))).toEqual([]);
    expect(loaded).not.toContain('onnx-proto');
    expect([...reachable('browser.ts').eager].filter((p) => p.startsWith('onnxruntime'))).toEqual([]);
  });

  it('importing an entry registers nothing', async () => {
    const models = await import('../src/index.js');
    await import('../src/node.js');
    await import('../src/browser.js');
    expect(models.defaultBackendRegistry.list()).toEqual([]);
  });
});
