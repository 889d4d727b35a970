/**
 * The rows `ctrkit train` learns from: the first training + validation rows of the source, read
 * into memory and cut into the training and validation slices, with the synthetic rows' true
 * click probabilities beside them.
 */
import { CtrkitError } from '@ctrkit/core';
import { createRowCollector, sliceRows, type LabeledRows } from '@ctrkit/models';
import type { CliIo } from '../../io.js';
import type { ReadOutcome } from '../../data/read-request.js';
import { readRows, reportMalformed } from '../../data/read-rows.js';
import { describeSource } from '../../data/source.js';
import type { TrainPlan } from './plan.js';
import { validRowsOf } from './validation-rows.js';

/**
 * What `ctrkit train` read.
 *
 * @internal
 */
export interface TrainingRows {
  /** The read, with its encoder and spec. */
  readonly outcome: ReadOutcome;
  /** Rows `[0, trainRows)`. */
  readonly train: LabeledRows;
  /** Rows `[trainRows, trainRows + validRows)`, absent when there are none. */
  readonly valid: LabeledRows | undefined;
  readonly trainRows: number;
  readonly validRows: number;
  /** Synthetic traffic: the true click probability of every row read. */
  readonly truth: Float64Array | undefined;
}

/**
 * Reads the first train + valid rows into memory (all rows when `--train-rows` is absent) and
 * slices them.
 *
 * @param plan - The run.
 * @param io - Streams and clock.
 * @returns The slices.
 * @throws {@link CtrkitError} `E_INPUT` when the source has fewer rows than asked or leaves no
 * training row; the readers' errors.
 * @internal
 */
export async function readTrainingRows(plan: TrainPlan, io: CliIo): Promise<TrainingRows> {
  const { source, carve, extraValid, trainRowsArg } = plan;
  const wanted = trainRowsArg === undefined ? Number.POSITIVE_INFINITY : trainRowsArg + extraValid;
  let collector: ReturnType<typeof createRowCollector> | undefined;
  const truthParts: Float64Array[] = [];
  const outcome = await readRows({
    io,
    command: 'train',
    source,
    settings: plan.settings,
    idSpace: plan.idSpace,
    ...(plan.arrowSpec === undefined ? {} : { spec: plan.arrowSpec }),
    skip: 0,
    take: wanted,
    quiet: plan.quiet,
    sink: (rows, truth) => {
      collector ??= createRowCollector(rows.batch.layout, Math.min(Number.isFinite(wanted) ? wanted : 1 << 16, 1 << 22));
      collector.append(rows.batch, rows.labels);
      if (truth !== undefined) truthParts.push(truth.slice());
    },
  });
  reportMalformed(io, 'train', outcome);
  const all = collector?.toRows();
  const total = all?.batch.rows ?? 0;
  if (Number.isFinite(wanted) && total < wanted) {
    throw new CtrkitError('E_INPUT', `--train-rows ${trainRowsArg}${carve ? '' : ` and --valid-rows ${extraValid}`} need ${wanted.toLocaleString('en-US')} rows, but ${describeSource(source)} has ${total.toLocaleString('en-US')}${outcome.malformed > 0 ? ` readable (${outcome.malformed} malformed)` : ''}`);
  }
  const validRows = carve ? validRowsOf(total, plan.validShare) : extraValid;
  const trainRows = carve ? total - validRows : (trainRowsArg ?? total - validRows);
  if (all === undefined || trainRows <= 0) {
    throw new CtrkitError('E_INPUT', `the training set is empty: ${describeSource(source)} has ${total} rows${validRows > 0 ? ` and --valid-rows takes ${validRows}` : ''}`);
  }
  const train = sliceRows(all, 0, trainRows);
  const valid = validRows > 0 ? sliceRows(all, trainRows, trainRows + validRows) : undefined;
  let truth: Float64Array | undefined;
  if (truthParts.length > 0) {
    truth = new Float64Array(total);
    let at = 0;
    for (const part of truthParts) {
      truth.set(part, at);
      at += part.length;
    }
  }
  return { outcome, train, valid, trainRows, validRows, truth };
}
