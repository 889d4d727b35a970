import { createManualClock, createRandom } from '@ctrkit/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toMicros } from '../src/money.js';
import { propertyOptions } from './fixtures/property-options.js';
import {
  controllerFor,
  createAsapPlan,
  createDualController,
  createEvenPlan,
  createMemoryLedger,
  createPacer,
  createPidController,
  createThrottleController,
  PACER_KINDS,
  type PacerKind,
  type PacingController,
} from '../src/index.js';

const H = 3_600_000;
const MIN = 60_000;
const MONDAY = Date.UTC(2026, 0, 5);

describe('controllers', () => {
  it('move their output the right way, by the documented amounts', () => {
    const throttle = createThrottleController({ initialRate: 0.5 });
    expect(throttle.update(throttle.initial(), { target: 2, spent: 4, remaining: 10, budget: 20 }).admitRate).toBeCloseTo(0.25, 12);
    expect(throttle.update(throttle.initial(), { target: 2, spent: 1, remaining: 10, budget: 20 }).admitRate).toBeCloseTo(1, 12);
    expect(throttle.update(throttle.initial(), { target: 2, spent: 0, remaining: 10, budget: 20 }).admitRate).toBe(1);

    const dual = createDualController({ learningRate: 0.5, initialMultiplier: 0.5 });
    const over = dual.update(dual.initial(), { target: 1, spent: 2, remaining: 5, budget: 10 });
    // (1 + λ) = 2 · e^{0.5 · 1}
    expect(over.multiplier).toBeCloseTo(1 / (2 * Math.exp(0.5)), 12);
    const under = dual.update(dual.initial(), { target: 1, spent: 0, remaining: 5, budget: 10 });
    expect(under.multiplier).toBeCloseTo(1 / (2 * Math.exp(-0.5)), 12);

    const pid = createPidController({ kp: 0.5, ki: 0.1, kd: 0.2, initialMultiplier: 0.2 });
    const p1 = pid.update(pid.initial(), { target: 1, spent: 0.5, remaining: 5, budget: 10 });
    // e = 0.5: φ = ln 0.2 + 0.5·0.5 + 0.1·0.5 + 0.2·0.5
    expect(p1.multiplier).toBeCloseTo(0.2 * Math.exp(0.25 + 0.05 + 0.1), 12);
    const p2 = pid.update(p1, { target: 1, spent: 1, remaining: 4, budget: 10 });
    // e = 0: integral stays 0.5, derivative −0.5
    expect(p2.multiplier).toBeCloseTo(0.2 * Math.exp(0.05 - 0.1), 12);
  });

  it('reject bad options and foreign states', () => {
    expect(() => createDualController({ learningRate: -1 })).toThrow(expect.objectContaining({ code: 'E_CONFIG' }));
    expect(() => createPidController({ minMultiplier: 2, maxMultiplier: 1 })).toThrow(/minMultiplier/);
    expect(() => createThrottleController({ initialRate: 0 })).toThrow(/initialRate/);
    const dual = createDualController();
    expect(() => dual.update(createPidController().initial(), { target: 1, spent: 0, remaining: 1, budget: 1 })).toThrow(expect.objectContaining({ code: 'E_INPUT' }));
    expect(() => dual.update(dual.initial(), { target: 0, spent: 0, remaining: 1, budget: 1 })).toThrow(/target > 0/);
    expect(() => dual.validate({ kind: 'dual', lambda: Number.NaN })).toThrow(/lambda/);
  });
});

describe('pacer', () => {
  it('re-plans what is left: an idle hour raises the following targets', () => {
    const clock = createManualClock(MONDAY);
    const pacer = createPacer({ controller: createDualController(), plan: createEvenPlan(), dailyBudget: 24, clock, intervalMs: H });
    expect(pacer.state().target).toBeCloseTo(1, 12);
    pacer.record(0.5);
    clock.advance(H);
    pacer.admit();
    expect(pacer.state().spentToday).toBeCloseTo(0.5, 12);
    expect(pacer.state().target).toBeCloseTo(23.5 / 23, 12);
  });

  it('tells the controller about intervals nobody called in (a dead hour), within bounds', () => {
    const clock = createManualClock(MONDAY);
    const controller = createPidController({ initialMultiplier: 0.1 });
    const pacer = createPacer({ controller, plan: createEvenPlan(), dailyBudget: 1_000, clock, intervalMs: MIN });
    pacer.admit();
    clock.advance(H); // no traffic for an hour: 60 intervals with no spend
    // φ = ln 0.1 + 0.3 + 0.05·I reaches 0 (multiplier 1) at I ≈ 40: the output climbs to the top…
    expect(pacer.multiplier()).toBeGreaterThan(0.99);
    const state = pacer.state().control;
    if (state.kind !== 'pid') throw new Error('pid state expected');
    expect(pacer.multiplier()).toBeLessThanOrEqual(1);
    // …and anti-windup stops the integral there instead of letting it count all 60 intervals.
    expect(state.integral).toBeLessThanOrEqual(41);
    expect(state.integral).toBeGreaterThanOrEqual(39);
    expect(pacer.state().interval).toBe(60);
  });

  it('admits nothing outside active hours and once the day is spent; a new local day starts afresh', () => {
    const clock = createManualClock(MONDAY + 7 * H);
    const plan = createEvenPlan({ activeHours: [8, 9], timezoneOffsetMinutes: 60 });
    const pacer = createPacer({ controller: createDualController({ initialMultiplier: 1 }), plan, dailyBudget: 10, clock });
    expect(pacer.admit()).toBe(true); // 08:00 local
    clock.advance(2 * H); // 10:00 local
    expect(pacer.admit()).toBe(false);
    expect(pacer.bid(5)).toBe(0);
    expect(pacer.state().target).toBe(0);
    clock.set(MONDAY + 24 * H + 7 * H + 1); // 08:00 local, next day
    expect(pacer.admit()).toBe(true);
    pacer.record(10);
    expect(pacer.admit()).toBe(false); // budget spent
    clock.set(MONDAY + 48 * H + 7 * H + 1); // and the day after
    expect(pacer.admit()).toBe(true);
    expect(pacer.state().spentToday).toBe(0);
  });

  it('with an ASAP plan bids at full value until the budget is gone', () => {
    const clock = createManualClock(MONDAY + 3 * H);
    const pacer = createPacer({ controller: createDualController(), plan: createAsapPlan(), dailyBudget: 5, clock });
    for (let i = 0; i < 30; i++) {
      clock.advance(MIN);
      pacer.admit();
    }
    expect(pacer.multiplier()).toBe(1);
    pacer.record(5);
    expect(pacer.admit()).toBe(false);
  });

  it('resumes exactly from its JSON state, throttling draws included', () => {
    const clock = createManualClock(MONDAY);
    const options = { controller: createThrottleController({ initialRate: 0.3 }), plan: createEvenPlan(), dailyBudget: 100, clock, random: createRandom(9) };
    const a = createPacer(options);
    for (let i = 0; i < 500; i++) {
      clock.advance(7_000);
      if (a.admit()) a.record(0.05);
    }
    const saved = JSON.parse(JSON.stringify(a.state()));
    const b = createPacer({ ...options, random: createRandom('ignored'), state: saved });
    const seqA: boolean[] = [];
    const seqB: boolean[] = [];
    for (let i = 0; i < 500; i++) {
      clock.advance(7_000);
      const x = a.admit();
      const y = b.admit();
      seqA.push(x);
      seqB.push(y);
      if (x) a.record(0.05);
      if (y) b.record(0.05);
    }
    expect(seqB).toEqual(seqA);
    expect(b.state()).toEqual(a.state());
  });

  it('rejects bad input and mismatched states', () => {
    const clock = createManualClock(MONDAY);
    const pacer = createPacer({ controller: createDualController(), plan: createEvenPlan(), dailyBudget: 10, clock });
    expect(() => pacer.record(Number.NaN)).toThrow(expect.objectContaining({ code: 'E_INPUT' }));
    expect(() => pacer.record(-1)).toThrow(/≥ 0/);
    expect(() => pacer.bid(Number.POSITIVE_INFINITY)).toThrow(expect.objectContaining({ code: 'E_INPUT' }));
    expect(() => createPacer({ controller: createPidController(), plan: createEvenPlan(), dailyBudget: 10, clock, state: pacer.state() })).toThrow(/saved by a dual pacer/);
    expect(() => createPacer({ controller: createDualController(), plan: createEvenPlan(), dailyBudget: 10, clock, state: { ...pacer.state(), spentToday: -4 } })).toThrow(/spentToday/);
    expect(() => createPacer({ controller: createDualController(), plan: createEvenPlan(), dailyBudget: -5, clock })).toThrow(expect.objectContaining({ code: 'E_CONFIG' }));
    expect(() => createPacer({ controller: createDualController(), plan: createEvenPlan(), dailyBudget: 10, clock, intervalMs: 0 })).toThrow(/intervalMs/);
  });
});

/** Adversarial day: segments of normal traffic, spikes (many requests, dear wins) and dead stretches. */
const segmentArb = fc.record({
  kind: fc.constantFrom('normal', 'spike', 'dead'),
  minutes: fc.integer({ min: 1, max: 150 }),
  rate: fc.integer({ min: 1, max: 12 }),
  price: fc.double({ min: 0.001, max: 2, noNaN: true }),
});

async function runDay(controller: PacingController, segments: ReadonlyArray<{ kind: string; minutes: number; rate: number; price: number }>, seed: number) {
  const start = MONDAY;
  const clock = createManualClock(start);
  const budget = 50;
  const ledger = createMemoryLedger({ budgets: { campaigns: [{ id: 'c', dailyBudget: budget }] }, clock });
  const pacer = createPacer({ controller, plan: createEvenPlan(), dailyBudget: budget, clock, random: createRandom(seed) });
  const random = createRandom(seed + 1);
  const [mLo, mHi] = controller.multiplierBounds;
  const [aLo, aHi] = controller.admitRateBounds;
  let spentMicros = 0;
  let minute = 0;
  for (const segment of segments) {
    const perMinute = segment.kind === 'dead' ? 0 : segment.kind === 'spike' ? segment.rate * 20 : segment.rate;
    for (let m = 0; m < segment.minutes && minute < 24 * 60 - 1; m++, minute++) {
      for (let r = 0; r < perMinute; r++) {
        clock.set(start + minute * MIN + ((r + 0.5) / perMinute) * MIN);
        const bid = pacer.bid(1);
        if (bid <= 0) continue;
        const reservation = await ledger.reserve('c', bid);
        if (!reservation.ok) continue;
        const price = Math.min(bid, segment.price * random.next());
        if (random.next() < 0.6) {
          await ledger.commit(reservation, price);
          pacer.record(price);
          spentMicros += toMicros(price);
        } else await ledger.release(reservation);
      }
      clock.set(start + (minute + 1) * MIN);
      const { control } = pacer.state();
      expect(Number.isFinite(control.multiplier) && Number.isFinite(control.admitRate)).toBe(true);
      expect(pacer.multiplier()).toBeGreaterThanOrEqual(mLo);
      expect(pacer.multiplier()).toBeLessThanOrEqual(mHi);
      expect(control.admitRate).toBeGreaterThanOrEqual(aLo);
      expect(control.admitRate).toBeLessThanOrEqual(aHi);
    }
  }
  const line = (await ledger.snapshot('c')).lines[0];
  return { spentMicros, budgetMicros: toMicros(budget), ledgerMicros: toMicros(line?.spent ?? Number.NaN), pacerMicros: toMicros(pacer.state().spentToday) };
}

describe('controllers on adversarial traffic', () => {
  for (const kind of PACER_KINDS) {
    it(`${kind}: outputs stay within bounds through spikes and dead hours, and spend never exceeds the budget`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(segmentArb, { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 1_000 }), async (segments, seed) => {
          const result = await runDay(controllerFor(kind), segments, seed);
          // Exact, in integer micros: the ledger, the pacer and the sum of the prices agree, within the budget.
          expect(result.ledgerMicros).toBe(result.spentMicros);
          expect(result.pacerMicros).toBe(result.spentMicros);
          expect(result.spentMicros).toBeLessThanOrEqual(result.budgetMicros);
        }),
        propertyOptions(15),
      );
    }, 60_000);
  }
});

describe('money never drifts (issue 19)', () => {
  it('regression: prices with sub-micro tails summing past the budget as floats are counted exactly', async () => {
    // The PID failure on main: the pacer summed raw float prices (50.000000001000004) while the
    // ledger counted rounded micros (≤ 50). Each price rounds to 0.1 = 100,000 micros.
    const clock = createManualClock(MONDAY);
    const ledger = createMemoryLedger({ budgets: { campaigns: [{ id: 'c', dailyBudget: 50 }] }, clock });
    const pacer = createPacer({ controller: createPidController(), plan: createAsapPlan(), dailyBudget: 50, clock });
    let floatSum = 0;
    for (let i = 0; i < 500; i++) {
      const price = 0.1000000004;
      const reservation = await ledger.reserve('c', price);
      if (!reservation.ok) throw new Error(`refused at ${i}`);
      await ledger.commit(reservation, price);
      pacer.record(price);
      floatSum += price;
    }
    expect(floatSum).toBeGreaterThan(50); // what the old pacer held
    expect(pacer.state().spentToday).toBe(50);
    expect((await ledger.snapshot('c')).lines[0]?.spent).toBe(50);
    clock.advance(1);
    expect(pacer.admit()).toBe(false); // exactly spent: no more bids
  });

  it('property failures report their seed and path', () => {
    expect(() => fc.assert(fc.property(fc.nat(), (n) => n < 0), propertyOptions(5))).toThrow(/seed: -?\d+, path: "/);
  });
});

describe('controllers on a stationary market', () => {
  // Competing bids uniform on [0, 2]: a bid b wins with probability b / 2 and pays b / 2 on average… here exactly b / 2.
  function steady(kind: PacerKind) {
    const clock = createManualClock(MONDAY);
    const budget = 1_000;
    const pacer = createPacer({ controller: controllerFor(kind), plan: createEvenPlan(), dailyBudget: budget, clock, random: createRandom(5) });
    const random = createRandom(6);
    const requests = 300_000;
    let spent = 0;
    let spentByNoon = 0;
    for (let i = 0; i < requests; i++) {
      clock.set(MONDAY + ((i + 0.5) / requests) * 24 * H);
      const bid = pacer.bid(0.2);
      if (bid > 0 && random.next() < bid / 2 && spent + bid / 2 <= budget) {
        spent += bid / 2;
        pacer.record(bid / 2);
      }
      if (i === requests / 2) spentByNoon = spent;
    }
    return { spent, spentByNoon, budget };
  }
  for (const kind of ['throttle', 'pid', 'dual'] as const) {
    it(`${kind} follows an even plan: about half by noon, nearly all by midnight`, () => {
      const { spent, spentByNoon, budget } = steady(kind);
      expect(spentByNoon / budget).toBeGreaterThan(0.45);
      expect(spentByNoon / budget).toBeLessThan(0.55);
      expect(spent / budget).toBeGreaterThan(0.97);
      expect(spent).toBeLessThanOrEqual(budget);
    });
  }
  it('none spends as early as it can', () => {
    const { spentByNoon, budget } = steady('none');
    expect(spentByNoon / budget).toBeGreaterThan(0.99);
  });
});
