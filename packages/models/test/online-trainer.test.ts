/**
 * One conformance suite for `OnlineTrainer` (core), run against every implementation in models:
 * FTRL-Proximal LR and the factorization machine.
 */
import { isCtrkitError, type FeatureLayout, type OnlineTrainer } from '@ctrkit/core';
import { describe, expect, it } from 'vitest';
import { createFmTrainer, createFtrlTrainer, sliceRows } from '../src/index.js';
import { richLayout, wideLayout } from './fixtures/layouts.js';
import { randomBatch } from './fixtures/random-batches.js';
import { maxAbsDiff } from './fixtures/reference-models.js';
import { syntheticRows } from './fixtures/synthetic-rows.js';

const implementations: readonly { name: string; create: (layout: FeatureLayout) => OnlineTrainer }[] = [
  { name: 'ftrl-lr', create: (layout) => createFtrlTrainer(layout, { alpha: 0.2, l1: 0.1, l2: 0.1 }) },
  { name: 'fm', create: (layout) => createFmTrainer(layout, { dim: 4, seed: 3, linear: { alpha: 0.2, l1: 0.1, l2: 0.1 } }) },
];

describe.each(implementations)('OnlineTrainer conformance: $name', ({ create }) => {
  const layout = wideLayout(3, 0, 97, 0, 'spec-online');
  const { rows } = syntheticRows(layout, 3_000, { seed: 'online', cardinality: 16, interaction: 1 });
  const first = sliceRows(rows, 0, 1_000);
  const later = sliceRows(rows, 1_000, 3_000);
  const probe = sliceRows(rows, 2_500, 3_000).batch;

  it("a snapshot scores as predict did when it was taken, and does not move when the trainer learns on", async () => {
    const trainer = create(layout);
    trainer.update(first.batch, first.labels);
    const atSnapshot = trainer.predict(probe);
    const snapshot = trainer.snapshot('v1');
    expect(snapshot.info.version).toBe('v1');
    expect(snapshot.info.fingerprint).toBe(layout.fingerprint);
    const fromSnapshot = await snapshot.predict(probe);
    // Weights are float32 in the runner, float64 in the trainer: agreement to 1e-5 in probability.
    expect(maxAbsDiff(fromSnapshot, atSnapshot)).toBeLessThan(1e-5);

    trainer.update(later.batch, later.labels);
    const moved = trainer.predict(probe);
    expect(maxAbsDiff(moved, atSnapshot)).toBeGreaterThan(1e-3); // the trainer did learn…
    expect(Array.from(await snapshot.predict(probe))).toEqual(Array.from(fromSnapshot)); // …and the snapshot did not
    await snapshot.dispose();
  });

  it('two snapshots are independent runners', async () => {
    const trainer = create(layout);
    trainer.update(first.batch, first.labels);
    const a = trainer.snapshot('a');
    trainer.update(later.batch, later.labels);
    const b = trainer.snapshot('b');
    expect(maxAbsDiff(await a.predict(probe), await b.predict(probe))).toBeGreaterThan(1e-3);
    await a.dispose();
    expect(maxAbsDiff(await b.predict(probe), trainer.predict(probe))).toBeLessThan(1e-5);
  });

  it('update returns the predictions from before each row was learned, and counts rows', () => {
    const trainer = create(layout);
    trainer.update(first.batch, first.labels);
    const one = sliceRows(later, 0, 1);
    const before = trainer.predict(one.batch)[0]!;
    const progressive = trainer.update(one.batch, one.labels)[0]!;
    expect(progressive).toBeCloseTo(before, 12);
    expect(trainer.predict(one.batch)[0]).not.toBeCloseTo(before, 6);
    expect(trainer.rowsSeen).toBe(1_001);
  });

  it('refuses an empty snapshot version and a batch of another layout', () => {
    const trainer = create(layout);
    expect(() => trainer.snapshot('')).toThrowError(/version must be a non-empty string/);
    let code: unknown;
    try {
      trainer.predict(randomBatch(richLayout(), 2));
    } catch (error) {
      code = isCtrkitError(error) ? error.code : error;
    }
    expect(code).toBe('E_INPUT');
  });
});
