/**
 * One conformance suite for every BudgetLedger implementation (memory; Redis with and without
 * leases). The harness hides how time moves: a manual clock for memory, real time (short TTLs)
 * plus a jumpable offset clock for Redis.
 */
import { describe, expect, it } from 'vitest';
import type { BudgetLedger, LedgerBudgets, Reservation } from '../../src/index.js';

export interface LedgerHarness {
  readonly ledger: BudgetLedger;
  /** Lets `ms` of time pass (so reservations can expire). */
  pass(ms: number): Promise<void>;
  /** Jumps the ledger's clock forward (day changes) without waiting. */
  jump(ms: number): Promise<void>;
  /** Makes local state visible in snapshots (settles leases). */
  settle(): Promise<void>;
  dispose(): Promise<void>;
}

export interface HarnessFactory {
  (budgets: LedgerBudgets, options: { reservationTtlMs: number; start: number }): Promise<LedgerHarness>;
}

const DAY = 86_400_000;
const MONDAY = Date.UTC(2026, 0, 5);

async function granted(ledger: BudgetLedger, campaign: string, price: number): Promise<Reservation> {
  const result = await ledger.reserve(campaign, price);
  if (!result.ok) throw new Error(`expected a reservation, got a refusal: ${result.detail}`);
  return result;
}

export function describeLedgerConformance(name: string, create: HarnessFactory, options: { ttlMs: number }): void {
  const ttl = options.ttlMs;
  const withLedger = async (budgets: LedgerBudgets, body: (h: LedgerHarness) => Promise<void>, start = MONDAY + 10 * 3_600_000): Promise<void> => {
    const harness = await create(budgets, { reservationTtlMs: ttl, start });
    try {
      await body(harness);
    } finally {
      await harness.dispose();
    }
  };
  const one = (dailyBudget: number): LedgerBudgets => ({ campaigns: [{ id: 'c1', dailyBudget }] });

  describe(`BudgetLedger conformance: ${name}`, () => {
    it('records committed spend and frees the rest of the reservation', async () => {
      await withLedger(one(1), async (h) => {
        const r = await granted(h.ledger, 'c1', 0.3);
        expect(r.amount).toBe(0.3);
        expect(r.campaignId).toBe('c1');
        await h.ledger.commit(r, 0.1);
        await h.settle();
        const snapshot = await h.ledger.snapshot('c1');
        expect(snapshot.lines[0]?.spent).toBeCloseTo(0.1, 9);
        // 0.9 is left for new reservations: three of 0.3 fit, a fourth does not.
        for (let i = 0; i < 3; i++) await granted(h.ledger, 'c1', 0.3);
        const refused = await h.ledger.reserve('c1', 0.3);
        expect(refused.ok).toBe(false);
        if (!refused.ok) {
          expect(refused.reason).toBe('budget');
          expect(refused.remaining).toBeCloseTo(0, 9);
          expect(refused.detail).toMatch(/c1/);
        }
      });
    });

    it('never grants more than the budget, and refuses with reason budget', async () => {
      await withLedger(one(1), async (h) => {
        let held = 0;
        for (let i = 0; i < 10; i++) {
          const result = await h.ledger.reserve('c1', 0.15);
          if (result.ok) held += result.amount;
        }
        expect(held).toBeCloseTo(0.9, 9);
        const last = await h.ledger.reserve('c1', 0.15);
        expect(last.ok).toBe(false);
        if (!last.ok) expect(last.remaining).toBeCloseTo(0.1, 9);
        expect((await h.ledger.reserve('c1', 0.1)).ok).toBe(true);
      });
    });

    it('release returns the amount; releasing twice does nothing', async () => {
      await withLedger(one(1), async (h) => {
        const a = await granted(h.ledger, 'c1', 0.7);
        expect((await h.ledger.reserve('c1', 0.7)).ok).toBe(false);
        await h.ledger.release(a);
        await h.ledger.release(a);
        const b = await granted(h.ledger, 'c1', 0.7);
        await h.ledger.commit(b, 0.7);
        await h.settle();
        expect((await h.ledger.snapshot('c1')).lines[0]?.spent).toBeCloseTo(0.7, 9);
      });
    });

    it('rejects double commits, commit after release and release after commit with E_STATE', async () => {
      await withLedger(one(1), async (h) => {
        const a = await granted(h.ledger, 'c1', 0.2);
        await h.ledger.commit(a, 0.2);
        await expect(h.ledger.commit(a, 0.2)).rejects.toMatchObject({ code: 'E_STATE' });
        await expect(h.ledger.release(a)).rejects.toMatchObject({ code: 'E_STATE' });
        const b = await granted(h.ledger, 'c1', 0.2);
        await h.ledger.release(b);
        await expect(h.ledger.commit(b, 0.1)).rejects.toMatchObject({ code: 'E_STATE' });
        await h.settle();
        expect((await h.ledger.snapshot('c1')).lines[0]?.spent).toBeCloseTo(0.2, 9);
      });
    });

    it('rejects bad input with clear errors and leaves the ledger as it was', async () => {
      await withLedger(one(1), async (h) => {
        await expect(h.ledger.reserve('nope', 0.1)).rejects.toMatchObject({ code: 'E_NOT_FOUND', message: expect.stringMatching(/nope.*budgets\.campaigns/) });
        await expect(h.ledger.reserve('c1', Number.NaN)).rejects.toMatchObject({ code: 'E_INPUT', message: expect.stringMatching(/maxPrice.*NaN/) });
        await expect(h.ledger.reserve('c1', -1)).rejects.toMatchObject({ code: 'E_INPUT' });
        await expect(h.ledger.reserve('c1', Number.POSITIVE_INFINITY)).rejects.toMatchObject({ code: 'E_INPUT' });
        const r = await granted(h.ledger, 'c1', 0.2);
        await expect(h.ledger.commit(r, 0.3)).rejects.toMatchObject({ code: 'E_INPUT', message: expect.stringMatching(/exceeds the reserved maximum/) });
        await expect(h.ledger.commit(r, Number.NaN)).rejects.toMatchObject({ code: 'E_INPUT' });
        await expect(h.ledger.commit({ ...r }, 0.1)).rejects.toMatchObject({ code: 'E_INPUT', message: expect.stringMatching(/not made by this ledger/) });
        await expect(h.ledger.snapshot('nope')).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
        // The failed calls changed nothing: the reservation is still open and commits normally.
        await h.ledger.commit(r, 0.2);
        await h.settle();
        expect((await h.ledger.snapshot('c1')).lines[0]?.spent).toBeCloseTo(0.2, 9);
      });
    });

    it('expired reservations return to the budget; a late commit is taken only if it still fits', async () => {
      await withLedger(one(1), async (h) => {
        const a = await granted(h.ledger, 'c1', 0.6);
        expect((await h.ledger.reserve('c1', 0.6)).ok).toBe(false);
        await h.pass(ttl + 50);
        const b = await granted(h.ledger, 'c1', 0.6); // a's amount came back
        // a's win notice arrives late: 0.3 still fits beside b's 0.6, so it is recorded.
        await h.ledger.commit(a, 0.3);
        await h.ledger.commit(b, 0.6);
        const c = await granted(h.ledger, 'c1', 0.1);
        await h.pass(ttl + 50);
        await granted(h.ledger, 'c1', 0.1);
        // c expired and its 0.1 is held by the new reservation: a late 0.1 no longer fits.
        await expect(h.ledger.commit(c, 0.1)).rejects.toMatchObject({ code: 'E_BUDGET', message: expect.stringMatching(/expired.*reservationTtlMs/) });
        await h.settle();
        const line = (await h.ledger.snapshot('c1')).lines[0];
        expect(line?.spent).toBeCloseTo(0.9, 9);
        expect((line?.spent ?? 0) + (line?.reserved ?? 0)).toBeLessThanOrEqual(1 + 1e-9);
      });
    });

    it('applies campaign and advertiser budgets together: the most restrictive wins', async () => {
      const budgets: LedgerBudgets = {
        advertisers: [{ id: 'adv', dailyBudget: 1 }],
        campaigns: [
          { id: 'a', advertiserId: 'adv', dailyBudget: 0.8 },
          { id: 'b', advertiserId: 'adv', lifetimeBudget: 0.8 },
        ],
      };
      await withLedger(budgets, async (h) => {
        const a = await granted(h.ledger, 'a', 0.6);
        const refused = await h.ledger.reserve('b', 0.6);
        expect(refused.ok).toBe(false);
        const b = await granted(h.ledger, 'b', 0.4);
        await h.ledger.commit(a, 0.6);
        await h.ledger.commit(b, 0.4);
        await h.settle();
        const snapshot = await h.ledger.snapshot('b');
        expect(snapshot.lines.map((l) => `${l.scope}:${l.ownerId}:${l.period}`)).toEqual(['campaign:b:lifetime', 'advertiser:adv:daily']);
        expect(snapshot.lines[1]?.spent).toBeCloseTo(1, 9);
        expect(snapshot.remaining).toBeCloseTo(0, 9);
        expect((await h.ledger.reserve('a', 0.01)).ok).toBe(false);
      });
    });

    it('daily budgets reset at local midnight; lifetime budgets do not', async () => {
      const budgets: LedgerBudgets = { campaigns: [{ id: 'c1', dailyBudget: 1, lifetimeBudget: 1.5, timezoneOffsetMinutes: 60 }] };
      // 22:30 UTC on Monday is 23:30 in UTC+1: the local day ends in 30 minutes.
      await withLedger(
        budgets,
        async (h) => {
          const a = await granted(h.ledger, 'c1', 1);
          await h.ledger.commit(a, 1);
          expect((await h.ledger.reserve('c1', 0.1)).ok).toBe(false);
          await h.settle(); // spend counts on the day it is recorded: settle before midnight
          await h.jump(31 * 60_000);
          await h.settle();
          const snapshot = await h.ledger.snapshot('c1');
          expect(snapshot.lines.find((l) => l.period === 'daily')?.spent).toBe(0);
          expect(snapshot.lines.find((l) => l.period === 'lifetime')?.spent).toBeCloseTo(1, 9);
          const b = await granted(h.ledger, 'c1', 0.5);
          await h.ledger.commit(b, 0.5);
          const refused = await h.ledger.reserve('c1', 0.1);
          expect(refused.ok).toBe(false);
          await h.jump(DAY);
          expect((await h.ledger.reserve('c1', 0.1)).ok).toBe(false); // the lifetime budget is spent
        },
        MONDAY + 22.5 * 3_600_000,
      );
    });

    it('a reservation open at midnight carries over and counts on the day it is committed', async () => {
      await withLedger(
        one(1),
        async (h) => {
          const a = await granted(h.ledger, 'c1', 0.4);
          await granted(h.ledger, 'c1', 0.6);
          await h.jump(ttl / 2); // past midnight; both reservations are still open
          expect((await h.ledger.reserve('c1', 0.01)).ok).toBe(false); // still held on the new day
          await h.ledger.commit(a, 0.4);
          await h.settle();
          const line = (await h.ledger.snapshot('c1')).lines[0];
          expect(line?.spent).toBeCloseTo(0.4, 9);
          expect(line?.day).toBe(Math.floor((MONDAY + DAY) / DAY));
        },
        MONDAY + DAY - ttl / 4,
      );
    });

    it('refuses calls after close with E_STATE', async () => {
      await withLedger(one(1), async (h) => {
        await h.ledger.close();
        await expect(h.ledger.reserve('c1', 0.1)).rejects.toMatchObject({ code: 'E_STATE' });
      });
    });
  });
}
