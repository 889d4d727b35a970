/**
 * The bridge between per-campaign pacers and the request path's `PacingStage` (core).
 */
import { CtrkitError, type PacingDecision, type PacingStage } from '@ctrkit/core';
import type { Pacer } from './pacer.js';

/** Options for {@link createPacingStage}.
 *
 * @example
 * ```ts
 * import type { PacingStageOptions } from '@ctrkit/pacing';
 * const options: PacingStageOptions = { unknownCampaigns: 'refuse' };
 * ```
 */
export interface PacingStageOptions {
  /** What to do for a campaign without a pacer: bid at full value (`admit`, default) or not at all (`refuse`). */
  readonly unknownCampaigns?: 'admit' | 'refuse';
}

/**
 * Core's `PacingStage` over a set of pacers, plus access to them.
 *
 * @example
 * ```ts
 * import type { PacingStageWithPacers } from '@ctrkit/pacing';
 * const spentState = (stage: PacingStageWithPacers, id: string) => stage.pacer(id)?.state();
 * ```
 */
export interface PacingStageWithPacers extends PacingStage {
  /** The pacer of a campaign, if any. */
  pacer(campaignId: string): Pacer | undefined;
  /** Campaigns with a pacer. */
  campaigns(): readonly string[];
}

const ADMIT: PacingDecision = Object.freeze({ admit: true, multiplier: 1 });
const REFUSE: PacingDecision = Object.freeze({ admit: false, multiplier: 0 });

/**
 * Creates the request path's pacing stage from one {@link Pacer} per campaign: `decide` asks the
 * campaign's pacer whether to bid and at what multiplier; `recordSpend` feeds it the spend.
 *
 * @param pacers - Pacers by campaign id.
 * @param options - What to do for campaigns without a pacer.
 * @returns The stage.
 * @throws `CtrkitError` `E_CONFIG` when a pacer is missing for a listed campaign.
 * @example
 * ```ts
 * import { createDualController, createEvenPlan, createPacer, createPacingStage } from '@ctrkit/pacing';
 * const pacer = createPacer({ controller: createDualController(), plan: createEvenPlan(), dailyBudget: 100 });
 * const pacing = createPacingStage({ 'cmp-1': pacer });
 * const { admit, multiplier } = pacing.decide('cmp-1');
 * ```
 */
export function createPacingStage(
  pacers: ReadonlyMap<string, Pacer> | Readonly<Record<string, Pacer>>,
  options: PacingStageOptions = {},
): PacingStageWithPacers {
  const byCampaign = new Map<string, Pacer>(pacers instanceof Map ? pacers : Object.entries(pacers));
  for (const [campaignId, pacer] of byCampaign) {
    if (pacer === undefined || typeof pacer.admit !== 'function') {
      throw new CtrkitError('E_CONFIG', `createPacingStage: campaign ${campaignId} has no pacer; pass one from createPacer()`);
    }
  }
  const unknown = options.unknownCampaigns === 'refuse' ? REFUSE : ADMIT;
  return {
    decide(campaignId) {
      const pacer = byCampaign.get(campaignId);
      if (pacer === undefined) return unknown;
      const admit = pacer.admit();
      return admit ? { admit: true, multiplier: pacer.multiplier() } : REFUSE;
    },
    recordSpend(campaignId, amount) {
      byCampaign.get(campaignId)?.record(amount);
    },
    pacer: (campaignId) => byCampaign.get(campaignId),
    campaigns: () => [...byCampaign.keys()],
  };
}
