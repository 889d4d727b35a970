/**
 * The online refresher: closes the loop between an {@link OnlineTrainer} that learns from joined
 * (labelled) served rows and the hot-swap runner that serves. Joined rows wait in a hold-out
 * window first and are learnt only when they leave it, so at every decision the window holds the
 * most recent joined rows that neither the serving model nor the candidate snapshot has trained
 * on; the candidate takes over only when it is not worse on them, and the version it replaced is
 * kept for one rollback.
 */
import {
  auc,
  createIdentityCalibrator,
  CtrkitError,
  joinedRowsToBatch,
  logLoss,
  systemClock,
  toCtrkitError,
  type Clock,
  type FeatureBatch,
  type FeatureLayout,
  type JoinedRow,
  type ModelRunner,
  type OnlineLearningCounters,
  type OnlineTrainer,
} from '@ctrkit/core';
import type { HotSwapRunner, ModelVersion, SwapResult } from './hot-swap.js';

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

/** Why a refresh did what it did: `not-worse` is the one reason that swaps.
 *
 * - `not-worse` — the candidate's log loss passed the guard; it serves now.
 * - `worse` — the candidate's log loss exceeded the serving model's by more than the tolerance.
 * - `too-few-rows`, `too-few-positives` — the window is too small to judge; nothing was scored.
 * - `serving-changed` — someone else swapped the serving model while the candidate was judged.
 * - `failed` — scoring or the swap threw; the serving model stays (the message says why).
 *
 * @example
 * ```ts
 * import type { RefreshReason } from '@ctrkit/models';
 * const judged = (r: RefreshReason) => r === 'not-worse' || r === 'worse';
 * ```
 */
export type RefreshReason = 'not-worse' | 'worse' | 'too-few-rows' | 'too-few-positives' | 'serving-changed' | 'failed';

/** What set a refresh off: enough rows learnt, enough time passed, or a call to `refresh()`.
 *
 * @example
 * ```ts
 * import type { RefreshTrigger } from '@ctrkit/models';
 * const scheduled = (t: RefreshTrigger) => t !== 'forced';
 * ```
 */
export type RefreshTrigger = 'rows' | 'time' | 'forced';

/** Log loss and AUC of one model on the window.
 *
 * @example
 * ```ts
 * import type { WindowScore } from '@ctrkit/models';
 * const describe = (s: WindowScore) => `log loss ${s.logLoss.toFixed(4)}, AUC ${s.auc.toFixed(3)}`;
 * ```
 */
export interface WindowScore {
  /** Mean log loss (nats). */
  readonly logLoss: number;
  /** ROC AUC; NaN when the window holds one class only. */
  readonly auc: number;
}

/** One decision of the refresher: swap or refusal, with the figures it rested on.
 *
 * @example
 * ```ts
 * import type { RefreshDecision } from '@ctrkit/models';
 * const gain = (d: RefreshDecision) => (d.serving && d.candidate ? d.serving.logLoss - d.candidate.logLoss : undefined);
 * ```
 */
export interface RefreshDecision {
  /** Whether the candidate now serves. */
  readonly swapped: boolean;
  /** Why. */
  readonly reason: RefreshReason;
  /** What set it off. */
  readonly trigger: RefreshTrigger;
  /** The one log line written for it. */
  readonly message: string;
  /** The candidate's version, when a snapshot was taken. */
  readonly candidateVersion: string | undefined;
  /** The version serving when the decision started. */
  readonly servingVersion: string;
  /** Window rows the models were judged on. */
  readonly rows: number;
  /** Clicks among them. */
  readonly positives: number;
  /** Rows the trainer had learnt when the candidate was snapshotted. */
  readonly rowsLearnt: number;
  /** The candidate's figures, when scored. */
  readonly candidate: WindowScore | undefined;
  /** The serving model's figures (calibrated, as served), when scored. */
  readonly serving: WindowScore | undefined;
  /** When the decision started, by the refresher's clock. */
  readonly at: number;
}

/** Counters of an {@link OnlineRefresher}.
 *
 * @example
 * ```ts
 * import type { OnlineRefresherStats } from '@ctrkit/models';
 * const summary = (s: OnlineRefresherStats) => `${s.swaps} swaps, ${s.refusals} refusals, serving ${s.servingVersion}`;
 * ```
 */
export interface OnlineRefresherStats extends OnlineLearningCounters {
  /** Decisions made (swaps + refusals). */
  readonly decisions: number;
  /** The last decision, if any. */
  readonly lastDecision: RefreshDecision | undefined;
  /** The version kept for rollback, if any. */
  readonly previousVersion: string | undefined;
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
  /** Refresh after this many rows learnt since the last decision (default 10,000; `Infinity`: by time only). */
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

/** Labelled rows as {@link OnlineRefresher.add} takes them, when not straight from the joiner.
 *
 * @example
 * ```ts
 * import type { FeatureBatch } from '@ctrkit/core';
 * import type { RefresherRows } from '@ctrkit/models';
 * declare const batch: FeatureBatch;
 * const rows: RefresherRows = { batch, labels: new Float32Array(batch.rows) };
 * ```
 */
export interface RefresherRows {
  /** Encoded rows of the trainer's layout. */
  readonly batch: FeatureBatch;
  /** One 0/1 label per row. */
  readonly labels: ArrayLike<number>;
}

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
   * Takes labelled rows, oldest first: they enter the window, and the rows they push out of it are
   * learnt. Starts a decision when a trigger is due and none is running.
   *
   * @param rows - Joined rows from the label joiner, or a batch and its labels.
   * @returns The decision it started (it never rejects; a failure is a `failed` refusal), or
   *   undefined when none was due.
   * @throws `CtrkitError` `E_INPUT` when a row does not follow the trainer's layout or a label is
   *   not 0/1 — before anything is kept or learnt; `E_STATE` after `dispose`.
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

interface Settings {
  readonly everyRows: number;
  readonly everyMs: number;
  readonly holdoutRows: number;
  readonly relativeTolerance: number;
  readonly minRows: number;
  readonly minPositives: number;
  readonly versionPrefix: string;
}

function settingsOf(options: OnlineRefresherOptions): Settings {
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

function sequenceStride(layout: FeatureLayout): number {
  let max = 0;
  for (const s of layout.sequences) if (s.maxLength > max) max = s.maxLength;
  return max;
}

/** Columns of `rows` rows of one layout: what the window ring, the staging batch and the judged batch hold. */
class Rows {
  readonly ids: Int32Array;
  readonly values: Float32Array;
  readonly dense: Float32Array;
  readonly sequenceIds: Int32Array;
  readonly sequenceLengths: Int32Array;
  readonly labels: Float32Array;

  constructor(
    readonly layout: FeatureLayout,
    readonly capacity: number,
  ) {
    const { idWidth, denseWidth, sequences } = layout;
    this.ids = new Int32Array(capacity * idWidth);
    this.values = new Float32Array(capacity * idWidth);
    this.dense = new Float32Array(capacity * denseWidth);
    this.sequenceIds = new Int32Array(capacity * sequences.length * sequenceStride(layout));
    this.sequenceLengths = new Int32Array(capacity * sequences.length);
    this.labels = new Float32Array(capacity);
  }

  /** Copies row `from` of `source` (columns of a batch) into row `to`. */
  copyIn(source: Columns, from: number, label: number, to: number): void {
    const W = this.layout.idWidth;
    const D = this.layout.denseWidth;
    const S = this.layout.sequences.length;
    const SL = S * sequenceStride(this.layout);
    this.ids.set(source.ids.subarray(from * W, from * W + W), to * W);
    this.values.set(source.values.subarray(from * W, from * W + W), to * W);
    if (D > 0) this.dense.set(source.dense.subarray(from * D, from * D + D), to * D);
    if (SL > 0) this.sequenceIds.set(source.sequenceIds.subarray(from * SL, from * SL + SL), to * SL);
    if (S > 0) this.sequenceLengths.set(source.sequenceLengths.subarray(from * S, from * S + S), to * S);
    this.labels[to] = label;
  }

  /** The first `rows` rows as a batch (views, no copy). */
  batch(rows: number): FeatureBatch {
    const { idWidth, denseWidth, sequences } = this.layout;
    const S = sequences.length;
    const SL = S * sequenceStride(this.layout);
    return {
      layout: this.layout,
      rows,
      ids: this.ids.subarray(0, rows * idWidth),
      values: this.values.subarray(0, rows * idWidth),
      dense: this.dense.subarray(0, rows * denseWidth),
      sequenceIds: this.sequenceIds.subarray(0, rows * SL),
      sequenceLengths: this.sequenceLengths.subarray(0, rows * S),
    };
  }
}

type Columns = Pick<FeatureBatch, 'ids' | 'values' | 'dense' | 'sequenceIds' | 'sequenceLengths'>;

/** Checks a batch against the trainer's layout fully, so nothing the window keeps can fail the trainer later. */
function checkRows(layout: FeatureLayout, rows: RefresherRows): void {
  const fail = (what: string): never => {
    throw new CtrkitError('E_INPUT', `online refresher: ${what}`);
  };
  const { batch, labels } = rows;
  if (typeof batch !== 'object' || batch === null || typeof batch.layout !== 'object' || batch.layout === null) fail('pass joined rows or { batch, labels }');
  const other = batch.layout;
  if (other.fingerprint !== layout.fingerprint || other.idWidth !== layout.idWidth || other.denseWidth !== layout.denseWidth || other.idSpace !== layout.idSpace) {
    fail(`the rows were encoded with spec ${other.fingerprint} but the trainer learns ${layout.fingerprint}; feed rows of the serving encoder`);
  }
  const n = batch.rows;
  if (!Number.isInteger(n) || n < 0) fail(`batch.rows must be an integer ≥ 0, got ${String(n)}`);
  const S = layout.sequences.length;
  const SL = S * sequenceStride(layout);
  const want = (name: string, array: unknown, ctor: Int32ArrayConstructor | Float32ArrayConstructor, width: number) => {
    if (!(array instanceof ctor) || array.length < n * width) fail(`batch.${name} must be a ${ctor.name} of rows × ${width} values`);
  };
  want('ids', batch.ids, Int32Array, layout.idWidth);
  want('values', batch.values, Float32Array, layout.idWidth);
  want('dense', batch.dense, Float32Array, layout.denseWidth);
  want('sequenceIds', batch.sequenceIds, Int32Array, SL);
  want('sequenceLengths', batch.sequenceLengths, Int32Array, S);
  if (labels === null || typeof labels !== 'object' || typeof labels.length !== 'number' || labels.length < n) fail(`give one label per row (${n} rows)`);
  for (let r = 0; r < n; r++) {
    const y = labels[r];
    if (y !== 0 && y !== 1) fail(`label of row ${r} is ${String(y)}; labels must be 0 or 1`);
  }
  const { idSpace } = layout;
  const ids = batch.ids;
  for (let i = 0, end = n * layout.idWidth; i < end; i++) {
    const id = ids[i] as number;
    if (id < 0 || id >= idSpace) fail(`id ${id} of row ${Math.floor(i / layout.idWidth)} lies outside [0, ${idSpace})`);
    if (!Number.isFinite(batch.values[i] as number)) fail(`values of row ${Math.floor(i / layout.idWidth)} are not finite`);
  }
  for (let i = 0, end = n * layout.denseWidth; i < end; i++) {
    if (!Number.isFinite(batch.dense[i] as number)) fail(`dense values of row ${Math.floor(i / layout.denseWidth)} are not finite`);
  }
}

const fixed = (x: number | undefined, digits: number): string => (x === undefined || Number.isNaN(x) ? 'n/a' : x.toFixed(digits));

function scoreOf(labels: Float32Array, scores: Float32Array, positives: number): WindowScore {
  const n = labels.length;
  return { logLoss: logLoss(labels, scores), auc: positives > 0 && positives < n ? auc(labels, scores) : Number.NaN };
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
  private learntAtDecision = 0;
  private decidedAt: number;
  private rowsAdded = 0;
  private rowsLearnt = 0;
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

  /** Rows enter the window; the oldest rows beyond its capacity (window first, then incoming) are learnt, in order. */
  private admit({ batch, labels }: RefresherRows): void {
    const n = batch.rows;
    const capacity = this.settings.holdoutRows;
    const { ring } = this;
    const leaving = Math.max(0, this.count + n - capacity);
    const fromRing = Math.min(leaving, this.count);
    const passing = leaving - fromRing; // incoming rows that would leave at once: learnt straight away
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
      this.rowsLearnt += leaving;
    }
  }

  private due(): Promise<RefreshDecision> | undefined {
    if (this.busy) return undefined;
    const learnt = this.rowsLearnt - this.learntAtDecision;
    if (learnt === 0) return undefined;
    let trigger: RefreshTrigger | undefined;
    if (learnt >= this.settings.everyRows) trigger = 'rows';
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
    this.learntAtDecision = this.rowsLearnt;
    const { minRows, minPositives, relativeTolerance, versionPrefix } = this.settings;
    const rows = this.count;
    const positives = this.freezeWindow();
    const active = this.target.active;
    const servingVersion = active.runner.info.version;
    const rowsLearnt = this.trainer.rowsSeen;
    const base = { trigger, servingVersion, rows, positives, rowsLearnt, at };
    const where = `on ${rows} window rows (${positives} clicks), ${rowsLearnt} rows learnt, trigger ${trigger}`;
    if (rows < minRows) {
      return this.finish({ ...base, swapped: false, reason: 'too-few-rows', candidateVersion: undefined, candidate: undefined, serving: undefined, message: `online refresh: refused, no candidate judged: the window holds ${rows} rows, the guard wants ${minRows} ${where}` });
    }
    if (positives < minPositives) {
      return this.finish({ ...base, swapped: false, reason: 'too-few-positives', candidateVersion: undefined, candidate: undefined, serving: undefined, message: `online refresh: refused, no candidate judged: the window holds ${positives} clicks, the guard wants ${minPositives} ${where}` });
    }
    // The snapshot and the frozen window belong together: the window's rows are exactly those the trainer has not learnt.
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
      rowsLearnt: this.rowsLearnt,
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
