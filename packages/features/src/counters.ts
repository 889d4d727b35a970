/**
 * Decayed, point-in-time-correct event counters for one key (a user, an ad, a user × ad pair …).
 *
 * For every window τ and event type the value at time t is Σ exp(−(t − tₑ)/τ) over events with
 * tₑ < t. It is kept as formal sums relative to a reference time R — D for folded events, S for
 * pending ones — so that value(t) = exp(−(t − R)/τ) · (D + S) with no per-event work at read
 * time. The newest events stay pending (unfolded, in time order) so a lookup at t can leave out
 * those at or after t; once folded, an event can no longer be left out, and a lookup earlier than
 * the newest folded event (F) is refused. R moves forward when events get far ahead of it, so
 * exp() never overflows. The Lua scripts of the Redis store implement the same steps.
 *
 * @internal
 */
import type { StoreConfig } from './store.js';

/** @internal Times before anything happened. */
export const NEVER = -1e300;

/** @internal The counters of one key. */
export class KeyState {
  /** Reference time of the sums. */
  R: number;
  /** Newest folded event time. */
  F = NEVER;
  /** Newest event time. */
  N = NEVER;
  /** Last folded event time per type. */
  readonly lastFolded = new Float64Array(3).fill(NEVER);
  /** Last event time per type. */
  readonly lastAll = new Float64Array(3).fill(NEVER);
  /** Folded sums, [type × W + w]. */
  readonly D: Float64Array;
  /** Pending sums, [type × W + w]. */
  readonly S: Float64Array;
  /** Pending events, oldest first. */
  readonly pendingTime: number[] = [];
  readonly pendingType: number[] = [];
  readonly pendingEvent: string[] = [];
  readonly pendingRequest: string[] = [];
  /** Folded session: start, last event, pages (impressions of distinct consecutive requests), last request. */
  sessionStart = NEVER;
  sessionLast = NEVER;
  sessionPages = 0;
  sessionRequest = '';

  constructor(windows: number, start: number) {
    this.R = start;
    this.D = new Float64Array(3 * windows);
    this.S = new Float64Array(3 * windows);
  }
}

/** @internal Advances a session by one event (events must come in time order for exact sessions). */
export function sessionStep(state: KeyState, time: number, type: number, request: string, gapMs: number): void {
  if (state.sessionLast === NEVER || time - state.sessionLast > gapMs) {
    state.sessionStart = time;
    state.sessionPages = 0;
    state.sessionRequest = '';
  }
  if (time > state.sessionLast) state.sessionLast = time;
  if (type === 0 && request !== state.sessionRequest) {
    state.sessionPages++;
    state.sessionRequest = request;
  }
}

function rebase(state: KeyState, to: number, config: StoreConfig): void {
  const { taus } = config;
  const W = taus.length;
  for (let w = 0; w < W; w++) {
    const ratio = Math.exp(-(to - state.R) / (taus[w] as number));
    for (let k = 0; k < 3; k++) {
      state.D[k * W + w] = (state.D[k * W + w] as number) * ratio;
      state.S[k * W + w] = (state.S[k * W + w] as number) * ratio;
    }
  }
  state.R = to;
}

function foldOldest(state: KeyState, config: StoreConfig, session: boolean): void {
  const time = state.pendingTime.shift() as number;
  const type = state.pendingType.shift() as number;
  state.pendingEvent.shift();
  const request = state.pendingRequest.shift() as string;
  const { taus } = config;
  const W = taus.length;
  for (let w = 0; w < W; w++) {
    const g = Math.exp((time - state.R) / (taus[w] as number));
    state.S[type * W + w] = (state.S[type * W + w] as number) - g;
    state.D[type * W + w] = (state.D[type * W + w] as number) + g;
  }
  // An empty pending list sums to exactly zero; reset it so subtraction errors do not linger.
  if (state.pendingTime.length === 0) state.S.fill(0);
  if (time > state.F) state.F = time;
  if (time > (state.lastFolded[type] as number)) state.lastFolded[type] = time;
  if (session) sessionStep(state, time, type, request, config.gapMs);
}

/** @internal Whether the key's pending events already hold this event (a duplicate delivery). */
export function hasPending(state: KeyState, eventId: string, type: number): boolean {
  const ids = state.pendingEvent;
  for (let i = ids.length - 1; i >= 0; i--) if (ids[i] === eventId && state.pendingType[i] === type) return true;
  return false;
}

/** @internal Counts one event into a key. */
export function recordInto(state: KeyState, time: number, type: number, eventId: string, request: string, config: StoreConfig, session: boolean): void {
  const { taus } = config;
  const W = taus.length;
  if (time - state.R > config.rebaseMs) rebase(state, time, config);
  if (time > state.N) state.N = time;
  if (time > (state.lastAll[type] as number)) state.lastAll[type] = time;
  if (time <= state.F) {
    // Late: older than events already folded. Fold it straight away (sums do not depend on order).
    for (let w = 0; w < W; w++) state.D[type * W + w] = (state.D[type * W + w] as number) + Math.exp((time - state.R) / (taus[w] as number));
    if (time > (state.lastFolded[type] as number)) state.lastFolded[type] = time;
    if (session) sessionStep(state, time, type, request, config.gapMs);
    return;
  }
  const times = state.pendingTime;
  // Insert after every event at or before `time` (usually at the end: events arrive nearly in order).
  let at = times.length;
  while (at > 0 && (times[at - 1] as number) > time) at--;
  times.splice(at, 0, time);
  state.pendingType.splice(at, 0, type);
  state.pendingEvent.splice(at, 0, eventId);
  state.pendingRequest.splice(at, 0, request);
  for (let w = 0; w < W; w++) state.S[type * W + w] = (state.S[type * W + w] as number) + Math.exp((time - state.R) / (taus[w] as number));
  const oldest = state.N - config.horizonMs;
  while (times.length > config.capacity || (times.length > 0 && (times[0] as number) < oldest)) foldOldest(state, config, session);
}

/**
 * @internal Reads a key's counters at `now` into `counts` (3 × W: imp, click, conv per window) and
 * returns the last impression and click times through `last`. Returns false when `now` is not
 * after the newest folded event (the answer would include events at or after `now`), or lies so
 * far before the key's reference time that exp() would overflow.
 */
export function readCounters(state: KeyState, now: number, config: StoreConfig, counts: Float64Array, last: Float64Array): boolean {
  if (now <= state.F || now < state.R - config.readFloorMs) return false;
  const { taus } = config;
  const W = taus.length;
  if (now > state.N) {
    for (let w = 0; w < W; w++) {
      const factor = Math.exp(-(now - state.R) / (taus[w] as number));
      for (let k = 0; k < 3; k++) counts[k * W + w] = factor * ((state.D[k * W + w] as number) + (state.S[k * W + w] as number));
    }
    last[0] = state.lastAll[0] as number;
    last[1] = state.lastAll[1] as number;
    return true;
  }
  // Some pending events are at or after `now`: add only the earlier ones.
  for (let i = 0; i < 3 * W; i++) counts[i] = state.D[i] as number;
  last[0] = state.lastFolded[0] as number;
  last[1] = state.lastFolded[1] as number;
  const times = state.pendingTime;
  for (let i = 0; i < times.length; i++) {
    const time = times[i] as number;
    if (time >= now) break;
    const type = state.pendingType[i] as number;
    for (let w = 0; w < W; w++) counts[type * W + w] = (counts[type * W + w] as number) + Math.exp((time - state.R) / (taus[w] as number));
    if (type < 2 && time > (last[type] as number)) last[type] = time;
  }
  for (let w = 0; w < W; w++) {
    const factor = Math.exp(-(now - state.R) / (taus[w] as number));
    for (let k = 0; k < 3; k++) counts[k * W + w] = factor * (counts[k * W + w] as number);
  }
  return true;
}

/**
 * @internal The session at `now` from a folded session (start, last event, pages, last request)
 * and the pending events after it (times ascending, with types and request ids): `[seconds since
 * it began, pages]`, zeros when no session is open. Both stores call this, so they agree.
 */
export function sessionAt(
  now: number,
  gapMs: number,
  folded: { start: number; last: number; pages: number; request: string },
  times: ArrayLike<number>,
  types: ArrayLike<number>,
  requests: ArrayLike<string>,
  out: Float64Array,
): void {
  let start = folded.start;
  let lastTime = folded.last;
  let pages = folded.pages;
  let request = folded.request;
  for (let i = 0; i < times.length; i++) {
    const time = times[i] as number;
    if (time >= now) break;
    if (lastTime === NEVER || time - lastTime > gapMs) {
      start = time;
      pages = 0;
      request = '';
    }
    if (time > lastTime) lastTime = time;
    const req = requests[i] as string;
    if (types[i] === 0 && req !== request) {
      pages++;
      request = req;
    }
  }
  if (lastTime === NEVER || now - lastTime > gapMs) {
    out[0] = 0;
    out[1] = 0;
  } else {
    out[0] = (now - start) / 1000;
    out[1] = pages;
  }
}

/** @internal The session of a key at `now` (see {@link sessionAt}). */
export function readSession(state: KeyState, now: number, config: StoreConfig, out: Float64Array): void {
  sessionAt(
    now,
    config.gapMs,
    { start: state.sessionStart, last: state.sessionLast, pages: state.sessionPages, request: state.sessionRequest },
    state.pendingTime,
    state.pendingType,
    state.pendingRequest,
    out,
  );
}
