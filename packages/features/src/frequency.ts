/**
 * Exact impression counts in sliding windows (see `FrequencyOptions`): per key, the times of its
 * newest impressions, oldest first, at most `limit` of them. A count at `now` over a window of
 * `ms` is the number of kept times t with now − ms < t < now — exact while it is below `limit`,
 * which is all a cap of at most `limit` needs. The Redis store keeps the same thing in a sorted
 * set per key (`FREQUENCY_RECORD_SCRIPT`), so the two stores agree.
 *
 * @internal
 */

/** @internal The newest impressions of one key: times ascending, with their event ids. */
export class ImpressionRing {
  readonly times: number[] = [];
  readonly ids: string[] = [];
}

/**
 * @internal Adds one impression. A duplicate event id already kept is ignored; an impression
 * older than every kept one when the ring is full changes nothing (the newest `limit` stay).
 */
export function ringRecord(ring: ImpressionRing, time: number, eventId: string, limit: number): void {
  const { times, ids } = ring;
  for (let i = ids.length - 1; i >= 0; i--) if (ids[i] === eventId) return;
  if (times.length >= limit && time <= (times[0] as number)) return;
  let at = times.length;
  while (at > 0 && (times[at - 1] as number) > time) at--;
  times.splice(at, 0, time);
  ids.splice(at, 0, eventId);
  if (times.length > limit) {
    times.shift();
    ids.shift();
  }
}

/** @internal How many kept impressions are in (now − ms, now). */
export function ringCount(ring: ImpressionRing | undefined, now: number, ms: number): number {
  if (ring === undefined) return 0;
  const times = ring.times;
  const since = now - ms;
  let count = 0;
  for (let i = times.length - 1; i >= 0; i--) {
    const t = times[i] as number;
    if (t >= now) continue;
    if (t <= since) break;
    count++;
  }
  return count;
}
