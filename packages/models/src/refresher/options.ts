/**
 * What an online refresher is told: its trainer and target, when to decide, how large the
 * hold-out window is, and the guard a candidate must pass; checked once into its settings.
 */
import { CtrkitError, type Clock, type OnlineTrainer } from '@ctrkit/core';
import type { HotSwapRunner } from '../hot-swap.js';
import type { RefreshDecision } from './decision.js';

/** When a candidate may replace the serving model.
 *
 * @example
 * ```ts
 * import type { RefreshGuard } from '@ctrkit/models';
 * const guard: RefreshGuard = { relativeTolerance: 0.002, minRows: 1_000, minPositives: 20 };
 * ```
 */
export interface RefreshGuard {
  /**
   * How much worse, relatively, the candidate's log loss may be and still take over (default 0:
   * candidate log loss ≤ serving log loss). 0.01 lets a candidate 1% worse through — for a host
   * that values freshness over a noisy window's verdict.
   */
  readonly relativeTolerance?: number;
  /** Fewest window rows a decision is made on (default 500); with fewer it refuses and says so. */
  readonly minRows?: number;
  /** Fewest clicks among the window rows (default 10): log loss on a handful of positives is noise. */
  readonly minPositives?: number;
}

/** Options of {@link createOnlineRefresher}.
 *
 * @example
 * ```ts
 * import { createManualClock, type FeatureLayout } from '@ctrkit/core';
 * import { createFtrlTrainer, createHotSwapRunner, createNativeRunner, initLrWeights, type OnlineRefresherOptions } from '@ctrkit/models';
 * declare const layout: FeatureLayout;
 * const options: OnlineRefresherOptions = {
 *   trainer: createFtrlTrainer(layout),
 *   target: createHotSwapRunner(createNativeRunner({ layout, weights: initLrWeights(layout) })),
 *   everyRows: 5_000, everyMs: 60_000, holdoutRows: 2_000,
 *   guard: { relativeTolerance: 0, minRows: 500, minPositives: 10 },
 *   clock: createManualClock(0),
 *   log: (line) => console.log(line),
 * };
 * ```
 */
export interface OnlineRefresherOptions {
  /** The trainer that learns from the rows once they leave the window. */
  readonly trainer: OnlineTrainer;
  /** The serving runner its snapshots may replace (same feature spec as the trainer). */
  readonly target: HotSwapRunner;
  /** Refresh after this many rows learned since the last decision (default 10,000; `Infinity`: by time only). */
  readonly everyRows?: number;
  /** Refresh when this long has passed since the last decision, checked on `add` (default 60,000 ms; `Infinity`: by rows only). */
  readonly everyMs?: number;
  /** Size of the hold-out window, rows (default 2,000; at least `guard.minRows`). */
  readonly holdoutRows?: number;
  /** When a candidate may take over. */
  readonly guard?: RefreshGuard;
  /** Time source of the time trigger and of decisions (default the system clock). */
  readonly clock?: Clock;
  /** Receives one line per swap, refusal and rollback. */
  readonly log?: (line: string) => void;
  /** Receives every decision. */
  readonly onDecision?: (decision: RefreshDecision) => void;
  /** Candidate versions are `${versionPrefix}-${n}` (default `online`). */
  readonly versionPrefix?: string;
}

/**
 * The options, checked, with their defaults filled in.
 *
 * @internal
 */
export interface Settings {
  readonly everyRows: number;
  readonly everyMs: number;
  readonly holdoutRows: number;
  readonly relativeTolerance: number;
  readonly minRows: number;
  readonly minPositives: number;
  readonly versionPrefix: string;
}

/**
 * Checks the options once, at creation.
 *
 * @param options - What `createOnlineRefresher` was given.
 * @returns The settings.
 * @throws `CtrkitError` `E_CONFIG` on a missing trainer or target, a trainer of another feature
 *   spec, or a trigger, window or guard out of range.
 * @internal
 */
export function settingsOf(options: OnlineRefresherOptions): Settings {
  const fail = (message: string): never => {
    throw new CtrkitError('E_CONFIG', `createOnlineRefresher: ${message}`);
  };
  if (typeof options !== 'object' || options === null) fail('pass { trainer, target, … }');
  const { trainer, target, guard = {} } = options;
  if (typeof trainer !== 'object' || trainer === null || typeof trainer.update !== 'function' || typeof trainer.snapshot !== 'function') {
    fail('trainer must be an OnlineTrainer (createFtrlTrainer or createFmTrainer)');
  }
  if (typeof target !== 'object' || target === null || typeof target.swap !== 'function' || typeof target.predictCalibrated !== 'function') {
    fail('target must be a HotSwapRunner (createHotSwapRunner over the serving model)');
  }
  if (trainer.layout.fingerprint !== target.info.fingerprint) {
    fail(`the trainer learns feature spec ${trainer.layout.fingerprint} but the target serves ${target.info.fingerprint}; build the trainer on the serving encoder's layout`);
  }
  const count = (value: number | undefined, name: string, fallback: number, least: number, infinite: boolean): number => {
    if (value === undefined) return fallback;
    if ((infinite && value === Infinity) || (Number.isInteger(value) && value >= least)) return value;
    return fail(`${name} must be an integer ≥ ${least}${infinite ? ' or Infinity (to turn that trigger off)' : ''}, got ${String(value)}`);
  };
  const everyRows = count(options.everyRows, 'everyRows', 10_000, 1, true);
  const everyMs = options.everyMs === undefined ? 60_000 : options.everyMs;
  if (!(everyMs === Infinity || (Number.isFinite(everyMs) && everyMs > 0))) fail(`everyMs must be a positive number of ms or Infinity (to refresh by rows only), got ${String(everyMs)}`);
  if (everyRows === Infinity && everyMs === Infinity) fail('everyRows and everyMs are both Infinity, so it would never refresh by itself; give one a finite value');
  const minRows = count(guard.minRows, 'guard.minRows', 500, 1, false);
  const minPositives = count(guard.minPositives, 'guard.minPositives', 10, 0, false);
  const holdoutRows = count(options.holdoutRows, 'holdoutRows', Math.max(2_000, minRows), 1, false);
  if (holdoutRows < minRows) fail(`holdoutRows (${holdoutRows}) must be at least guard.minRows (${minRows}), or no window would ever be judged; raise holdoutRows or lower guard.minRows`);
  if (minPositives > minRows) fail(`guard.minPositives (${minPositives}) exceeds guard.minRows (${minRows}); lower minPositives`);
  const relativeTolerance = guard.relativeTolerance ?? 0;
  if (!(Number.isFinite(relativeTolerance) && relativeTolerance >= 0 && relativeTolerance < 1)) {
    fail(`guard.relativeTolerance must be a number in [0, 1) (0.01 lets a candidate 1% worse through), got ${String(relativeTolerance)}`);
  }
  const versionPrefix = options.versionPrefix ?? 'online';
  if (typeof versionPrefix !== 'string' || versionPrefix.length === 0) fail('versionPrefix must be a non-empty string');
  for (const [name, value] of [['log', options.log], ['onDecision', options.onDecision]] as const) {
    if (value !== undefined && typeof value !== 'function') fail(`${name} must be a function`);
  }
  return { everyRows, everyMs, holdoutRows, relativeTolerance, minRows, minPositives, versionPrefix };
}
