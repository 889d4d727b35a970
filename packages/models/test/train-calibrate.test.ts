import { createRandom, logLoss } from '@ctrkit/core';
import { describe, expect, it } from 'vitest';
import { chooseCalibrator, createFtrlTrainer, downsampleNegatives } from '../src/index.js';
import { codeThrownBy } from '@ctrkit/test-support';
import { wideLayout } from './fixtures/layouts.js';
import { syntheticRows } from './fixtures/synthetic-rows.js';

/** Held-out rows: true probabilities p, labels drawn from them, and the scores a model gave (a distortion of p). */
function heldOut(rows: number, distort: (p: number) => number, seed: string) {
  const random = createRandom(seed);
  const scores = new Float64Array(rows);
  const labels = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const p = 0.02 + 0.5 * random.next() ** 2;
    scores[i] = distort(p);
    labels[i] = random.next() < p ? 1 : 0;
  }
  return { scores, labels };
}

const logit = (p: number) => Math.log(p / (1 - p));
const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

describe('calibrator choice', () => {
  it('picks Platt when the distortion is logistic and rows are few, isotonic when it is not and rows are many', () => {
    // An over-confident model: logit doubled. Platt's two parameters undo it exactly.
    const platt = heldOut(600, (p) => sigmoid(2 * logit(p) + 0.3), 'platt');
    const a = chooseCalibrator(platt.scores, platt.labels);
    expect(a.kind).toBe('platt');
    expect(a.logLoss.platt).toBeLessThan(a.logLoss.isotonic);
    expect(a.logLoss.platt).toBeLessThan(a.logLoss.uncalibrated);
    // Scores in three narrow bands, out of order with p: no sigmoid of the score fits that.
    const steps = heldOut(40_000, (p) => (p < 0.15 ? 0.5 + p : p < 0.3 ? 0.1 + p / 10 : 0.9 + p / 10), 'steps');
    const b = chooseCalibrator(steps.scores, steps.labels);
    expect(b.kind).toBe('isotonic');
    expect(b.logLoss.isotonic).toBeLessThan(b.logLoss.platt);
  });

  it('the choice is the lower out-of-fold log loss, and the refitted calibrator improves held-out rows it was not fitted on', () => {
    const fit = heldOut(3000, (p) => sigmoid(0.5 * logit(p) - 1), 'fit');
    const later = heldOut(3000, (p) => sigmoid(0.5 * logit(p) - 1), 'later');
    const choice = chooseCalibrator(fit.scores, fit.labels, { folds: 4 });
    expect(choice.logLoss[choice.kind]).toBe(Math.min(choice.logLoss.platt, choice.logLoss.isotonic));
    const calibrated = choice.calibrator.apply(later.scores, new Float64Array(later.scores.length));
    expect(logLoss(later.labels, calibrated)).toBeLessThan(logLoss(later.labels, later.scores) - 0.01);
    expect(choice.calibrator.toJSON().kind).toBe(choice.kind);
    expect(choice.rows).toBe(3000);
  });

  it('negative downsampling: the recorded correction recovers the true mean CTR, and the chain keeps it first', () => {
    const layout = wideLayout(5, 0, 1 << 10, 0, 'downsampling');
    const all = syntheticRows(layout, 60_000, { seed: 'ds-train', intercept: -3.2, scale: 0.6 });
    const test = syntheticRows(layout, 20_000, { seed: 'ds-test', intercept: -3.2, scale: 0.6 });
    const rate = 0.1;
    const kept = downsampleNegatives(all.rows, rate, 'ds');
    const positives = all.rows.labels.reduce((a, y) => a + y, 0);
    expect(kept.labels.reduce((a, y) => a + y, 0)).toBe(positives); // every click kept
    const negativesKept = kept.batch.rows - positives;
    expect(negativesKept / (all.rows.batch.rows - positives)).toBeCloseTo(rate, 1);
    const trainer = createFtrlTrainer(layout, { alpha: 0.1, l1: 0, l2: 1 });
    for (let pass = 0; pass < 3; pass++) trainer.update(kept.batch, kept.labels);
    const raw = trainer.predict(test.rows.batch);
    const mean = (values: ArrayLike<number>) => Array.from(values).reduce((a, v) => a + v, 0) / values.length;
    const trueCtr = mean(test.truth);
    expect(mean(raw)).toBeGreaterThan(3 * trueCtr); // the downsampled model over-predicts …
    const choice = chooseCalibrator(raw, test.rows.labels, { negativeRate: rate });
    expect(choice.calibrator.toJSON()).toMatchObject({ kind: 'chain', steps: [{ kind: 'downsampling', negativeRate: rate }, { kind: choice.kind }] });
    const corrected = choice.calibrator.apply(raw, new Float64Array(raw.length));
    // … and the correction brings the mean back to the true CTR (within 5%; the truth is known per row).
    expect(Math.abs(mean(corrected) / trueCtr - 1)).toBeLessThan(0.05);
    const correctionOnly = Array.from(raw, (p) => p / (p + (1 - p) / rate));
    expect(Math.abs(mean(correctionOnly) / trueCtr - 1)).toBeLessThan(0.1);
  });

  it('refuses one-class rows, too few rows and bad options', () => {
    expect(codeThrownBy(() => chooseCalibrator([0.1, 0.2, 0.3, 0.4, 0.5, 0.6], [0, 0, 0, 0, 0, 0]))).toBe('E_INPUT');
    expect(codeThrownBy(() => chooseCalibrator([0.1, 0.9], [0, 1]))).toBe('E_INPUT');
    expect(codeThrownBy(() => chooseCalibrator([0.1, 0.9, 0.5], [0, 1]))).toBe('E_INPUT');
    expect(codeThrownBy(() => chooseCalibrator([0.1, Number.NaN, 0.5, 0.2, 0.3], [0, 1, 0, 1, 0]))).toBe('E_INPUT');
    expect(codeThrownBy(() => chooseCalibrator([0.1, 0.9, 0.5, 0.2, 0.3], [0, 1, 0, 1, 0], { folds: 1 }))).toBe('E_CONFIG');
    expect(codeThrownBy(() => chooseCalibrator([0.1, 0.9, 0.5, 0.2, 0.3], [0, 1, 0, 1, 0], { negativeRate: 0 }))).toBe('E_CONFIG');
  });
});
