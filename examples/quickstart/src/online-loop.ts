/**
 * Day two's online loop: served rows go to the label joiner, their clicks (or the end of their
 * attribution window) label them, and the online refresher learns the joined rows and hot-swaps
 * its snapshot in when it is not worse. Each served impression is scored, before anything learns
 * from it, by the frozen model, by what the loop serves and by the trainer, and the loop's report
 * compares them with the truth.
 */
import {
  createLabelJoiner,
  evaluate,
  logLoss,
  servedRowsToBatch,
  type FeatureBatch,
  type FeatureLayout,
  type JoinedRow,
  type LabelJoiner,
  type ManualClock,
  type ServedRow,
} from '@ctrkit/core';
import { createOnlineRefresher, type FmTrainer, type FtrlTrainer, type HotSwapRunner, type RefreshDecision } from '@ctrkit/models';
import { LOOP, type LoopSettings } from './demo-settings.js';
import { forgetting } from './forgetting.js';
import type { LoopFigures, LoopReport } from './scenario-report.js';

/** The loop while day two is served. */
export interface OnlineLoop {
  /** The label joiner: served rows go in through {@link OnlineLoop.served}, clicks through `joiner.click`. */
  readonly joiner: LabelJoiner;
  /** Scores a request's shown rows by the frozen model, the serving model and the trainer, then hands them to the joiner. */
  served(rows: readonly ServedRow[], hour: number, explored: boolean): Promise<void>;
  /** What one shown ad did: whether it was clicked, and its true click probability. */
  observe(clicked: boolean, pClick: number): void;
  /** Labels what the joiner can and lets the refresher learn (and perhaps swap); waits for its decision. */
  flush(): Promise<void>;
  /** Closes the last attribution windows (moving the clock past them), stops the refresher and reports. */
  finish(frozenModel: string): Promise<LoopReport>;
}

/**
 * Starts the loop.
 *
 * @param options - The trainer, the hot-swap runner it swaps into, the layout, the clock, the
 * frozen model's scores, each ad's launch time, where the refresher's log lines go, and the
 * loop's settings.
 * @returns The loop.
 */
export function createOnlineLoop(options: {
  readonly trainer: FtrlTrainer | FmTrainer;
  readonly hot: HotSwapRunner;
  readonly layout: FeatureLayout;
  readonly clock: ManualClock;
  readonly frozenScores: (batch: FeatureBatch) => Promise<ArrayLike<number>>;
  readonly launchAt: ReadonlyMap<string, number | undefined>;
  readonly log: (line: string) => void;
  /** How the loop runs (default {@link LOOP}). */
  readonly settings?: LoopSettings;
}): OnlineLoop {
  const { trainer, hot, layout, clock, frozenScores, launchAt } = options;
  const settings = options.settings ?? LOOP;
  // Served rows → label joiner (clicks within the window) → refresher (hold-out window, trainer,
  // guarded hot swap into `hot`).
  const joined: JoinedRow[] = [];
  const joiner = createLabelJoiner({ windowMs: settings.windowMs, allowedLatenessMs: 5_000, clock, layout, onLabel: (row) => joined.push(row) });
  const refresher = createOnlineRefresher({
    trainer: 'forget' in trainer ? forgetting(trainer, settings.halfLifeRows) : trainer,
    target: hot,
    holdoutRows: settings.holdoutRows,
    everyRows: settings.everyRows,
    everyMs: settings.everyMs,
    guard: settings.guard,
    clock,
    log: options.log,
  });
  let decision: Promise<RefreshDecision> | undefined;
  const flush = async (): Promise<void> => {
    joiner.advance();
    if (joined.length > 0) decision = refresher.add(joined.splice(0, joined.length)) ?? decision;
    if (decision !== undefined) {
      await decision;
      decision = undefined;
    }
  };
  const labels: number[] = [];
  const frozen: number[] = [];
  const online: number[] = [];
  const learner: number[] = [];
  const truth: number[] = [];
  const hours: number[] = [];
  const exploredAt: number[] = [];
  let launchedRows = 0;

  return {
    joiner,

    async served(rows, hour, explored) {
      if (rows.length > 0) {
        const batch = servedRowsToBatch(layout, rows);
        const frozenNow = await frozenScores(batch);
        const onlineNow = await hot.predictCalibrated(batch, new Float32Array(batch.rows));
        const trainerNow = trainer.predict(batch);
        for (let r = 0; r < batch.rows; r++) {
          frozen.push(frozenNow[r] as number);
          online.push(onlineNow[r] as number);
          learner.push(trainerNow[r] as number);
          hours.push(hour);
          if (explored) exploredAt.push(frozen.length - 1);
          if (launchAt.get((rows[r] as ServedRow).adId) !== undefined) launchedRows++;
        }
      }
      for (const row of rows) joiner.impression(row);
    },

    observe(clicked, pClick) {
      labels.push(clicked ? 1 : 0);
      truth.push(pClick);
    },

    flush,

    async finish(frozenModel) {
      clock.set(clock.now() + settings.windowMs + 10_000);
      await flush();
      const loopStats = refresher.stats();
      const joinerStats = joiner.stats();
      await refresher.dispose();
      const figures = (scores: ArrayLike<number>): LoopFigures => {
        const e = evaluate(labels, scores);
        return { auc: e.auc, logloss: e.logloss, calibration: e.calibration };
      };
      const frozenFigures = figures(frozen);
      const onlineFigures = figures(online);
      const bayesFigures = figures(truth);
      const exploredSet = new Set(exploredAt);
      const part = (keep: boolean) => {
        const idx = labels.flatMap((_, k) => (exploredSet.has(k) === keep ? [k] : []));
        const y = idx.map((k) => labels[k] as number);
        const ll = (scores: readonly number[]) => (idx.length === 0 ? Number.NaN : logLoss(y, idx.map((k) => scores[k] as number)));
        return { rows: idx.length, frozen: ll(frozen), online: ll(online), bayes: ll(truth) };
      };
      const hourly: LoopReport['hourly'][number][] = [];
      for (let h = 0; h < 24; h++) {
        const idx = hours.flatMap((x, k) => (x === h ? [k] : []));
        if (idx.length === 0) continue;
        const hourLabels = idx.map((k) => labels[k] as number);
        const ll = (scores: readonly number[]) => logLoss(hourLabels, idx.map((k) => scores[k] as number));
        hourly.push({ hour: h, rows: idx.length, frozen: ll(frozen), online: ll(online), trainer: ll(learner), bayes: ll(truth) });
      }
      return {
        frozenModel,
        learner: settings.learner === 'fm' ? 'FM' : 'FTRL-LR',
        frozen: frozenFigures,
        online: onlineFigures,
        trainer: figures(learner),
        bayes: bayesFigures,
        gapClosed: (frozenFigures.logloss - onlineFigures.logloss) / (frozenFigures.logloss - bayesFigures.logloss),
        rows: labels.length,
        launchedRows,
        explored: part(true),
        exploited: part(false),
        swaps: loopStats.swaps,
        refusedSwaps: loopStats.refusals,
        refusalsByReason: loopStats.refusalsByReason,
        rowsLearned: loopStats.rowsLearned,
        joined: { positives: joinerStats.positives, negatives: joinerStats.negatives },
        servingVersion: loopStats.servingVersion,
        hourly,
      };
    },
  };
}
