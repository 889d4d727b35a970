/**
 * The model versions the learner publishes and the servers pick up, on a NATS JetStream Object
 * Store bucket: one object, `model`, replaced by each new version (the bucket keeps only the
 * newest revision of a name, so it holds one version at a time however long the learner runs).
 * An object store rather than a KV entry or a plain message because an FTRL-LR weight vector over
 * 2^18 ids is 1 MiB of float32 — at NATS's default 1 MB max payload already — and the object
 * store splits it into chunks (128 KiB here) and checks its SHA-256 digest on the way out.
 *
 * The bytes: a little-endian u32 header length, the header as UTF-8 JSON (format, sequence
 * number, version, spec fingerprint, shapes, bias, watermark, the guard's figures), zero padding
 * to a multiple of 4, then the id weights and the dense weights as raw float32. Whatever comes off
 * the bucket is checked as hostile input: shapes against the server's own layout, every weight
 * finite, every field typed, before a runner is built from it.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Objm, StorageType, type ObjectStore } from '@nats-io/obj';
import { CtrkitError, type FeatureLayout } from '@ctrkit/core';
import type { LrWeights } from '@ctrkit/models';

/** The object's name in the bucket. */
export const MODEL_OBJECT = 'model';
/** The format tag of the bytes (bumped when the layout of the bytes changes). */
export const MODEL_FORMAT = 'ctrkit-lr/1';
/** The largest object a server fetches (an LR over 2^24 ids is 64 MiB). */
export const MAX_MODEL_BYTES = 80 << 20;
const CHUNK_BYTES = 128 * 1024;

/**
 * What a published version learned up to, so a reader can tell which clicks it has learned from.
 * `clickedAt` is a low watermark: every click the learner joined whose own timestamp is at or
 * before it had been learned by this version (rows in the guard's hold-out window are not learned
 * yet). Rows replayed from the labeled log at a learner's restart carry no click time and do not
 * move it.
 */
export interface ModelWatermark {
  /** Click timestamps up to this (ms since the epoch) are covered; `-Infinity` is written as null. */
  readonly clickedAt: number | null;
  /** Rows the trainer had learned when the version was snapshotted (replayed rows included). */
  readonly rowsLearned: number;
  /** Positives among them. */
  readonly positivesLearned: number;
}

/** The header of a published version. */
export interface PublishedModelHeader {
  readonly format: typeof MODEL_FORMAT;
  /** Grows by one with every version the learner publishes (across its restarts). */
  readonly seq: number;
  /** The runner's version name (`learner-<boot>-<n>`). */
  readonly version: string;
  /** The feature spec's fingerprint: a server refuses a version of another spec. */
  readonly fingerprint: string;
  readonly idSpace: number;
  readonly denseWidth: number;
  readonly bias: number;
  readonly watermark: ModelWatermark;
  /** When the learner published it, ms since the epoch (learner's clock). */
  readonly publishedAt: number;
  /** The guard's figures: log loss of the candidate and of the version it replaced, on the window. */
  readonly guard: { readonly rows: number; readonly candidateLogLoss: number | null; readonly servingLogLoss: number | null };
}

/** A decoded version. */
export interface PublishedModel {
  readonly header: PublishedModelHeader;
  readonly weights: LrWeights;
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Encodes a version for the bucket.
 *
 * @param header - Everything but the arrays.
 * @param weights - The LR weights (their shapes must match the header's).
 * @returns The bytes.
 */
export function encodePublishedModel(header: PublishedModelHeader, weights: LrWeights): Uint8Array {
  if (weights.ids.length !== header.idSpace || weights.dense.length !== header.denseWidth) {
    throw new CtrkitError('E_INPUT', `published model: weights of ${weights.ids.length} ids and ${weights.dense.length} dense columns do not match the header (${header.idSpace}, ${header.denseWidth})`);
  }
  const head = utf8.encode(JSON.stringify(header));
  const start = (4 + head.length + 3) & ~3;
  const out = new Uint8Array(start + 4 * (header.idSpace + header.denseWidth));
  new DataView(out.buffer).setUint32(0, head.length, true);
  out.set(head, 4);
  out.set(new Uint8Array(weights.ids.buffer, weights.ids.byteOffset, weights.ids.byteLength), start);
  out.set(new Uint8Array(weights.dense.buffer, weights.dense.byteOffset, weights.dense.byteLength), start + weights.ids.byteLength);
  return out;
}

const refuse = (why: string): never => {
  throw new CtrkitError('E_MODEL_LOAD', `published model refused: ${why}`);
};
const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
const isNumberOrNull = (n: unknown): n is number | null => n === null || (typeof n === 'number' && Number.isFinite(n));

/**
 * Decodes and checks bytes from the bucket against the layout this process encodes with.
 *
 * @param bytes - The object's bytes.
 * @param layout - The encoder's layout: fingerprint, id space and dense width must match.
 * @returns The header and weights (arrays of their own).
 * @throws `CtrkitError` `E_MODEL_LOAD` naming the first thing wrong.
 */
export function decodePublishedModel(bytes: Uint8Array, layout: FeatureLayout): PublishedModel {
  if (!(bytes instanceof Uint8Array) || bytes.length < 4) refuse('fewer than 4 bytes');
  const headLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true);
  if (4 + headLength > bytes.length || headLength > 64 * 1024) refuse(`a header of ${headLength} bytes in ${bytes.length}`);
  let header: PublishedModelHeader;
  try {
    header = JSON.parse(fromUtf8.decode(bytes.subarray(4, 4 + headLength))) as PublishedModelHeader;
  } catch {
    return refuse('the header is not UTF-8 JSON');
  }
  if (typeof header !== 'object' || header === null) refuse('the header is not an object');
  if (header.format !== MODEL_FORMAT) refuse(`format ${JSON.stringify(header.format)}, this server reads ${MODEL_FORMAT}`);
  if (!isCount(header.seq) || header.seq < 1) refuse('seq must be a positive integer');
  if (typeof header.version !== 'string' || header.version === '' || header.version.length > 200) refuse('version must be a non-empty string');
  if (header.fingerprint !== layout.fingerprint) refuse(`it was trained on feature spec ${String(header.fingerprint)}, this server encodes ${layout.fingerprint}`);
  if (header.idSpace !== layout.idSpace || header.denseWidth !== layout.denseWidth) refuse(`shapes ${String(header.idSpace)} ids × ${String(header.denseWidth)} dense, the layout has ${layout.idSpace} × ${layout.denseWidth}`);
  if (typeof header.bias !== 'number' || !Number.isFinite(header.bias)) refuse('bias must be finite');
  const w = header.watermark;
  if (typeof w !== 'object' || w === null || !isNumberOrNull(w.clickedAt) || !isCount(w.rowsLearned) || !isCount(w.positivesLearned)) refuse('the watermark is malformed');
  if (!isCount(header.publishedAt)) refuse('publishedAt must be a time in ms');
  const g = header.guard;
  if (typeof g !== 'object' || g === null || !isCount(g.rows) || !isNumberOrNull(g.candidateLogLoss) || !isNumberOrNull(g.servingLogLoss)) refuse('the guard figures are malformed');
  const start = (4 + headLength + 3) & ~3;
  const want = start + 4 * (layout.idSpace + layout.denseWidth);
  if (bytes.length !== want) refuse(`${bytes.length} bytes, the header's shapes need ${want}`);
  // Copies of our own, 4-byte aligned (the bytes may sit at any offset of a pooled buffer).
  const weights = new Float32Array(layout.idSpace + layout.denseWidth);
  new Uint8Array(weights.buffer).set(bytes.subarray(start, want));
  for (let i = 0; i < weights.length; i++) if (!Number.isFinite(weights[i] as number)) refuse(`weight ${i} is not finite`);
  return {
    header,
    weights: { kind: 'lr', idSpace: layout.idSpace, denseWidth: layout.denseWidth, bias: header.bias, ids: weights.subarray(0, layout.idSpace), dense: weights.subarray(layout.idSpace) },
  };
}

/**
 * Opens (creating when absent) the bucket versions are published to.
 *
 * @param nc - The NATS connection.
 * @param bucket - The bucket's name.
 * @returns The object store.
 * @throws `CtrkitError` `E_STREAM` when JetStream refuses.
 */
export async function openModelBucket(nc: NatsConnection, bucket: string): Promise<ObjectStore> {
  try {
    return await new Objm(nc).create(bucket, { storage: StorageType.File, description: 'ctrkit: model versions published by the learner' });
  } catch (error) {
    throw new CtrkitError('E_STREAM', `cannot open the model bucket '${bucket}' (is JetStream enabled: nats-server -js?): ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Publishes a version: replaces the bucket's `model` object (chunked, digest-checked).
 *
 * @param store - The bucket.
 * @param bytes - From {@link encodePublishedModel}.
 * @param header - Its header (copied into the object's metadata, for `nats object info`).
 */
export async function putPublishedModel(store: ObjectStore, bytes: Uint8Array, header: PublishedModelHeader): Promise<void> {
  await store.putBlob(
    {
      name: MODEL_OBJECT,
      description: `${header.version} (seq ${header.seq})`,
      metadata: { seq: String(header.seq), version: header.version, watermark: String(header.watermark.clickedAt ?? '') },
      options: { max_chunk_size: CHUNK_BYTES },
    },
    bytes,
  );
}

/**
 * Reads the version the bucket holds now, if any.
 *
 * @param store - The bucket.
 * @param layout - The layout to check it against.
 * @param newerThan - When the object's metadata says its seq is no higher, its bytes are not read: `'stale'`.
 * @returns The version, undefined when none was published, or `'stale'`.
 * @throws `CtrkitError` `E_MODEL_LOAD` when it is too large or malformed; `E_STREAM` when reading fails.
 */
export async function getPublishedModel(store: ObjectStore, layout: FeatureLayout, newerThan = 0): Promise<PublishedModel | undefined | 'stale'> {
  let info;
  try {
    info = await store.info(MODEL_OBJECT);
  } catch (error) {
    throw new CtrkitError('E_STREAM', `cannot read the model bucket: ${(error as Error).message}`, { cause: error });
  }
  if (info === null || info.deleted) return undefined;
  const seq = Number(info.metadata?.seq);
  if (newerThan > 0 && Number.isSafeInteger(seq) && seq <= newerThan) return 'stale';
  if (info.size > MAX_MODEL_BYTES) refuse(`${info.size} bytes, more than the ${MAX_MODEL_BYTES} a server reads`);
  let bytes: Uint8Array | null;
  try {
    bytes = await store.getBlob(MODEL_OBJECT);
  } catch (error) {
    // A version replaced while it was read fails its digest: the next notice brings the new one.
    throw new CtrkitError('E_STREAM', `cannot read the published model: ${(error as Error).message}`, { cause: error });
  }
  return bytes === null ? undefined : decodePublishedModel(bytes, layout);
}

/**
 * Connects to NATS the way every process of the fleet does: reconnecting forever, 250 ms apart.
 *
 * @param servers - `NATS_URL`.
 * @param name - The client's name, shown by the NATS server.
 * @returns The connection.
 * @throws `CtrkitError` `E_STREAM` when NATS does not answer.
 */
export async function connectNats(servers: string, name: string): Promise<NatsConnection> {
  try {
    return await connect({ servers: servers.split(','), name, maxReconnectAttempts: -1, reconnectTimeWait: 250, timeout: 5_000 });
  } catch (error) {
    throw new CtrkitError('E_STREAM', `cannot connect to NATS at ${servers} (is nats-server running with -js?): ${(error as Error).message}`, { cause: error });
  }
}
