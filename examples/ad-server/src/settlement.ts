/**
 * Where each (auction, imp) the server bid on stands, for the notice window: bid and held
 * (`open`), its hold released for want of a notice (`expired`, a late win still commits),
 * `committed` or `released` (lost). Every move is one atomic compare-and-set, so a replayed or
 * duplicated notice, a second bid under a reused request id, or two processes receiving the same
 * notice settle it once. In memory for one process; in Redis (one key per pair, expiring with
 * the window) when the ledger is shared, so settlement survives a restart and spans the fleet.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { CtrkitError, type Clock } from '@ctrkit/core';

/** Where one (auction, imp) stands; `none` when the registry knows nothing of it. */
export type SettlementState = 'none' | 'open' | 'expired' | 'committed' | 'released';

/** The settlement state of every (auction, imp) bid on within the notice window. */
export interface SettlementRegistry {
  /**
   * Moves a pair to `to` if it is in one of `from` (atomically).
   *
   * @param auction - The BidRequest id.
   * @param imp - The impression id.
   * @param from - The states it may move from.
   * @param to - The new state (from `none`, it is kept for the notice window).
   * @returns The state it was in: it moved when that state is one of `from`.
   * @throws CtrkitError `E_STORE` when the shared registry cannot be reached.
   */
  transition(auction: string, imp: string, from: readonly SettlementState[], to: Exclude<SettlementState, 'none'>): Promise<SettlementState>;
  /** Pairs known (memory: entries; Redis: undefined, Redis expires them itself). */
  size(): number | undefined;
  /** Pairs forgotten before their window ended because the registry was full (memory). */
  evicted(): number;
}

/** Options of {@link createMemorySettlementRegistry}. */
export interface MemorySettlementOptions {
  readonly clock: Clock;
  /** How long a pair is remembered after its bid, ms. */
  readonly windowMs: number;
  /** Most pairs remembered; the oldest is forgotten first (a forgotten pair can no longer be settled, never twice). */
  readonly capacity: number;
}

/**
 * An in-process {@link SettlementRegistry}: a map in bid order, expired from the front, capped.
 *
 * @param options - Clock, window, capacity.
 * @returns The registry.
 * @example
 * ```ts
 * import { systemClock } from '@ctrkit/core';
 * const registry = createMemorySettlementRegistry({ clock: systemClock, windowMs: 600_000, capacity: 100_000 });
 * await registry.transition('r1', '1', ['none'], 'open'); // 'none': now open
 * await registry.transition('r1', '1', ['open', 'expired'], 'committed'); // 'open': committed
 * await registry.transition('r1', '1', ['open', 'expired'], 'committed'); // 'committed': not again
 * ```
 */
export function createMemorySettlementRegistry(options: MemorySettlementOptions): SettlementRegistry {
  const { clock, windowMs, capacity } = options;
  const entries = new Map<string, { state: SettlementState; until: number }>();
  let evicted = 0;
  const sweep = (now: number): void => {
    for (const [key, entry] of entries) {
      if (entry.until > now && entries.size <= capacity) break;
      if (entry.until > now) evicted++;
      entries.delete(key);
    }
  };
  return {
    async transition(auction, imp, from, to) {
      const now = clock.now();
      const key = `${auction}\u001f${imp}`;
      const entry = entries.get(key);
      const state: SettlementState = entry === undefined || entry.until <= now ? 'none' : entry.state;
      if (!from.includes(state)) return state;
      if (entry === undefined || state === 'none') {
        entries.delete(key);
        entries.set(key, { state: to, until: now + windowMs });
        sweep(now);
      } else entry.state = to;
      return state;
    },
    size: () => entries.size,
    evicted: () => evicted,
  };
}

const SCRIPT = `
local v = redis.call('GET', KEYS[1]) or 'none'
for i = 3, #ARGV do
  if ARGV[i] == v then
    if v == 'none' then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) else redis.call('SET', KEYS[1], ARGV[1], 'KEEPTTL') end
    return v
  end
end
return v`;

/** Options of {@link createRedisSettlementRegistry}. */
export interface RedisSettlementOptions {
  readonly redis: Redis;
  /** Key prefix (the fleet's). */
  readonly prefix: string;
  /** How long a pair is remembered after its bid, ms. */
  readonly windowMs: number;
}

/**
 * A {@link SettlementRegistry} in Redis: one key a pair (`<prefix>settle:<sha-256 of the pair>`,
 * so an outside id never makes a long key), expiring with the window; one Lua script a move.
 *
 * @param options - Connection, prefix, window.
 * @returns The registry.
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * const registry = createRedisSettlementRegistry({ redis: new Redis(), prefix: 'adserver:', windowMs: 600_000 });
 * await registry.transition('r1', '1', ['none'], 'open');
 * ```
 */
export function createRedisSettlementRegistry(options: RedisSettlementOptions): SettlementRegistry {
  const { redis, prefix, windowMs } = options;
  return {
    async transition(auction, imp, from, to) {
      const digest = createHash('sha256').update(`${auction}\u001f${imp}`, 'utf8').digest('base64url');
      try {
        const previous = (await redis.eval(SCRIPT, 1, `${prefix}settle:${digest}`, to, String(Math.ceil(windowMs)), ...from)) as string;
        return previous as SettlementState;
      } catch (error) {
        throw new CtrkitError('E_STORE', `settlement registry: Redis did not answer (${(error as Error).message}); nothing was settled`, { cause: error });
      }
    },
    size: () => undefined,
    evicted: () => 0,
  };
}
