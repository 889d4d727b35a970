/**
 * The backend registry: backends by priority, each initialized once per registry, resolved to
 * the usable (backend, provider) pairs in preference order; and the default registry the loaders
 * use when given none.
 */
import { CtrkitError } from '@ctrkit/core';
import { messageOf } from '../error-message.js';
import type { Backend, BackendCandidate, BackendRegistry, BackendResolution, BackendStatus, RegisteredBackend } from './types.js';

interface Entry {
  readonly backend: Backend;
  readonly priority: number;
  /** The one initialization of this backend object (a rejected promise records why it failed). */
  status: Promise<BackendStatus> | undefined;
}

class Registry implements BackendRegistry {
  private readonly entries = new Map<string, Entry>();

  register(backend: Backend, priority: number): void {
    if (typeof backend !== 'object' || backend === null || typeof backend.name !== 'string' || backend.name.length === 0) {
      throw new CtrkitError('E_CONFIG', 'register needs a Backend with a non-empty name');
    }
    if (backend.name.includes(':')) throw new CtrkitError('E_CONFIG', `backend name "${backend.name}" must not contain ":" (it separates backend and provider)`);
    if (!Number.isFinite(priority)) throw new CtrkitError('E_CONFIG', `backend priority must be a finite number, got ${priority}`);
    const previous = this.entries.get(backend.name);
    // Keep the initialization of the same backend object: a backend initializes once per registry.
    this.entries.set(backend.name, { backend, priority, status: previous?.backend === backend ? previous.status : undefined });
  }

  unregister(name: string): boolean {
    return this.entries.delete(name);
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  list(): readonly RegisteredBackend[] {
    return this.sorted().map((entry) => ({ name: entry.backend.name, priority: entry.priority, providers: entry.backend.providers }));
  }

  private sorted(): Entry[] {
    return [...this.entries.values()].sort((a, b) => b.priority - a.priority);
  }

  private init(entry: Entry): Promise<BackendStatus> {
    if (entry.status === undefined) {
      entry.status = (async () => entry.backend.init())();
      // Observed here so an unobserved failure never surfaces as an unhandled rejection.
      entry.status.catch(() => undefined);
    }
    return entry.status;
  }

  async resolve(preferences?: readonly string[]): Promise<BackendResolution> {
    const requests: { name: string; provider: string | undefined }[] =
      preferences === undefined || preferences.length === 0
        ? this.sorted().map((entry) => ({ name: entry.backend.name, provider: undefined }))
        : preferences.map((preference) => {
            const [name, provider] = preference.split(':', 2) as [string, string | undefined];
            return { name, provider: provider === '' ? undefined : provider };
          });
    if (requests.length === 0) {
      throw new CtrkitError(
        'E_BACKEND_UNAVAILABLE',
        'no model backend is registered; call registerNodeBackends() from @ctrkit/models/node or registerWebBackends() from @ctrkit/models/browser, or register your own',
      );
    }
    const candidates: BackendCandidate[] = [];
    const skipped: string[] = [];
    const seen = new Set<string>();
    for (const request of requests) {
      const entry = this.entries.get(request.name);
      if (entry === undefined) {
        const known = [...this.entries.keys()];
        skipped.push(`${request.name}: not registered (registered: ${known.length === 0 ? 'none' : known.join(', ')})`);
        continue;
      }
      let status: BackendStatus;
      try {
        status = await this.init(entry);
      } catch (error) {
        skipped.push(`${request.name}: failed to initialize: ${messageOf(error)}`);
        continue;
      }
      const providers = request.provider === undefined ? entry.backend.providers : [request.provider];
      for (const provider of providers) {
        const key = `${request.name}:${provider}`;
        if (seen.has(key)) continue;
        seen.add(key);
        if (status.available.includes(provider)) {
          candidates.push({ backend: entry.backend, provider });
          continue;
        }
        const reason = status.unavailable.find((u) => u.provider === provider)?.reason ?? `unknown provider (${request.name} offers ${entry.backend.providers.join(', ')})`;
        skipped.push(`${key}: ${reason}`);
      }
    }
    if (candidates.length === 0) {
      throw new CtrkitError('E_BACKEND_UNAVAILABLE', `no requested model backend can run here — ${skipped.join('; ')}`, { details: { skipped } });
    }
    return { candidates, skipped };
  }
}

/**
 * Creates an empty {@link BackendRegistry}. Most hosts use {@link defaultBackendRegistry}; tests
 * and hosts that want isolation make their own.
 *
 * @returns A registry with no backends.
 * @example
 * ```ts
 * import { createBackendRegistry, createNativeBackend } from '@ctrkit/models';
 * const registry = createBackendRegistry();
 * registry.register(createNativeBackend(), 10);
 * console.log(registry.list().map((b) => b.name)); // ['native']
 * ```
 */
export function createBackendRegistry(): BackendRegistry {
  return new Registry();
}

/**
 * The registry loaders use when given none. Empty until something registers: importing
 * `@ctrkit/models` never registers a backend; `registerNodeBackends()` / `registerWebBackends()`
 * (or the platform entry's `loadModel`) do.
 *
 * @example
 * ```ts
 * import { defaultBackendRegistry } from '@ctrkit/models';
 * console.log(defaultBackendRegistry.list().length);
 * ```
 */
export const defaultBackendRegistry: BackendRegistry = createBackendRegistry();

/**
 * Registers a backend in the default registry.
 *
 * @param backend - The backend.
 * @param priority - Higher runs first (onnx-node 100, onnx-web 90, native 10).
 * @throws `CtrkitError` `E_CONFIG` on a nameless backend or a non-finite priority.
 * @example
 * ```ts
 * import { createNativeBackend, registerBackend } from '@ctrkit/models';
 * registerBackend(createNativeBackend(), 10);
 * ```
 */
export function registerBackend(backend: Backend, priority: number): void {
  defaultBackendRegistry.register(backend, priority);
}

/**
 * Resolves the first usable (backend, provider) pair, initializing backends once each and
 * skipping the ones that fail.
 *
 * @param preferences - `backend` or `backend:provider` names, best first (default: every registered backend by priority).
 * @param registry - The registry (default {@link defaultBackendRegistry}).
 * @returns The first usable pair.
 * @throws `CtrkitError` `E_BACKEND_UNAVAILABLE` listing why each requested pair cannot run.
 * @example
 * ```ts
 * import { createBackendRegistry, createNativeBackend, resolveBackend } from '@ctrkit/models';
 * const registry = createBackendRegistry();
 * registry.register(createNativeBackend(), 10);
 * const { backend, provider } = await resolveBackend(['onnx-node', 'native'], registry);
 * console.log(backend.name, provider); // native js
 * ```
 */
export async function resolveBackend(preferences?: readonly string[], registry: BackendRegistry = defaultBackendRegistry): Promise<BackendCandidate> {
  const { candidates } = await registry.resolve(preferences);
  return candidates[0] as BackendCandidate;
}
