/** Deterministic A/B routing: a user always lands on the same arm for a given salt. */
import { CtrkitError, seedFromString, type FeatureBatch, type ModelRunner } from '@ctrkit/core';

/** One arm of an experiment.
 *
 * @example
 * ```ts
 * import type { AbArm } from '@ctrkit/models';
 * import type { ModelRunner } from '@ctrkit/core';
 * declare const runner: ModelRunner;
 * const arm: AbArm = { name: 'treatment', runner, weight: 0.1 };
 * ```
 */
export interface AbArm {
  /** Arm name (logged with each prediction). */
  readonly name: string;
  /** The arm's runner. */
  readonly runner: ModelRunner;
  /** Share of users (≥ 0; normalized). */
  readonly weight: number;
}

/** Options for {@link createAbRouter}.
 *
 * @example
 * ```ts
 * import type { AbRouterOptions } from '@ctrkit/models';
 * import type { ModelRunner } from '@ctrkit/core';
 * declare const a: ModelRunner;
 * declare const b: ModelRunner;
 * const options: AbRouterOptions = { salt: 'exp-42', arms: [{ name: 'control', runner: a, weight: 0.9 }, { name: 'dcn', runner: b, weight: 0.1 }] };
 * ```
 */
export interface AbRouterOptions {
  /** Arms, in a fixed order (changing the order or weights reassigns users). */
  readonly arms: readonly AbArm[];
  /** Experiment salt: a new salt reshuffles users independently of other experiments. */
  readonly salt: string;
}

/** Routes each user to an arm by a hash of `salt` and the user id.
 *
 * @example
 * ```ts
 * import type { AbRouter } from '@ctrkit/models';
 * import type { FeatureBatch } from '@ctrkit/core';
 * async function serve(router: AbRouter, userId: string, batch: FeatureBatch) {
 *   const arm = router.armFor(userId);
 *   return { arm: arm.name, scores: await arm.runner.predict(batch) };
 * }
 * ```
 */
export interface AbRouter {
  /** The arms, as given. */
  readonly arms: readonly AbArm[];
  /** The arm a user belongs to (same user, same salt, same arms → same arm, in every process). */
  armFor(userId: string): AbArm;
  /** Scores a batch with the user's arm. */
  predict(userId: string, batch: FeatureBatch, out?: Float32Array): Promise<Float32Array>;
  /** Disposes every arm's runner. */
  dispose(): Promise<void>;
}

/**
 * Creates an {@link AbRouter}. The user's bucket is a 32-bit hash (FNV-1a, splitmix-finalized) of
 * `salt + "\u0001" + userId`, mapped to [0, 1) and then to the arm whose cumulative weight covers it.
 *
 * @param options - Arms and salt.
 * @returns The router.
 * @throws `CtrkitError` `E_CONFIG` on no arms, duplicate names, negative or all-zero weights, or an empty salt.
 * @example
 * ```ts
 * import { createAbRouter } from '@ctrkit/models';
 * import type { ModelRunner } from '@ctrkit/core';
 * declare const control: ModelRunner;
 * declare const treatment: ModelRunner;
 * const router = createAbRouter({ salt: 'dcn-rollout', arms: [{ name: 'control', runner: control, weight: 95 }, { name: 'dcn', runner: treatment, weight: 5 }] });
 * console.log(router.armFor('user-17').name);
 * ```
 */
export function createAbRouter(options: AbRouterOptions): AbRouter {
  const arms = options.arms;
  if (!Array.isArray(arms) || arms.length === 0) throw new CtrkitError('E_CONFIG', 'an A/B router needs at least one arm');
  if (typeof options.salt !== 'string' || options.salt.length === 0) throw new CtrkitError('E_CONFIG', 'an A/B router needs a non-empty salt (e.g. the experiment id)');
  const names = new Set<string>();
  let total = 0;
  for (const arm of arms) {
    if (names.has(arm.name)) throw new CtrkitError('E_CONFIG', `arm name "${arm.name}" appears twice`);
    names.add(arm.name);
    if (!(Number.isFinite(arm.weight) && arm.weight >= 0)) throw new CtrkitError('E_CONFIG', `arm "${arm.name}" has weight ${arm.weight}; weights must be finite and ≥ 0`);
    total += arm.weight;
  }
  if (!(total > 0)) throw new CtrkitError('E_CONFIG', 'arm weights sum to 0; give at least one arm a positive weight');
  // Cumulative bounds in units of 2^32, so routing compares integers and never rounds at the top.
  const bounds = new Float64Array(arms.length);
  let cumulative = 0;
  arms.forEach((arm, i) => {
    cumulative += arm.weight;
    bounds[i] = i === arms.length - 1 ? 4294967296 : Math.floor((cumulative / total) * 4294967296);
  });
  const prefix = `${options.salt}\u0001`;
  const armFor = (userId: string): AbArm => {
    if (typeof userId !== 'string') throw new CtrkitError('E_INPUT', `user id must be a string, got ${typeof userId}`);
    const bucket = seedFromString(prefix + userId);
    for (let i = 0; i < bounds.length; i++) if (bucket < (bounds[i] as number)) return arms[i] as AbArm;
    return arms[arms.length - 1] as AbArm;
  };
  return {
    arms,
    armFor,
    predict: async (userId, batch, out) => armFor(userId).runner.predict(batch, out),
    dispose: async () => {
      await Promise.all(arms.map((arm) => arm.runner.dispose()));
    },
  };
}
