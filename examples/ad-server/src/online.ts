/**
 * Online learning in serving: the served row of every bid that became an impression goes to a
 * label joiner, the clicks of `POST /events` label it, and an FTRL-LR learns from the joined rows
 * through ctrkit's online refresher, which swaps its snapshot in for the serving model (DCN-v2)
 * only when it is not worse on the most recent joined rows neither has trained on.
 */
import {
  createLabelJoiner,
  type ClickEvent,
  type Clock,
  type FeatureLayout,
  type JoinedRow,
  type LabelJoiner,
  type LabelJoinerStats,
  type OnlineLearningCounters,
  type ServedRow,
} from '@ctrkit/core';
import { createFtrlTrainer, createOnlineRefresher, type HotSwapRunner, type OnlineRefresher, type RefreshDecision } from '@ctrkit/models';
import type { OnlineLearningConfig } from './config.js';

/** Most served rows waiting for their click at once; beyond it the joiner sheds (counted). */
const MAX_PENDING = 100_000;
/** How long past the attribution window a row waits for a slow click. */
const LATENESS_MS = 5_000;

/** The loop as the server drives it. */
export interface OnlineLoop {
  /** A bid became an impression: its row waits for a click. */
  served(row: ServedRow): void;
  /** A click (signed, when the server requires tokens) labels its row. */
  click(event: ClickEvent): void;
  /** Closes the windows that are due and hands joined rows to the trainer; resolves once any decision it started is made. */
  tick(): Promise<RefreshDecision | undefined>;
  /** Joiner counters. */
  joinerStats(): LabelJoinerStats;
  /** Refresher counters (swaps, refusals, rows learned, serving version). */
  stats(): OnlineLearningCounters;
  /** Stops the timer and frees the version kept for rollback. */
  close(): Promise<void>;
}

/** What the loop needs from the server. */
export interface OnlineLoopOptions {
  readonly config: OnlineLearningConfig;
  /** The encoder's layout: what the served rows follow and the trainer learns. */
  readonly layout: FeatureLayout;
  /** The serving hot-swap runner. */
  readonly target: HotSwapRunner;
  /** The attribution window, ms. */
  readonly windowMs: number;
  readonly clock: Clock;
  /** One line per swap, refusal and rollback. */
  readonly log: (line: string) => void;
  /** Warnings (a refused row, which should never happen). */
  readonly warn: (line: string) => void;
}

/**
 * Creates the loop, with a one-second timer (unref'd) that closes due windows.
 *
 * @param options - Settings, layout, target and clock.
 * @returns The loop.
 */
export function createOnlineLoop(options: OnlineLoopOptions): OnlineLoop {
  const { config, layout, target, clock } = options;
  const joined: JoinedRow[] = [];
  const joiner: LabelJoiner = createLabelJoiner({
    windowMs: options.windowMs,
    allowedLatenessMs: LATENESS_MS,
    clock,
    layout,
    maxPending: MAX_PENDING,
    onLabel: (row) => joined.push(row),
  });
  const refresher: OnlineRefresher = createOnlineRefresher({
    trainer: createFtrlTrainer(layout),
    target,
    everyRows: config.everyRows,
    everyMs: config.everyMs,
    holdoutRows: config.holdoutRows,
    guard: { minRows: config.minRows, minPositives: config.minPositives, relativeTolerance: config.tolerance },
    clock,
    log: options.log,
  });
  let pending: Promise<RefreshDecision> | undefined;
  const flush = (): Promise<RefreshDecision> | undefined => {
    joiner.advance();
    if (joined.length === 0) return pending;
    // One batch for everything labeled since the last flush: the refresher copies it into its window.
    const rows = joined.splice(0, joined.length);
    try {
      const started = refresher.add(rows);
      if (started !== undefined) pending = started;
    } catch (error) {
      options.warn(`online learning: ${rows.length} joined rows refused: ${(error as Error).message}`);
    }
    return pending;
  };
  const timer = setInterval(() => void flush(), 1_000);
  timer.unref();
  return {
    served(row) {
      try {
        joiner.impression(row);
      } catch (error) {
        options.warn(`online learning: served row refused: ${(error as Error).message}`);
      }
    },
    click(event) {
      try {
        joiner.click(event);
      } catch (error) {
        options.warn(`online learning: click refused: ${(error as Error).message}`);
      }
    },
    async tick() {
      const decision = flush();
      pending = undefined;
      return decision === undefined ? undefined : await decision;
    },
    joinerStats: () => joiner.stats(),
    stats: () => refresher.stats(),
    async close() {
      clearInterval(timer);
      await refresher.dispose();
    },
  };
}
