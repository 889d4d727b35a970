/**
 * A pacer per campaign on an even daily plan, the pacing stage the bidder asks, and the short
 * refusal of campaigns the ledger found out of budget. With the Redis ledger every pacer is
 * steered on the fleet's total spend (synced every 5 s).
 *
 * @internal
 */
import type { PacingDecision } from '@ctrkit/auction';
import type { Clock } from '@ctrkit/core';
import {
  createDualController,
  createEvenPlan,
  createPacer,
  createPacingStage,
  createPidController,
  createThrottleController,
  createUnpacedController,
  type PacingController,
} from '@ctrkit/pacing';
import type { RedisLedger } from '@ctrkit/pacing/redis';
import type { ServerConfig } from '../config.js';
import type { World } from '../world.js';

const REFUSED: PacingDecision = Object.freeze({ admit: false, multiplier: 0 });
/** How long a campaign the ledger refused for budget is refused by pacing before it is tried again. */
const EXHAUSTED_MS = 2_000;

/** What {@link createPacing} needs. */
export interface PacingDeps {
  readonly config: Pick<ServerConfig, 'pacing'>;
  readonly world: World;
  readonly clock: Clock;
  /** The shared ledger to sync spend from (undefined: each pacer counts its own spend). */
  readonly redisLedger: RedisLedger | undefined;
  /** Whether Redis answers now (no sync while it does not). */
  readonly redisUp: () => boolean;
}

/** The campaigns' pacing as the bidder and the settling path see it. */
export interface Pacing {
  /** The bidder's pacing decision for a campaign (refused for a while after the ledger refused it). */
  decide(campaignId: string): PacingDecision;
  /** The ledger refused this campaign for budget: refuse it for two seconds. */
  markExhausted(campaignId: string): void;
  /** Tells the campaign's pacer about committed spend. */
  recordSpend(campaignId: string, amount: number): void;
  /** The bid multiplier of a campaign's pacer. */
  multiplier(campaignId: string): number | undefined;
  /** Every campaign's multiplier (for `/metrics`). */
  multipliers(): Map<string, number>;
  /** Stops the spend sync. */
  stop(): void;
}

function controllerFor(mode: ServerConfig['pacing']): PacingController {
  if (mode === 'dual') return createDualController();
  if (mode === 'pid') return createPidController();
  if (mode === 'throttle') return createThrottleController();
  return createUnpacedController();
}

/**
 * Creates the pacers and, with a shared ledger, starts the spend sync (unref'd).
 *
 * @param deps - Pacing mode, catalog budgets, clock, shared ledger.
 * @returns The pacing.
 */
export function createPacing(deps: PacingDeps): Pacing {
  const { config, world, clock, redisLedger, redisUp } = deps;
  const pacers = new Map(world.budgets.map((b) => [b.id, createPacer({ controller: controllerFor(config.pacing), plan: createEvenPlan(), dailyBudget: b.dailyBudget as number, clock })]));
  const stage = createPacingStage(pacers);
  /** Campaigns the ledger refused for budget, until when (a refusal is re-checked after that). */
  const exhaustedUntil = new Map<string, number>();
  let syncTimer: ReturnType<typeof setInterval> | undefined;
  if (redisLedger !== undefined) {
    // Every process spends the same budgets: steer each pacer on the fleet's total.
    const shared = redisLedger;
    syncTimer = setInterval(() => {
      if (!redisUp()) return;
      void Promise.all(
        world.budgets.map(async (b) => {
          const daily = (await shared.snapshot(b.id)).lines.find((l) => l.scope === 'campaign' && l.period === 'daily');
          if (daily !== undefined) pacers.get(b.id)?.syncSpend(daily.spent);
        }),
      ).catch(() => undefined);
    }, 5_000);
    syncTimer.unref();
  }
  return {
    decide(campaignId) {
      const until = exhaustedUntil.get(campaignId);
      if (until !== undefined) {
        if (until > clock.now()) return REFUSED;
        exhaustedUntil.delete(campaignId);
      }
      return stage.decide(campaignId);
    },
    markExhausted(campaignId) {
      exhaustedUntil.set(campaignId, clock.now() + EXHAUSTED_MS);
    },
    recordSpend: (campaignId, amount) => stage.recordSpend(campaignId, amount),
    multiplier: (campaignId) => pacers.get(campaignId)?.multiplier(),
    multipliers: () => new Map([...pacers].map(([id, pacer]) => [id, pacer.multiplier()])),
    stop() {
      if (syncTimer !== undefined) clearInterval(syncTimer);
    },
  };
}
