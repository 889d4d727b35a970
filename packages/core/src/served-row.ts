/**
 * One served ad as the model saw it: the encoded row (the very bits of the {@link FeatureBatch}
 * row that was scored), the spec fingerprint and model version that scored it, who it was shown
 * to where, and what was predicted. Served rows are what a served-row log keeps, what the label
 * joiner labels, and what offline and online trainers learn from, so training sees exactly what
 * serving saw.
 */
import { CtrkitError } from './errors.js';
import type { FeatureBatch, FeatureLayout } from './stages.js';

/** Who, where and what of a served row: everything but the encoded features.
 *
 * @example
 * ```ts
 * import type { ServedRowInfo } from '@ctrkit/core';
 * const info: ServedRowInfo = {
 *   eventId: 'imp-1', requestId: 'r-1', impId: '1', adId: 'a', position: 0, pCtr: 0.02,
 *   servedAt: 1_700_000_000_000, modelVersion: 'lr@3',
 * };
 * ```
 */
export interface ServedRowInfo {
  /** Unique id of this impression (the impression event's id): the key for deduplication. */
  readonly eventId: string;
  /** The request it answered. */
  readonly requestId: string;
  /** The slot (OpenRTB `imp.id`) it filled. */
  readonly impId: string;
  /** The ad shown. */
  readonly adId: string;
  /** Its position among the winners (0 = top). */
  readonly position: number;
  /** The calibrated pCTR that was served. */
  readonly pCtr: number;
  /** When it was served, ms since the epoch (from the injected clock). */
  readonly servedAt: number;
  /** The model version that scored it. */
  readonly modelVersion: string;
}

/**
 * A served row: {@link ServedRowInfo} plus the encoded features of that one candidate, laid out
 * as one row of a {@link FeatureBatch} of the spec `fingerprint` names. Bags are inside `ids` and
 * `values`, padded to the field's width with weight 0 (their offsets follow from the weights, as
 * `bagOffsets` in `@ctrkit/features` computes them); sequences are `sequenceIds` (S × L, left
 * padded) with their `sequenceLengths` (S).
 *
 * @example
 * ```ts
 * import type { ServedRow } from '@ctrkit/core';
 * const clickedIds = (row: ServedRow) => Array.from(row.ids);
 * ```
 */
export interface ServedRow extends ServedRowInfo {
  /** The feature spec's fingerprint. */
  readonly fingerprint: string;
  /** `idWidth` hashed ids. */
  readonly ids: Int32Array;
  /** `idWidth` id weights. */
  readonly values: Float32Array;
  /** `denseWidth` dense values. */
  readonly dense: Float32Array;
  /** `sequences × L` sequence item ids. */
  readonly sequenceIds: Int32Array;
  /** `sequences` real lengths. */
  readonly sequenceLengths: Int32Array;
}

/**
 * The fields of a served row that are not arrays: its {@link ServedRowInfo} and its fingerprint.
 *
 * @internal
 */
export type ServedRowScalars = ServedRowInfo & { readonly fingerprint: string };

/**
 * Copies the scalar fields of a served row (or of anything that carries them, such as a decoded
 * stream header) into a new object holding exactly those nine fields — what the memory log keeps
 * beside its copied arrays, and what the stream codec sends as a row's header.
 *
 * @param row - The row.
 * @returns Its scalars, and nothing else the object carried.
 * @internal
 */
export function servedRowScalarsOf(row: ServedRowScalars): ServedRowScalars {
  return {
    eventId: row.eventId,
    requestId: row.requestId,
    impId: row.impId,
    adId: row.adId,
    position: row.position,
    pCtr: row.pCtr,
    servedAt: row.servedAt,
    modelVersion: row.modelVersion,
    fingerprint: row.fingerprint,
  };
}

function sequenceStride(layout: FeatureLayout): number {
  let max = 0;
  for (const s of layout.sequences) if (s.maxLength > max) max = s.maxLength;
  return max;
}

/**
 * Copies row `row` of a batch out as a {@link ServedRow}. The copy is the point: serving reuses
 * its batch buffers for the next request, and a logged row must keep the bits it was scored with.
 *
 * @param batch - The batch that was scored.
 * @param row - The candidate's row, 0 ≤ row < batch.rows.
 * @param info - Ids, position, pCTR, time and model version.
 * @returns A served row owning its arrays.
 * @throws {@link CtrkitError} `E_INPUT` when `row` is outside the batch.
 * @remarks Allocates five small typed arrays (one row's worth); nothing else.
 * @example
 * ```ts
 * import { servedRowOf, type FeatureBatch } from '@ctrkit/core';
 * const first = (batch: FeatureBatch) =>
 *   servedRowOf(batch, 0, { eventId: 'imp-1', requestId: 'r-1', impId: '1', adId: 'a', position: 0, pCtr: 0.02, servedAt: 0, modelVersion: 'lr@1' });
 * ```
 */
export function servedRowOf(batch: FeatureBatch, row: number, info: ServedRowInfo): ServedRow {
  if (!Number.isInteger(row) || row < 0 || row >= batch.rows) {
    throw new CtrkitError('E_INPUT', `servedRowOf: row ${row} is outside the batch of ${batch.rows} rows`);
  }
  const { layout } = batch;
  const W = layout.idWidth;
  const D = layout.denseWidth;
  const S = layout.sequences.length;
  const SL = S * sequenceStride(layout);
  return {
    eventId: info.eventId,
    requestId: info.requestId,
    impId: info.impId,
    adId: info.adId,
    position: info.position,
    pCtr: info.pCtr,
    servedAt: info.servedAt,
    modelVersion: info.modelVersion,
    fingerprint: layout.fingerprint,
    ids: batch.ids.slice(row * W, row * W + W),
    values: batch.values.slice(row * W, row * W + W),
    dense: batch.dense.slice(row * D, row * D + D),
    sequenceIds: batch.sequenceIds.slice(row * SL, row * SL + SL),
    sequenceLengths: batch.sequenceLengths.slice(row * S, row * S + S),
  };
}

function isText(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

/**
 * Checks that a served row follows a layout: same fingerprint, every array of the layout's width,
 * ids in [0, idSpace), finite numbers where numbers are due. Logs and joiners call it once per
 * row they accept, so a bad row is refused before it reaches a file or a trainer.
 *
 * @param layout - The layout the log or trainer is bound to.
 * @param row - The row to check.
 * @throws {@link CtrkitError} `E_INPUT` naming the first thing that is wrong.
 * @example
 * ```ts
 * import { checkServedRow, type FeatureLayout, type ServedRow } from '@ctrkit/core';
 * const accept = (layout: FeatureLayout, row: ServedRow) => { checkServedRow(layout, row); return row; };
 * ```
 */
export function checkServedRow(layout: FeatureLayout, row: ServedRow): void {
  const fail = (what: string): never => {
    throw new CtrkitError('E_INPUT', `served row ${typeof row?.eventId === 'string' ? `'${row.eventId}'` : '(no eventId)'}: ${what}`, {
      details: { eventId: row?.eventId },
    });
  };
  if (typeof row !== 'object' || row === null) fail('is not an object');
  for (const key of ['eventId', 'requestId', 'impId', 'adId', 'modelVersion'] as const) {
    if (!isText(row[key])) fail(`${key} must be a non-empty string`);
  }
  if (row.fingerprint !== layout.fingerprint) {
    fail(`was encoded with spec ${String(row.fingerprint)}, but this log holds spec ${layout.fingerprint}; one log holds one spec`);
  }
  if (!Number.isInteger(row.position) || row.position < 0) fail(`position must be an integer ≥ 0, got ${row.position}`);
  if (!(row.pCtr >= 0 && row.pCtr <= 1)) fail(`pCtr must lie in [0, 1], got ${row.pCtr}`);
  if (!Number.isFinite(row.servedAt)) fail(`servedAt must be a finite time in ms, got ${row.servedAt}`);
  const S = layout.sequences.length;
  const want = (name: string, array: unknown, ctor: Int32ArrayConstructor | Float32ArrayConstructor, n: number) => {
    if (!(array instanceof ctor)) fail(`${name} must be a ${ctor.name}`);
    if ((array as Int32Array).length !== n) fail(`${name} holds ${(array as Int32Array).length} values, the layout needs ${n}`);
  };
  want('ids', row.ids, Int32Array, layout.idWidth);
  want('values', row.values, Float32Array, layout.idWidth);
  want('dense', row.dense, Float32Array, layout.denseWidth);
  want('sequenceIds', row.sequenceIds, Int32Array, S * sequenceStride(layout));
  want('sequenceLengths', row.sequenceLengths, Int32Array, S);
  for (let i = 0; i < row.ids.length; i++) {
    const id = row.ids[i] as number;
    if (id < 0 || id >= layout.idSpace) fail(`ids[${i}] = ${id} lies outside [0, ${layout.idSpace})`);
  }
  for (let i = 0; i < row.sequenceIds.length; i++) {
    const id = row.sequenceIds[i] as number;
    if (id < 0 || id >= layout.idSpace) fail(`sequenceIds[${i}] = ${id} lies outside [0, ${layout.idSpace})`);
  }
  for (let s = 0; s < S; s++) {
    const n = row.sequenceLengths[s] as number;
    const max = (layout.sequences[s] as { maxLength: number }).maxLength;
    if (n < 0 || n > max) fail(`sequenceLengths[${s}] = ${n} lies outside [0, ${max}]`);
  }
  for (let i = 0; i < row.values.length; i++) if (!Number.isFinite(row.values[i] as number)) fail(`values[${i}] is not finite`);
  for (let i = 0; i < row.dense.length; i++) if (!Number.isFinite(row.dense[i] as number)) fail(`dense[${i}] is not finite`);
}

/**
 * Packs served rows of one layout back into a {@link FeatureBatch} (row-major, as the encoder
 * makes them), for a trainer or a model.
 *
 * @param layout - The rows' layout.
 * @param rows - The rows, in the order wanted.
 * @returns A new batch of `rows.length` rows.
 * @throws {@link CtrkitError} `E_INPUT` when a row does not follow the layout.
 * @remarks One allocation per array for the whole batch; rows are checked with {@link checkServedRow}.
 * @example
 * ```ts
 * import { servedRowsToBatch, type FeatureLayout, type ServedRow } from '@ctrkit/core';
 * const toBatch = (layout: FeatureLayout, rows: ServedRow[]) => servedRowsToBatch(layout, rows);
 * ```
 */
export function servedRowsToBatch(layout: FeatureLayout, rows: readonly ServedRow[]): FeatureBatch {
  const n = rows.length;
  const W = layout.idWidth;
  const D = layout.denseWidth;
  const S = layout.sequences.length;
  const SL = S * sequenceStride(layout);
  const ids = new Int32Array(n * W);
  const values = new Float32Array(n * W);
  const dense = new Float32Array(n * D);
  const sequenceIds = new Int32Array(n * SL);
  const sequenceLengths = new Int32Array(n * S);
  for (let r = 0; r < n; r++) {
    const row = rows[r] as ServedRow;
    checkServedRow(layout, row);
    ids.set(row.ids, r * W);
    values.set(row.values, r * W);
    dense.set(row.dense, r * D);
    sequenceIds.set(row.sequenceIds, r * SL);
    sequenceLengths.set(row.sequenceLengths, r * S);
  }
  return { layout, rows: n, ids, values, dense, sequenceIds, sequenceLengths };
}
