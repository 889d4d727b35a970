/**
 * Graceful shutdown: no new bids; auctions in flight finish; notices of bids already sent are
 * accepted for `SHUTDOWN_GRACE_MS`; then nothing new is accepted, every reservation still open is
 * released, and the ledger (the Redis ledger settles its spend and returns its leases), the
 * store, the model and Redis are closed.
 *
 * @internal
 */
import type { FastifyInstance } from 'fastify';
import type { BudgetLedger } from '@ctrkit/pacing';
import type { FeatureStore } from '@ctrkit/core';
import type { ServerConfig } from '../config.js';
import type { HoldBook } from '../holds.js';
import type { OnlineLoop } from '../online.js';
import { describe } from './describe.js';
import type { Lifecycle } from './lifecycle.js';

/** What shutdown did. */
export interface ShutdownReport {
  /** Holds committed by notices that arrived during the grace period. */
  readonly settledDuringGrace: number;
  /** Holds released because no notice came before the server closed. */
  readonly released: number;
  /** Problems closing the ledger, store or Redis (empty when all went well). */
  readonly problems: readonly string[];
}

/** What {@link createShutdown} closes, in this order after the HTTP server. */
export interface ShutdownDeps {
  readonly app: FastifyInstance;
  readonly config: Pick<ServerConfig, 'shutdownGraceMs'>;
  readonly lifecycle: Lifecycle;
  readonly holds: HoldBook;
  /** Stop the timers (pacing sync, Redis ping, quality monitor). */
  readonly timers: readonly (() => void)[];
  readonly online: () => OnlineLoop | undefined;
  /** Flushes the last second of the fleet's counts (with Redis). */
  readonly fleetReporter: { close(): Promise<void> } | undefined;
  readonly ledger: BudgetLedger;
  readonly store: FeatureStore;
  readonly model: { dispose(): Promise<void> };
  readonly closeRedis: () => Promise<void>;
}

const waitFor = async (done: () => boolean, ms: number): Promise<boolean> => {
  const until = Date.now() + ms;
  while (!done()) {
    if (Date.now() >= until) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
};

/**
 * Creates the shutdown of one server.
 *
 * @param deps - The instance, the grace period, and everything to close.
 * @returns Shutdown: idempotent (a second call gets the first one's promise).
 */
export function createShutdown(deps: ShutdownDeps): (reason?: string) => Promise<ShutdownReport> {
  const { app, config, lifecycle, holds, ledger, store } = deps;
  const log = app.log;
  let running: Promise<ShutdownReport> | undefined;
  return (reason = 'shutdown') => {
    running ??= (async () => {
      lifecycle.phase = 'draining';
      log.info({ reason, openHolds: holds.size(), activeBids: lifecycle.activeBids }, 'shutting down: no new bids');
      const problems: string[] = [];
      // 1. Auctions already running finish (their bids are held).
      if (!(await waitFor(() => lifecycle.activeBids === 0, 10_000))) problems.push(`${lifecycle.activeBids} bid requests still running after 10 s`);
      // 2. Win and loss notices of the bids already sent may still come.
      const before = holds.size();
      await waitFor(() => holds.size() === 0, config.shutdownGraceMs);
      const settledDuringGrace = before - holds.size();
      // 3. Stop accepting anything; requests in flight finish.
      lifecycle.phase = 'closed';
      await app.close();
      // 4. Every reservation still open goes back to the budget.
      holds.stop();
      const released = await holds.releaseAll();
      for (const stop of deps.timers) stop();
      await deps.online()?.close();
      try {
        await deps.fleetReporter?.close(); // the last second of counts
      } catch (error) {
        problems.push(`reporter: ${describe(error)}`);
      }
      try {
        await ledger.close(); // the Redis ledger settles its spend and returns its leases
      } catch (error) {
        problems.push(`ledger: ${describe(error)}`);
      }
      try {
        await store.close();
      } catch (error) {
        problems.push(`store: ${describe(error)}`);
      }
      try {
        await deps.model.dispose();
      } catch (error) {
        problems.push(`model: ${describe(error)}`);
      }
      await deps.closeRedis();
      log.info({ settledDuringGrace, released, problems }, 'shut down');
      return { settledDuringGrace, released, problems };
    })();
    return running;
  };
}
