import { describe, expect, it } from 'vitest';
import { createAsapPlan, createEvenPlan, createHourlyPlan, createTrafficShapedPlan, planFromJSON } from '../src/index.js';

const H = 3_600_000;
const MONDAY = Date.UTC(2026, 0, 5);

describe('pacing plans', () => {
  it('an even plan is linear over the day', () => {
    const plan = createEvenPlan();
    expect(plan.fraction(MONDAY)).toBe(0);
    expect(plan.fraction(MONDAY + 6 * H)).toBeCloseTo(0.25, 12);
    expect(plan.fraction(MONDAY + 18.5 * H)).toBeCloseTo(18.5 / 24, 12);
    expect(plan.fraction(MONDAY + 24 * H - 1)).toBeCloseTo(1, 6);
    expect(plan.isActive(MONDAY + 3 * H)).toBe(true);
    expect(plan.dayStart(plan.dayIndex(MONDAY + 5 * H))).toBe(MONDAY);
  });

  it('day-parting spreads the budget over active hours only', () => {
    const plan = createEvenPlan({ activeHours: [9, 10, 17] });
    expect(plan.fraction(MONDAY + 9 * H)).toBe(0);
    expect(plan.fraction(MONDAY + 10 * H)).toBeCloseTo(1 / 3, 12);
    expect(plan.fraction(MONDAY + 12 * H)).toBeCloseTo(2 / 3, 12);
    expect(plan.fraction(MONDAY + 17.5 * H)).toBeCloseTo(5 / 6, 12);
    expect(plan.fraction(MONDAY + 20 * H)).toBe(1);
    expect(plan.isActive(MONDAY + 12 * H)).toBe(false);
    expect(plan.isActive(MONDAY + 17 * H)).toBe(true);
    expect(plan.activeHours).toEqual([9, 10, 17]);
  });

  it('time zones move the day: local midnight starts it', () => {
    const plan = createEvenPlan({ timezoneOffsetMinutes: -300 }); // New York in winter
    const localMidnight = MONDAY + 5 * H;
    expect(plan.fraction(localMidnight)).toBe(0);
    expect(plan.fraction(localMidnight + 12 * H)).toBeCloseTo(0.5, 12);
    expect(plan.dayStart(plan.dayIndex(MONDAY + 6 * H))).toBe(localMidnight);
    expect(plan.dayIndex(MONDAY + 4 * H)).toBe(plan.dayIndex(MONDAY + 6 * H) - 1);
  });

  it('an hourly curve is normalized and interpolated within each hour', () => {
    const weights = Array.from({ length: 24 }, (_, h) => (h < 12 ? 1 : 3));
    const plan = createHourlyPlan(weights);
    expect(plan.weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(plan.fraction(MONDAY + 12 * H)).toBeCloseTo(12 / 48, 12);
    expect(plan.fraction(MONDAY + 12.5 * H)).toBeCloseTo(13.5 / 48, 12);
    const quarter = createHourlyPlan(new Array(96).fill(1));
    expect(quarter.fraction(MONDAY + 0.25 * H)).toBeCloseTo(1 / 96, 12);
  });

  it('ASAP wants everything from the first active instant', () => {
    const plan = createAsapPlan({ activeHours: [8, 9] });
    expect(plan.fraction(MONDAY + 7 * H)).toBe(0);
    expect(plan.fraction(MONDAY + 8 * H)).toBe(0);
    expect(plan.fraction(MONDAY + 8 * H + 1)).toBe(1);
    expect(plan.isActive(MONDAY + 10 * H)).toBe(false);
  });

  it('a traffic-shaped plan follows the average shape of past days', () => {
    const times: number[] = [];
    // Day 1: 30 requests at 20:00, 10 at 08:00. Day 2 (twice as busy): 60 at 20:00, 20 at 08:00.
    for (let i = 0; i < 30; i++) times.push(MONDAY - 2 * 24 * H + 20 * H + i * 1000);
    for (let i = 0; i < 10; i++) times.push(MONDAY - 2 * 24 * H + 8 * H + i * 1000);
    for (let i = 0; i < 60; i++) times.push(MONDAY - 24 * H + 20 * H + i * 1000);
    for (let i = 0; i < 20; i++) times.push(MONDAY - 24 * H + 8 * H + i * 1000);
    const plan = createTrafficShapedPlan(times);
    expect(plan.kind).toBe('traffic');
    expect(plan.weights[20]).toBeCloseTo(0.75, 12);
    expect(plan.weights[8]).toBeCloseTo(0.25, 12);
    expect(plan.fraction(MONDAY + 9 * H)).toBeCloseTo(0.25, 12);
    // Recency weighting: with a half-life of one day, yesterday counts twice as much as the day before.
    const recent = createTrafficShapedPlan([MONDAY - 2 * 24 * H + 8 * H, MONDAY - 24 * H + 20 * H], { halfLifeDays: 1 });
    expect(recent.weights[20]).toBeCloseTo(2 / 3, 12);
  });

  it('round-trips through JSON', () => {
    const plan = createHourlyPlan(Array.from({ length: 24 }, (_, h) => h + 1), { timezoneOffsetMinutes: 120, activeHours: [1, 2, 3] });
    const restored = planFromJSON(JSON.parse(JSON.stringify(plan)));
    for (let t = MONDAY; t < MONDAY + 24 * H; t += 0.37 * H) expect(restored.fraction(t)).toBeCloseTo(plan.fraction(t), 12);
    expect(restored.activeHours).toEqual([1, 2, 3]);
  });

  it('rejects bad plans with clear errors', () => {
    expect(() => createHourlyPlan([1, 2, 3])).toThrow(expect.objectContaining({ code: 'E_CONFIG', message: expect.stringMatching(/multiple of 24/) }));
    expect(() => createHourlyPlan(new Array(24).fill(Number.NaN))).toThrow(/finite number/);
    expect(() => createHourlyPlan(new Array(24).fill(-1))).toThrow(/≥ 0/);
    expect(() => createHourlyPlan(Array.from({ length: 24 }, (_, h) => (h === 3 ? 1 : 0)), { activeHours: [4] })).toThrow(/no weight on any active hour/);
    expect(() => createEvenPlan({ activeHours: [24] })).toThrow(/0–23/);
    expect(() => createEvenPlan({ timezoneOffsetMinutes: 30.5 })).toThrow(/timezoneOffsetMinutes/);
    expect(() => createTrafficShapedPlan([])).toThrow(expect.objectContaining({ code: 'E_INPUT' }));
    expect(() => createTrafficShapedPlan([Number.NaN])).toThrow(/not a finite number/);
    expect(() => createTrafficShapedPlan([MONDAY + 3 * H], { activeHours: [10] })).toThrow(/no past traffic fell in an active hour/);
    expect(() => planFromJSON({ kind: 'weird', weights: [], activeHours: [], timezoneOffsetMinutes: 0 } as never)).toThrow(expect.objectContaining({ code: 'E_INPUT' }));
  });
});
