import { describe, expect, it } from 'vitest';
import { createRandom, evaluate } from '../src/index.js';
import { createTrafficGenerator, SIM_CATEGORIES, SIM_CATEGORY_IAB } from '../src/sim/index.js';

describe('synthetic traffic generator', () => {
  const generator = createTrafficGenerator({ seed: 7, users: 3_000 });

  it('is deterministic by seed and stream', () => {
    const again = createTrafficGenerator({ seed: 7, users: 3_000 });
    const a = [...generator.impressions({ count: 200, stream: 'x' })];
    const b = [...again.impressions({ count: 200, stream: 'x' })];
    expect(b).toEqual(a);
    const c = [...generator.impressions({ count: 200, stream: 'y' })];
    expect(c.map((r) => r.pClick)).not.toEqual(a.map((r) => r.pClick));
  });

  it('streams requests in time order, with distinct candidates that fit the slot format', () => {
    let previous = -Infinity;
    for (const { request, pClick } of generator.requests({ count: 300 })) {
      expect(request.context.timestamp).toBeGreaterThanOrEqual(previous);
      previous = request.context.timestamp;
      expect(request.context.timestamp).toBeGreaterThanOrEqual(generator.startTime);
      expect(request.context.timestamp).toBeLessThan(generator.startTime + generator.durationMs);
      const format = request.context.slots?.[0]?.format;
      expect(request.candidates.length).toBe(20);
      expect(new Set(request.candidates.map((c) => c.adId)).size).toBe(20);
      for (const candidate of request.candidates) {
        expect(candidate.format).toBe(format);
        expect(SIM_CATEGORIES).toContain(candidate.category);
        expect(candidate.bid).toBeGreaterThan(0);
      }
      expect(pClick.length).toBe(20);
      pClick.forEach((p, k) => expect(p).toBeCloseTo(generator.clickProbability(request, k, 0), 12));
    }
  });

  it('hits the requested base CTR at position 0, with lower CTR lower on the page', () => {
    const target = createTrafficGenerator({ seed: 3, users: 3_000, baseCtr: 0.05 });
    let sum = 0;
    let n = 0;
    const byPosition = [0, 0, 0];
    const countByPosition = [0, 0, 0];
    for (const { request } of target.requests({ count: 2_000 })) {
      sum += target.clickProbability(request, 0, 0);
      n++;
      for (let position = 0; position < 3; position++) {
        byPosition[position]! += target.clickProbability(request, 0, position);
        countByPosition[position]!++;
      }
    }
    expect(sum / n).toBeGreaterThan(0.035);
    expect(sum / n).toBeLessThan(0.065);
    expect(byPosition[1]! / countByPosition[1]!).toBeLessThan(byPosition[0]! / countByPosition[0]!);
    expect(byPosition[2]! / countByPosition[2]!).toBeLessThan(byPosition[1]! / countByPosition[1]!);
  });

  it('draws clicks from the stated probability, so the Bayes figures are meaningful', () => {
    const labels: number[] = [];
    const truth: number[] = [];
    for (const row of generator.impressions({ count: 60_000 })) {
      labels.push(row.clicked ? 1 : 0);
      truth.push(row.pClick);
      if (row.converted) expect(row.clicked).toBe(true);
    }
    const summary = evaluate(labels, truth);
    expect(summary.calibration).toBeGreaterThan(0.9);
    expect(summary.calibration).toBeLessThan(1.1);
    expect(summary.auc).toBeGreaterThan(0.7);
    expect(summary.ne).toBeLessThan(0.95);
  });

  it('makes interactions matter: without them the Bayes AUC drops', () => {
    const bayesAuc = (strength: number) => {
      const g = createTrafficGenerator({ seed: 5, users: 3_000, interactionStrength: strength });
      const labels: number[] = [];
      const truth: number[] = [];
      for (const row of g.impressions({ count: 40_000 })) {
        labels.push(row.clicked ? 1 : 0);
        truth.push(row.pClick);
      }
      return evaluate(labels, truth).auc;
    };
    expect(bayesAuc(1)).toBeGreaterThan(bayesAuc(0) + 0.03);
  });

  it('turns an outcome into impression, click and conversion events', () => {
    const [first] = generator.requests({ count: 1, stream: 'events' });
    const request = first!.request;
    const random = createRandom(1);
    let clicks = 0;
    for (let i = 0; i < 500; i++) {
      const outcome = generator.outcome(request, 0, 0, random, { click: 0.5 });
      expect(outcome.events[0]?.type).toBe('impression');
      if (outcome.clicked) {
        clicks++;
        expect(outcome.events[1]).toMatchObject({ type: 'click', cost: 0.5, adId: request.candidates[0]!.adId });
        expect(outcome.events[1]!.timestamp).toBeGreaterThan(request.context.timestamp);
      }
    }
    expect(clicks / 500).toBeCloseTo(first!.pClick[0]!, 1);
  });

  it('maps every category to an IAB Content Taxonomy 1.0 code (what bcat blocks)', () => {
    expect(Object.keys(SIM_CATEGORY_IAB).sort()).toEqual([...SIM_CATEGORIES].sort());
    for (const code of Object.values(SIM_CATEGORY_IAB)) expect(code).toMatch(/^IAB(?:[1-9]|1\d|2[0-6])(?:-[1-9]\d?)?$/);
    expect(SIM_CATEGORY_IAB.insurance).toBe('IAB13-6');
  });

  it('rejects bad options and unknown ids', () => {
    expect(() => createTrafficGenerator({ users: 0 })).toThrow(/users|userCount/);
    expect(() => createTrafficGenerator({ baseCtr: 0.9 })).toThrow(/baseCtr/);
    expect(() => generator.userProfile('nobody')).toThrow(/unknown user/);
    expect(() => [...generator.requests({ count: 1, timeRange: [0.5, 0.2] })]).toThrow(/timeRange/);
  });
});
