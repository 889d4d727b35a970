/**
 * @internal The row-at-a-time loop the online trainers (FTRL-LR, FM) share: a batch and its
 * labels are checked once, then each row is gathered as a sparse vector of distinct coordinates
 * ({@link SparseRow}), scored, and learned from with ∂loss/∂logit = p − y. A subclass supplies the
 * model: {@link OnlineRowTrainer.logit} of the gathered row and {@link OnlineRowTrainer.learn}.
 */
import { CtrkitError, type FeatureBatch, type FeatureLayout } from '@ctrkit/core';
import { createNativeRunner } from '../native-runner/runner.js';
import type { NativeRunner, NativeWeights } from '../native-runner/types.js';
import { outputFor } from '../runner/output-buffer.js';
import { checkLabels } from './rows.js';
import { checkBatchShape, logistic, SparseRow } from './sparse-row.js';

/** @internal Checks a snapshot's version once, for every trainer. */
export function checkSnapshotVersion(version: unknown, what: string): asserts version is string {
  if (typeof version !== 'string' || version.length === 0) {
    throw new CtrkitError('E_INPUT', `${what}.snapshot: version must be a non-empty string (it names the model in info and in logs), got ${JSON.stringify(version)}`);
  }
}

/** @internal See the file comment. */
export abstract class OnlineRowTrainer {
  rowsSeen = 0;
  /** The row being scored or learned from. */
  protected readonly row: SparseRow;

  /** @param name - Prefix of error messages (`ftrl`, `fm`). */
  protected constructor(
    readonly layout: FeatureLayout,
    private readonly name: string,
  ) {
    this.row = new SparseRow(layout);
  }

  /** The logit of the gathered row, keeping what {@link OnlineRowTrainer.learn} needs. */
  protected abstract logit(): number;

  /** One update on the gathered row, after `logit`, for ∂loss/∂logit = `g0`. */
  protected abstract learn(g0: number): void;

  /** Every weight, copied (into `into`'s arrays when given). */
  abstract weights(into?: NativeWeights): NativeWeights;

  update(batch: FeatureBatch, labels: ArrayLike<number>, out?: Float32Array): Float32Array {
    checkBatchShape(this.layout, batch, `${this.name}.update`);
    const rows = batch.rows;
    if (labels.length < rows) throw new CtrkitError('E_INPUT', `${this.name}.update: ${labels.length} labels for ${rows} rows`);
    checkLabels(labels, 0, rows, `${this.name}.update`);
    const predictions = outputFor(out, rows);
    for (let r = 0; r < rows; r++) {
      this.row.gather(batch, r);
      const p = logistic(this.logit());
      this.learn(p - (labels[r] as number));
      predictions[r] = p;
      this.rowsSeen++;
    }
    return predictions;
  }

  updateRow(batch: FeatureBatch, r: number, label: number): number {
    checkBatchShape(this.layout, batch, `${this.name}.updateRow`);
    if (!Number.isInteger(r) || r < 0 || r >= batch.rows) throw new CtrkitError('E_INPUT', `${this.name}.updateRow: row ${r} is not a row of the batch (0…${batch.rows - 1})`);
    if (label !== 0 && label !== 1) throw new CtrkitError('E_INPUT', `${this.name}.updateRow: label must be 0 or 1, got ${label}`);
    this.row.gather(batch, r);
    const p = logistic(this.logit());
    this.learn(p - label);
    this.rowsSeen++;
    return p;
  }

  predict(batch: FeatureBatch, out?: Float32Array): Float32Array {
    checkBatchShape(this.layout, batch, `${this.name}.predict`);
    const predictions = outputFor(out, batch.rows);
    for (let r = 0; r < batch.rows; r++) {
      this.row.gather(batch, r);
      predictions[r] = logistic(this.logit());
    }
    return predictions;
  }

  snapshot(version: string): NativeRunner {
    checkSnapshotVersion(version, this.name);
    // weights() without `into` copies into fresh arrays: the runner owns them alone.
    return createNativeRunner({ layout: this.layout, weights: this.weights(), version });
  }
}
