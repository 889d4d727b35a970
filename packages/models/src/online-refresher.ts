/**
 * The online refresher: closes the loop between an {@link OnlineTrainer} that learns from joined
 * (labeled) served rows and the hot-swap runner that serves. Joined rows wait in a hold-out
 * window first and are learned only when they leave it, so at every decision the window holds the
 * most recent joined rows that neither the serving model nor the candidate snapshot has trained
 * on; the candidate takes over only when it is not worse on them, and the version it replaced is
 * kept for one rollback.
 */
import {
  createIdentityCalibrator,
  CtrkitError,
  joinedRowsToBatch,
  systemClock,
  toCtrkitError,
  type Clock,
  type FeatureLayout,
  type JoinedRow,
  type ModelRunner,
  type OnlineTrainer,
} from '@ctrkit/core';
import type { HotSwapRunner, ModelVersion, SwapResult } from './hot-swap.js';
import { fixed, scoreOf, type OnlineRefresherStats, type RefreshDecision, type RefreshReason, type RefreshTrigger, type WindowScore } from './refresher/decision.js';
import { settingsOf, type OnlineRefresherOptions, type Settings } from './refresher/options.js';
import { checkRows, Rows, type RefresherRows } from './refresher/window-rows.js';

export type { OnlineRefresherStats, RefreshDecision, RefreshReason, RefreshTrigger, WindowScore } from './refresher/decision.js';
export type { OnlineRefresherOptions, RefreshGuard } from './refresher/options.js';
export type { RefresherRows } from './refresher/window-rows.js';

/**
 * Feeds an online trainer from joined rows through a hold-out window, and swaps its snapshots
 * into serving when they are not worse on that window.
 *
 * @example
 * ```ts
 * import type { JoinedRow } from '@ctrkit/core';
 * import type { OnlineRefresher } from '@ctrkit/models';
 * declare const refresher: OnlineRefresher;
 * declare const joined: JoinedRow[];
 * refresher.add(joined);                    // may start a decision by rows or by time
 * const decision = await refresher.refresh(); // or force one
 * if (decision.swapped && decision.candidate!.auc < 0.6) await refresher.rollback();
 * console.log(refresher.stats().servingVersion);
 * ```
 */
export interface OnlineRefresher {
  /**
   * Takes labeled rows, oldest first: they enter the window, and the rows they push out of it are
   * learned. Starts a decision when a trigger is due and none is running.
   *
   * @param rows - Joined rows from the label joiner, or a batch and its labels.
   * @returns The decision it started (it never rejects; a failure is a `failed` refusal), or
   *   undefined when none was due.
   * @throws `CtrkitError` `E_INPUT` when a row does not follow the trainer's layout or a label is
   *   not 0/1 — before anything is kept or learned; `E_STATE` after `dispose`.
   */
  add(rows: readonly JoinedRow[] | RefresherRows): Promise<RefreshDecision> | undefined;
  /**
   * Decides now, whatever the triggers say (after any decision already running).
   *
   * @returns The decision.
   * @throws `CtrkitError` `E_STATE` after `dispose`.
   */
  refresh(): Promise<RefreshDecision>;
  /**
   * Swaps back the version that served before the last swap, and disposes the one it replaces.
   * There is one version to go back to: a second rollback without a swap between refuses.
   *
   * @returns What the swap did.
   * @throws `CtrkitError` `E_STATE` when there is nothing to roll back to, or after `dispose`;
   *   the swap's own errors otherwise (the serving model then stays).
   */
  rollback(): Promise<SwapResult>;
  /** Counters, the last decision, the serving and kept versions. */
  stats(): OnlineRefresherStats;
  /** Waits for a running decision, then disposes the version kept for rollback. The target is the caller's. */
  dispose(): Promise<void>;
}

class Refresher implements OnlineRefresher {
  private readonly trainer: OnlineTrainer;
  private readonly target: HotSwapRunner;
  private readonly clock: Clock;
  private readonly settings: Settings;
  private readonly log: ((line: string) => void) | undefined;
  private readonly onDecision: ((decision: RefreshDecision) => void) | undefined;
  private readonly layout: FeatureLayout;
  /** The hold-out window: a ring of `holdoutRows` rows; `start` is the oldest, `count` how many are held. */
  private readonly ring: Rows;
  private start = 0;
  private count = 0;
  /** The window, oldest first, as the models are judged on it; reused by every decision (they run one at a time). */
  private readonly judged: Rows;
  private readonly candidateScores: Float32Array;
  private readonly servingScores: Float32Array;
  private previous: ModelVersion | undefined;
  private running: Promise<unknown> = Promise.resolve();
  private busy = false;
  private disposed = false;
  private sequence = 0;
  private learnedAtDecision = 0;
  private decidedAt: number;
  private rowsAdded = 0;
  private rowsLearned = 0;
  private decisions = 0;
  private swaps = 0;
  private rollbacks = 0;
  private readonly refusals: Record<Exclude<RefreshReason, 'not-worse'>, number> = {
    worse: 0,
    'too-few-rows': 0,
    'too-few-positives': 0,
    'serving-changed': 0,
    failed: 0,
  };
  private last: RefreshDecision | undefined;

  constructor(options: OnlineRefresherOptions, settings: Settings) {
    this.trainer = options.trainer;
    this.target = options.target;
    this.clock = options.clock ?? systemClock;
    this.settings = settings;
    this.log = options.log;
    this.onDecision = options.onDecision;
    this.layout = options.trainer.layout;
    this.ring = new Rows(this.layout, settings.holdoutRows);
    this.judged = new Rows(this.layout, settings.holdoutRows);
    this.candidateScores = new Float32Array(settings.holdoutRows);
    this.servingScores = new Float32Array(settings.holdoutRows);
    this.decidedAt = this.clock.now();
  }

  add(input: readonly JoinedRow[] | RefresherRows): Promise<RefreshDecision> | undefined {
    if (this.disposed) throw new CtrkitError('E_STATE', 'online refresher was disposed; create a new one');
    const rows: RefresherRows = Array.isArray(input) ? joinedRowsToBatch(this.layout, input as readonly JoinedRow[]) : (input as RefresherRows);
    checkRows(this.layout, rows);
    this.admit(rows);
    return this.due();
  }

  /** Rows enter the window; the oldest rows beyond its capacity (window first, then incoming) are learned, in order. */
  private admit({ batch, labels }: RefresherRows): void {
    const n = batch.rows;
    const capacity = this.settings.holdoutRows;
    const { ring } = this;
    const leaving = Math.max(0, this.count + n - capacity);
    const fromRing = Math.min(leaving, this.count);
    const passing = leaving - fromRing; // incoming rows that would leave at once: learned straight away
    let staging: Rows | undefined;
    if (leaving > 0) {
      staging = new Rows(this.layout, leaving);
      for (let k = 0; k < fromRing; k++) {
        const slot = (this.start + k) % capacity;
        staging.copyIn(ring, slot, ring.labels[slot] as number, k);
      }
      for (let k = 0; k < passing; k++) staging.copyIn(batch, k, labels[k] as number, fromRing + k);
      this.start = (this.start + fromRing) % capacity;
      this.count -= fromRing;
    }
    for (let r = passing; r < n; r++) {
      ring.copyIn(batch, r, labels[r] as number, (this.start + this.count) % capacity);
      this.count++;
    }
    this.rowsAdded += n;
    if (staging !== undefined) {
      this.trainer.update(staging.batch(leaving), staging.labels);
      this.rowsLearned += leaving;
    }
  }

  private due(): Promise<RefreshDecision> | undefined {
    if (this.busy) return undefined;
    const learned = this.rowsLearned - this.learnedAtDecision;
    if (learned === 0) return undefined;
    let trigger: RefreshTrigger | undefined;
    if (learned >= this.settings.everyRows) trigger = 'rows';
    else if (this.clock.now() - this.decidedAt >= this.settings.everyMs) trigger = 'time';
    return trigger === undefined ? undefined : this.schedule(trigger);
  }

  refresh(): Promise<RefreshDecision> {
    if (this.disposed) return Promise.reject(new CtrkitError('E_STATE', 'online refresher was disposed; create a new one'));
    return this.schedule('forced');
  }

  private schedule(trigger: RefreshTrigger): Promise<RefreshDecision> {
    this.busy = true;
    const run = this.running.then(() => this.decide(trigger));
    this.running = run.then(
      () => {
        this.busy = false;
      },
      () => {
        this.busy = false;
      },
    );
    return run;
  }

  /** Copies the window, oldest first, into `judged`; returns the number of clicks. */
  private freezeWindow(): number {
    const { ring, judged, count, start } = this;
    const capacity = this.settings.holdoutRows;
    let positives = 0;
    for (let k = 0; k < count; k++) {
      const slot = (start + k) % capacity;
      const y = ring.labels[slot] as number;
      judged.copyIn(ring, slot, y, k);
      positives += y;
    }
    return positives;
  }

  private async decide(trigger: RefreshTrigger): Promise<RefreshDecision> {
    const at = this.clock.now();
    this.decidedAt = at;
    this.learnedAtDecision = this.rowsLearned;
    const { minRows, minPositives, relativeTolerance, versionPrefix } = this.settings;
    const rows = this.count;
    const positives = this.freezeWindow();
    const active = this.target.active;
    const servingVersion = active.runner.info.version;
    const rowsLearned = this.trainer.rowsSeen;
    const base = { trigger, servingVersion, rows, positives, rowsLearned, at };
    const where = `on ${rows} window rows (${positives} clicks), ${rowsLearned} rows learned, trigger ${trigger}`;
    if (rows < minRows) {
      return this.finish({ ...base, swapped: false, reason: 'too-few-rows', candidateVersion: undefined, candidate: undefined, serving: undefined, message: `online refresh: refused, no candidate judged: the window holds ${rows} rows, the guard wants ${minRows} ${where}` });
    }
    if (positives < minPositives) {
      return this.finish({ ...base, swapped: false, reason: 'too-few-positives', candidateVersion: undefined, candidate: undefined, serving: undefined, message: `online refresh: refused, no candidate judged: the window holds ${positives} clicks, the guard wants ${minPositives} ${where}` });
    }
    // The snapshot and the frozen window belong together: the window's rows are exactly those the trainer has not learned.
    const candidateVersion = `${versionPrefix}-${++this.sequence}`;
    let candidateRunner: ModelRunner | undefined;
    let candidate: WindowScore | undefined;
    let serving: WindowScore | undefined;
    try {
      candidateRunner = this.trainer.snapshot(candidateVersion);
      const batch = this.judged.batch(rows);
      const labels = this.judged.labels.subarray(0, rows);
      const servingScores = await this.target.predictCalibrated(batch, this.servingScores.subarray(0, rows));
      const candidateScores = await candidateRunner.predict(batch, this.candidateScores.subarray(0, rows));
      serving = scoreOf(labels, servingScores, positives);
      candidate = scoreOf(labels, candidateScores, positives);
      const figures = `log loss ${fixed(candidate.logLoss, 5)} vs ${fixed(serving.logLoss, 5)}, AUC ${fixed(candidate.auc, 4)} vs ${fixed(serving.auc, 4)} ${where}`;
      const bound = serving.logLoss * (1 + relativeTolerance);
      if (!(candidate.logLoss <= bound)) {
        await candidateRunner.dispose();
        return this.finish({ ...base, swapped: false, reason: 'worse', candidateVersion, candidate, serving, message: `online refresh: refused ${candidateVersion} over ${servingVersion}: worse, ${figures} (guard: ≤ ${fixed(bound, 5)})` });
      }
      if (this.target.active !== active) {
        await candidateRunner.dispose();
        return this.finish({ ...base, swapped: false, reason: 'serving-changed', candidateVersion, candidate, serving, message: `online refresh: refused ${candidateVersion}: the serving model changed from ${servingVersion} to ${this.target.info.version} while it was judged; ${figures}` });
      }
      const result = await this.target.swap({ runner: candidateRunner, calibrator: createIdentityCalibrator() }, { keepPrevious: true });
      const older = this.previous;
      this.previous = result.retained;
      if (older !== undefined && older !== result.retained) await older.runner.dispose().catch(() => undefined);
      return this.finish({ ...base, swapped: true, reason: 'not-worse', candidateVersion, candidate, serving, message: `online refresh: swapped ${servingVersion} → ${candidateVersion}: ${figures}` });
    } catch (error) {
      // The hot swap disposes a candidate it refuses; a candidate that failed before the swap is ours to free.
      await candidateRunner?.dispose().catch(() => undefined);
      const cause = toCtrkitError(error, 'E_INFERENCE', 'scoring the window failed');
      return this.finish({
        ...base,
        swapped: false,
        reason: 'failed',
        candidateVersion,
        candidate,
        serving,
        message: `online refresh: refused ${candidateVersion}: ${cause.code} ${cause.message}; ${servingVersion} keeps serving ${where}`,
      });
    }
  }

  private finish(decision: RefreshDecision): RefreshDecision {
    this.decisions++;
    if (decision.swapped) this.swaps++;
    else this.refusals[decision.reason as Exclude<RefreshReason, 'not-worse'>]++;
    this.last = decision;
    this.log?.(decision.message);
    if (this.onDecision !== undefined) {
      try {
        this.onDecision(decision);
      } catch (error) {
        this.log?.(`online refresh: onDecision threw ${(error as Error)?.message ?? String(error)}`);
      }
    }
    return decision;
  }

  rollback(): Promise<SwapResult> {
    if (this.disposed) return Promise.reject(new CtrkitError('E_STATE', 'online refresher was disposed; create a new one'));
    const run = this.running.then(async () => {
      const previous = this.previous;
      if (previous === undefined) throw new CtrkitError('E_STATE', 'online refresher: nothing to roll back to (no swap since it started or since the last rollback)');
      const from = this.target.info.version;
      // The version left is the one judged wrong: the hot swap disposes it once its calls finish.
      const result = await this.target.swap(previous);
      this.previous = undefined;
      this.rollbacks++;
      this.log?.(`online refresh: rolled back ${from} → ${result.current.version}`);
      return result;
    });
    this.running = run.catch(() => undefined);
    return run;
  }

  stats(): OnlineRefresherStats {
    const last = this.last;
    const refusals = Object.values(this.refusals).reduce((a, b) => a + b, 0);
    return {
      rowsAdded: this.rowsAdded,
      rowsLearned: this.rowsLearned,
      windowRows: this.count,
      decisions: this.decisions,
      swaps: this.swaps,
      refusals,
      refusalsByReason: { ...this.refusals },
      rollbacks: this.rollbacks,
      servingVersion: this.target.info.version,
      previousVersion: this.previous?.runner.info.version,
      lastDecision: last,
      lastLogLoss: last?.candidate !== undefined && last.serving !== undefined ? { candidate: last.candidate.logLoss, serving: last.serving.logLoss } : undefined,
    };
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.running;
    const previous = this.previous;
    this.previous = undefined;
    if (previous !== undefined) await previous.runner.dispose().catch(() => undefined);
  }
}

/**
 * Creates an {@link OnlineRefresher}: the scheduler of online learning in serving.
 *
 * @param options - The trainer, the hot-swap runner it feeds, triggers, window and guard.
 * @returns The refresher; the window starts empty and the trainer learns a row only once
 *   `holdoutRows` newer rows have arrived.
 * @throws `CtrkitError` `E_CONFIG` on a missing trainer or target, a trainer of another feature
 *   spec, or a trigger, window or guard out of range (the message says which and how to mend it).
 * @remarks Memory is fixed at creation: two copies of `holdoutRows` rows in typed arrays (the ring
 *   and the batch a decision scores) and two score buffers; `add` allocates one staging batch for
 *   the rows it hands the trainer. Each decision costs one snapshot (O(idSpace) for LR) and two
 *   scorings of the window.
 * @example
 * ```ts
 * import { createLabelJoiner, type FeatureLayout, type ModelRunner } from '@ctrkit/core';
 * import { createFtrlTrainer, createHotSwapRunner, createOnlineRefresher } from '@ctrkit/models';
 * declare const layout: FeatureLayout;
 * declare const servingModel: ModelRunner;
 * const target = createHotSwapRunner(servingModel);
 * const refresher = createOnlineRefresher({ trainer: createFtrlTrainer(layout), target, everyRows: 5_000, holdoutRows: 2_000, log: console.log });
 * const joiner = createLabelJoiner({ windowMs: 15 * 60_000, layout, onLabel: (joined) => void refresher.add([joined]) });
 * ```
 */
export function createOnlineRefresher(options: OnlineRefresherOptions): OnlineRefresher {
  return new Refresher(options, settingsOf(options));
}
