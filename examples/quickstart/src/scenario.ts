/**
 * A day of ad serving on embedded defaults, end to end: synthetic traffic with a known truth, a
 * training log replayed through the feature store (point-in-time counters), FTRL-LR and DCN-v2
 * trained and calibrated on it, then a second day served through the whole request path —
 * predictor, pacing, GSP auction, budget ledger — with the outcomes fed back as events.
 *
 * The world drifts (ad appeal wanders, campaigns and creatives launch on day two, some users'
 * tastes shift), and day two runs the online loop: every shown ad's row goes to the label joiner,
 * its click (or the end of its attribution window) labels it, and an FTRL-LR that learnt day one
 * keeps learning from the joined rows through the online refresher, which hot-swaps its snapshot
 * in for the serving model only when it is not worse on the most recent joined rows. Each served
 * impression is scored, before anything learns from it, by the model frozen after day one, by
 * what the loop serves, and by the truth.
 *
 * The demo prints what this returns; the end-to-end test checks it against the generator's truth.
 */
import {
  createAdSelector,
  createLabelJoiner,
  createCampaignReporter,
  createManualClock,
  createPipelineMetrics,
  createPredictor,
  createQualityMonitor,
  createRandom,
  CtrkitError,
  evaluate,
  explainByOcclusion,
  isCtrkitError,
  logLoss,
  servedRowOf,
  servedRowsToBatch,
  summarizeFactors,
  systemClock,
  type AdEvent,
  type AdRequest,
  type CampaignFigures,
  type EvaluationSummary,
  type FeatureBatch,
  type JoinedRow,
  type ServedRow,
  type ImpressionEvent,
  type ModelRunner,
  type PipelineSnapshot,
  type StoreLookup,
} from '@ctrkit/core';
import { createTrafficGenerator, type SimDriftOptions, type SimImpression, type SimWorldOptions } from '@ctrkit/core/sim';
import { createAuction } from '@ctrkit/auction';
import { adRequestSpec, allocateBatch, createFactorDescriber, createFeatureEncoder, createMemoryFeatureStore } from '@ctrkit/features';
import {
  createFtrlTrainer,
  createHotSwapRunner,
  createNativeRunner,
  createOnlineRefresher,
  createRowCollector,
  exportModel,
  fitModel,
  loadModelFromBytes,
  sliceRows,
  type FitResult,
  type FtrlOptions,
  type LabelledRows,
  type RefreshDecision,
} from '@ctrkit/models';
import { registerNodeBackends } from '@ctrkit/models/node';
import {
  createAsapPlan,
  createDualController,
  createEvenPlan,
  createMemoryLedger,
  createPacer,
  createPacingStage,
  createTrafficShapedPlan,
  type PacingPlan,
} from '@ctrkit/pacing';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/**
 * The demo world's drift over its two days (fractions of the period: day two is [0.5, 1)): ad
 * appeal wanders (creatives fatigue and recover, sd 0.4 logit over about 12 h), a fifth of the
 * campaigns and a tenth of the other creatives launch in the first five hours of day two (cold
 * start), and on day two's morning 70% of users' tastes move, mostly the same way (a trend: shared
 * 0.9, over 3 h each).
 */
export const DEMO_DRIFT: SimDriftOptions = {
  appeal: { sd: 0.4, timescaleMs: 12 * HOUR_MS },
  launches: { campaigns: 0.2, creatives: 0.1, window: [0.5, 0.6] },
  tastes: { users: 0.7, strength: 0.8, shared: 0.9, rampMs: 3 * HOUR_MS, window: [0.5, 0.6] },
};

/**
 * The demo world's sizes and strengths (beside {@link DEMO_DRIFT}); `runScenario`'s `users`
 * option overrides the user count. 500 users and 120,000 day-one impressions: about 240 a user
 * on day one and 90 on day two, so that a user's clicks of the day tell a model something.
 *
 * @example
 * ```ts
 * import { DEMO_WORLD } from './scenario.js';
 * console.log(DEMO_WORLD.users); // 500
 * ```
 */
export const DEMO_WORLD = { users: 500, interactionStrength: 1, baseCtr: 0.03 } as const satisfies SimWorldOptions;

/**
 * The demo's default sizes: day one's log and day two's requests (about 2.8 ads shown each).
 *
 * @example
 * ```ts
 * import { DEMO_SIZES } from './scenario.js';
 * console.log(DEMO_SIZES.logImpressions); // 120000
 * ```
 */
export const DEMO_SIZES = { logImpressions: 120_000, requests: 16_000 } as const;

/**
 * The online learner's FTRL-LR settings: it learns day one in time order, then day two's joined rows.
 *
 * @example
 * ```ts
 * import { createFtrlTrainer } from '@ctrkit/models';
 * import { adRequestSpec, createFeatureEncoder } from '@ctrkit/features';
 * import { LOOP_FTRL } from './scenario.js';
 * const trainer = createFtrlTrainer(createFeatureEncoder(adRequestSpec()).layout, LOOP_FTRL);
 * ```
 */
export const LOOP_FTRL = { alpha: 0.15, beta: 1, l1: 1, l2: 1 } as const satisfies FtrlOptions;

/** How the online loop runs on day two. */
const LOOP = {
  /** Attribution window of the label joiner (the sim's clicks come 2–12 s after the impression). */
  windowMs: 15 * 60_000,
  holdoutRows: 1_000,
  everyRows: 1_000,
  everyMs: 30 * 60_000,
  guard: { minRows: 500, minPositives: 10 },
  ftrl: LOOP_FTRL,
} as const;

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
  /** Reports progress (phase, done, total). */
  readonly onProgress?: (phase: string, done: number, total: number) => void;
  /** Receives the online refresher's log lines (one per swap or refusal). */
  readonly onLoopLog?: (line: string) => void;
}

/** AUC and log loss of one model on day two's served impressions. */
export interface LoopFigures {
  readonly auc: number;
  readonly logloss: number;
}

/** What the online loop did on day two, scored on the served impressions. */
export interface LoopReport {
  /** Which day-one model is the frozen one (the better of FTRL-LR and DCN-v2 on the held-out log). */
  readonly frozenModel: string;
  /** The frozen model, calibrated as on day one. */
  readonly frozen: LoopFigures;
  /** What the loop served at the time (DCN-v2 until the first swap, then the FTRL-LR snapshots it swapped in). */
  readonly online: LoopFigures;
  /** The online trainer itself at the time (its progressive predictions, before each swap's guard). */
  readonly trainer: LoopFigures;
  /** The true click probabilities. */
  readonly bayes: LoopFigures;
  /** (frozen − online) / (frozen − Bayes) log loss: the share of the frozen model's gap to Bayes the loop closes. */
  readonly gapClosed: number;
  /** Served impressions scored. */
  readonly rows: number;
  /** Served impressions of ads launched on day two. */
  readonly launchedRows: number;
  readonly swaps: number;
  readonly refusedSwaps: number;
  readonly refusalsByReason: Readonly<Record<string, number>>;
  /** Joined rows the trainer learnt on day two. */
  readonly rowsLearnt: number;
  /** Labels the joiner decided (positives, negatives). */
  readonly joined: { readonly positives: number; readonly negatives: number };
  readonly servingVersion: string;
  /** Log loss per hour of day two: frozen, online, Bayes. */
  readonly hourly: readonly { readonly hour: number; readonly rows: number; readonly frozen: number; readonly online: number; readonly bayes: number }[];
}

/** A model's figures on the held-out log. */
export interface ModelQuality extends EvaluationSummary {
  /** Model name. */
  readonly model: string;
}

/** One campaign's day. */
export interface CampaignDay {
  readonly campaignId: string;
  readonly bidType: string;
  readonly plan: string;
  readonly budget: number;
  /** Everything day two's impressions were billed, after midnight included (what the reporter counts). */
  readonly spend: number;
  /** Of `spend`, what was committed before midnight: the day's budget line holds it. */
  readonly daySpend: number;
  readonly impressions: number;
  readonly clicks: number;
  readonly conversions: number;
  /** `daySpend / budget`. */
  readonly utilisation: number;
  /** Cumulative spend at the end of each hour of day two. */
  readonly spendByHour: readonly number[];
  /** Cumulative planned spend at the end of each hour (the plan's share of the budget). */
  readonly planByHour: readonly number[];
}

/** Everything the scenario measured. */
export interface ScenarioReport {
  readonly world: { users: number; advertisers: number; campaigns: number; ads: number; publishers: number };
  readonly log: { rows: number; trainRows: number; testRows: number; ctr: number };
  /** Held-out quality: the Bayes optimum (true click probabilities), FTRL-LR and DCN-v2, calibrated. */
  readonly quality: readonly ModelQuality[];
  /** Which calibrator each model chose. */
  readonly calibrators: Readonly<Record<string, string>>;
  /** CTR multipliers per slot position, learned from the log. */
  readonly positionEffects: readonly number[];
  /** Day two. */
  readonly serving: {
    readonly requests: number;
    readonly winners: number;
    readonly impressions: number;
    readonly clicks: number;
    readonly conversions: number;
    /** Sum of the served pCTRs (at their slot positions), to compare with clicks and the truth. */
    readonly predictedClicks: number;
    /** Sum of the true click probabilities of what was served. */
    readonly expectedClicks: number;
    readonly revenue: number;
    readonly overspend: number;
    /** Spend of day two's clicks and conversions that arrived after midnight (on the next day's budget lines, not in `overspend`). */
    readonly spendAfterMidnight: number;
    /** Billable events refused by the ledger: their hold had expired and the budget no longer covered them. */
    readonly lateChargesRefused: number;
    readonly degradedRequests: number;
    /** Rolling quality of served impressions, from the click stream. */
    readonly online: EvaluationSummary;
  };
  /** The online loop on day two. */
  readonly loop: LoopReport;
  readonly campaigns: readonly CampaignDay[];
  /** Reporting figures from the event stream (last 24 h), per campaign. */
  readonly reported: readonly CampaignFigures[];
  readonly latency: PipelineSnapshot;
  /** Plain-language reasons for the first few winners. */
  readonly explanations: readonly { adId: string; category: string; pCtr: number; reasons: readonly string[] }[];
  /** Latency samples (ms) of whole requests, for a histogram. */
  readonly requestLatencies: Float64Array;
  /** Calibration points of DCN-v2 on the held-out log (for a reliability diagram). */
  readonly heldOut: { readonly labels: Uint8Array; readonly dcn: Float32Array; readonly truth: Float64Array };
  readonly seconds: Readonly<Record<string, number>>;
}

function eventsOf(impression: SimImpression): AdEvent[] {
  const { request, position } = impression;
  const candidate = request.candidates[0]!;
  const base = {
    requestId: request.requestId,
    userId: request.user.id,
    adId: candidate.adId,
    campaignId: candidate.campaignId,
    advertiserId: candidate.advertiserId,
    category: candidate.category,
    format: candidate.format,
    position,
  };
  const t = request.context.timestamp;
  const events: AdEvent[] = [{ ...base, type: 'impression', eventId: `${request.requestId}:i`, timestamp: t }];
  if (impression.clicked) events.push({ ...base, type: 'click', eventId: `${request.requestId}:c`, timestamp: t + 5_000 });
  if (impression.converted) events.push({ ...base, type: 'conversion', eventId: `${request.requestId}:v`, timestamp: t + 300_000 });
  return events;
}

function predictAll(runner: { logitsSync?: unknown; predictSync(b: FeatureBatch, out?: Float32Array): Float32Array }, rows: LabelledRows): Float32Array {
  return runner.predictSync(rows.batch, new Float32Array(rows.batch.rows));
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
  const collector = createRowCollector(layout, logImpressions);
  const truth = new Float64Array(logImpressions);
  const one = allocateBatch(layout, 1);
  const label = new Float32Array(1);
  const clicksByPosition = [0, 0, 0];
  const shownByPosition = [0, 0, 0];
  const logTimestamps: number[] = [];
  let row = 0;
  for (const impression of generator.impressions({ count: logImpressions, stream: 'log', timeRange: [0, 0.5] })) {
    const { request } = impression;
    simClock.set(Math.max(simClock.now(), request.context.timestamp));
    const lookup = await store.lookup(request.user, request.candidates, request.context.timestamp);
    encoder.encode(request, lookup, one);
    label[0] = impression.clicked ? 1 : 0;
    collector.append(one, label);
    truth[row] = impression.pClick;
    shownByPosition[impression.position]! += 1;
    clicksByPosition[impression.position]! += impression.clicked ? 1 : 0;
    if (row % 50 === 0) logTimestamps.push(request.context.timestamp);
    for (const event of eventsOf(impression)) await store.record(event);
    row++;
    if (row % 10_000 === 0) onProgress('replaying the day-one log', row, logImpressions);
  }
  const all = collector.toRows();
  const testRows = Math.floor(logImpressions / 10);
  const trainAll = sliceRows(all, 0, logImpressions - testRows);
  const test = sliceRows(all, logImpressions - testRows, logImpressions);
  const validRows = Math.floor(trainAll.batch.rows / 10);
  const train = sliceRows(trainAll, 0, trainAll.batch.rows - validRows);
  const valid = sliceRows(trainAll, trainAll.batch.rows - validRows, trainAll.batch.rows);
  const ctr0 = clicksByPosition[0]! / Math.max(1, shownByPosition[0]!);
  // A lower slot never gets more clicks: a noisy estimate (small logs, a drifting world) is capped by the slot above.
  const positionEffects: number[] = [];
  clicksByPosition.forEach((clicks, p) => positionEffects.push(Math.min(positionEffects[p - 1] ?? 1, clicks / Math.max(1, shownByPosition[p]!) / ctr0)));
  phase('log');

  // Train FTRL-LR and DCN-v2, each calibrated on held-out rows.
  const lr = fitModel({ model: 'lr', train, valid, epochs: 2, calibrate: true, seed, onProgress: (p) => onProgress('training FTRL-LR', p.done + (p.epoch - 1) * p.total, p.total * p.epochs) });
  phase('train-lr');
  const dcn: FitResult = fitModel({
    model: 'dcnv2',
    train,
    valid,
    epochs: dcnEpochs,
    patience: 1,
    calibrate: true,
    seed,
    dcnv2: { embeddingDim: 8, crossLayers: 2, lowRank: 16, deep: [64, 32] },
    onProgress: (p) => onProgress('training DCN-v2', p.done + (p.epoch - 1) * p.total, p.total * p.epochs),
  });
  phase('train-dcn');

  // The online learner: FTRL-LR over day one in time order (training then validation rows), one
  // pass, as it would have learnt had it been running; on day two it goes on from there.
  const trainer = createFtrlTrainer(layout, LOOP.ftrl);
  trainer.update(trainAll.batch, trainAll.labels);
  phase('train-online');

  const lrRunner = createNativeRunner({ layout, weights: lr.weights as Parameters<typeof createNativeRunner>[0]['weights'] });
  registerNodeBackends();
  const exported = exportModel(layout, dcn, { version: 'dcnv2-day1', profileRows: sliceRows(train, 0, Math.min(20_000, train.batch.rows)) });
  const loaded = await loadModelFromBytes({ model: exported.model, manifest: exported.manifest }, { expect: layout, backends: ['onnx-node'], intraOpThreads: 1 });
  const dcnRunner: ModelRunner = loaded.runner;
  // A second session of the same bytes for the frozen model: the hot swap disposes the serving
  // session once the loop replaces it, and the frozen model must go on scoring (and explaining).
  const frozenDcn = await loadModelFromBytes({ model: exported.model, manifest: exported.manifest }, { expect: layout, backends: ['onnx-node'], intraOpThreads: 1 });

  const testLabels = Uint8Array.from(test.labels);
  const lrTest = lr.calibrator ? lr.calibrator.apply(predictAll(lrRunner, test)) : predictAll(lrRunner, test);
  const dcnRaw = await dcnRunner.predict(test.batch, new Float32Array(test.batch.rows));
  const dcnTest = loaded.calibrator.apply(dcnRaw);
  const testTruth = truth.subarray(logImpressions - testRows);
  const quality: ModelQuality[] = [
    { model: 'Bayes optimum (true pCTR)', ...evaluate(testLabels, testTruth) },
    { model: 'FTRL-LR', ...evaluate(testLabels, lrTest) },
    { model: 'DCN-v2', ...evaluate(testLabels, dcnTest) },
  ];
  phase('evaluate');
  // The frozen model is the better day-one model on the held-out log.
  const frozenIsDcn = (quality[2] as ModelQuality).logloss <= (quality[1] as ModelQuality).logloss;
  const frozenScores = async (batch: FeatureBatch): Promise<ArrayLike<number>> => {
    if (frozenIsDcn) return frozenDcn.calibrator.apply(await frozenDcn.runner.predict(batch, new Float32Array(batch.rows)));
    const raw = lrRunner.predictSync(batch, new Float32Array(batch.rows));
    return lr.calibrator ? lr.calibrator.apply(raw) : raw;
  };

  // Serving goes through a hot-swap runner, each version with its own calibrator: DCN-v2 first,
  // then whatever snapshot the online refresher swaps in.
  const hot = createHotSwapRunner({ runner: dcnRunner, calibrator: loaded.calibrator });
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
  const expectedSpend = new Map<string, number>();
  const dryRuns = Math.min(600, Math.max(100, Math.floor(requests / 10)));
  for (const { request } of generator.requests({ count: dryRuns, stream: 'dry-run', timeRange: [0.5, 1] })) {
    const prediction = await predictor.predict(request);
    const result = auction.run(request, prediction.pCtr);
    for (const winner of result.winners) {
      const i = request.candidates.findIndex((c) => c.adId === winner.adId);
      const pClick = generator.clickProbability(request, i, winner.position);
      const cost = winner.bidType === 'CPM' ? winner.price / 1000 : winner.bidType === 'CPC' ? winner.price * pClick : winner.price * pClick * generator.conversionProbability(request, i);
      expectedSpend.set(winner.campaignId, (expectedSpend.get(winner.campaignId) ?? 0) + cost);
    }
  }
  const factors = [0.3, 0.6, 1.2, 3];
  const planOf = (k: number): { name: string; plan: PacingPlan } =>
    k % 3 === 0 ? { name: 'even', plan: createEvenPlan() } : k % 3 === 1 ? { name: 'traffic', plan: createTrafficShapedPlan(logTimestamps) } : { name: 'asap', plan: createAsapPlan() };
  const budgets = new Map<string, { budget: number; plan: string; weights: readonly number[] }>();
  generator.campaigns.forEach((campaign, k) => {
    const perRequest = (expectedSpend.get(campaign.id) ?? 0) / dryRuns;
    // A budget must hold at least two billable events, or a CPC/CPA campaign could never bid.
    const floor = Math.max(0.5, campaign.bidType === 'CPM' ? 0 : 2 * campaign.bid);
    const budget = Math.max(floor, Math.round(perRequest * requests * (factors[k % factors.length] as number) * 100) / 100);
    const { name, plan } = planOf(k);
    budgets.set(campaign.id, { budget, plan: name, weights: plan.weights });
  });
  const day2 = startTime + DAY_MS;
  simClock.set(Math.max(simClock.now(), day2));
  const ledger = createMemoryLedger({
    budgets: { campaigns: generator.campaigns.map((c) => ({ id: c.id, dailyBudget: (budgets.get(c.id) as { budget: number }).budget })) },
    clock: simClock,
    // A hold waits for its billable event: a click within seconds, a conversion up to 11 minutes later.
    reservationTtlMs: 15 * 60_000,
  });
  const pacers = new Map(
    generator.campaigns.map((c, k) => [
      c.id,
      createPacer({ controller: createDualController(), plan: planOf(k).plan, dailyBudget: (budgets.get(c.id) as { budget: number }).budget, clock: simClock, intervalMs: 15 * 60_000 }),
    ]),
  );
  const pacing = createPacingStage(pacers);
  const selector = createAdSelector({ predictor, auction, pacing, ledger, metrics });
  const quality2 = createQualityMonitor({ clock: simClock, attributionWindowMs: 30 * 60_000, windowRows: 200_000 });
  const reporter = createCampaignReporter({ clock: simClock, bucketMs: 60_000, horizonMs: 2 * DAY_MS });
  const random = createRandom(`${String(seed)}:outcomes`);
  const describe = createFactorDescriber(spec);
  const missingIds = encoder.missingIds();

  // The loop: served rows → label joiner (clicks within the window) → refresher (hold-out window,
  // trainer, guarded hot swap into `hot`).
  const joined: JoinedRow[] = [];
  const joiner = createLabelJoiner({ windowMs: LOOP.windowMs, allowedLatenessMs: 5_000, clock: simClock, layout, onLabel: (row) => joined.push(row) });
  const refresher = createOnlineRefresher({
    trainer,
    target: hot,
    holdoutRows: LOOP.holdoutRows,
    everyRows: LOOP.everyRows,
    everyMs: LOOP.everyMs,
    guard: LOOP.guard,
    clock: simClock,
    log: onLoopLog,
  });
  let decision: Promise<RefreshDecision> | undefined;
  const flushLoop = async (): Promise<void> => {
    joiner.advance();
    if (joined.length > 0) decision = refresher.add(joined.splice(0, joined.length)) ?? decision;
    if (decision !== undefined) {
      await decision;
      decision = undefined;
    }
  };
  const launchAt = new Map(generator.ads.map((ad) => [ad.id, ad.launchAt]));
  const loopLabels: number[] = [];
  const loopFrozen: number[] = [];
  const loopOnline: number[] = [];
  const loopTrainer: number[] = [];
  const loopTruth: number[] = [];
  const loopHour: number[] = [];
  let launchedRows = 0;
  phase('setup-day2');

  const spendByHour = new Map(generator.campaigns.map((c) => [c.id, new Float64Array(24)]));
  const perCampaign = new Map(generator.campaigns.map((c) => [c.id, { impressions: 0, clicks: 0, conversions: 0, spendMicros: 0, daySpendMicros: 0 }]));
  const latencies = new Float64Array(requests);
  const explanations: { adId: string; category: string; pCtr: number; reasons: string[] }[] = [];
  let winners = 0;
  let impressions = 0;
  let clicks = 0;
  let conversions = 0;
  let predictedClicks = 0;
  let expectedClicks = 0;
  let degradedRequests = 0;
  let served = 0;
  /** Spend committed after day two's midnight: it counts on the next day's budget lines. */
  let spendAfterMidnightMicros = 0;
  /** Billable events that came after their hold expired, when the budget no longer covered them. */
  let lateChargesRefused = 0;
  const dayEnd = day2 + DAY_MS;
  /**
   * Events waiting for their time, in time order: a click comes seconds after its impression, a
   * conversion minutes after, and the server sees each only then — the clock never runs ahead of
   * the traffic (a conversion handled at once would move it minutes ahead, and near midnight
   * commit later requests' spend on the next day's budget).
   */
  type PendingEvent = { readonly event: AdEvent; readonly campaignId: string; readonly key: string; readonly servedPctr: number; readonly hour: number };
  const pending: PendingEvent[] = [];
  const schedule = (item: PendingEvent): void => {
    let lo = 0;
    let hi = pending.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((pending[mid] as PendingEvent).event.timestamp <= item.event.timestamp) lo = mid + 1;
      else hi = mid;
    }
    pending.splice(lo, 0, item);
  };
  const deliver = async ({ event, campaignId, key, servedPctr, hour }: PendingEvent): Promise<void> => {
    simClock.set(Math.max(simClock.now(), event.timestamp));
    await store.record(event);
    let committed = 0;
    try {
      committed = await selector.settle(event);
    } catch (error) {
      // A charge whose hold expired and that the budget no longer covers is not billed (never overspent).
      if (!isCtrkitError(error, 'E_BUDGET')) throw error;
      lateChargesRefused++;
    }
    // Money in integer micros, as the ledger holds it: what it recorded, not the unrounded price.
    const micros = Math.round(committed * 1e6);
    const billedEvent: AdEvent = { ...event, cost: micros / 1e6 } as AdEvent;
    reporter.record(billedEvent);
    if (event.type === 'impression') {
      quality2.impression(key, servedPctr);
      impressions++;
    } else if (event.type === 'click') {
      quality2.click(key);
      joiner.click(event);
      clicks++;
    } else {
      conversions++;
    }
    const figures = perCampaign.get(campaignId)!;
    if (event.type === 'impression') figures.impressions++;
    else if (event.type === 'click') figures.clicks++;
    else figures.conversions++;
    if (micros > 0) {
      figures.spendMicros += micros;
      if (event.timestamp >= dayEnd) {
        spendAfterMidnightMicros += micros;
        return;
      }
      figures.daySpendMicros += micros;
      const series = spendByHour.get(campaignId)!;
      series[Math.min(23, Math.max(0, hour))]! += committed;
    }
  };
  const deliverUntil = async (time: number): Promise<void> => {
    let due = 0;
    while (due < pending.length && (pending[due] as PendingEvent).event.timestamp <= time) due++;
    for (const item of pending.splice(0, due)) await deliver(item);
  };
  const BILLED_BY: Readonly<Record<string, AdEvent['type']>> = { CPM: 'impression', CPC: 'click', CPA: 'conversion' };
  for (const { request } of generator.requests({ count: requests, stream: 'serve', timeRange: [0.5, 1] })) {
    await deliverUntil(request.context.timestamp);
    simClock.set(Math.max(simClock.now(), request.context.timestamp));
    const t0 = systemClock.now();
    const selection = await selector.select(request);
    latencies[served] = systemClock.now() - t0;
    if (selection.degraded.length > 0) degradedRequests++;
    const hour = Math.floor((request.context.timestamp - day2) / 3_600_000);
    // Each shown ad's row as shown: the request encoded at the winner's slot (as the day-one log
    // was), scored before anything learns from it by the frozen model, the loop's serving model
    // and the online trainer.
    const servedRows: ServedRow[] = [];
    const lookup = selection.prediction.lookup as StoreLookup | undefined;
    for (const winner of selection.winners) {
      const i = request.candidates.findIndex((c) => c.adId === winner.adId);
      const slot = request.context.slots?.[winner.position] ?? request.context.slots?.[0];
      const shown = encoder.encode({ ...request, context: { ...request.context, slots: slot === undefined ? [] : [slot] } }, lookup);
      servedRows.push(
        servedRowOf(shown, i, {
          eventId: `${request.requestId}:${winner.adId}:i`,
          requestId: request.requestId,
          impId: slot?.id ?? String(winner.position),
          adId: winner.adId,
          position: winner.position,
          pCtr: Math.min(1, Math.max(0, winner.pCtr)),
          servedAt: request.context.timestamp,
          modelVersion: hot.info.version,
        }),
      );
    }
    const servedTruth: number[] = [];
    if (servedRows.length > 0) {
      const batch = servedRowsToBatch(layout, servedRows);
      const frozenNow = await frozenScores(batch);
      const onlineNow = await hot.predictCalibrated(batch, new Float32Array(batch.rows));
      const trainerNow = trainer.predict(batch);
      for (let r = 0; r < batch.rows; r++) {
        loopFrozen.push(frozenNow[r] as number);
        loopOnline.push(onlineNow[r] as number);
        loopTrainer.push(trainerNow[r] as number);
        loopHour.push(hour);
        if (launchAt.get((servedRows[r] as ServedRow).adId) !== undefined) launchedRows++;
      }
    }
    for (const row of servedRows) joiner.impression(row);
    for (const winner of selection.winners) {
      winners++;
      const i = request.candidates.findIndex((c) => c.adId === winner.adId);
      const charge = winner.charge;
      const outcome = generator.outcome(request, i, winner.position, random, {
        impression: winner.bidType === 'CPM' ? charge : 0,
        click: winner.bidType === 'CPC' ? charge : 0,
        conversion: winner.bidType === 'CPA' ? charge : 0,
      });
      const servedPctr = Math.min(1, winner.pCtr * (positionEffects[winner.position] ?? 1));
      predictedClicks += servedPctr;
      expectedClicks += outcome.pClick;
      servedTruth.push(outcome.pClick);
      loopLabels.push(outcome.clicked ? 1 : 0);
      const key = `${request.requestId}:${winner.adId}`;
      for (const event of outcome.events) schedule({ event, campaignId: winner.campaignId, key, servedPctr, hour });
      // No billable event will come (no click for a CPC ad, no conversion for a CPA one): the hold goes back now.
      if (!outcome.events.some((e) => e.type === BILLED_BY[winner.bidType])) await selector.release(request.requestId, winner.adId);
      await deliverUntil(request.context.timestamp); // the impression itself
      if (explanations.length < 5 && selection.winners[0] === winner) {
        const batch = encoder.encode(request, selection.prediction.lookup as StoreLookup | undefined);
        const contributions = await explainByOcclusion(frozenDcn.runner, batch, i, missingIds);
        explanations.push({ adId: winner.adId, category: request.candidates[i]!.category, pCtr: winner.pCtr, reasons: summarizeFactors(contributions, request, i, describe) });
      }
    }
    for (const p of servedTruth) loopTruth.push(p);
    await flushLoop();
    served++;
    if (served % 500 === 0) onProgress('serving day two', served, requests);
  }
  // Clicks and conversions of the last requests arrive after them (some after midnight).
  await deliverUntil(Number.POSITIVE_INFINITY);
  await flushLoop();
  await selector.releaseAll();
  // The last 24 h of reporting, before the clock moves on to close the loop's last windows.
  // (From day two's first minute to now: its last clicks and conversions may come after midnight.)
  const reported = reporter.report(Math.ceil((simClock.now() - day2 + 1) / 60_000) * 60_000).campaigns;
  // Close the last windows, so every served row is labelled.
  simClock.set(simClock.now() + LOOP.windowMs + 10_000);
  await flushLoop();
  phase('serve');
  const loopStats = refresher.stats();
  const joinerStats = joiner.stats();
  await refresher.dispose();
  const figures = (scores: ArrayLike<number>): LoopFigures => {
    const e = evaluate(loopLabels, scores);
    return { auc: e.auc, logloss: e.logloss };
  };
  const loopFrozenFigures = figures(loopFrozen);
  const loopOnlineFigures = figures(loopOnline);
  const loopBayesFigures = figures(loopTruth);
  const hourly: LoopReport['hourly'][number][] = [];
  for (let h = 0; h < 24; h++) {
    const idx = loopHour.flatMap((x, k) => (x === h ? [k] : []));
    if (idx.length === 0) continue;
    const labels = idx.map((k) => loopLabels[k] as number);
    const ll = (scores: readonly number[]) => logLoss(labels, idx.map((k) => scores[k] as number));
    hourly.push({ hour: h, rows: idx.length, frozen: ll(loopFrozen), online: ll(loopOnline), bayes: ll(loopTruth) });
  }
  const loop: LoopReport = {
    frozenModel: frozenIsDcn ? 'DCN-v2' : 'FTRL-LR',
    frozen: loopFrozenFigures,
    online: loopOnlineFigures,
    trainer: figures(loopTrainer),
    bayes: loopBayesFigures,
    gapClosed: (loopFrozenFigures.logloss - loopOnlineFigures.logloss) / (loopFrozenFigures.logloss - loopBayesFigures.logloss),
    rows: loopLabels.length,
    launchedRows,
    swaps: loopStats.swaps,
    refusedSwaps: loopStats.refusals,
    refusalsByReason: loopStats.refusalsByReason,
    rowsLearnt: loopStats.rowsLearnt,
    joined: { positives: joinerStats.positives, negatives: joinerStats.negatives },
    servingVersion: loopStats.servingVersion,
    hourly,
  };

  const campaigns: CampaignDay[] = generator.campaigns.map((c) => {
    const { budget, plan, weights } = budgets.get(c.id) as { budget: number; plan: string; weights: readonly number[] };
    const figures = perCampaign.get(c.id)!;
    const hourly = spendByHour.get(c.id)!;
    const spendCumulative: number[] = [];
    const planCumulative: number[] = [];
    const totalWeight = weights.reduce((s, w) => s + w, 0);
    let spent = 0;
    let planned = 0;
    for (let h = 0; h < 24; h++) {
      spent += hourly[h] as number;
      // An as-soon-as-possible plan means the whole budget is open from the first hour.
      planned = plan === 'asap' ? budget : planned + ((weights[Math.floor((h * weights.length) / 24)] ?? 0) / (totalWeight * (weights.length / 24))) * budget;
      spendCumulative.push(spent);
      planCumulative.push(Math.min(budget, planned));
    }
    return {
      campaignId: c.id,
      bidType: c.bidType,
      plan,
      budget,
      spend: figures.spendMicros / 1e6,
      daySpend: figures.daySpendMicros / 1e6,
      impressions: figures.impressions,
      clicks: figures.clicks,
      conversions: figures.conversions,
      utilisation: figures.daySpendMicros / 1e6 / budget,
      spendByHour: spendCumulative,
      planByHour: planCumulative,
    };
  });
  // Against the day's budget line: what was committed on day two (the ledger's daily line), to the micro.
  const overspend = campaigns.reduce((sum, c) => sum + Math.max(0, Math.round(c.daySpend * 1e6) - Math.round(c.budget * 1e6)), 0) / 1e6;
  return {
    world: { users, advertisers: generator.advertisers.length, campaigns: generator.campaigns.length, ads: generator.ads.length, publishers: generator.publishers.length },
    log: { rows: logImpressions, trainRows: trainAll.batch.rows, testRows, ctr: all.labels.reduce((s, y) => s + y, 0) / logImpressions },
    quality,
    calibrators: { 'FTRL-LR': lr.calibration?.kind ?? 'none', 'DCN-v2': dcn.calibration?.kind ?? 'none' },
    positionEffects,
    serving: {
      requests: served,
      winners,
      impressions,
      clicks,
      conversions,
      predictedClicks,
      expectedClicks,
      revenue: campaigns.reduce((s, c) => s + c.spend, 0),
      overspend,
      spendAfterMidnight: spendAfterMidnightMicros / 1e6,
      lateChargesRefused,
      degradedRequests,
      online: quality2.snapshot(),
    },
    loop,
    campaigns,
    reported,
    latency: metrics.snapshot(),
    explanations,
    requestLatencies: latencies.subarray(0, served),
    heldOut: { labels: testLabels, dcn: dcnTest, truth: Float64Array.from(testTruth) },
    seconds,
  };
}

/** The impression event type, re-exported for report code. */
export type { ImpressionEvent, AdRequest };
