/**
 * Day one's log: its impressions replayed through the feature store, cut into training,
 * validation and held-out test rows, with the slot-position CTR multipliers learned from it and
 * the times traffic came (for a traffic-shaped pacing plan).
 */
import type { ManualClock } from '@ctrkit/core';
import type { TrafficGenerator } from '@ctrkit/core/sim';
import type { CompiledEncoder, MemoryFeatureStore } from '@ctrkit/features';
import { sliceRows, type LabeledRows } from '@ctrkit/models';
import { replayImpressions } from './log-replay.js';

/** Day one's rows and what was learned from the log itself. */
export interface DayOneLog {
  /** Every row, in time order. */
  readonly all: LabeledRows;
  /** The first nine tenths: training and validation rows. */
  readonly trainAll: LabeledRows;
  /** `trainAll` less its last tenth. */
  readonly train: LabeledRows;
  /** The last tenth of `trainAll`: early stopping and calibration. */
  readonly valid: LabeledRows;
  /** The last tenth of the log, held out. */
  readonly test: LabeledRows;
  readonly testRows: number;
  /** The true click probability of every row. */
  readonly truth: Float64Array;
  /** CTR multiplier per slot position, relative to the top slot, never above the slot above. */
  readonly positionEffects: readonly number[];
  /** The time of every 50th impression. */
  readonly timestamps: readonly number[];
}

/**
 * Replays day one's `count` impressions (the first half of the period) and slices them.
 *
 * @param options - The world, the store and its clock, the encoder, how many, progress.
 * @returns The log.
 */
export async function readDayOneLog(options: {
  readonly generator: TrafficGenerator;
  readonly store: MemoryFeatureStore;
  readonly encoder: CompiledEncoder;
  readonly clock: ManualClock;
  readonly count: number;
  readonly onProgress: (phase: string, done: number, total: number) => void;
}): Promise<DayOneLog> {
  const { count, onProgress } = options;
  const clicksByPosition = [0, 0, 0];
  const shownByPosition = [0, 0, 0];
  const timestamps: number[] = [];
  const { rows: all, truth } = await replayImpressions({
    generator: options.generator,
    store: options.store,
    encoder: options.encoder,
    clock: options.clock,
    count,
    stream: 'log',
    timeRange: [0, 0.5],
    onImpression: (impression, row) => {
      shownByPosition[impression.position]! += 1;
      clicksByPosition[impression.position]! += impression.clicked ? 1 : 0;
      if (row % 50 === 0) timestamps.push(impression.request.context.timestamp);
      if ((row + 1) % 10_000 === 0) onProgress('replaying the day-one log', row + 1, count);
    },
  });
  const testRows = Math.floor(count / 10);
  const trainAll = sliceRows(all, 0, count - testRows);
  const test = sliceRows(all, count - testRows, count);
  const validRows = Math.floor(trainAll.batch.rows / 10);
  const train = sliceRows(trainAll, 0, trainAll.batch.rows - validRows);
  const valid = sliceRows(trainAll, trainAll.batch.rows - validRows, trainAll.batch.rows);
  const ctr0 = clicksByPosition[0]! / Math.max(1, shownByPosition[0]!);
  // A lower slot never gets more clicks: a noisy estimate (small logs, a drifting world) is capped by the slot above.
  const positionEffects: number[] = [];
  clicksByPosition.forEach((clicks, p) => positionEffects.push(Math.min(positionEffects[p - 1] ?? 1, clicks / Math.max(1, shownByPosition[p]!) / ctr0)));
  return { all, trainAll, train, valid, test, testRows, truth, positionEffects, timestamps };
}
