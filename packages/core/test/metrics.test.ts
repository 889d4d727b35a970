import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  auc,
  calibrationRatio,
  CtrkitError,
  evaluate,
  expectedCalibrationError,
  fieldRelativeCalibrationError,
  logLoss,
  normalizedEntropy,
  precisionRecallAtK,
  reliabilityBins,
  rocCurve,
} from '../src/index.js';

/** O(n²) pairwise AUC: the definition, used as the reference. */
function naiveAuc(labels: number[], scores: number[], weights?: number[]): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] !== 1) continue;
    for (let j = 0; j < labels.length; j++) {
      if (labels[j] !== 0) continue;
      const w = (weights?.[i] ?? 1) * (weights?.[j] ?? 1);
      den += w;
      if (scores[i]! > scores[j]!) num += w;
      else if (scores[i] === scores[j]) num += 0.5 * w;
    }
  }
  return num / den;
}

const rowsArbitrary = fc
  .array(fc.tuple(fc.constantFrom(0, 1), fc.integer({ min: 0, max: 20 }), fc.double({ min: 0.1, max: 3, noNaN: true })), {
    minLength: 2,
    maxLength: 60,
  })
  .filter((rows) => rows.some((r) => r[0] === 1) && rows.some((r) => r[0] === 0));

describe('auc', () => {
  it("matches scikit-learn's documented example", () => {
    expect(auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])).toBeCloseTo(0.75, 12);
  });

  it('gives tied scores half credit (mid-rank)', () => {
    expect(auc([0, 1], [0.5, 0.5])).toBe(0.5);
    expect(auc([0, 1, 1, 0], [0.2, 0.2, 0.9, 0.1])).toBeCloseTo(naiveAuc([0, 1, 1, 0], [0.2, 0.2, 0.9, 0.1]), 12);
  });

  it('is 1 for a perfect ranking and 0 for a reversed one', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 50 }), (negatives, positives) => {
        const labels = [...Array(negatives).fill(0), ...Array(positives).fill(1)];
        const scores = labels.map((_, i) => i / labels.length);
        expect(auc(labels, scores)).toBe(1);
        expect(auc(labels, scores.map((s) => -s))).toBe(0);
      }),
    );
  });

  it('equals the pairwise definition, weighted and unweighted, with ties', () => {
    fc.assert(
      fc.property(rowsArbitrary, (rows) => {
        const labels = rows.map((r) => r[0]);
        const scores = rows.map((r) => r[1] / 20);
        const weights = rows.map((r) => r[2]);
        expect(auc(labels, scores)).toBeCloseTo(naiveAuc(labels, scores), 10);
        expect(auc(labels, scores, weights)).toBeCloseTo(naiveAuc(labels, scores, weights), 10);
      }),
    );
  });

  it('accepts logits and negative scores', () => {
    expect(auc([0, 1, 0, 1], [-3, -1, -2, 4])).toBe(1);
  });

  it('handles 1,000,000 rows', () => {
    const n = 1_000_000;
    const labels = new Uint8Array(n);
    const scores = new Float32Array(n);
    let state = 7;
    for (let i = 0; i < n; i++) {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      scores[i] = state / 2 ** 32;
      labels[i] = (state >>> 7) % 100 < scores[i]! * 100 ? 1 : 0;
    }
    const value = auc(labels, scores);
    expect(value).toBeGreaterThan(0.6);
    expect(value).toBeLessThan(0.9);
  });

  it('rejects bad input with a CtrkitError naming the problem', () => {
    expect(() => auc([], [])).toThrow(/empty/);
    expect(() => auc([0, 1], [0.1])).toThrow(/same length/);
    expect(() => auc([0, 2], [0.1, 0.2])).toThrow(/labels must be 0 or 1.*row 1 is 2/);
    expect(() => auc([0, 1], [0.1, Number.NaN])).toThrow(/finite.*row 1/);
    expect(() => auc([1, 1], [0.1, 0.2])).toThrow(/both classes/);
    expect(() => auc([0, 1], [0.1, 0.2], [1, -1])).toThrow(/weights/);
    try {
      auc([0, 1], [0.1, Number.NaN]);
    } catch (error) {
      expect(error).toBeInstanceOf(CtrkitError);
      expect((error as CtrkitError).code).toBe('E_INPUT');
      expect((error as CtrkitError).details).toMatchObject({ row: 1 });
    }
  });
});

describe('logLoss', () => {
  it("matches scikit-learn's documented example", () => {
    // log_loss(["spam", "ham", "ham", "spam"], [[.1, .9], [.9, .1], [.8, .2], [.35, .65]]) = 0.21616...
    expect(logLoss([1, 0, 0, 1], [0.9, 0.1, 0.2, 0.65])).toBeCloseTo(0.21616187, 7);
  });

  it('clips probabilities of exactly 0 and 1', () => {
    expect(logLoss([1], [0])).toBeCloseTo(-Math.log(1e-15), 6);
    expect(logLoss([0], [1], { eps: 1e-7 })).toBeCloseTo(-Math.log(1e-7), 6);
  });

  it('weights rows', () => {
    const weighted = logLoss([1, 0], [0.8, 0.4], { weights: [3, 1] });
    expect(weighted).toBeCloseTo((3 * -Math.log(0.8) + -Math.log(0.6)) / 4, 12);
  });

  it('rejects probabilities outside [0, 1]', () => {
    expect(() => logLoss([1], [1.5])).toThrow(/probabilities in \[0, 1\]/);
  });
});

describe('normalizedEntropy', () => {
  it('is 1 when predicting the background CTR and below 1 for a useful model', () => {
    const labels = [0, 0, 0, 1];
    expect(normalizedEntropy(labels, [0.25, 0.25, 0.25, 0.25])).toBeCloseTo(1, 12);
    expect(normalizedEntropy(labels, [0.1, 0.1, 0.1, 0.7])).toBeLessThan(1);
  });

  it('equals log loss over the entropy of the mean label (He et al. 2014)', () => {
    const labels = [1, 0, 0, 1, 0];
    const p = [0.6, 0.3, 0.2, 0.7, 0.4];
    const ctr = 0.4;
    const entropy = -(ctr * Math.log(ctr) + (1 - ctr) * Math.log(1 - ctr));
    expect(normalizedEntropy(labels, p)).toBeCloseTo(logLoss(labels, p) / entropy, 12);
  });

  it('refuses a single-class label set', () => {
    expect(() => normalizedEntropy([0, 0], [0.1, 0.2])).toThrow(/background entropy is zero/);
  });
});

describe('calibration measures', () => {
  it('calibration ratio is mean prediction over mean label', () => {
    expect(calibrationRatio([0, 1, 0, 0], [0.5, 0.5, 0.5, 0.5])).toBe(2);
    expect(calibrationRatio([0, 1], [0.25, 0.25], [1, 1])).toBe(0.5);
  });

  it('ECE with equal-width bins, computed by hand', () => {
    // bin [0,0.5): p=0.2 y=0 → |0.2−0|; bin [0.5,1]: p=0.6 y=1 → |0.6−1|. Mean = 0.3.
    expect(expectedCalibrationError([0, 1], [0.2, 0.6], { bins: 2 })).toBeCloseTo(0.3, 12);
    // Ten rows, one bin of five at p=0.1 with one positive, one of five at p=0.9 with four.
    const labels = [1, 0, 0, 0, 0, 1, 1, 1, 1, 0];
    const p = [0.1, 0.1, 0.1, 0.1, 0.1, 0.9, 0.9, 0.9, 0.9, 0.9];
    expect(expectedCalibrationError(labels, p, { bins: 10 })).toBeCloseTo((5 * 0.1 + 5 * 0.1) / 10, 12);
  });

  it('ECE with equal-mass bins puts the same number of rows in each bin', () => {
    const p = Array.from({ length: 100 }, (_, i) => (i + 0.5) / 100);
    const labels = p.map((_, i) => (i % 2 === 0 ? 1 : 0));
    const bins = reliabilityBins(labels, p, { bins: 4, strategy: 'quantile' });
    expect(bins.map((b) => b.weight)).toEqual([25, 25, 25, 25]);
    // Each bin: mean label 0.5; mean predictions 0.125, 0.375, 0.625, 0.875.
    expect(expectedCalibrationError(labels, p, { bins: 4, strategy: 'quantile' })).toBeCloseTo(0.25, 12);
  });

  it('a perfectly calibrated population has an ECE near 0', () => {
    const labels: number[] = [];
    const p: number[] = [];
    for (let b = 0; b < 10; b++) {
      const rate = (b + 0.5) / 10;
      for (let i = 0; i < 100; i++) {
        p.push(rate);
        labels.push(i < Math.round(rate * 100) ? 1 : 0);
      }
    }
    expect(expectedCalibrationError(labels, p)).toBeCloseTo(0, 12);
    expect(expectedCalibrationError(labels, p, { strategy: 'quantile' })).toBeCloseTo(0, 12);
  });

  it('field-level RCE exposes miscalibration that cancels out globally', () => {
    const labels = [1, 1, 0, 0];
    const p = [0.5, 0.5, 0.5, 0.5];
    expect(calibrationRatio(labels, p)).toBe(1);
    // Group a: Σ(y−p) = 1, Σy = 2 → 1/3; group b: Σ(y−p) = −1, Σy = 0 → 1/1. Weighted: (2/3 + 2)/4.
    expect(fieldRelativeCalibrationError(labels, p, ['a', 'a', 'b', 'b'])).toBeCloseTo((2 * (1 / 3) + 2 * 1) / 4, 12);
  });
});

describe('ranking measures', () => {
  it('precision and recall at k', () => {
    expect(precisionRecallAtK([0, 1, 1, 0], [0.1, 0.9, 0.3, 0.5], 2)).toEqual({ k: 2, precision: 0.5, recall: 0.5 });
    expect(precisionRecallAtK([0, 1, 1, 0], [0.1, 0.9, 0.3, 0.5], 10)).toEqual({ k: 4, precision: 0.5, recall: 1 });
  });

  it('ROC curve ends at (1, 1) and its trapezoid area equals auc', () => {
    const labels = [0, 1, 0, 1, 1, 0, 0];
    const scores = [0.1, 0.8, 0.4, 0.4, 0.9, 0.2, 0.7];
    const { fpr, tpr } = rocCurve(labels, scores);
    expect(fpr[fpr.length - 1]).toBe(1);
    expect(tpr[tpr.length - 1]).toBe(1);
    let area = 0;
    for (let i = 1; i < fpr.length; i++) area += (fpr[i]! - fpr[i - 1]!) * (tpr[i]! + tpr[i - 1]!) * 0.5;
    expect(area).toBeCloseTo(auc(labels, scores), 12);
  });
});

describe('evaluate', () => {
  it('summarizes the headline figures and tolerates a single class', () => {
    const summary = evaluate([0, 1, 0, 1], [0.2, 0.7, 0.4, 0.9]);
    expect(summary).toMatchObject({ rows: 4, auc: 1 });
    expect(summary.calibration).toBeCloseTo(2.2 / 2, 12);
    const single = evaluate([0, 0], [0.1, 0.2]);
    expect(single.auc).toBeNaN();
    expect(single.calibration).toBe(Number.POSITIVE_INFINITY);
  });
});
