/**
 * Day two served through the whole request path — pacing, the GSP auction, the budget ledger —
 * with each shown ad's outcome drawn from the truth and its events delivered at their own time:
 * to the feature store, the ledger (billing), the reporter, the quality monitor and the online
 * loop.
 */
import {
  createAdSelector,
  createCampaignReporter,
  createExplorer,
  createQualityMonitor,
  createRandom,
  explainByOcclusion,
  isCtrkitError,
  servedRowOf,
  summarizeFactors,
  systemClock,
  type AdEvent,
  type CampaignFigures,
  type FeatureBatch,
  type FeatureLayout,
  type ManualClock,
  type ModelRunner,
  type PipelineMetrics,
  type Predictor,
  type ServedRow,
  type StoreLookup,
} from '@ctrkit/core';
import type { TrafficGenerator } from '@ctrkit/core/sim';
import type { Auction } from '@ctrkit/auction';
import { createFactorDescriber, type CompiledEncoder, type FeatureSpecJSON, type MemoryFeatureStore } from '@ctrkit/features';
import type { FmTrainer, FtrlTrainer, HotSwapRunner } from '@ctrkit/models';
import { createDualController, createMemoryLedger, createPacer, createPacingStage } from '@ctrkit/pacing';
import { planOf, type CampaignBudget } from './campaign-budgets.js';
import { DAY_MS, type LoopSettings } from './demo-settings.js';
import { createEventQueue } from './event-queue.js';
import { createOnlineLoop } from './online-loop.js';
import type { LoopReport, ServingFigures } from './scenario-report.js';

/** One campaign's tallies of the day, money in integer micros as the ledger holds it. */
export interface CampaignTally {
  impressions: number;
  clicks: number;
  conversions: number;
  /** Everything billed, after midnight included. */
  spendMicros: number;
  /** Of it, what was committed before midnight. */
  daySpendMicros: number;
}

/** What serving day two counted: the report's serving figures (but revenue and overspend, which come from the campaign days), and what they are made from. */
export interface DayTwo
  extends Pick<ServingFigures, 'winners' | 'impressions' | 'clicks' | 'conversions' | 'predictedClicks' | 'expectedClicks' | 'lateChargesRefused' | 'degradedRequests' | 'online'> {
  /** Requests served. */
  readonly served: number;
  /** Spend committed after day two's midnight: it counts on the next day's budget lines. */
  readonly spendAfterMidnightMicros: number;
  readonly perCampaign: ReadonlyMap<string, CampaignTally>;
  /** Spend committed in each hour of day two, per campaign. */
  readonly spendByHour: ReadonlyMap<string, Float64Array>;
  /** Latency (ms) of every request. */
  readonly latencies: Float64Array;
  readonly explanations: readonly { adId: string; category: string; pCtr: number; reasons: string[] }[];
  /** The reporter's figures from day two's first minute to the last event. */
  readonly reported: readonly CampaignFigures[];
  readonly loop: LoopReport;
}

/** An event waiting for its time, with what delivering it updates. */
type PendingEvent = { readonly event: AdEvent; readonly campaignId: string; readonly key: string; readonly servedPctr: number; readonly hour: number };

const BILLED_BY: Readonly<Record<string, AdEvent['type']>> = { CPM: 'impression', CPC: 'click', CPA: 'conversion' };

/**
 * Serves day two's `requests` requests.
 *
 * @param options - The world and its clock, the store, encoder and spec, the predictor and
 * auction sized on day one, the budgets, the models the loop and the explanations use.
 * @returns What was counted.
 */
export async function serveDayTwo(options: {
  readonly generator: TrafficGenerator;
  readonly requests: number;
  readonly seed: string | number;
  readonly startTime: number;
  readonly clock: ManualClock;
  readonly store: MemoryFeatureStore;
  readonly encoder: CompiledEncoder;
  readonly layout: FeatureLayout;
  readonly spec: FeatureSpecJSON;
  readonly predictor: Predictor;
  readonly auction: Auction;
  readonly metrics: PipelineMetrics;
  readonly positionEffects: readonly number[];
  readonly budgets: ReadonlyMap<string, CampaignBudget>;
  readonly logTimestamps: readonly number[];
  readonly hot: HotSwapRunner;
  readonly trainer: FtrlTrainer | FmTrainer;
  /** How the online loop runs. */
  readonly loop: LoopSettings;
  readonly frozenModel: string;
  readonly frozenScores: (batch: FeatureBatch) => Promise<ArrayLike<number>>;
  /** The model the explanations occlude features of. */
  readonly explained: ModelRunner;
  readonly onProgress: (phase: string, done: number, total: number) => void;
  readonly onLoopLog: (line: string) => void;
  /** Marks the end of a timed phase. */
  readonly phase: (name: string) => void;
}): Promise<DayTwo> {
  const { generator, requests, clock: simClock, store, encoder, layout, predictor, auction, metrics, positionEffects, budgets, hot, onProgress } = options;
  const day2 = options.startTime + DAY_MS;
  simClock.set(Math.max(simClock.now(), day2));
  const budgetOf = (campaignId: string): number => (budgets.get(campaignId) as CampaignBudget).budget;
  const ledger = createMemoryLedger({
    budgets: { campaigns: generator.campaigns.map((c) => ({ id: c.id, dailyBudget: budgetOf(c.id) })) },
    clock: simClock,
    // A hold waits for its billable event: a click within seconds, a conversion up to 11 minutes later.
    reservationTtlMs: 15 * 60_000,
  });
  const pacers = new Map(
    generator.campaigns.map((c, k) => [
      c.id,
      createPacer({ controller: createDualController(), plan: planOf(k, options.logTimestamps).plan, dailyBudget: budgetOf(c.id), clock: simClock, intervalMs: 15 * 60_000 }),
    ]),
  );
  const pacing = createPacingStage(pacers);
  const exploration = options.loop.exploration;
  const explorer = exploration === false ? undefined : createExplorer({ seed: `${String(options.seed)}:explore`, ...exploration });
  const selector = createAdSelector({ predictor, auction, pacing, ledger, metrics, ...(explorer === undefined ? {} : { explorer }) });
  const quality = createQualityMonitor({ clock: simClock, attributionWindowMs: 30 * 60_000, windowRows: 200_000 });
  const reporter = createCampaignReporter({ clock: simClock, bucketMs: 60_000, horizonMs: 2 * DAY_MS });
  const random = createRandom(`${String(options.seed)}:outcomes`);
  const describe = createFactorDescriber(options.spec);
  const missingIds = encoder.missingIds();
  const loop = createOnlineLoop({
    trainer: options.trainer,
    hot,
    layout,
    clock: simClock,
    frozenScores: options.frozenScores,
    launchAt: new Map(generator.ads.map((ad) => [ad.id, ad.launchAt])),
    log: options.onLoopLog,
    settings: options.loop,
  });
  options.phase('setup-day2');

  const spendByHour = new Map(generator.campaigns.map((c) => [c.id, new Float64Array(24)]));
  const perCampaign = new Map<string, CampaignTally>(generator.campaigns.map((c) => [c.id, { impressions: 0, clicks: 0, conversions: 0, spendMicros: 0, daySpendMicros: 0 }]));
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
  let spendAfterMidnightMicros = 0;
  let lateChargesRefused = 0;
  const dayEnd = day2 + DAY_MS;
  const pending = createEventQueue<PendingEvent>();
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
      quality.impression(key, servedPctr);
      impressions++;
    } else if (event.type === 'click') {
      quality.click(key);
      loop.joiner.click(event);
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
    for (const item of pending.takeUntil(time)) await deliver(item);
  };
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
    await loop.served(servedRows, hour, selection.explored);
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
      loop.observe(outcome.clicked, outcome.pClick);
      const key = `${request.requestId}:${winner.adId}`;
      for (const event of outcome.events) pending.schedule({ event, campaignId: winner.campaignId, key, servedPctr, hour });
      // No billable event will come (no click for a CPC ad, no conversion for a CPA one): the hold goes back now.
      if (!outcome.events.some((e) => e.type === BILLED_BY[winner.bidType])) await selector.release(request.requestId, winner.adId);
      await deliverUntil(request.context.timestamp); // the impression itself
      if (explanations.length < 5 && selection.winners[0] === winner) {
        const batch = encoder.encode(request, selection.prediction.lookup as StoreLookup | undefined);
        const contributions = await explainByOcclusion(options.explained, batch, i, missingIds);
        explanations.push({ adId: winner.adId, category: request.candidates[i]!.category, pCtr: winner.pCtr, reasons: summarizeFactors(contributions, request, i, describe) });
      }
    }
    await loop.flush();
    served++;
    if (served % 500 === 0) onProgress('serving day two', served, requests);
  }
  // Clicks and conversions of the last requests arrive after them (some after midnight).
  await deliverUntil(Number.POSITIVE_INFINITY);
  await loop.flush();
  await selector.releaseAll();
  // The last 24 h of reporting, before the clock moves on to close the loop's last windows.
  // (From day two's first minute to now: its last clicks and conversions may come after midnight.)
  const reported = reporter.report(Math.ceil((simClock.now() - day2 + 1) / 60_000) * 60_000).campaigns;
  // Close the last windows, so every served row is labeled.
  const loopReport = await loop.finish(options.frozenModel);
  options.phase('serve');
  return {
    served,
    winners,
    impressions,
    clicks,
    conversions,
    predictedClicks,
    expectedClicks,
    degradedRequests,
    spendAfterMidnightMicros,
    lateChargesRefused,
    perCampaign,
    spendByHour,
    latencies,
    explanations,
    reported,
    online: quality.snapshot(),
    loop: loopReport,
  };
}
