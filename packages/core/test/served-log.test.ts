import { describe, expect, it } from 'vitest';
import {
  CtrkitError,
  checkServedRow,
  createMemoryServedLog,
  servedRowOf,
  servedRowsToBatch,
  type FeatureBatch,
  type FeatureLayout,
  type ServedRow,
} from '../src/index.js';

const layout: FeatureLayout = {
  fingerprint: 'spec-1',
  idSpace: 100,
  idWidth: 3,
  fields: [
    { name: 'ad', kind: 'categorical', offset: 0, width: 1 },
    { name: 'tags', kind: 'bag', offset: 1, width: 2 },
  ],
  denseWidth: 1,
  denseNames: ['ctr'],
  sequences: [{ name: 'history', maxLength: 2 }],
};

function batchOf(rows: number): FeatureBatch {
  const ids = new Int32Array(rows * 3).map((_, i) => 1 + i);
  const values = new Float32Array(rows * 3).fill(1);
  values[2] = 0; // row 0's bag has one real item
  const dense = new Float32Array(rows).map((_, i) => 0.5 + i);
  const sequenceIds = new Int32Array(rows * 2).map((_, i) => 10 + i);
  const sequenceLengths = new Int32Array(rows).fill(2);
  return { layout, rows, ids, values, dense, sequenceIds, sequenceLengths };
}

const info = (i: number) => ({ eventId: `imp-${i}`, requestId: `r-${i}`, impId: '1', adId: `a-${i}`, position: 0, pCtr: 0.1, servedAt: 1000 + i, modelVersion: 'lr@1' });

describe('served rows', () => {
  it('copy one row of a batch, so reusing the batch does not change what was logged', () => {
    const batch = batchOf(2);
    const row = servedRowOf(batch, 1, info(1));
    expect(Array.from(row.ids)).toEqual([4, 5, 6]);
    expect(Array.from(row.dense)).toEqual([1.5]);
    expect(Array.from(row.sequenceIds)).toEqual([12, 13]);
    expect(row.fingerprint).toBe('spec-1');
    batch.ids.fill(0);
    expect(Array.from(row.ids)).toEqual([4, 5, 6]);
    expect(() => servedRowOf(batch, 2, info(2))).toThrowError(CtrkitError);
  });

  it('pack back into the batch they came from, bit for bit', () => {
    const batch = batchOf(3);
    const rows = [0, 1, 2].map((r) => servedRowOf(batch, r, info(r)));
    const back = servedRowsToBatch(layout, rows);
    expect(back.rows).toBe(3);
    expect(back.ids).toEqual(batch.ids);
    expect(back.values).toEqual(batch.values);
    expect(back.dense).toEqual(batch.dense);
    expect(back.sequenceIds).toEqual(batch.sequenceIds);
    expect(back.sequenceLengths).toEqual(batch.sequenceLengths);
  });

  it('are refused, with a reason, when they do not follow the layout', () => {
    const good = servedRowOf(batchOf(1), 0, info(0));
    const bad: [Partial<ServedRow>, RegExp][] = [
      [{ fingerprint: 'other' }, /spec other/],
      [{ ids: Int32Array.of(1, 2) }, /ids holds 2/],
      [{ ids: Int32Array.of(1, 2, 100) }, /outside \[0, 100\)/],
      [{ values: new Float32Array([1, Number.NaN, 1]) }, /values\[1\] is not finite/],
      [{ pCtr: 1.5 }, /pCtr/],
      [{ eventId: '' }, /eventId/],
      [{ sequenceLengths: Int32Array.of(3) }, /sequenceLengths\[0\] = 3/],
      [{ dense: [0.5] as unknown as Float32Array }, /dense must be a Float32Array/],
    ];
    for (const [patch, message] of bad) {
      expect(() => checkServedRow(layout, { ...good, ...patch } as ServedRow)).toThrowError(message);
    }
    expect(() => checkServedRow(layout, good)).not.toThrow();
  });
});

describe('memory served log', () => {
  it('keeps the last capacity rows, counts what it evicts, copies what it keeps', () => {
    const log = createMemoryServedLog({ layout, capacity: 3 });
    const batch = batchOf(1);
    for (let i = 0; i < 5; i++) {
      batch.ids[0] = i + 1;
      log.append(servedRowOf(batch, 0, info(i)));
    }
    const held = log.rows();
    expect(held.map((r) => r.row.eventId)).toEqual(['imp-2', 'imp-3', 'imp-4']);
    expect(held.map((r) => r.row.ids[0])).toEqual([3, 4, 5]);
    expect(log.stats()).toMatchObject({ appended: 5, dropped: 2, persisted: 3 });
  });

  it('grows past its first allocation up to capacity in order', () => {
    const log = createMemoryServedLog({ layout, capacity: 3000 });
    const batch = batchOf(1);
    for (let i = 0; i < 3500; i++) log.append(servedRowOf(batch, 0, info(i)));
    const held = log.rows();
    expect(held.length).toBe(3000);
    expect(held[0]?.row.eventId).toBe('imp-500');
    expect(held[2999]?.row.eventId).toBe('imp-3499');
  });

  it('enforces the label rule and refuses rows after close, leaving the log as it was', async () => {
    const unlabeled = createMemoryServedLog({ layout });
    const row = servedRowOf(batchOf(1), 0, info(0));
    expect(() => unlabeled.append(row, 1)).toThrowError(/labeled: true/);
    const labeled = createMemoryServedLog({ layout, labeled: true });
    expect(() => labeled.append(row)).toThrowError(/label of 0 or 1/);
    expect(() => labeled.append({ ...row, fingerprint: 'x' }, 1)).toThrowError(/one log holds one spec/);
    labeled.append(row, 1);
    expect(labeled.rows()[0]?.label).toBe(1);
    await labeled.close();
    expect(() => labeled.append(row, 0)).toThrowError(expect.objectContaining({ code: 'E_STATE' }) as never);
    expect(labeled.stats().appended).toBe(1);
    expect(() => createMemoryServedLog({ layout, capacity: 0 })).toThrowError(/capacity/);
  });
});
