/**
 * The interfaces between the steps of a request: feature store → encoder → model runner. They
 * live here so that each package implements them and a host can replace any step without
 * touching the rest.
 */
import type { AdEvent } from './types/events.js';
import type { AdCandidate, AdRequest, UserProfile } from './types/request.js';

/** Where one encoded field sits in a {@link FeatureBatch}'s id matrix.
 *
 * @example
 * ```ts
 * import type { FieldSlot } from '@ctrkit/core';
 * const slot: FieldSlot = { name: 'user_country', kind: 'categorical', offset: 0, width: 1 };
 * ```
 */
export interface FieldSlot {
  /** Field name from the spec. */
  readonly name: string;
  /** How the field was encoded. */
  readonly kind: 'categorical' | 'bucketized' | 'bag' | 'cross' | 'store';
  /** First column of the field in the id matrix. */
  readonly offset: number;
  /** Columns it takes (1, or a bag's maximum size). */
  readonly width: number;
}

/** A behavior-sequence input of a {@link FeatureBatch}.
 *
 * @example
 * ```ts
 * import type { SequenceSlot } from '@ctrkit/core';
 * const slot: SequenceSlot = { name: 'history_category', maxLength: 50, sharesIdsWith: 'ad_category' };
 * ```
 */
export interface SequenceSlot {
  /** Field name from the spec. */
  readonly name: string;
  /** Fixed length L; shorter histories are padded. */
  readonly maxLength: number;
  /** The categorical field whose ids the items share (so attention can compare them), if any. */
  readonly sharesIdsWith?: string;
}

/**
 * The static shape of the batches an encoder produces: fixed per feature spec, recorded in model
 * manifests, checked when a model loads.
 *
 * @example
 * ```ts
 * import type { FeatureLayout } from '@ctrkit/core';
 * const layout: FeatureLayout = {
 *   fingerprint: 'abc123', idSpace: 1 << 20, idWidth: 2,
 *   fields: [
 *     { name: 'user_country', kind: 'categorical', offset: 0, width: 1 },
 *     { name: 'ad_category', kind: 'categorical', offset: 1, width: 1 },
 *   ],
 *   denseWidth: 0, denseNames: [], sequences: [],
 * };
 * ```
 */
export interface FeatureLayout {
  /** The feature spec's fingerprint. */
  readonly fingerprint: string;
  /** Ids lie in [0, idSpace): the size of an embedding or weight table. */
  readonly idSpace: number;
  /** Id columns per row (sum of field widths). */
  readonly idWidth: number;
  /** Fields in column order. */
  readonly fields: readonly FieldSlot[];
  /** Dense (real-valued) columns per row. */
  readonly denseWidth: number;
  /** Names of the dense columns. */
  readonly denseNames: readonly string[];
  /** Behavior sequences, in order. */
  readonly sequences: readonly SequenceSlot[];
}

/**
 * Encoded features of a request: one row per candidate, struct-of-arrays, row-major. Every
 * array holds exactly `rows × width` values (views over a possibly larger preallocated buffer).
 *
 * - `ids[r × idWidth + c]` — hashed id of column c (missing values have their own bucket id).
 * - `values[r × idWidth + c]` — 1 for a present id, 0 for bag padding (so padding contributes
 *   nothing to sums), or a real weight.
 * - `dense[r × denseWidth + d]` — normalized real values.
 * - `sequenceIds[(r × S + s) × L + t]` — item t of sequence s, where S is the number of sequences
 *   and L the longest `maxLength` among them (every sequence is stored in L slots); items are most
 *   recent last, left-padded with 0 when shorter; `sequenceLengths[r × S + s]` — how many items are
 *   real (at most that sequence's own `maxLength`).
 *
 * @example
 * ```ts
 * import type { FeatureBatch } from '@ctrkit/core';
 * const idOf = (batch: FeatureBatch, row: number, column: number) => batch.ids[row * batch.layout.idWidth + column];
 * ```
 */
export interface FeatureBatch {
  /** The layout every row follows. */
  readonly layout: FeatureLayout;
  /** Number of rows (candidates). */
  readonly rows: number;
  /** `rows × idWidth` hashed ids. */
  readonly ids: Int32Array;
  /** `rows × idWidth` weights of the ids. */
  readonly values: Float32Array;
  /** `rows × denseWidth` dense values. */
  readonly dense: Float32Array;
  /** `rows × sequences × L` sequence item ids (L the longest `maxLength`; 0 where padded). */
  readonly sequenceIds: Int32Array;
  /** `rows × sequences` real lengths. */
  readonly sequenceLengths: Int32Array;
}

/**
 * Real-time counters for one request, one row per candidate (see the features package for the
 * counters a store keeps).
 *
 * @example
 * ```ts
 * import type { StoreLookup } from '@ctrkit/core';
 * const ctrOf = (lookup: StoreLookup, row: number) => lookup.values[row * lookup.names.length + lookup.names.indexOf('ad.ctr.7d')];
 * ```
 */
export interface StoreLookup {
  /** Counter names, in column order. */
  readonly names: readonly string[];
  /** Number of rows (candidates). */
  readonly rows: number;
  /** `rows × names.length` values. */
  readonly values: Float32Array;
  /** True when the store failed or ran late and these are empty counters. */
  readonly degraded: boolean;
  /** Why the lookup degraded. */
  readonly reason?: string;
}

/** Options for {@link FeatureStore.lookup}.
 *
 * @example
 * ```ts
 * import type { LookupOptions } from '@ctrkit/core';
 * const options: LookupOptions = { deadlineMs: 3, degradeOnError: true };
 * ```
 */
export interface LookupOptions {
  /** Give up after this many milliseconds. */
  readonly deadlineMs?: number;
  /** On failure or deadline, return empty counters flagged `degraded` instead of throwing. */
  readonly degradeOnError?: boolean;
}

/**
 * Real-time counters fed by events and read at request time.
 *
 * @example
 * ```ts
 * import type { AdEvent, FeatureStore } from '@ctrkit/core';
 * async function feed(store: FeatureStore, events: AdEvent[]) {
 *   for (const event of events) await store.record(event);
 * }
 * ```
 */
export interface FeatureStore {
  /** The counter names every lookup returns, in column order. */
  readonly names: readonly string[];
  /** Counts one impression, click or conversion. */
  record(event: AdEvent): Promise<void>;
  /** Counters for each candidate as of `now`, seeing only events before `now`. */
  lookup(user: UserProfile, candidates: readonly AdCandidate[], now: number, options?: LookupOptions): Promise<StoreLookup>;
  /** Removes everything stored about a user. */
  forgetUser(userId: string): Promise<void>;
  /** Releases connections and timers. */
  close(): Promise<void>;
}

/**
 * Turns a request (and its store lookup) into a {@link FeatureBatch}.
 *
 * @example
 * ```ts
 * import type { AdRequest, FeatureEncoder } from '@ctrkit/core';
 * const rowsOf = (encoder: FeatureEncoder, request: AdRequest) => encoder.encode(request).rows;
 * ```
 */
export interface FeatureEncoder {
  /** The shape of every batch this encoder produces. */
  readonly layout: FeatureLayout;
  /** Encodes one request, one row per candidate; fills `out` when it has room. */
  encode(request: AdRequest, lookup?: StoreLookup, out?: FeatureBatch): FeatureBatch;
}

/** What a {@link ModelRunner} is running.
 *
 * @example
 * ```ts
 * import type { ModelInfo } from '@ctrkit/core';
 * const info: ModelInfo = { architecture: 'dcnv2', version: '3', backend: 'onnx-node', provider: 'cpu', fingerprint: 'abc' };
 * ```
 */
export interface ModelInfo {
  /** Architecture name (lr, fm, dcnv2, din, or anything a manifest names). */
  readonly architecture: string;
  /** Model version. */
  readonly version: string;
  /** Backend that runs it (onnx-node, onnx-web, native, …). */
  readonly backend: string;
  /** Execution provider within the backend (cpu, cuda, wasm, webgpu, …). */
  readonly provider: string;
  /** Feature-spec fingerprint the model was trained with. */
  readonly fingerprint: string;
}

/**
 * Scores a {@link FeatureBatch}: one click probability per row.
 *
 * @example
 * ```ts
 * import type { FeatureBatch, ModelRunner } from '@ctrkit/core';
 * async function score(runner: ModelRunner, batch: FeatureBatch) {
 *   return runner.predict(batch, new Float32Array(batch.rows));
 * }
 * ```
 */
export interface ModelRunner {
  /** What is running. */
  readonly info: ModelInfo;
  /** Probabilities (before calibration), one per row, written into `out` when given. */
  predict(batch: FeatureBatch, out?: Float32Array): Promise<Float32Array>;
  /** Frees the session; later calls reject with `E_STATE`. */
  dispose(): Promise<void>;
}

