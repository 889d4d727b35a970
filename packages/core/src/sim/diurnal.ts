/**
 * When synthetic traffic happens: a diurnal shape over the UTC hour (users span time zones),
 * timestamps drawn from it across a period, and a user's local hour from their country.
 */

/** @internal Milliseconds in a day. */
export const DAY_MS = 86_400_000;

/** @internal Each country's offset from UTC in minutes (no daylight saving). */
export const TIMEZONES: Readonly<Record<string, number>> = {
  US: -300, GB: 0, DE: 60, FR: 60, ES: 60, IT: 60, BR: -180, IN: 330, JP: 540, CA: -300,
};

/** Diurnal traffic shape (UTC hour): highest near 21:00, lowest near 09:00 (users span time zones). */
function trafficIntensity(hour: number): number {
  return 1 + 0.7 * Math.sin((2 * Math.PI * (hour - 15)) / 24);
}

/**
 * The inverse CDF of the diurnal shape over `[startTime, startTime + durationMs)`, at one-minute
 * resolution and linear within a minute.
 *
 * @param startTime - Start of the period, ms since epoch.
 * @param durationMs - Its length.
 * @returns A function from a fraction of the traffic in [0, 1) to the timestamp by which that
 * fraction has arrived.
 * @internal
 */
export function createTimeSampler(startTime: number, durationMs: number): (fraction: number) => number {
  const minutes = Math.max(1, Math.ceil(durationMs / 60_000));
  const timeCdf = new Float64Array(minutes);
  let mass = 0;
  for (let m = 0; m < minutes; m++) {
    const hour = (((startTime + m * 60_000) % DAY_MS) + DAY_MS) % DAY_MS / 3_600_000;
    mass += trafficIntensity(hour);
    timeCdf[m] = mass;
  }
  return (fraction: number): number => {
    const target = fraction * mass;
    let lo = 0;
    let hi = minutes - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((timeCdf[mid] as number) >= target) hi = mid;
      else lo = mid + 1;
    }
    const before = lo === 0 ? 0 : (timeCdf[lo - 1] as number);
    const within = ((target - before) / ((timeCdf[lo] as number) - before)) * 60_000;
    return Math.min(startTime + durationMs - 1, startTime + lo * 60_000 + within);
  };
}

/**
 * The local hour, with fractions, of `timestamp` in `country`.
 *
 * @param timestamp - ms since epoch.
 * @param country - A country code of {@link TIMEZONES} (others are taken as UTC).
 * @returns The hour in [0, 24).
 * @internal
 */
export function localHourOf(timestamp: number, country: string): number {
  const offset = TIMEZONES[country] ?? 0;
  const local = timestamp + offset * 60_000;
  return (((local % DAY_MS) + DAY_MS) % DAY_MS) / 3_600_000;
}
