import { describe, expect, it } from 'vitest';
import { isCtrkitError, type ModelRunner } from '@ctrkit/core';
import { createBackendRegistry, resolveBackend, type Backend, type BackendStatus } from '../src/index.js';

function fakeBackend(name: string, providers: string[], init: () => Promise<BackendStatus>): Backend & { inits: number } {
  const backend = {
    name,
    providers,
    inits: 0,
    async init() {
      backend.inits++;
      return init();
    },
    async createRunner(): Promise<ModelRunner> {
      throw new Error('not used');
    },
  };
  return backend;
}

describe('backend registry', () => {
  it('orders by priority, initializes each backend once, and skips providers that did not initialize', async () => {
    const registry = createBackendRegistry();
    const gpu = fakeBackend('gpu', ['cuda', 'cpu'], async () => ({ available: ['cpu'], unavailable: [{ provider: 'cuda', reason: 'no device' }] }));
    const js = fakeBackend('js', ['js'], async () => ({ available: ['js'], unavailable: [] }));
    registry.register(js, 10);
    registry.register(gpu, 100);
    expect(registry.list().map((b) => [b.name, b.priority])).toEqual([
      ['gpu', 100],
      ['js', 10],
    ]);
    const first = await registry.resolve();
    expect(first.candidates.map((c) => `${c.backend.name}:${c.provider}`)).toEqual(['gpu:cpu', 'js:js']);
    expect(first.skipped).toEqual(['gpu:cuda: no device']);
    await registry.resolve(['js', 'gpu:cpu']);
    await resolveBackend(undefined, registry);
    expect(gpu.inits).toBe(1);
    expect(js.inits).toBe(1);
    // Preferences decide the order, not priorities.
    expect((await registry.resolve(['js', 'gpu'])).candidates.map((c) => c.backend.name)).toEqual(['js', 'gpu']);
  });

  it('remembers a failed initialization and throws one error listing every cause', async () => {
    const registry = createBackendRegistry();
    const broken = fakeBackend('broken', ['x'], async () => {
      throw new Error('binding missing');
    });
    const picky = fakeBackend('picky', ['a'], async () => ({ available: [], unavailable: [{ provider: 'a', reason: 'needs a GPU' }] }));
    registry.register(broken, 50);
    registry.register(picky, 40);
    let error: unknown;
    try {
      await registry.resolve(['broken', 'picky', 'ghost']);
    } catch (e) {
      error = e;
    }
    expect(isCtrkitError(error) && error.code).toBe('E_BACKEND_UNAVAILABLE');
    expect((error as Error).message).toBe(
      'no requested model backend can run here — broken: failed to initialize: binding missing; picky:a: needs a GPU; ghost: not registered (registered: broken, picky)',
    );
    await expect(registry.resolve(['broken'])).rejects.toThrow(/binding missing/);
    expect(broken.inits).toBe(1);
  });

  it('says how to register backends when none is', async () => {
    await expect(createBackendRegistry().resolve()).rejects.toThrow(/call registerNodeBackends\(\) from @ctrkit\/models\/node or registerWebBackends\(\)/);
  });

  it('refuses a nameless backend or a name with a colon', () => {
    const registry = createBackendRegistry();
    expect(() => registry.register(fakeBackend('', [], async () => ({ available: [], unavailable: [] })), 1)).toThrow(/non-empty name/);
    expect(() => registry.register(fakeBackend('a:b', [], async () => ({ available: [], unavailable: [] })), 1)).toThrow(/must not contain ":"/);
    expect(registry.unregister('nothing')).toBe(false);
  });
});
