/**
 * The feature encoder: compiled once from a spec, it turns a request (one row per candidate) or
 * a chunk of log rows into a `FeatureBatch`. Pure JavaScript with no Node-only API, so the
 * same code gives the same bits in Node, in browsers and in offline log writers.
 */
import { CtrkitError, type AdRequest, type FeatureBatch, type FeatureEncoder, type FeatureLayout, type StoreLookup } from '@ctrkit/core';
import { batchFor, bindLookup, checkRequest } from './encoder/batch.js';
import { buildKernels } from './encoder/kernels/build.js';
import type { Kernel, Target } from './encoder/kernels/kernel.js';
import type { LogChunk, LogColumn, SparseRows } from './log.js';
import { isValidatedSpec, parseFeatureSpec, type FeatureSpec, type FeatureSpecJSON } from './spec.js';

/** What the encoder has seen since it was created (or since `resetStats`).
 *
 * @example
 * ```ts
 * import type { EncoderStats } from '@ctrkit/features';
 * const missingRate = (stats: EncoderStats, field: string) => (stats.missing[field] ?? 0) / Math.max(1, stats.rows);
 * ```
 */
export interface EncoderStats {
  /** Rows encoded. */
  readonly rows: number;
  /** Per field: rows whose value was missing (and went to the field's missing bucket). */
  readonly missing: Readonly<Record<string, number>>;
  /** Per bag or sequence field: rows whose list was longer than the field keeps. */
  readonly truncated: Readonly<Record<string, number>>;
}

/**
 * A `FeatureEncoder` compiled from a spec, which also encodes log chunks.
 *
 * @example
 * ```ts
 * import { createFeatureEncoder, type CompiledEncoder } from '@ctrkit/features';
 * const encoder: CompiledEncoder = createFeatureEncoder({ version: 1, idSpace: 1 << 16, fields: [{ name: 'os', kind: 'categorical', source: 'user', path: 'os' }] });
 * console.log(encoder.layout.idWidth); // 1
 * ```
 */
export interface CompiledEncoder extends FeatureEncoder {
  /** The validated spec. */
  readonly spec: FeatureSpec;
  /** The batch shape (same as `spec.layout`). */
  readonly layout: FeatureLayout;
  /**
   * Encodes one request, one row per candidate.
   *
   * @param request - The request; user and context fields are computed once and shared by every row.
   * @param lookup - The feature store's counters for the same candidates (needed by `store` fields;
   *   without it they are missing).
   * @param out - A batch to fill: returned as is when it has exactly this many rows, viewed when its
   *   buffers are larger, ignored when too small.
   * @returns The batch.
   * @throws `CtrkitError` `E_INPUT` for a malformed request (no user, candidates not a list, a list
   *   where a single value belongs, text in a numeric field), a lookup of another size, or an `out`
   *   made for another spec.
   */
  encode(request: AdRequest, lookup?: StoreLookup, out?: FeatureBatch): FeatureBatch;
  /**
   * Encodes a chunk of log rows (from a reader), each field reading its `column`.
   *
   * @param chunk - Parsed rows.
   * @param out - A batch to fill, as for `encode`.
   * @returns The batch; labels stay in `chunk.labels`.
   * @throws `CtrkitError` `E_INPUT` when a field's column is absent or holds text a numeric field cannot read.
   */
  encodeChunk(chunk: LogChunk, out?: FeatureBatch): FeatureBatch;
  /** Missing and truncation counts so far. */
  stats(): EncoderStats;
  /**
   * The id each id-bearing field (categorical, numeric, cross, bag) writes when its value is
   * missing, by field name — what occlusion-based explanations put in place of a field.
   */
  missingIds(): ReadonlyMap<string, number>;
  /** Sets every count back to zero. */
  resetStats(): void;
}

/**
 * Allocates a batch for `rows` rows of a layout, to pass as `out` again and again.
 *
 * @param layout - The encoder's layout.
 * @param rows - Rows to hold.
 * @returns A zero-filled batch.
 * @throws `CtrkitError` `E_INPUT` when `rows` is not a non-negative integer.
 * @example
 * ```ts
 * import { allocateBatch, createFeatureEncoder } from '@ctrkit/features';
 * const encoder = createFeatureEncoder({ version: 1, idSpace: 1 << 16, fields: [{ name: 'ad', kind: 'categorical', source: 'candidate', path: 'adId' }] });
 * const batch = allocateBatch(encoder.layout, 100);
 * console.log(batch.ids.length); // 100
 * ```
 */
export function allocateBatch(layout: FeatureLayout, rows: number): FeatureBatch {
  if (!Number.isInteger(rows) || rows < 0) throw new CtrkitError('E_INPUT', `allocateBatch: rows must be a non-negative integer, got ${rows}`);
  return batchFor(layout, rows, undefined);
}

class Encoder implements CompiledEncoder {
  readonly layout: FeatureLayout;
  private readonly kernels: readonly Kernel[];
  private readonly storeKernels: ReturnType<typeof buildKernels>['storeKernels'];
  private rows = 0;
  private readonly target: Target;

  constructor(readonly spec: FeatureSpec) {
    this.layout = spec.layout;
    const built = buildKernels(spec);
    this.kernels = built.kernels;
    this.storeKernels = built.storeKernels;
    this.target = {
      ids: new Int32Array(0),
      values: new Float32Array(0),
      dense: new Float32Array(0),
      sequenceIds: new Int32Array(0),
      sequenceLengths: new Int32Array(0),
      idWidth: spec.layout.idWidth,
      denseWidth: spec.layout.denseWidth,
      sequences: spec.layout.sequences.length,
      sequenceStride: spec.layout.sequences.reduce((max, s) => Math.max(max, s.maxLength), 0),
    };
  }

  private aim(batch: FeatureBatch): void {
    const target = this.target;
    target.ids = batch.ids;
    target.values = batch.values;
    target.dense = batch.dense;
    target.sequenceIds = batch.sequenceIds;
    target.sequenceLengths = batch.sequenceLengths;
  }

  encode(request: AdRequest, lookup?: StoreLookup, out?: FeatureBatch): FeatureBatch {
    const rows = checkRequest(request);
    const view = lookup === undefined ? undefined : bindLookup(this.storeKernels, lookup, rows);
    const batch = batchFor(this.layout, rows, out);
    this.aim(batch);
    const kernels = this.kernels;
    for (let i = 0; i < kernels.length; i++) (kernels[i] as Kernel).encodeRequest(request, rows, view, this.target);
    this.rows += rows;
    return batch;
  }

  encodeChunk(chunk: LogChunk, out?: FeatureBatch): FeatureBatch {
    if (typeof chunk !== 'object' || chunk === null || !Number.isInteger(chunk.rows) || !Array.isArray(chunk.columns)) {
      throw new CtrkitError('E_INPUT', 'encodeChunk: pass a LogChunk from one of the readers (rows, labels, lines, columns)');
    }
    const columns = new Map<string, LogColumn | SparseRows>();
    for (const column of chunk.columns) {
      const length = column.data.length;
      if (length < chunk.rows) throw new CtrkitError('E_INPUT', `encodeChunk: column '${column.name}' has ${length} cells for ${chunk.rows} rows`);
      columns.set(column.name, column);
    }
    if (chunk.sparse !== undefined) columns.set(chunk.sparse.name, chunk.sparse);
    const batch = batchFor(this.layout, chunk.rows, out);
    this.aim(batch);
    const kernels = this.kernels;
    try {
      for (let i = 0; i < kernels.length; i++) {
        const kernel = kernels[i] as Kernel;
        kernel.lines = chunk.lines;
        kernel.encodeChunk(chunk, columns.get(kernel.column), this.target);
      }
    } finally {
      for (let i = 0; i < kernels.length; i++) (kernels[i] as Kernel).lines = undefined;
    }
    this.rows += chunk.rows;
    return batch;
  }

  missingIds(): ReadonlyMap<string, number> {
    const ids = new Map<string, number>();
    for (const kernel of this.kernels) {
      const id = (kernel as Partial<{ missingId: number }>).missingId;
      if (typeof id === 'number' && this.layout.fields.some((f) => f.name === kernel.name)) ids.set(kernel.name, id);
    }
    return ids;
  }

  stats(): EncoderStats {
    const missing: Record<string, number> = {};
    const truncated: Record<string, number> = {};
    for (const kernel of this.kernels) {
      missing[kernel.name] = kernel.missing;
      if (kernel.truncated > 0) truncated[kernel.name] = kernel.truncated;
    }
    return { rows: this.rows, missing, truncated };
  }

  resetStats(): void {
    this.rows = 0;
    for (const kernel of this.kernels) {
      kernel.missing = 0;
      kernel.truncated = 0;
    }
  }
}

/**
 * Compiles a spec into an encoder. All validation happens here; encoding never re-checks the spec.
 *
 * @param spec - A validated spec, or its JSON form (validated now).
 * @returns The encoder.
 * @throws `CtrkitError` `E_SPEC` when the spec is invalid (see `parseFeatureSpec`).
 * @remarks Hashes every bucket token of numeric fields up front, so bucketized values cost a
 *   table read. `encode` allocates nothing but the batch, and not even that when `out` fits.
 * @example
 * ```ts
 * import { createFeatureEncoder } from '@ctrkit/features';
 * const encoder = createFeatureEncoder({
 *   version: 1, seed: 3, idSpace: 1 << 20,
 *   fields: [
 *     { name: 'country', kind: 'categorical', source: 'user', path: 'country' },
 *     { name: 'ad', kind: 'categorical', source: 'candidate', path: 'adId' },
 *     { name: 'bid', kind: 'dense', source: 'candidate', path: 'bid', normalize: { method: 'log1p' } },
 *   ],
 * });
 * const batch = encoder.encode({
 *   requestId: 'r-1',
 *   user: { id: 'u-1', country: 'FR' },
 *   context: { timestamp: 0 },
 *   candidates: [
 *     { adId: 'a', advertiserId: 'x', campaignId: 'c', format: 'display', category: 'travel', bid: 1, bidType: 'CPC' },
 *     { adId: 'b', advertiserId: 'y', campaignId: 'd', format: 'display', category: 'auto', bid: 2, bidType: 'CPC' },
 *   ],
 * });
 * console.log(batch.rows, batch.ids.length, batch.dense.length); // 2 4 2
 * ```
 */
export function createFeatureEncoder(spec: FeatureSpec | FeatureSpecJSON): CompiledEncoder {
  const parsed = isValidatedSpec(spec) ? spec : parseFeatureSpec(spec as FeatureSpecJSON);
  return new Encoder(parsed);
}
