/**
 * Shared fixtures of the trainer tests: the real Criteo sample (first 8,000 rows to train, last
 * 2,000 to test, as the issue fixes the split) and small hand-made layouts.
 */
import { readFileSync } from 'node:fs';
import { createFeatureEncoder, criteoSpec, readCriteo } from '@ctrkit/features';
import { createRandom, type FeatureBatch, type FeatureLayout } from '@ctrkit/core';
import { sharedDataFile } from '@ctrkit/test-support';
import { createRowCollector, sliceRows, type LabelledRows } from '../src/index.js';

/** The real Criteo sample, or undefined when absent (its tests skip visibly; CI requires it). */
export const CRITEO_PATH = sharedDataFile('criteo/train_10k.tsv', 'models: trainers learn the real Criteo sample');

/** The Criteo sample encoded with `criteoSpec({ idSpace })`: `{ train: rows 1–8000, test: rows 8001–10000 }`. */
export async function criteoSplit(idSpace = 1 << 18): Promise<{ layout: FeatureLayout; train: LabelledRows; test: LabelledRows }> {
  const encoder = createFeatureEncoder(criteoSpec({ idSpace }));
  const collector = createRowCollector(encoder.layout, 10_000);
  if (CRITEO_PATH === undefined) throw new Error('the Criteo sample is absent: guard the test with it.skipIf(CRITEO_PATH === undefined)');
  for await (const chunk of readCriteo(readFileSync(CRITEO_PATH))) collector.append(encoder.encodeChunk(chunk), chunk.labels);
  const rows = collector.toRows();
  return { layout: encoder.layout, train: sliceRows(rows, 0, 8000), test: sliceRows(rows, 8000) };
}

/**
 * Rows whose label follows a known logistic model over a small layout: `fields` width-1 fields
 * with `cardinality` values each, every (field, value) with a weight drawn N(0, scale²), plus a
 * pairwise interaction between fields 0 and 1 of strength `interaction` (XOR-like sign pattern).
 * Returns the rows and each row's true click probability.
 */
export function syntheticRows(
  layout: FeatureLayout,
  rows: number,
  options: { seed?: number | string; scale?: number; interaction?: number; intercept?: number; cardinality?: number } = {},
): { rows: LabelledRows; truth: Float64Array } {
  const { seed = 1, scale = 0.8, interaction = 0, intercept = -1.5, cardinality = 20 } = options;
  const random = createRandom(seed);
  const world = createRandom(`world-${layout.fingerprint}`);
  const F = layout.fields.length;
  const weights = Array.from({ length: F * cardinality }, () => world.normal() * scale);
  const signs = Array.from({ length: cardinality }, () => (world.next() < 0.5 ? -1 : 1));
  const ids = new Int32Array(rows * layout.idWidth);
  const values = new Float32Array(rows * layout.idWidth);
  const labels = new Float32Array(rows);
  const truth = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let z = intercept;
    const picked: number[] = [];
    for (let f = 0; f < F; f++) {
      const v = random.int(cardinality);
      picked.push(v);
      z += weights[f * cardinality + v] as number;
      // Ids spread over the id space by field and value (deterministic, collision-free when idSpace ≥ F·cardinality + 1).
      ids[r * layout.idWidth + f] = 1 + ((f * cardinality + v) % (layout.idSpace - 1));
      values[r * layout.idWidth + f] = 1;
    }
    if (F >= 2) z += interaction * (signs[picked[0] as number] as number) * (signs[picked[1] as number] as number);
    const p = 1 / (1 + Math.exp(-z));
    truth[r] = p;
    labels[r] = random.next() < p ? 1 : 0;
  }
  const batch: FeatureBatch = {
    layout,
    rows,
    ids,
    values,
    dense: new Float32Array(rows * layout.denseWidth),
    sequenceIds: new Int32Array(0),
    sequenceLengths: new Int32Array(0),
  };
  return { rows: { batch, labels }, truth };
}

/** Labels drawn at random, one per row of a batch (seeded). */
export function randomLabels(rows: number, rate = 0.3, seed: number | string = 'labels'): Float32Array {
  const random = createRandom(seed);
  return Float32Array.from({ length: rows }, () => (random.next() < rate ? 1 : 0));
}
