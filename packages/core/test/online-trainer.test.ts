import { describe, expect, it } from 'vitest';
import {
  CtrkitError,
  createLabelJoiner,
  createManualClock,
  joinedRowsToBatch,
  servedRowOf,
  type FeatureBatch,
  type FeatureLayout,
  type JoinedRow,
  type OnlineLearningCounters,
} from '../src/index.js';
import { registerCtrkitMetrics } from '../src/prometheus.js';

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
    labeledAt: 2000,
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

describe('Prometheus exposition of the online loop', () => {
  it('shows joined rows by label, joiner drops, and the loop\'s swaps, refusals by reason, rollbacks and last log losses', async () => {
    const clock = createManualClock(1_000);
    const joiner = createLabelJoiner({ windowMs: 1_000, allowedLatenessMs: 0, clock, onLabel: () => undefined });
    const joined = joinedOf(batchOf(3), [0, 0, 0]);
    for (const j of joined) joiner.impression(j.row);
    joiner.impression(joined[0]!.row); // duplicate
    clock.advance(600);
    joiner.click({ type: 'click', eventId: 'c1', requestId: 'r-0', adId: 'a-0', timestamp: 1_500, userId: 'u', campaignId: 'c', advertiserId: 'x', category: 'k' });
    joiner.click({ type: 'click', eventId: 'c2', requestId: 'r-9', adId: 'a-9', timestamp: 1_500, userId: 'u', campaignId: 'c', advertiserId: 'x', category: 'k' }); // orphan
    clock.advance(2_000);
    joiner.advance(); // the click came 500 ms after serving, inside the window: one positive, two negatives
    let counters: OnlineLearningCounters = {
      rowsAdded: 30, rowsLearned: 20, windowRows: 10, swaps: 2, refusals: 3, refusalsByReason: { worse: 2, 'too-few-rows': 1 }, rollbacks: 1, servingVersion: 'online-2',
      lastLogLoss: { candidate: 0.41, serving: 0.43 },
    };
    const registry = registerCtrkitMetrics({ joiner, onlineLearning: { stats: () => counters } });
    const text = await registry.metrics();
    expect(text).toContain('ctrkit_joined_rows_total{label="positive"} 1');
    expect(text).toContain('ctrkit_joined_rows_total{label="negative"} 2');
    expect(text).toContain('ctrkit_joiner_dropped_total{reason="duplicate"} 1');
    expect(text).toContain('ctrkit_joiner_dropped_total{reason="orphan"} 1');
    expect(text).toContain('ctrkit_joiner_pending_rows 0');
    expect(text).toContain('ctrkit_online_rows_learned_total 20');
    expect(text).toContain('ctrkit_online_window_rows 10');
    expect(text).toContain('ctrkit_online_swaps_total 2');
    expect(text).toContain('ctrkit_online_refusals_total{reason="worse"} 2');
    expect(text).toContain('ctrkit_online_refusals_total{reason="too-few-rows"} 1');
    expect(text).toContain('ctrkit_online_rollbacks_total 1');
    expect(text).toContain('ctrkit_online_last_logloss{model="candidate"} 0.41');
    counters = { ...counters, swaps: 3, lastLogLoss: undefined };
    const again = await registry.metrics();
    expect(again).toContain('ctrkit_online_swaps_total 3'); // read at scrape time
    expect(again).not.toContain('ctrkit_online_last_logloss{');
  });
});
