/**
 * The stages the ad selector drives after prediction, as interfaces other packages implement:
 * pacing (admits a campaign and scales its bid), the auction (ranks and prices the candidates)
 * and the spend ledger (holds budget before a winner is returned).
 */
import type { StoreLookup } from '../stages.js';
import type { AuctionResult } from '../types/auction.js';
import type { AdRequest } from '../types/request.js';

/** What pacing says about one campaign right now.
 *
 * @example
 * ```ts
 * import type { PacingDecision } from '@ctrkit/core';
 * const open: PacingDecision = { admit: true, multiplier: 0.8 };
 * ```
 */
export interface PacingDecision {
  /** Bid at all. */
  readonly admit: boolean;
  /** Factor applied to the bid. */
  readonly multiplier: number;
}

/**
 * Pacing as the request path sees it (the pacing package implements it over its pacers).
 *
 * @example
 * ```ts
 * import type { PacingStage } from '@ctrkit/core';
 * const unpaced: PacingStage = { decide: () => ({ admit: true, multiplier: 1 }), recordSpend: () => undefined };
 * ```
 */
export interface PacingStage {
  /** The decision for a campaign, now. */
  decide(campaignId: string): PacingDecision;
  /** Tells pacing that a campaign spent `amount`. */
  recordSpend(campaignId: string, amount: number): void;
}

/** Per-candidate inputs the request path hands the auction.
 *
 * @example
 * ```ts
 * import type { AuctionStageInputs } from '@ctrkit/core';
 * const inputs: AuctionStageInputs = { bidMultiplier: [1, 0.5], admitted: [true, false] };
 * ```
 */
export interface AuctionStageInputs {
  /** Pacing multipliers. */
  readonly bidMultiplier?: ArrayLike<number>;
  /** Pacing admission. */
  readonly admitted?: ArrayLike<number | boolean>;
  /** 1 where the campaign's budget is exhausted. */
  readonly exhausted?: ArrayLike<number | boolean>;
  /** The store's counters, for frequency caps. */
  readonly counters?: StoreLookup;
}

/**
 * Ranking and pricing as the request path sees it (the auction package's `createAuction` fits).
 *
 * @example
 * ```ts
 * import type { AuctionStage } from '@ctrkit/core';
 * const nobody: AuctionStage = { run: (request) => ({ requestId: request.requestId, winners: [], rejected: [] }) };
 * ```
 */
export interface AuctionStage {
  /** Ranks and prices the candidates. */
  run(request: AdRequest, pCtr: ArrayLike<number>, inputs?: AuctionStageInputs): AuctionResult;
}

/** Budget held for a winner until its billable event arrives.
 *
 * @example
 * ```ts
 * import type { BudgetHold } from '@ctrkit/core';
 * const hold: BudgetHold = { ok: true, id: 'h1', campaignId: 'c', amount: 0.004, expiresAt: 60_000 };
 * ```
 */
export interface BudgetHold {
  /** Granted. */
  readonly ok: true;
  /** Hold id. */
  readonly id: string;
  /** Campaign. */
  readonly campaignId: string;
  /** Amount held. */
  readonly amount: number;
  /** When the ledger lets it go by itself. */
  readonly expiresAt: number;
}

/** A refused hold.
 *
 * @example
 * ```ts
 * import type { BudgetRefusal } from '@ctrkit/core';
 * const refusal: BudgetRefusal = { ok: false, campaignId: 'c', reason: 'budget', detail: 'daily budget spent' };
 * ```
 */
export interface BudgetRefusal {
  /** Refused. */
  readonly ok: false;
  /** Campaign. */
  readonly campaignId: string;
  /** `budget` (spent) or `unavailable` (the ledger cannot be reached). */
  readonly reason: string;
  /** Why, for logs. */
  readonly detail: string;
}

/**
 * The spend ledger as the request path sees it (the pacing package's ledgers fit).
 *
 * @example
 * ```ts
 * import type { SpendLedger } from '@ctrkit/core';
 * async function hold(ledger: SpendLedger) {
 *   const result = await ledger.reserve('c', 0.5);
 *   if (result.ok) await ledger.release(result);
 * }
 * ```
 */
export interface SpendLedger {
  /** Holds up to `maxPrice` of the campaign's budget. */
  reserve(campaignId: string, maxPrice: number): Promise<BudgetHold | BudgetRefusal>;
  /** Turns a hold into spend of `price` (≤ the held amount). */
  commit(hold: BudgetHold, price: number): Promise<void>;
  /** Gives a hold back. */
  release(hold: BudgetHold): Promise<void>;
}
