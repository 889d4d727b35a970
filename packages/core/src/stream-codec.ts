/**
 * The wire format of stream events: byte 0 is the format version (1), byte 1 the topic's index in
 * {@link STREAM_TOPICS}. Ad events follow as UTF-8 JSON. Served rows follow as a little-endian
 * u32 header length, the header (the row's ids, position, pCTR, time, model version, fingerprint
 * and array lengths) as UTF-8 JSON, zero padding to a multiple of 4, then the raw bytes of `ids`,
 * `values`, `dense`, `sequenceIds` and `sequenceLengths` — the same bits the model saw.
 */
import { CtrkitError } from './errors.js';
import { STREAM_TOPICS, type StreamEvent, type StreamTopic } from './event-stream.js';
import { servedRowScalarsOf, type ServedRow, type ServedRowScalars } from './served-row.js';

const VERSION = 1;
const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });
// Typed arrays travel as host-order bytes; every platform ctrkit runs on is little-endian.
const littleEndian = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

interface RowHeader extends ServedRowScalars {
  readonly n: [number, number, number, number, number];
}

/**
 * Encodes a stream event for the wire.
 *
 * @param event - The event.
 * @returns Its bytes.
 * @throws {@link CtrkitError} `E_INPUT` when the topic is unknown; `E_STATE` on a big-endian host.
 * @remarks A served row costs one allocation of its size plus the header's JSON.
 * @example
 * ```ts
 * import { decodeStreamEvent, encodeStreamEvent } from '@ctrkit/core';
 * const bytes = encodeStreamEvent({ topic: 'click', event: { type: 'click', eventId: 'c', requestId: 'r', timestamp: 0, userId: 'u', adId: 'a', campaignId: 'c', advertiserId: 'x', category: 'k' } });
 * console.log(decodeStreamEvent(bytes).topic); // click
 * ```
 */
export function encodeStreamEvent(event: StreamEvent): Uint8Array {
  const topic = STREAM_TOPICS.indexOf(event.topic);
  if (topic < 0) throw new CtrkitError('E_INPUT', `stream codec: unknown topic '${String((event as { topic: unknown }).topic)}'; use one of ${STREAM_TOPICS.join(', ')}`);
  if (event.topic !== 'served') {
    const body = utf8Encoder.encode(JSON.stringify(event.event));
    const out = new Uint8Array(2 + body.length);
    out[0] = VERSION;
    out[1] = topic;
    out.set(body, 2);
    return out;
  }
  if (!littleEndian) throw new CtrkitError('E_STATE', 'stream codec: served rows are encoded little-endian; this host is big-endian');
  const row = event.row;
  const arrays = [row.ids, row.values, row.dense, row.sequenceIds, row.sequenceLengths] as const;
  const header: RowHeader = { ...servedRowScalarsOf(row), n: arrays.map((a) => a.length) as RowHeader['n'] };
  const head = utf8Encoder.encode(JSON.stringify(header));
  const start = (6 + head.length + 3) & ~3;
  let size = start;
  for (const a of arrays) size += a.byteLength;
  const out = new Uint8Array(size);
  out[0] = VERSION;
  out[1] = topic;
  new DataView(out.buffer).setUint32(2, head.length, true);
  out.set(head, 6);
  let at = start;
  for (const a of arrays) {
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), at);
    at += a.byteLength;
  }
  return out;
}

function parseError(what: string, cause?: unknown): CtrkitError {
  return new CtrkitError('E_PARSE', `stream codec: ${what}; the message is not a ctrkit stream event`, cause === undefined ? {} : { cause });
}

/**
 * Decodes bytes from {@link encodeStreamEvent}. Served rows get arrays of their own (copied out
 * of `bytes`).
 *
 * @param bytes - The message.
 * @returns The event.
 * @throws {@link CtrkitError} `E_PARSE` when the bytes are not a stream event of this version.
 * @example
 * ```ts
 * import { decodeStreamEvent } from '@ctrkit/core';
 * const topicOf = (bytes: Uint8Array) => decodeStreamEvent(bytes).topic;
 * ```
 */
export function decodeStreamEvent(bytes: Uint8Array): StreamEvent {
  if (!(bytes instanceof Uint8Array) || bytes.length < 2) throw parseError('fewer than 2 bytes');
  if (bytes[0] !== VERSION) throw parseError(`format version ${bytes[0]}, this build reads ${VERSION}`);
  const topic = STREAM_TOPICS[bytes[1] as number] as StreamTopic | undefined;
  if (topic === undefined) throw parseError(`topic index ${bytes[1]}`);
  if (topic !== 'served') {
    let event: unknown;
    try {
      event = JSON.parse(utf8Decoder.decode(bytes.subarray(2)));
    } catch (error) {
      throw parseError('the body is not UTF-8 JSON', error);
    }
    if (typeof event !== 'object' || event === null || typeof (event as { eventId?: unknown }).eventId !== 'string') throw parseError('the event has no eventId');
    return { topic, event } as StreamEvent;
  }
  if (bytes.length < 6) throw parseError('a served row without its header length');
  const headLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(2, true);
  if (6 + headLength > bytes.length) throw parseError('a header longer than the message');
  let header: RowHeader;
  try {
    header = JSON.parse(utf8Decoder.decode(bytes.subarray(6, 6 + headLength))) as RowHeader;
  } catch (error) {
    throw parseError('the served-row header is not UTF-8 JSON', error);
  }
  if (typeof header !== 'object' || header === null || !Array.isArray(header.n) || header.n.length !== 5 || !header.n.every((n) => Number.isInteger(n) && n >= 0)) {
    throw parseError('the served-row header lacks its array lengths');
  }
  let at = (6 + headLength + 3) & ~3;
  const take = <T extends Int32Array | Float32Array>(ctor: { new (buffer: ArrayBuffer): T }, n: number): T => {
    const end = at + n * 4;
    if (end > bytes.length) throw parseError('the served row is truncated');
    // A copy of our own, 4-byte aligned: `bytes` may be a view into a pooled Node Buffer (whose
    // `slice` would share memory, at any alignment).
    const copy = new Uint8Array(n * 4);
    copy.set(bytes.subarray(at, end));
    at = end;
    return new ctor(copy.buffer);
  };
  const [nIds, nValues, nDense, nSeq, nLen] = header.n;
  const row: ServedRow = {
    ...servedRowScalarsOf(header),
    ids: take(Int32Array, nIds),
    values: take(Float32Array, nValues),
    dense: take(Float32Array, nDense),
    sequenceIds: take(Int32Array, nSeq),
    sequenceLengths: take(Int32Array, nLen),
  };
  if (at !== bytes.length) throw parseError(`${bytes.length - at} bytes after the served row`);
  if (typeof row.eventId !== 'string' || row.eventId === '') throw parseError('the served row has no eventId');
  return { topic, row };
}
