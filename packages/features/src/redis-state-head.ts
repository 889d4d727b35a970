/**
 * States read with a plain `MGET` turned into the blocks the lookup script's READ hands over
 * (see redis-lua.ts), so the user's keys need no Lua in the common case. Redis's Lua costs about
 * 2 µs per absent key and 4 µs per present one (building the name, the call, `struct.unpack`,
 * `string.sub`); a native `MGET` of the same ninety keys takes about 20 µs, and the head of a
 * state is copied here instead. A key with pending events at or after `now` needs its pending
 * set, read atomically with the state: the caller then asks the script for that hash tag.
 *
 * @internal
 */
import { CtrkitError } from '@ctrkit/core';
import { NEVER, sessionAt } from './counters.js';
import type { StoreConfig } from './store.js';

/**
 * Room for a whole state of the usual size, aligned (a state ends with its request's bytes, whose
 * length an event sets, so it is never grown to fit one): 4 KiB, where a head of 16 windows is
 * 440 bytes.
 */
const STATE_DOUBLES = new Float64Array(512);
const STATE_BYTES = new Uint8Array(STATE_DOUBLES.buffer);

/** An aligned copy of the first `headBytes` of `raw`: its doubles readable as `STATE_DOUBLES`. */
function alignedCopy(raw: Buffer, headBytes: number): Float64Array {
  // The whole state when it fits: `set` of a whole typed array makes no view (Buffer#copy of a
  // range made one per key, a twelfth of what a cluster lookup allocated). A longer state (a long
  // request id) copies its head only.
  if (raw.length <= STATE_BYTES.length) STATE_BYTES.set(raw);
  else raw.copy(STATE_BYTES, 0, 0, headBytes);
  return STATE_DOUBLES;
}

/** Doubles in a stored state before its request bytes (ND in redis-lua.ts): 18 + 9W. */
function stateDoubles(windows: number): number {
  return 18 + 9 * windows;
}

/**
 * Writes the block of each state `raws[start + i]` (from `MGET`, `null` when absent) at the key
 * index `group[i]` of `decoded`, as the script's READ would: −1 absent; −2 and F when the lookup would
 * leak folded events; else the head as stored. Stops at the first state with pending events at
 * or after `now` (N ≥ now), which only the script can answer.
 *
 * @returns `true` when every state was answered here, `false` when the caller must ask the script.
 * @throws `CtrkitError` `E_CONFIG` when a state was written with another number of windows.
 * @remarks Allocates nothing.
 */
export function decodeStateHeads(config: StoreConfig, raws: readonly (Buffer | null)[], start: number, group: readonly number[], block: number, now: number, decoded: Float64Array, keyName: (i: number) => string): boolean {
  const W = config.windows.length;
  const minBytes = 8 * stateDoubles(W);
  const head = 7 + 3 * W;
  for (let i = 0; i < group.length; i++) {
    const raw = raws[start + i];
    const base = (group[i] as number) * block;
    if (raw === null || raw === undefined) {
      decoded[base] = -1;
      continue;
    }
    if (raw.length < minBytes || raw.readDoubleLE(0) !== W) {
      throw new CtrkitError('E_CONFIG', `redis store: key ${keyName(group[i] as number)} was written with another number of windows; use the windows the keys were written with, or another prefix`);
    }
    const R = raw.readDoubleLE(8);
    const F = raw.readDoubleLE(16);
    const N = raw.readDoubleLE(24);
    if (now <= F || now < R - config.readFloorMs) {
      decoded[base] = -2;
      decoded[base + 1] = F;
      continue;
    }
    if (!(now > N)) return false;
    // One native copy into an aligned buffer, then typed reads: the reply's slices sit at any
    // byte offset, and readDoubleLE per double cost more (about 0.2 µs a key).
    const doubles = alignedCopy(raw, 8 * head);
    for (let d = 0; d < head; d++) decoded[base + d] = doubles[d] as number;
  }
  return true;
}

/**
 * The user's session as of `now` from its state (`null` when absent) into `out`, as the script
 * answers it when every event is before `now`: the live session kept in the state, nothing to
 * replay. Call only after {@link decodeStateHeads} answered the user's state.
 *
 * @remarks Allocates one small object (the folded session `sessionAt` takes).
 */
export function decodeLiveSession(config: StoreConfig, raw: Buffer | null, now: number, out: Float64Array): void {
  if (raw === null) {
    sessionAt(now, config.gapMs, { start: NEVER, last: NEVER, pages: 0, request: '' }, NONE, NONE, NO_REQUESTS, out);
    return;
  }
  // The live session (start, last, pages) follows the folded one and its arrival counter: doubles L + 1 .. L + 3, L = 14 + 9W.
  const L = 14 + 9 * config.windows.length;
  sessionAt(now, config.gapMs, { start: raw.readDoubleLE(8 * L), last: raw.readDoubleLE(8 * (L + 1)), pages: raw.readDoubleLE(8 * (L + 2)), request: '' }, NONE, NONE, NO_REQUESTS, out);
}

const NONE = new Float64Array(0);
const NO_REQUESTS: readonly string[] = [];
