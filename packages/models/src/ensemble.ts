/** Ensembles: several runners on the same batch, averaged in logit space. */
import { CtrkitError, type FeatureBatch, type ModelInfo, type ModelRunner } from '@ctrkit/core';
import { Lifecycle } from './runner/lifecycle.js';
import { outputFor } from './runner/output-buffer.js';
import { clampedLogit, sigmoid } from './runner/sigmoid.js';

/** One member of an ensemble.
 *
 * @example
 * ```ts
 * import type { EnsembleMember } from '@ctrkit/models';
 * import type { ModelRunner } from '@ctrkit/core';
 * declare const runner: ModelRunner;
 * const member: EnsembleMember = { runner, weight: 0.7 };
 * ```
 */
export interface EnsembleMember {
  /** The member's runner. */
  readonly runner: ModelRunner;
  /** Its weight (≥ 0; weights are normalized to sum to 1). */
  readonly weight: number;
}

/** Options for {@link createEnsemble}.
 *
 * @example
 * ```ts
 * import type { EnsembleOptions } from '@ctrkit/models';
 * import type { ModelRunner } from '@ctrkit/core';
 * declare const a: ModelRunner;
 * declare const b: ModelRunner;
 * const options: EnsembleOptions = { members: [{ runner: a, weight: 1 }, { runner: b, weight: 1 }], version: 'lr+dcn-3' };
 * ```
 */
export interface EnsembleOptions {
  /** Members (at least one, same feature spec). */
  readonly members: readonly EnsembleMember[];
  /** Version reported in `info` (default: members' versions joined with `+`). */
  readonly version?: string;
}


class Ensemble implements ModelRunner {
  readonly info: ModelInfo;
  private readonly runners: readonly ModelRunner[];
  private readonly weights: Float64Array;
  private readonly lifecycle = new Lifecycle(() => 'ensemble');

  constructor(options: EnsembleOptions) {
    const members = options.members;
    if (!Array.isArray(members) || members.length === 0) throw new CtrkitError('E_CONFIG', 'an ensemble needs at least one member');
    let total = 0;
    for (const [i, member] of members.entries()) {
      if (!(Number.isFinite(member.weight) && member.weight >= 0)) throw new CtrkitError('E_CONFIG', `ensemble member ${i} has weight ${member.weight}; weights must be finite and ≥ 0`);
      total += member.weight;
    }
    if (!(total > 0)) throw new CtrkitError('E_CONFIG', 'ensemble weights sum to 0; give at least one member a positive weight');
    const fingerprint = (members[0] as EnsembleMember).runner.info.fingerprint;
    for (const member of members) {
      if (member.runner.info.fingerprint !== fingerprint) {
        throw new CtrkitError(
          'E_CONFIG',
          `ensemble members were trained on different feature specs (${fingerprint} and ${member.runner.info.fingerprint}); every member must read the same batch`,
        );
      }
    }
    this.runners = members.map((m) => m.runner);
    this.weights = Float64Array.from(members, (m) => m.weight / total);
    const infos = members.map((m) => m.runner.info);
    this.info = Object.freeze({
      architecture: `ensemble(${infos.map((i) => i.architecture).join('+')})`,
      version: options.version ?? infos.map((i) => i.version).join('+'),
      backend: 'ensemble',
      provider: [...new Set(infos.map((i) => `${i.backend}:${i.provider}`))].join('+'),
      fingerprint,
    });
  }

  async predict(batch: FeatureBatch, out?: Float32Array): Promise<Float32Array> {
    this.lifecycle.enter();
    try {
      const rows = batch?.rows;
      const target = outputFor(out, Number.isInteger(rows) && rows >= 0 ? rows : 0);
      const m = this.runners.length;
      // One scratch array per call (members × rows): members run concurrently, so they cannot share.
      const scratch = new Float32Array(m * target.length);
      await Promise.all(this.runners.map((runner, i) => runner.predict(batch, scratch.subarray(i * target.length, (i + 1) * target.length))));
      const n = target.length;
      for (let r = 0; r < n; r++) {
        let z = 0;
        for (let i = 0; i < m; i++) {
          // Clamped, so a member that says 0 or 1 cannot outvote all others with ±∞.
          z += (this.weights[i] as number) * clampedLogit(scratch[i * n + r] as number);
        }
        target[r] = sigmoid(z);
      }
      return target;
    } finally {
      this.lifecycle.exit();
    }
  }

  dispose(): Promise<void> {
    return this.lifecycle.dispose(async () => {
      await Promise.all(this.runners.map((runner) => runner.dispose()));
    });
  }
}

/**
 * Creates an ensemble: every member scores the batch (concurrently), and the result is
 * `σ(Σ wᵢ·logit(pᵢ))` with weights normalized to sum to 1.
 *
 * @param options - Members and version.
 * @returns A runner; disposing it disposes the members.
 * @throws `CtrkitError` `E_CONFIG` on no members, a negative or all-zero weight, or members of different feature specs.
 * @remarks Allocates one `members × rows` scratch array per call.
 * @example
 * ```ts
 * import { createEnsemble } from '@ctrkit/models';
 * import type { ModelRunner } from '@ctrkit/core';
 * declare const lr: ModelRunner;
 * declare const dcn: ModelRunner;
 * const ensemble = createEnsemble({ members: [{ runner: lr, weight: 0.3 }, { runner: dcn, weight: 0.7 }] });
 * ```
 */
export function createEnsemble(options: EnsembleOptions): ModelRunner {
  return new Ensemble(options);
}
