/**
 * The budget held for each bid that left the server, until the exchange says what happened:
 * the win (billing) notice or the impression event commits the clearing price, a loss notice
 * releases it, and a bid whose notice never comes is released after `ttlMs`. Every hold leaves
 * the book exactly once — settling is idempotent, whatever the order and repetition of notices.
 */
import type { Clock, ServedRow } from '@ctrkit/core';
import type { BudgetLedger, Reservation } from '@ctrkit/pacing';

/** One bid's reservation and what the event path needs to know about it. */
export interface Hold {
  /** The BidRequest id. */
  readonly requestId: string;
  /** The impression bid on. */
  readonly impId: string;
  readonly adId: string;
  readonly campaignId: string;
  readonly advertiserId: string;
  readonly category: string;
  readonly userId: string;
  /** The bid, CPM. */
  readonly priceCpm: number;
  /** The pCTR the bid was priced with. */
  readonly pCtr: number;
  /** Model version that scored it. */
  readonly modelVersion: string;
  /** The ledger's reservation: the bid's price for one impression. */
  readonly reservation: Reservation;
  /** When it was made (clock ms). */
  readonly createdAt: number;
  /** The encoded row the bid was priced with, for the online trainer (online learning only). */
  readonly servedRow?: ServedRow;
}

/** How a hold left the book. */
export type HoldOutcome = 'committed' | 'released-loss' | 'released-expired' | 'released-shutdown' | 'released-unused' | 'commit-failed';

/** Options of {@link createHoldBook}. */
export interface HoldBookOptions {
  readonly ledger: BudgetLedger;
  readonly clock: Clock;
  /** How long a hold waits for its notice. */
  readonly ttlMs: number;
  /** Told about every hold that leaves the book, with the amount committed (0 when released). */
  readonly onSettled?: (hold: Hold, outcome: HoldOutcome, amount: number, error?: unknown) => void;
}

/** The open holds. */
export interface HoldBook {
  /** Adds the holds of one request's bids. */
  add(holds: readonly Hold[]): void;
  /** The open hold of an impression of a request. */
  byImp(requestId: string, impId: string): Hold | undefined;
  /** The open hold of an ad in a request. */
  byAd(requestId: string, adId: string): Hold | undefined;
  /**
   * Commits a hold at `amount` (currency units for the one impression, capped by what was held).
   * Returns the amount committed, or `undefined` when the hold had already left the book.
   */
  commit(hold: Hold, amount: number): Promise<number | undefined>;
  /** Releases a hold; false when it had already left the book. */
  release(hold: Hold, outcome: Exclude<HoldOutcome, 'committed' | 'commit-failed'>): Promise<boolean>;
  /** Releases holds older than `ttlMs`; returns how many. */
  releaseExpired(): Promise<number>;
  /** Releases every open hold (shutdown); returns how many. */
  releaseAll(): Promise<number>;
  /** Open holds. */
  size(): number;
  /** Starts the expiry timer (every quarter TTL, at most every second). */
  start(): void;
  /** Stops it. */
  stop(): void;
}

/**
 * Creates a {@link HoldBook}.
 *
 * @param options - Ledger, clock, TTL, settlement listener.
 * @returns The book.
 */
export function createHoldBook(options: HoldBookOptions): HoldBook {
  const { ledger, clock, ttlMs, onSettled } = options;
  // Insertion order is creation order: expiry walks from the front.
  const byRequest = new Map<string, Hold[]>();
  let open = 0;
  let timer: ReturnType<typeof setInterval> | undefined;

  /** Takes a hold out of the book; false when it was not there (already settled). */
  const take = (hold: Hold): boolean => {
    const list = byRequest.get(hold.requestId);
    if (list === undefined) return false;
    const i = list.indexOf(hold);
    if (i < 0) return false;
    list.splice(i, 1);
    if (list.length === 0) byRequest.delete(hold.requestId);
    open--;
    return true;
  };

  const release = async (hold: Hold, outcome: Exclude<HoldOutcome, 'committed' | 'commit-failed'>): Promise<boolean> => {
    if (!take(hold)) return false;
    try {
      await ledger.release(hold.reservation);
      onSettled?.(hold, outcome, 0);
    } catch (error) {
      // A reservation the ledger already let go (its own TTL) needs nothing more.
      onSettled?.(hold, outcome, 0, error);
    }
    return true;
  };

  const releaseMany = async (holds: readonly Hold[], outcome: 'released-expired' | 'released-shutdown'): Promise<number> => {
    const done = await Promise.all(holds.map((hold) => release(hold, outcome)));
    return done.filter(Boolean).length;
  };

  return {
    add(holds) {
      for (const hold of holds) {
        const list = byRequest.get(hold.requestId);
        if (list === undefined) byRequest.set(hold.requestId, [hold]);
        else list.push(hold);
        open++;
      }
    },
    byImp: (requestId, impId) => byRequest.get(requestId)?.find((h) => h.impId === impId),
    byAd: (requestId, adId) => byRequest.get(requestId)?.find((h) => h.adId === adId),
    async commit(hold, amount) {
      if (!take(hold)) return undefined;
      const price = Math.min(hold.reservation.amount, Math.max(0, amount));
      try {
        await ledger.commit(hold.reservation, price);
      } catch (error) {
        onSettled?.(hold, 'commit-failed', 0, error);
        return 0;
      }
      onSettled?.(hold, 'committed', price);
      return price;
    },
    release,
    async releaseExpired() {
      const cutoff = clock.now() - ttlMs;
      const due: Hold[] = [];
      for (const list of byRequest.values()) {
        if ((list[0] as Hold).createdAt > cutoff) break;
        for (const hold of list) due.push(hold);
      }
      return releaseMany(due, 'released-expired');
    },
    async releaseAll() {
      const all = [...byRequest.values()].flat();
      return releaseMany(all, 'released-shutdown');
    },
    size: () => open,
    start() {
      if (timer !== undefined) return;
      timer = setInterval(
        () => {
          void this.releaseExpired();
        },
        Math.max(5, Math.min(1_000, ttlMs / 4)),
      );
      timer.unref();
    },
    stop() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
    },
  };
}
