/**
 * The lookup scripts' answers turned into a lookup's rows: the binary reply of little-endian
 * doubles (per key, the state head or a marker and what it says), the session folded in Redis
 * with the events pending after it replayed here, and the exact impression counts. Redis's Lua is
 * slow at arithmetic, so the decay and the ratios are computed here.
 *
 * @internal
 */
import { CtrkitError } from '@ctrkit/core';
import { NEVER, sessionAt } from './counters.js';
import { STORE_ENTITIES, writeEmptyEntity, type StoreConfig } from './store.js';

const decoder = new TextDecoder('utf-8');

/**
 * Decodes one script reply into `decoded` (a `block` of doubles per key, at the indices of
 * `group`) and, `withSession`, the user's session as of `now` into `session`.
 *
 * @throws `CtrkitError` `E_STORE` when the reply does not have the shape this version's script gives.
 */
export function decodeReply(config: StoreConfig, answer: Buffer[], group: readonly number[], withSession: boolean, block: number, now: number, decoded: Float64Array, session: Float64Array): void {
  const reply = answer[0];
  if (!Array.isArray(answer) || reply === undefined) throw new CtrkitError('E_STORE', 'redis store: lookup answered no data; is another version of the script loaded?');
  const view = new DataView(reply.buffer, reply.byteOffset, reply.byteLength);
  const blocksBytes = 8 * group.length * block;
  if (reply.length < blocksBytes + (withSession ? 40 : 0) || (!withSession && reply.length !== blocksBytes)) {
    throw new CtrkitError('E_STORE', `redis store: lookup answered ${reply.length} bytes for ${group.length} keys; is another version of the script loaded?`);
  }
  let at = 0;
  for (const k of group) {
    const base = k * block;
    for (let d = 0; d < block; d++, at += 8) decoded[base + d] = view.getFloat64(at, true);
  }
  if (withSession) replaySession(config.gapMs, reply, view, at, answer, now, session);
  else if (answer.length !== 1) throw new CtrkitError('E_STORE', 'redis store: lookup answered a session it was not asked for; is another version of the script loaded?');
}

/** Reads the folded session at the end of the packed reply and the pending events after it, and replays them. */
function replaySession(gapMs: number, reply: Buffer, view: DataView, at: number, answer: readonly Buffer[], now: number, out: Float64Array): void {
  if (reply.length < at + 40) throw new CtrkitError('E_STORE', 'redis store: lookup answered no session; is another version of the script loaded?');
  const replay = view.getFloat64(at, true);
  const start = view.getFloat64(at + 8, true);
  const last = view.getFloat64(at + 16, true);
  const pages = view.getFloat64(at + 24, true);
  const requestLength = view.getFloat64(at + 32, true);
  if (at + 40 + requestLength !== reply.length || (replay === 0 && answer.length !== 1)) {
    throw new CtrkitError('E_STORE', `redis store: lookup's session section does not add up (${reply.length} bytes, ${answer.length - 1} pending); is another version of the script loaded?`);
  }
  const request = decoder.decode(reply.subarray(at + 40));
  // Pending members of the session key: 12 hex digits of arrival order, the type digit, the request id.
  const count = (answer.length - 1) / 2;
  const times = new Float64Array(count);
  const types = new Float64Array(count);
  const requests: string[] = new Array<string>(count);
  for (let i = 0; i < count; i++) {
    const member = answer[1 + 2 * i] as Buffer;
    types[i] = (member[12] as number) - 48;
    requests[i] = decoder.decode(member.subarray(13));
    times[i] = Number((answer[2 + 2 * i] as Buffer).toString('latin1'));
  }
  sessionAt(now, gapMs, { start, last, pages, request }, times, types, requests, out);
}

/**
 * Turns the decoded per-key answers (`keyCount` keys, named by `keyName` in messages) into the
 * lookup's rows; `blocks` (at least `keyCount × entityWidth` doubles) is scratch.
 */
export function fillRows(config: StoreConfig, values: Float32Array, rows: number, now: number, keyName: (i: number) => string, keyCount: number, decoded: Float64Array, keyOf: Int32Array, session: Float64Array, blocks: Float64Array): void {
  const { taus, alpha, beta, entityWidth: E } = config;
  const W = taus.length;
  const block = 8 + 3 * W;
  const width = config.names.length;
  const prior = alpha / (alpha + beta);
  const counts = new Float64Array(3 * W);
  for (let i = 0; i < keyCount; i++) {
    const at = i * block;
    // The first double: W when the state head follows, else −1 absent, −2 leak, −3 decayed counts.
    const first = decoded[at] as number;
    let p = i * E;
    if (first === -1) {
      writeEmptyEntity(blocks, p, W, prior);
      continue;
    }
    if (first === -2) {
      const key = keyName(i);
      throw new CtrkitError(
        'E_INPUT',
        `store.lookup at ${now} for ${key}: events at or after that time are already folded into its counters (up to ${decoded[at + 1]}), so the answer would leak them; look up in time order, or raise pendingCapacity / horizonMs`,
        { details: { key, now, folded: decoded[at + 1] } },
      );
    }
    let lastImp: number;
    let lastClick: number;
    if (first === W) {
      // The state head: [W, R, F, N, last imp, last click, last conv, T…]; decay T to now, as the memory store does D + S.
      const R = decoded[at + 1] as number;
      for (let w = 0; w < W; w++) {
        const factor = Math.exp(-(now - R) / (taus[w] as number));
        for (let k = 0; k < 3; k++) counts[k * W + w] = factor * (decoded[at + 7 + k * W + w] as number);
      }
      lastImp = decoded[at + 4] as number;
      lastClick = decoded[at + 5] as number;
    } else if (first === -3) {
      // The script added the pending events before now itself.
      for (let j = 0; j < 3 * W; j++) counts[j] = decoded[at + 1 + j] as number;
      lastImp = decoded[at + 1 + 3 * W] as number;
      lastClick = decoded[at + 2 + 3 * W] as number;
    } else {
      throw new CtrkitError('E_STORE', `redis store: lookup answered a block starting ${first} for ${keyName(i)}; is another version of the script loaded?`);
    }
    for (let w = 0; w < W; w++) {
      const imp = counts[w] as number;
      const click = counts[W + w] as number;
      blocks[p++] = imp;
      blocks[p++] = click;
      blocks[p++] = counts[2 * W + w] as number;
      blocks[p++] = (click + alpha) / (imp + alpha + beta);
    }
    blocks[p++] = lastImp === NEVER ? Number.NaN : (now - lastImp) / 1000;
    blocks[p] = lastClick === NEVER ? Number.NaN : (now - lastClick) / 1000;
  }
  const sessionColumn = STORE_ENTITIES.length * E;
  // Plain loops, not values.set(blocks.subarray(…)): five views a row were a third of the bytes
  // a lookup allocated (100 rows: 500 views), and GC pauses feed the tail.
  for (let r = 0; r < rows; r++) {
    const p = r * width;
    for (let j = 0; j < E; j++) values[p + j] = blocks[j] as number;
    for (let e = 0; e < 4; e++) {
      const from = (keyOf[4 * r + e] as number) * E;
      const to = p + (e + 1) * E;
      for (let j = 0; j < E; j++) values[to + j] = blocks[from + j] as number;
    }
    values[p + sessionColumn] = session[0] as number;
    values[p + sessionColumn + 1] = session[1] as number;
  }
}

/** Writes each row's exact impression counts (user, user × ad, × campaign, × advertiser) from the script's answer. */
export function fillFrequency(config: StoreConfig, values: Float32Array, rows: number, keyOf: Int32Array, size: number, counts: readonly number[]): void {
  const frequency = config.frequency as NonNullable<StoreConfig['frequency']>;
  const Wf = frequency.ms.length;
  const width = config.names.length;
  if (!Array.isArray(counts) || counts.length !== Wf * size) {
    throw new CtrkitError('E_STORE', `redis store: the frequency lookup answered ${Array.isArray(counts) ? counts.length : typeof counts} counts; is another version of the script loaded?`);
  }
  for (let r = 0; r < rows; r++) {
    const at = r * width + frequency.column;
    for (let w = 0; w < Wf; w++) values[at + w] = counts[w] as number;
    for (let e = 0; e < 3; e++) {
      const k = keyOf[3 * r + e] as number;
      for (let w = 0; w < Wf; w++) values[at + (e + 1) * Wf + w] = counts[k * Wf + w] as number;
    }
  }
}
