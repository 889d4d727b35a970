/**
 * A day of ad serving on embedded defaults, end to end: synthetic traffic with a known truth, a
 * training log replayed through the feature store (point-in-time counters), FTRL-LR and DCN-v2
 * trained and calibrated on it, then a second day served through the whole request path —
 * predictor, pacing, GSP auction, budget ledger — with the outcomes fed back as events.
 *
 * The world drifts (ad appeal wanders, campaigns and creatives launch on day two, some users'
 * tastes shift), and day two runs the online loop: every shown ad's row goes to the label joiner,
 * its click (or the end of its attribution window) labels it, and an FTRL-LR that learned day one
 * keeps learning from the joined rows through the online refresher, which hot-swaps its snapshot
 * in for the serving model only when it is not worse on the most recent joined rows. Each served
 * impression is scored, before anything learns from it, by the model frozen after day one, by
 * what the loop serves, and by the truth.
 *
 * The demo prints what this returns; the end-to-end test checks it against the generator's truth.
 */
import { CtrkitError, createManualClock, createPipelineMetrics, createPredictor, systemClock, type AdRequest, type ImpressionEvent, type ModelRunner } from '@ctrkit/core';
import { createTrafficGenerator, type SimDriftOptions } from '@ctrkit/core/sim';
import { createAuction } from '@ctrkit/auction';
import { adRequestSpec, createFeatureEncoder, createMemoryFeatureStore } from '@ctrkit/features';
import { createHotSwapRunner } from '@ctrkit/models';
import { sizeBudgets } from './campaign-budgets.js';
import { campaignDaysOf, overspendOf } from './campaign-days.js';
import { readDayOneLog } from './day-one-log.js';
import { trainDayOneModels } from './day-one-models.js';
import { serveDayTwo } from './day-two.js';
import { DAY_MS, DEMO_DRIFT, DEMO_SIZES, DEMO_WORLD, LOOP, type LoopSettings } from './demo-settings.js';
import type { ScenarioReport } from './scenario-report.js';

export type { CampaignDay, LoopFigures, LoopReport, LoopSlice, ModelQuality, ScenarioReport, ServingFigures } from './scenario-report.js';

/** Sizes of a scenario. */
export interface ScenarioOptions {
  /** Seed of the world and every random stream. */
  readonly seed?: string | number;
  /** Users in the synthetic world. */
  readonly users?: number;
  /** Impressions logged on day one (training log; the last tenth is held out for testing). */
  readonly logImpressions?: number;
  /** Requests served on day two. */
  readonly requests?: number;
  /** Candidates per request. */
  readonly candidates?: number;
  /** DCN-v2 training passes at most (early stopping on a validation slice). */
  readonly dcnEpochs?: number;
  /** How the world drifts (default {@link DEMO_DRIFT}; `false`: a stationary world). */
  readonly drift?: SimDriftOptions | false;
  /** Overrides of the online loop's settings (default {@link LOOP}), e.g. to compare learners on the same world. */
  readonly loop?: Partial<LoopSettings>;
  /** Reports progress (phase, done, total). */
  readonly onProgress?: (phase: string, done: number, total: number) => void;
  /** Receives the online refresher's log lines (one per swap or refusal). */
  readonly onLoopLog?: (line: string) => void;
}

/**
 * Runs the scenario.
 *
 * @param options - Sizes and seed.
 * @returns Every figure the demo prints and the test checks.
 */
export async function runScenario(options: ScenarioOptions = {}): Promise<ScenarioReport> {
  const {
    seed = 'demo',
    users = DEMO_WORLD.users,
    logImpressions = DEMO_SIZES.logImpressions,
    requests = DEMO_SIZES.requests,
    candidates = 20,
    dcnEpochs = 3,
    onProgress = () => undefined,
    onLoopLog = () => undefined,
  } = options;
  const drift = options.drift === undefined ? DEMO_DRIFT : options.drift;
  const loop: LoopSettings = { ...LOOP, ...options.loop };
  for (const [name, value] of Object.entries({ users, logImpressions, requests, candidates, dcnEpochs })) {
    if (!Number.isInteger(value) || value < 1) throw new CtrkitError('E_CONFIG', `scenario: ${name} must be a positive integer, got ${value}`);
  }
  if (logImpressions < 1_000) throw new CtrkitError('E_CONFIG', `scenario: logImpressions must be at least 1,000 to train and test on, got ${logImpressions}`);
  const seconds: Record<string, number> = {};
  let phaseStart = systemClock.now();
  const phase = (name: string): void => {
    const now = systemClock.now();
    seconds[name] = (now - phaseStart) / 1000;
    phaseStart = now;
  };

  const startTime = Date.UTC(2026, 0, 5);
  const generator = createTrafficGenerator({ ...DEMO_WORLD, seed, users, candidatesPerRequest: candidates, slotsPerRequest: 3, startTime, durationMs: 2 * DAY_MS, ...(drift === false ? {} : { drift }) });
  const simClock = createManualClock(startTime);
  const store = createMemoryFeatureStore({ clock: simClock });
  const spec = adRequestSpec({ idSpace: 1 << 20 });
  const encoder = createFeatureEncoder(spec);
  const layout = encoder.layout;

  // Day one: replay the impression log through the store, encoding each row with the counters it
  // would have seen at the time (no leakage), and learn position effects from the log.
  const log = await readDayOneLog({ generator, store, encoder, clock: simClock, count: logImpressions, onProgress });
  const { positionEffects } = log;
  phase('log');
  const models = await trainDayOneModels({ layout, log, seed, dcnEpochs, onlineFtrl: loop.ftrl, learner: loop, warmStart: loop.warmStart, onProgress, phase });
  const { lr, dcn, lrRunner, loaded, frozenDcn } = models;

  // Serving goes through a hot-swap runner, each version with its own calibrator: DCN-v2 first,
  // then whatever snapshot the online refresher swaps in.
  const hot = createHotSwapRunner({ runner: loaded.runner, calibrator: loaded.calibrator });
  const servingRunner: ModelRunner = {
    get info() {
      return hot.info;
    },
    predict: (batch, out) => hot.predictCalibrated(batch, out),
    dispose: () => hot.dispose(),
  };

  // Day two: budgets sized from a dry run so that some campaigns are budget-bound and others
  // are not, with a mix of pacing plans.
  const auction = createAuction({ pricing: 'gsp', positionEffects, reserveCpm: 0.2, seed: 1 });
  const metrics = createPipelineMetrics();
  const predictor = createPredictor({
    encoder,
    store,
    runner: servingRunner,
    fallback: lrRunner,
    metrics,
    budgets: { lookup: 50, encode: 50, predict: 200, calibrate: 10 }, // generous: this is a shared 2-core machine
  });
  const budgets = await sizeBudgets({ generator, predictor, auction, requests, timestamps: log.timestamps });
  const day = await serveDayTwo({
    generator,
    requests,
    seed,
    startTime,
    clock: simClock,
    store,
    encoder,
    layout,
    spec,
    predictor,
    auction,
    metrics,
    positionEffects,
    budgets,
    logTimestamps: log.timestamps,
    hot,
    trainer: models.trainer,
    loop,
    frozenModel: models.frozenIsDcn ? 'DCN-v2' : 'FTRL-LR',
    frozenScores: (batch) => models.frozenScores(batch),
    explained: frozenDcn.runner,
    onProgress,
    onLoopLog,
    phase,
  });

  const campaigns = campaignDaysOf(generator.campaigns, budgets, day.perCampaign, day.spendByHour);
  const testTruth = log.truth.subarray(logImpressions - log.testRows);
  return {
    world: { users, advertisers: generator.advertisers.length, campaigns: generator.campaigns.length, ads: generator.ads.length, publishers: generator.publishers.length },
    log: { rows: logImpressions, trainRows: log.trainAll.batch.rows, testRows: log.testRows, ctr: log.all.labels.reduce((s, y) => s + y, 0) / logImpressions },
    quality: models.quality,
    calibrators: { 'FTRL-LR': lr.calibration?.kind ?? 'none', 'DCN-v2': dcn.calibration?.kind ?? 'none' },
    positionEffects,
    serving: {
      requests: day.served,
      winners: day.winners,
      impressions: day.impressions,
      clicks: day.clicks,
      conversions: day.conversions,
      predictedClicks: day.predictedClicks,
      expectedClicks: day.expectedClicks,
      revenue: campaigns.reduce((s, c) => s + c.spend, 0),
      // Against the day's budget line: what was committed on day two (the ledger's daily line), to the micro.
      overspend: overspendOf(campaigns),
      spendAfterMidnight: day.spendAfterMidnightMicros / 1e6,
      lateChargesRefused: day.lateChargesRefused,
      degradedRequests: day.degradedRequests,
      online: day.online,
    },
    loop: day.loop,
    campaigns,
    reported: day.reported,
    latency: metrics.snapshot(),
    explanations: day.explanations,
    requestLatencies: day.latencies.subarray(0, day.served),
    heldOut: { labels: models.testLabels, dcn: models.dcnTest, truth: Float64Array.from(testTruth) },
    seconds,
  };
}

/** The impression event type, re-exported for report code. */
export type { ImpressionEvent, AdRequest };
