import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  calibratorFromJSON,
  chainCalibrators,
  createDownsamplingCorrection,
  createIdentityCalibrator,
  createIsotonicCalibrator,
  createPlattCalibrator,
  createRandom,
  isotonicRegression,
  logLoss,
} from '../src/index.js';

describe('isotonicRegression (pool adjacent violators)', () => {
  it("matches scikit-learn's documented example", () => {
    const fitted = isotonicRegression([5, 3, 1, 2, 8, 10, 7, 9, 6, 4]);
    const expected = [2.75, 2.75, 2.75, 2.75, 44 / 6, 44 / 6, 44 / 6, 44 / 6, 44 / 6, 44 / 6];
    fitted.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 12));
  });

  it("matches scikit-learn's test vector", () => {
    expect(Array.from(isotonicRegression([3, 7, 5, 9, 8, 7, 10]))).toEqual([3, 6, 6, 8, 8, 8, 10]);
  });

  it('fits decreasing sequences and respects weights', () => {
    expect(Array.from(isotonicRegression([1, 3, 2], undefined, false))).toEqual([2, 2, 2]);
    // Weighted pool of 3 (w=3) and 1 (w=1): (9 + 1) / 4 = 2.5.
    expect(Array.from(isotonicRegression([3, 1], [3, 1]))).toEqual([2.5, 2.5]);
  });

  it('always returns a non-decreasing sequence with the same weighted mean', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -100, max: 100, noNaN: true }), { minLength: 1, maxLength: 80 }), (y) => {
        const fitted = isotonicRegression(y);
        for (let i = 1; i < fitted.length; i++) expect(fitted[i]!).toBeGreaterThanOrEqual(fitted[i - 1]! - 1e-9);
        const mean = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => s + v, 0) / a.length;
        expect(mean(fitted)).toBeCloseTo(mean(y), 6);
      }),
    );
  });
});

describe('isotonic calibrator', () => {
  it('interpolates linearly between steps and clamps outside the fitted range', () => {
    const iso = createIsotonicCalibrator().fit([0.1, 0.2, 0.3, 0.4], [0, 1, 0, 1]);
    // PAV: [0, 0.5, 0.5, 1] at x = [0.1, 0.2, 0.3, 0.4].
    expect(iso.applyOne(0.05)).toBe(0);
    expect(iso.applyOne(0.15)).toBeCloseTo(0.25, 12);
    expect(iso.applyOne(0.25)).toBeCloseTo(0.5, 12);
    expect(iso.applyOne(0.35)).toBeCloseTo(0.75, 12);
    expect(iso.applyOne(0.9)).toBe(1);
  });

  it('merges equal scores before pooling', () => {
    const iso = createIsotonicCalibrator().fit([0.5, 0.5, 0.5, 0.5], [1, 0, 0, 0]);
    expect(iso.applyOne(0.5)).toBe(0.25);
  });

  it('is monotone and never worsens training log loss of a miscalibrated model', () => {
    const random = createRandom(5);
    const n = 5000;
    const scores = new Float64Array(n);
    const labels = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const truth = random.next() * 0.3;
      labels[i] = random.next() < truth ? 1 : 0;
      scores[i] = Math.min(1, truth * 2.5); // over-predicts
    }
    const iso = createIsotonicCalibrator().fit(scores, labels);
    const calibrated = iso.apply(scores, new Float64Array(n));
    expect(logLoss(labels, calibrated)).toBeLessThan(logLoss(labels, scores));
    const grid = Float64Array.from({ length: 101 }, (_, i) => i / 100);
    const out = iso.apply(grid);
    for (let i = 1; i < out.length; i++) expect(out[i]!).toBeGreaterThanOrEqual(out[i - 1]!);
  });
});

describe('Platt calibrator', () => {
  it('recovers a known logistic relation between score and label', () => {
    // Labels drawn from σ(2·logit(s) − 1): Platt should find a ≈ 2, b ≈ −1.
    const random = createRandom(11);
    const n = 40_000;
    const scores = new Float64Array(n);
    const labels = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const s = 0.05 + 0.9 * random.next();
      const z = 2 * Math.log(s / (1 - s)) - 1;
      scores[i] = s;
      labels[i] = random.next() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
    }
    const json = createPlattCalibrator().fit(scores, labels).toJSON();
    expect(json.kind).toBe('platt');
    if (json.kind !== 'platt') return;
    expect(json.a).toBeCloseTo(2, 1);
    expect(json.b).toBeCloseTo(-1, 1);
  });

  it('stays finite on perfectly separable data (smoothed targets)', () => {
    const platt = createPlattCalibrator({ input: 'logit' }).fit([-3, -2, -1, 1, 2, 3], [0, 0, 0, 1, 1, 1]);
    const json = platt.toJSON();
    if (json.kind !== 'platt') throw new Error('kind');
    expect(Number.isFinite(json.a)).toBe(true);
    expect(Number.isFinite(json.b)).toBe(true);
    // Targets are (3+1)/(3+2) = 0.8 and 1/(3+2) = 0.2, so outputs stay inside (0.2, 0.8)-ish.
    expect(platt.applyOne(3)).toBeLessThan(0.95);
    expect(platt.applyOne(-3)).toBeGreaterThan(0.05);
  });

  it('refuses apply before fit', () => {
    expect(() => createPlattCalibrator().apply([0.5])).toThrow(/fit\(\) before apply/);
  });
});

describe('downsampling correction and chains', () => {
  it('applies q = p / (p + (1 − p) / w)', () => {
    const correction = createDownsamplingCorrection(0.1);
    for (const p of [0, 0.01, 0.2, 0.5, 0.99, 1]) expect(correction.applyOne(p)).toBeCloseTo(p / (p + (1 - p) / 0.1), 14);
    expect(() => createDownsamplingCorrection(0)).toThrow(/negativeRate/);
    expect(() => createDownsamplingCorrection(1.5)).toThrow(/negativeRate/);
  });

  it('undoes negative downsampling on the mean CTR', () => {
    // True CTR 2%; keeping 10% of negatives makes the sample CTR 0.02 / (0.02 + 0.98·0.1).
    const sampled = 0.02 / (0.02 + 0.98 * 0.1);
    expect(createDownsamplingCorrection(0.1).applyOne(sampled)).toBeCloseTo(0.02, 12);
  });

  it('chains apply in order and fit each step on the previous output', () => {
    const chain = chainCalibrators([createDownsamplingCorrection(0.5), createIsotonicCalibrator()]);
    chain.fit([0.2, 0.4, 0.6, 0.8], [0, 0, 1, 1]);
    const json = chain.toJSON();
    expect(json.kind).toBe('chain');
    const restored = calibratorFromJSON(JSON.parse(JSON.stringify(json)));
    for (const s of [0.1, 0.3, 0.5, 0.7, 0.9]) expect(restored.applyOne(s)).toBeCloseTo(chain.applyOne(s), 14);
  });
});

describe('JSON form', () => {
  it('round-trips every calibrator', () => {
    const scores = [0.1, 0.3, 0.35, 0.6, 0.8, 0.9];
    const labels = [0, 0, 1, 0, 1, 1];
    for (const calibrator of [
      createPlattCalibrator().fit(scores, labels),
      createIsotonicCalibrator().fit(scores, labels),
      createDownsamplingCorrection(0.25),
      createIdentityCalibrator(),
    ]) {
      const restored = calibratorFromJSON(JSON.parse(JSON.stringify(calibrator.toJSON())));
      const out = new Float32Array(3);
      expect(restored.apply([0.2, 0.5, 0.95], out)).toBe(out);
      expect(Array.from(out)).toEqual(Array.from(calibrator.apply([0.2, 0.5, 0.95])));
    }
  });

  it('rejects malformed JSON with a message that names the problem', () => {
    expect(() => calibratorFromJSON(null)).toThrow(/object/);
    expect(() => calibratorFromJSON({ kind: 'magic' })).toThrow(/unknown kind "magic"/);
    expect(() => calibratorFromJSON({ kind: 'platt', a: Number.NaN, b: 0, input: 'logit' })).toThrow(/finite/);
    expect(() => calibratorFromJSON({ kind: 'isotonic', x: [0.2, 0.1], y: [0, 1] })).toThrow(/increase in x/);
    expect(() => calibratorFromJSON({ kind: 'downsampling', negativeRate: 2 })).toThrow(/negativeRate/);
    expect(() => calibratorFromJSON({ kind: 'chain', steps: [] })).toThrow(/non-empty/);
  });

  it('keeps NaN as NaN rather than inventing a probability', () => {
    expect(createIsotonicCalibrator().fit([0.1, 0.9], [0, 1]).applyOne(Number.NaN)).toBeNaN();
  });

  it('rejects bad training input', () => {
    expect(() => createIsotonicCalibrator().fit([0.1, 0.2], [0, 3])).toThrow(/labels must be 0 or 1/);
    expect(() => createPlattCalibrator().fit([0.1, Number.NaN], [0, 1])).toThrow(/row 1/);
    expect(() => createPlattCalibrator().fit([], [])).toThrow(/empty/);
  });
});
