import { createManualClock } from '@ctrkit/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMemoryLedger, type BudgetLedger, type LedgerBudgets, type Reservation } from '../src/index.js';
import { ExpiryQueue } from '../src/expiry-queue.js';
import { toMicros } from '../src/money.js';
import { describeLedgerConformance } from './fixtures/ledger-conformance.js';
import { propertyOptions } from './fixtures/property-options.js';

describeLedgerConformance(
  'memory',
  async (budgets, { reservationTtlMs, start }) => {
    const clock = createManualClock(start);
    const ledger = createMemoryLedger({ budgets, clock, reservationTtlMs });
    return {
      ledger,
      pass: async (ms) => clock.advance(ms),
      jump: async (ms) => clock.advance(ms),
      settle: async () => undefined,
      dispose: async () => ledger.close(),
    };
  },
  { ttlMs: 30_000 },
);

describe('memory ledger configuration', () => {
  it('rejects invalid budgets with E_CONFIG and a message that says how to fix them', () => {
    const bad: Array<[LedgerBudgets, RegExp]> = [
      [{ campaigns: [{ id: 'c', dailyBudget: -1 }] }, /dailyBudget must be a finite amount/],
      [{ campaigns: [{ id: 'c', dailyBudget: Number.NaN }] }, /dailyBudget/],
      [{ campaigns: [{ id: 'c' }] }, /no dailyBudget or lifetimeBudget/],
      [{ campaigns: [{ id: 'c', dailyBudget: 1 }, { id: 'c', dailyBudget: 2 }] }, /listed twice/],
      [{ campaigns: [{ id: 'c', advertiserId: 'x', dailyBudget: 1 }] }, /names advertiser x, which is not among the advertisers/],
      [{ campaigns: [{ id: '', dailyBudget: 1 }] }, /non-empty/],
      [{ campaigns: [{ id: 'c', dailyBudget: 1, timezoneOffsetMinutes: 2000 }] }, /timezoneOffsetMinutes/],
    ];
    for (const [budgets, message] of bad) {
      expect(() => createMemoryLedger({ budgets })).toThrow(expect.objectContaining({ code: 'E_CONFIG', message: expect.stringMatching(message) }));
    }
    expect(() => createMemoryLedger({ budgets: { campaigns: [{ id: 'c', dailyBudget: 1 }] }, reservationTtlMs: 0 })).toThrow(/reservationTtlMs/);
  });

  it('keeps amounts exact: a thousand commits of 0.001 spend exactly 1', async () => {
    const ledger = createMemoryLedger({ budgets: { campaigns: [{ id: 'c', lifetimeBudget: 1 }] }, clock: createManualClock(0) });
    for (let i = 0; i < 1000; i++) {
      const r = await ledger.reserve('c', 0.001);
      if (!r.ok) throw new Error(`refused at ${i}`);
      await ledger.commit(r, 0.001);
    }
    expect((await ledger.snapshot('c')).lines[0]?.spent).toBe(1);
    expect((await ledger.reserve('c', 0.000001)).ok).toBe(false);
  });

  it('keeps memory bounded: closed reservations do not pile up in the expiry queue', () => {
    const queue = new ExpiryQueue<{ expiresAt: number; state: number }>();
    const entries = Array.from({ length: 100_000 }, (_, i) => ({ expiresAt: 1_000 + i, state: 0 }));
    for (const entry of entries) {
      queue.push(entry);
      entry.state = 1; // committed right away, as on the hot path
      queue.noteClosed();
    }
    expect(queue.stored).toBeLessThan(2_100);
    // Open entries survive compaction and expire in order.
    const open = Array.from({ length: 3_000 }, (_, i) => ({ expiresAt: 200_000 + i, state: 0 }));
    for (const entry of open) queue.push(entry);
    for (let i = 0; i < 1_500; i++) {
      (open[i] as { state: number }).state = 1;
      queue.noteClosed();
    }
    const expired: number[] = [];
    queue.expire(201_600, (entry) => {
      entry.state = 3;
      expired.push(entry.expiresAt);
    });
    expect(expired).toEqual(Array.from({ length: 101 }, (_, i) => 201_500 + i));
    expect(queue.open().length).toBe(1_399);
    expect(queue.nextExpiry).toBe(201_601);
  });
});

type Command =
  | { kind: 'reserve'; campaign: 'a' | 'b'; price: number }
  | { kind: 'commit'; pick: number; share: number }
  | { kind: 'release'; pick: number }
  | { kind: 'advance'; ms: number };

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('reserve' as const), campaign: fc.constantFrom('a' as const, 'b' as const), price: fc.integer({ min: 0, max: 400 }).map((m) => m / 1000) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('commit' as const), pick: fc.nat(), share: fc.double({ min: 0, max: 1, noNaN: true }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.constantFrom(1_000, 20_000, 45_000, 3_600_000, 86_400_000) }) },
);

const propertyBudgets: LedgerBudgets = {
  advertisers: [{ id: 'adv', dailyBudget: 1.5, lifetimeBudget: 4 }],
  campaigns: [
    { id: 'a', advertiserId: 'adv', dailyBudget: 1 },
    { id: 'b', advertiserId: 'adv', dailyBudget: 0.9, lifetimeBudget: 2, timezoneOffsetMinutes: -300 },
  ],
};

/** Runs commands, checking after each that no line's spend + reservations exceeds its limit and that every accepted commit is recorded. */
async function runCommands(ledger: BudgetLedger, commands: readonly Command[], advance: (ms: number) => Promise<void>): Promise<void> {
  const open: Reservation[] = [];
  let committed = 0;
  for (const command of commands) {
    if (command.kind === 'reserve') {
      const result = await ledger.reserve(command.campaign, command.price);
      if (result.ok) open.push(result);
    } else if (command.kind === 'commit' && open.length > 0) {
      const [r] = open.splice(command.pick % open.length, 1) as [Reservation];
      const price = Math.floor(r.amount * command.share * 1e6) / 1e6;
      try {
        await ledger.commit(r, price);
        committed += toMicros(price);
      } catch (error) {
        expect(error).toMatchObject({ code: 'E_BUDGET' }); // only a late commit that no longer fits may be refused
      }
    } else if (command.kind === 'release' && open.length > 0) {
      const [r] = open.splice(command.pick % open.length, 1) as [Reservation];
      await ledger.release(r);
    } else if (command.kind === 'advance') {
      await advance(command.ms);
    }
    for (const campaign of ['a', 'b']) {
      for (const line of (await ledger.snapshot(campaign)).lines) {
        // Exact in micros (snapshot figures are fromMicros images, which toMicros recovers exactly).
        expect(toMicros(line.spent) + toMicros(line.reserved)).toBeLessThanOrEqual(toMicros(line.limit));
        expect(toMicros(line.reserved)).toBeGreaterThanOrEqual(0);
      }
    }
  }
  // No silent loss: the advertiser's lifetime line saw every accepted commit.
  const lifetime = (await ledger.snapshot('a')).lines.find((l) => l.scope === 'advertiser' && l.period === 'lifetime');
  expect(toMicros(lifetime?.spent ?? 0)).toBe(committed);
}

describe('memory ledger properties', () => {
  it('spend never exceeds any budget line for any sequence of reserve, commit, release and expiry', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(commandArb, { minLength: 1, maxLength: 80 }), async (commands) => {
        const clock = createManualClock(Date.UTC(2026, 0, 5, 21));
        const ledger = createMemoryLedger({ budgets: propertyBudgets, clock, reservationTtlMs: 30_000 });
        await runCommands(ledger, commands, async (ms) => clock.advance(ms));
      }),
      propertyOptions(300),
    );
  });
});

export { commandArb, propertyBudgets, runCommands };
