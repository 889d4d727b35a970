import { describe, expect, it } from 'vitest';
import { CtrkitError, joinedRowsToBatch, servedRowOf, type FeatureBatch, type FeatureLayout, type JoinedRow } from '../src/index.js';

const layout: FeatureLayout = {
  fingerprint: 'spec-1',
  idSpace: 100,
  idWidth: 2,
  fields: [
    { name: 'ad', kind: 'categorical', offset: 0, width: 1 },
    { name: 'user', kind: 'categorical', offset: 1, width: 1 },
  ],
  denseWidth: 1,
  denseNames: ['ctr'],
  sequences: [],
};

function batchOf(rows: number): FeatureBatch {
  const ids = new Int32Array(rows * 2).map((_, i) => 1 + i);
  const values = new Float32Array(rows * 2).fill(1);
  const dense = new Float32Array(rows).map((_, i) => 0.25 * i);
  return { layout, rows, ids, values, dense, sequenceIds: new Int32Array(0), sequenceLengths: new Int32Array(0) };
}

const joinedOf = (batch: FeatureBatch, labels: readonly (0 | 1)[]): JoinedRow[] =>
  labels.map((label, i) => ({
    row: servedRowOf(batch, i, { eventId: `imp-${i}`, requestId: `r-${i}`, impId: '1', adId: `a-${i}`, position: 0, pCtr: 0.1, servedAt: 1000, modelVersion: 'v1' }),
    label,
    labelledAt: 2000,
  }));

describe('joinedRowsToBatch', () => {
  it('packs joined rows back into the served bits, in order, with their labels', () => {
    const source = batchOf(3);
    const { batch, labels } = joinedRowsToBatch(layout, joinedOf(source, [1, 0, 1]));
    expect(batch.rows).toBe(3);
    expect(Array.from(batch.ids)).toEqual(Array.from(source.ids));
    expect(Array.from(batch.dense)).toEqual(Array.from(source.dense));
    expect(Array.from(labels)).toEqual([1, 0, 1]);
  });

  it('refuses a label other than 0/1 and a row of another spec, naming the row', () => {
    const joined = joinedOf(batchOf(2), [0, 1]);
    const bad = [joined[0], { ...joined[1], label: 2 }] as unknown as JoinedRow[];
    expect(() => joinedRowsToBatch(layout, bad)).toThrowError(/joined\[1\].*label of 0 or 1/);
    const other = [{ ...joined[0], row: { ...joined[0]!.row, fingerprint: 'spec-2' } }] as JoinedRow[];
    expect(() => joinedRowsToBatch(layout, other)).toThrowError(CtrkitError);
    expect(() => joinedRowsToBatch(layout, other)).toThrowError(/spec-2/);
  });

  it('gives an empty batch for no rows', () => {
    const { batch, labels } = joinedRowsToBatch(layout, []);
    expect(batch.rows).toBe(0);
    expect(labels.length).toBe(0);
  });
});
