/**
 * The ad selector, {@link createAdSelector}: prediction, then pacing, the auction and budget
 * holds, so that every winner it returns has its budget held.
 */
import type { Clock } from '../clock.js';
import { systemClock } from '../clock.js';
import { describeError, ensure, isCtrkitError } from '../errors.js';
import type { PipelineMetrics } from '../monitor/pipeline-metrics.js';
import type { AuctionResult, AuctionWinner, Rejection } from '../types/auction.js';
import type { AdEvent } from '../types/events.js';
import type { AdRequest, BidType } from '../types/request.js';
import type { Explorer } from './exploration.js';
import type { Degradation, PredictionResult } from './prediction.js';
import type { Predictor } from './predictor.js';
import type { AuctionStage, BudgetHold, PacingDecision, PacingStage, SpendLedger } from './selector-stages.js';

/** A winner with the budget held for it.
 *
 * @example
 * ```ts
 * import type { HeldWinner } from '@ctrkit/core';
 * const charge = (w: HeldWinner) => w.charge;
 * ```
 */
export interface HeldWinner extends AuctionWinner {
  /** What one billable event costs: the CPM price / 1000 per impression, the CPC price per click, the CPA price per conversion. */
  readonly charge: number;
  /** The hold, when a ledger is configured. */
  readonly hold?: BudgetHold;
  /**
   * Present when the request explored ({@link AdSelectorOptions.explorer}): the pCTR the auction
   * ranked and priced it by. `pCtr` is then the model's own (what a log or a monitor should see).
   */
  readonly rankPctr?: number;
}

/** What {@link AdSelector.select} returns.
 *
 * @example
 * ```ts
 * import type { Selection } from '@ctrkit/core';
 * const shown = (s: Selection) => s.winners.map((w) => w.adId);
 * ```
 */
export interface Selection {
  /** The request's id. */
  readonly requestId: string;
  /** Winners in slot order, each with its budget hold. */
  readonly winners: readonly HeldWinner[];
  /** Candidates that did not win, with reasons. */
  readonly rejected: readonly Rejection[];
  /** The prediction behind the auction. */
  readonly prediction: PredictionResult;
  /** Degradations of the prediction and of pacing, auction and ledger stages. */
  readonly degraded: readonly SelectionDegradation[];
  /** Whether the auction ranked by the explorer's pCTR instead of the model's. */
  readonly explored: boolean;
  /** Milliseconds per stage (prediction stages included) and in total. */
  readonly timings: Readonly<Record<string, number>>;
}

/** A degraded stage of the whole request path.
 *
 * @example
 * ```ts
 * import type { SelectionDegradation } from '@ctrkit/core';
 * const d: SelectionDegradation = { stage: 'ledger', reason: 'error', action: 'no-bid', detail: 'ledger unavailable' };
 * ```
 */
export type SelectionDegradation =
  | Degradation
  | {
      readonly stage: 'pace' | 'auction' | 'ledger';
      readonly reason: 'error' | 'deadline' | 'unavailable';
      readonly action: 'no-bid';
      readonly detail: string;
    };

/** Options for {@link createAdSelector}.
 *
 * @example
 * ```ts
 * import type { AdSelectorOptions } from '@ctrkit/core';
 * const partial: Partial<AdSelectorOptions> = { holdTtlMs: 1_800_000 };
 * ```
 */
export interface AdSelectorOptions {
  /** Scores the candidates. */
  readonly predictor: Predictor;
  /** Ranks and prices them. */
  readonly auction: AuctionStage;
  /** Budget pacing per campaign (default: every campaign admitted at full bid). */
  readonly pacing?: PacingStage;
  /** Spend ledger (default: none — winners carry no hold). */
  readonly ledger?: SpendLedger;
  /**
   * Exploration: on the requests it picks, the auction ranks and prices by its sampled or
   * optimistic pCTR (default: none — every request ranks by the model's pCTR).
   */
  readonly explorer?: Explorer;
  /** How long a hold waits for its billable event before it is released (default 30 minutes). */
  readonly holdTtlMs?: number;
  /** Records stage latencies, errors and degradations. */
  readonly metrics?: PipelineMetrics;
  /** Time source. */
  readonly clock?: Clock;
}

/**
 * The whole request path: predict → pace → auction → hold budget; and the event path that
 * settles the holds (commit on the billable event, release when it never comes).
 *
 * @example
 * ```ts
 * import { createAdSelector, type AdRequest, type AuctionStage, type Predictor } from '@ctrkit/core';
 * declare const predictor: Predictor;
 * declare const auction: AuctionStage;
 * declare const request: AdRequest;
 * const selector = createAdSelector({ predictor, auction });
 * const { winners } = await selector.select(request);
 * ```
 */
export interface AdSelector {
  /** Runs one request; never rejects for a stage failure (it degrades to fewer or no winners). */
  select(request: AdRequest): Promise<Selection>;
  /**
   * Settles the hold an event is billable for (impression for CPM, click for CPC, conversion for
   * CPA): commits `event.cost` when given, else the winner's charge. Returns the amount committed
   * (0 when the event bills nothing or matches no hold).
   */
  settle(event: AdEvent): Promise<number>;
  /**
   * Releases the hold of one winner whose billable event will not come (the impression was not
   * rendered, the click window closed); returns false when no hold was open for it.
   */
  release(requestId: string, adId: string): Promise<boolean>;
  /** Releases holds older than `holdTtlMs` whose billable event never came; returns how many. */
  releaseExpired(): Promise<number>;
  /** Releases every open hold (graceful shutdown); returns how many. */
  releaseAll(): Promise<number>;
  /** Holds still open. */
  openHolds(): number;
}

const BILLABLE: Readonly<Record<BidType, AdEvent['type']>> = { CPM: 'impression', CPC: 'click', CPA: 'conversion' };

interface OpenHold {
  readonly winner: HeldWinner;
  readonly hold: BudgetHold;
  readonly createdAt: number;
}

/**
 * Creates an {@link AdSelector}.
 *
 * Budget is held before a winner is returned, for the price of one billable event. A refused
 * hold (budget spent) marks the campaign exhausted and the auction runs once more without it;
 * an unreachable ledger means no bid for that winner — never spending blind.
 *
 * @param options - Stages and instrumentation.
 * @returns The selector.
 * @throws {@link CtrkitError} `E_CONFIG` on a non-positive hold TTL.
 * @example
 * ```ts
 * import { createAdSelector, createPredictor, type AuctionStage, type FeatureEncoder, type ModelRunner, type PacingStage, type SpendLedger } from '@ctrkit/core';
 * declare const encoder: FeatureEncoder;
 * declare const runner: ModelRunner;
 * declare const auction: AuctionStage;
 * declare const pacing: PacingStage;
 * declare const ledger: SpendLedger;
 * const selector = createAdSelector({ predictor: createPredictor({ encoder, runner }), auction, pacing, ledger });
 * ```
 */
export function createAdSelector(options: AdSelectorOptions): AdSelector {
  const { predictor, auction, pacing, ledger, metrics, explorer } = options;
  const clock = options.clock ?? systemClock;
  const holdTtlMs = options.holdTtlMs ?? 1_800_000;
  ensure(holdTtlMs > 0, 'E_CONFIG', () => `holdTtlMs must be positive, got ${holdTtlMs}`);
  const open = new Map<string, OpenHold>();
  const keyOf = (requestId: string, adId: string): string => `${requestId}\u0000${adId}`;

  const chargeOf = (winner: AuctionWinner): number => (winner.bidType === 'CPM' ? winner.price / 1000 : winner.price);

  async function select(request: AdRequest): Promise<Selection> {
    const started = clock.now();
    const prediction = await predictor.predict(request);
    const degraded: SelectionDegradation[] = [...prediction.degraded];
    const timings: Record<string, number> = { ...prediction.timings };
    const n = request.candidates.length;
    const noBid = (stage: 'pace' | 'auction' | 'ledger', reason: 'error' | 'deadline' | 'unavailable', detail: string): void => {
      degraded.push({ stage, reason, action: 'no-bid', detail });
      metrics?.recordDegradation(stage, reason);
    };

    // Pacing, once per campaign.
    const multiplier = new Float64Array(n).fill(1);
    const admitted = new Uint8Array(n).fill(1);
    if (pacing !== undefined) {
      const t0 = clock.now();
      const decisions = new Map<string, PacingDecision>();
      try {
        for (let i = 0; i < n; i++) {
          const campaignId = request.candidates[i]!.campaignId;
          let decision = decisions.get(campaignId);
          if (decision === undefined) {
            decision = pacing.decide(campaignId);
            decisions.set(campaignId, decision);
          }
          admitted[i] = decision.admit ? 1 : 0;
          multiplier[i] = decision.multiplier;
        }
      } catch (error) {
        admitted.fill(0);
        metrics?.recordError('pace', isCtrkitError(error) ? error.code : 'unknown');
        noBid('pace', 'error', describeError(error));
      }
      timings.pace = clock.now() - t0;
      metrics?.recordStage('pace', timings.pace);
    }

    // Exploration decides once per request; a second auction round (a budget refusal) ranks by
    // the same values.
    const rankPctr = explorer?.rank(request, prediction.pCtr, prediction.lookup).rankPctr;
    const exhausted = new Uint8Array(n);
    const runAuction = (): AuctionResult | undefined => {
      const t0 = clock.now();
      try {
        return auction.run(request, rankPctr ?? prediction.pCtr, {
          bidMultiplier: multiplier,
          admitted,
          exhausted,
          ...(prediction.lookup !== undefined ? { counters: prediction.lookup } : {}),
        });
      } catch (error) {
        metrics?.recordError('auction', isCtrkitError(error) ? error.code : 'unknown');
        noBid('auction', 'error', describeError(error));
        return undefined;
      } finally {
        timings.auction = (timings.auction ?? 0) + (clock.now() - t0);
      }
    };

    let result = runAuction();
    const winners: HeldWinner[] = [];
    if (result !== undefined && ledger !== undefined && result.winners.length > 0) {
      const t0 = clock.now();
      let refusedForBudget = false;
      const holdAll = async (list: readonly AuctionWinner[]): Promise<void> => {
        const answers = await Promise.all(
          list.map(async (winner) => {
            try {
              return await ledger.reserve(winner.campaignId, chargeOf(winner));
            } catch (error) {
              return { ok: false as const, campaignId: winner.campaignId, reason: 'unavailable', detail: describeError(error) };
            }
          }),
        );
        answers.forEach((answer, k) => {
          const winner = list[k] as AuctionWinner;
          if (answer.ok) {
            const held: HeldWinner = { ...winner, charge: chargeOf(winner), hold: answer };
            winners.push(held);
            open.set(keyOf(request.requestId, winner.adId), { winner: held, hold: answer, createdAt: clock.now() });
          } else if (answer.reason === 'budget') {
            refusedForBudget = true;
            for (let i = 0; i < n; i++) if (request.candidates[i]!.campaignId === winner.campaignId) exhausted[i] = 1;
          } else {
            metrics?.recordError('ledger', 'E_LEDGER');
            noBid('ledger', 'unavailable', `${winner.campaignId}: ${answer.detail}`);
            // Rare path: find the row by scanning rather than indexing every request up front.
            const i = request.candidates.findIndex((c) => c.adId === winner.adId);
            if (i >= 0) admitted[i] = 0;
          }
        });
      };
      await holdAll(result.winners);
      if (refusedForBudget) {
        // Give the first round's holds back and run again without the exhausted campaigns, so
        // every slot goes to the best campaign that can still pay. A second refusal drops that
        // winner; there is no third round.
        const first = winners.splice(0);
        for (const w of first) open.delete(keyOf(request.requestId, w.adId));
        await Promise.all(first.map((w) => (w.hold ? ledger.release(w.hold) : undefined)));
        const again = runAuction();
        if (again !== undefined) {
          await holdAll(again.winners);
          result = again;
        }
      }
      winners.sort((a, b) => a.position - b.position);
      timings.ledger = clock.now() - t0;
      metrics?.recordStage('ledger', timings.ledger);
    } else if (result !== undefined) {
      for (const winner of result.winners) winners.push({ ...winner, charge: chargeOf(winner) });
    }
    if (rankPctr !== undefined) {
      // Winners carry the model's pCTR; the one they were ranked by goes beside it.
      for (let k = 0; k < winners.length; k++) {
        const w = winners[k] as HeldWinner;
        const i = request.candidates.findIndex((c) => c.adId === w.adId);
        const model = i >= 0 ? (prediction.pCtr[i] as number) : w.pCtr;
        const relabeled: HeldWinner = { ...w, pCtr: model, rankPctr: w.pCtr };
        winners[k] = relabeled;
        const entry = open.get(keyOf(request.requestId, w.adId));
        if (entry !== undefined) open.set(keyOf(request.requestId, w.adId), { ...entry, winner: relabeled });
      }
    }
    if (timings.auction !== undefined) metrics?.recordStage('auction', timings.auction);
    timings.selection = clock.now() - started;
    // Rejections are built on first read: most hosts only log them now and then, and the
    // auction materializes its own list lazily for the same reason.
    const finalResult = result;
    let rejected: Rejection[] | undefined;
    return {
      requestId: request.requestId,
      winners,
      get rejected(): readonly Rejection[] {
        if (rejected === undefined) {
          const winnerIds = new Set(winners.map((w) => w.adId));
          rejected = (finalResult?.rejected ?? []).filter((r) => !winnerIds.has(r.adId));
          for (const w of finalResult?.winners ?? []) {
            if (!winnerIds.has(w.adId)) rejected.push({ adId: w.adId, reason: 'budget_exhausted', detail: 'no budget could be held' });
          }
        }
        return rejected;
      },
      prediction,
      degraded,
      explored: rankPctr !== undefined,
      timings,
    };
  }

  return {
    select,
    async settle(event) {
      const key = keyOf(event.requestId, event.adId);
      const entry = open.get(key);
      if (entry === undefined || BILLABLE[entry.winner.bidType] !== event.type) return 0;
      open.delete(key);
      const price = Math.min(entry.hold.amount, event.cost !== undefined && event.cost >= 0 ? event.cost : entry.winner.charge);
      await ledger?.commit(entry.hold, price);
      pacing?.recordSpend(entry.winner.campaignId, price);
      return price;
    },
    async release(requestId, adId) {
      const key = keyOf(requestId, adId);
      const entry = open.get(key);
      if (entry === undefined) return false;
      open.delete(key);
      await ledger?.release(entry.hold);
      return true;
    },
    async releaseExpired() {
      const cutoff = clock.now() - holdTtlMs;
      const due = [...open.entries()].filter(([, entry]) => entry.createdAt <= cutoff);
      for (const [key] of due) open.delete(key);
      await Promise.all(due.map(([, entry]) => ledger?.release(entry.hold)));
      return due.length;
    },
    async releaseAll() {
      const all = [...open.values()];
      open.clear();
      await Promise.all(all.map((entry) => ledger?.release(entry.hold)));
      return all.length;
    },
    openHolds: () => open.size,
  };
}
