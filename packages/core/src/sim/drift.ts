/**
 * Drift of the synthetic world through its period: ad appeal that wanders, campaigns and
 * creatives that launch part-way (cold start), users whose tastes shift. Every effect is off
 * unless asked for, and each draws from its own forked random stream, so a world without drift
 * is bit-identical to one built before drift existed. The truth stays exact: the click logit is
 * a function of the impression's time, and the generator reports it.
 */
import { ensure } from '../errors.js';
import type { Random } from '../random.js';

const HOUR_MS = 3_600_000;
/** Knot spacing of the appeal walk: fine enough that linear interpolation looks smooth at the default timescale. */
const APPEAL_STEP_MS = 30 * 60_000;

/** Ad appeal that wanders: each ad's click logit gains a mean-reverting random walk
 * (Ornstein–Uhlenbeck), sampled every 30 minutes and interpolated linearly between samples.
 *
 * @example
 * ```ts
 * import type { SimAppealDrift } from '@ctrkit/core/sim';
 * const drift: SimAppealDrift = { sd: 0.4, timescaleMs: 12 * 3_600_000 };
 * ```
 */
export interface SimAppealDrift {
  /** Stationary standard deviation of each ad's appeal offset, in logit units (0.4 moves an ad's CTR by about ±50% at one sd). */
  readonly sd: number;
  /** Correlation time of the walk, ms (default 12 h): appeal an hour apart is nearly the same, a day apart nearly independent. */
  readonly timescaleMs?: number;
}

/** Campaigns and creatives that launch during the period: not servable before their `launchAt`.
 *
 * @example
 * ```ts
 * import type { SimLaunches } from '@ctrkit/core/sim';
 * const launches: SimLaunches = { campaigns: 0.2, creatives: 0.1, window: [0.5, 0.8] };
 * ```
 */
export interface SimLaunches {
  /** Share of campaigns that launch during the period, with all their creatives (default 0). */
  readonly campaigns?: number;
  /** Share of the creatives of the other campaigns that launch during the period (default 0). */
  readonly creatives?: number;
  /** When launches happen, as fractions [from, to) of the period, uniformly (default [0.25, 0.75]). */
  readonly window?: readonly [number, number];
}

/** Users whose tastes shift: their latent category affinities move, once, from the old ones
 * towards new ones, over `rampMs` from a time drawn in `window`. Their declared interests and
 * history stay as they were — only clicks reveal the change.
 *
 * @example
 * ```ts
 * import type { SimTasteShift } from '@ctrkit/core/sim';
 * const tastes: SimTasteShift = { users: 0.3, strength: 0.8, shared: 0.5, rampMs: 2 * 3_600_000 };
 * ```
 */
export interface SimTasteShift {
  /** Share of users whose tastes shift during the period. */
  readonly users: number;
  /** How far they move: 0 keeps the old tastes, 1 ends at new, independent ones (default 0.8). The new tastes have the same spread as the old. */
  readonly strength?: number;
  /**
   * How much of the move all shifting users share (default 0: each goes their own way; 1: all
   * move towards the same new tastes — a trend, which a model can learn from any of them).
   */
  readonly shared?: number;
  /** How long one shift takes, ms (default 3 h). */
  readonly rampMs?: number;
  /** When shifts start, as fractions [from, to) of the period, uniformly (default [0.25, 0.75]). */
  readonly window?: readonly [number, number];
}

/** How the world changes through its period; every part is off when absent.
 *
 * @example
 * ```ts
 * import { createTrafficGenerator, type SimDriftOptions } from '@ctrkit/core/sim';
 * const drift: SimDriftOptions = {
 *   appeal: { sd: 0.4 },
 *   launches: { campaigns: 0.2, window: [0.5, 0.8] },
 *   tastes: { users: 0.3 },
 * };
 * const generator = createTrafficGenerator({ seed: 1, users: 1_000, durationMs: 2 * 86_400_000, drift });
 * ```
 */
export interface SimDriftOptions {
  /** Ad appeal that wanders through time. */
  readonly appeal?: SimAppealDrift;
  /** Campaigns and creatives launched part-way through the period. */
  readonly launches?: SimLaunches;
  /** Users whose tastes shift. */
  readonly tastes?: SimTasteShift;
}

/** @internal The simulated period. */
export interface SimPeriod {
  readonly startTime: number;
  readonly durationMs: number;
}

/** @internal What the truth reads of the drift. */
export interface DriftState {
  readonly startTime: number;
  /** Appeal walk, `[ad × knots]`, or undefined when off. */
  readonly appeal: { readonly knots: number; readonly values: Float64Array } | undefined;
  /** Taste shifts, or undefined when off. */
  readonly tastes:
    | {
        /** Per user: when the shift starts (ms), NaN for users who keep their tastes. */
        readonly start: Float64Array;
        readonly rampMs: number;
        /** `[user × latent]` where shifting users end up. */
        readonly target: Float64Array;
      }
    | undefined;
}

function checkShare(name: string, value: number): void {
  ensure(Number.isFinite(value) && value >= 0 && value <= 1, 'E_CONFIG', () => `sim drift: ${name} must lie in [0, 1], got ${value}`);
}

function checkWindow(name: string, window: readonly [number, number]): void {
  const [from, to] = window;
  ensure(from >= 0 && to <= 1 && from < to, 'E_CONFIG', () => `sim drift: ${name} must satisfy 0 ≤ from < to ≤ 1, got [${from}, ${to}]`);
}

/** @internal Validates drift options once, when the world is built. */
export function checkDrift(drift: SimDriftOptions): void {
  if (drift.appeal !== undefined) {
    const { sd, timescaleMs = 12 * HOUR_MS } = drift.appeal;
    ensure(Number.isFinite(sd) && sd >= 0, 'E_CONFIG', () => `sim drift: appeal.sd must be ≥ 0, got ${sd}`);
    ensure(Number.isFinite(timescaleMs) && timescaleMs > 0, 'E_CONFIG', () => `sim drift: appeal.timescaleMs must be > 0, got ${timescaleMs}`);
  }
  if (drift.launches !== undefined) {
    checkShare('launches.campaigns', drift.launches.campaigns ?? 0);
    checkShare('launches.creatives', drift.launches.creatives ?? 0);
    checkWindow('launches.window', drift.launches.window ?? [0.25, 0.75]);
  }
  if (drift.tastes !== undefined) {
    const { users, strength = 0.8, shared = 0, rampMs = 3 * HOUR_MS, window = [0.25, 0.75] } = drift.tastes;
    checkShare('tastes.users', users);
    checkShare('tastes.strength', strength);
    checkShare('tastes.shared', shared);
    ensure(Number.isFinite(rampMs) && rampMs > 0, 'E_CONFIG', () => `sim drift: tastes.rampMs must be > 0, got ${rampMs}`);
    checkWindow('tastes.window', window);
  }
}

/** @internal Samples each ad's appeal walk over the period. */
export function buildAppeal(appeal: SimAppealDrift, ads: number, period: SimPeriod, random: Random): DriftState['appeal'] {
  const { sd, timescaleMs = 12 * HOUR_MS } = appeal;
  const knots = Math.ceil(period.durationMs / APPEAL_STEP_MS) + 1;
  const values = new Float64Array(ads * knots);
  const rho = Math.exp(-APPEAL_STEP_MS / timescaleMs);
  const innovation = sd * Math.sqrt(1 - rho * rho);
  for (let a = 0; a < ads; a++) {
    let x = random.normal() * sd; // start in the stationary distribution
    for (let k = 0; k < knots; k++) {
      values[a * knots + k] = x;
      x = rho * x + innovation * random.normal();
    }
  }
  return { knots, values };
}

/** @internal Ad `index`'s appeal offset at time `t` (clamped to the period). */
export function appealAt(state: DriftState, index: number, t: number): number {
  const appeal = state.appeal;
  if (appeal === undefined) return 0;
  const position = Math.min(appeal.knots - 1, Math.max(0, (t - state.startTime) / APPEAL_STEP_MS));
  const k = Math.min(appeal.knots - 2, Math.floor(position));
  if (k < 0) return appeal.values[index * appeal.knots] as number;
  const w = position - k;
  const base = index * appeal.knots + k;
  return (1 - w) * (appeal.values[base] as number) + w * (appeal.values[base + 1] as number);
}

/** @internal Draws which users shift, when, and to what. */
export function buildTastes(tastes: SimTasteShift, oldLatent: (user: number) => Float64Array, users: number, latent: number, period: SimPeriod, random: Random): DriftState['tastes'] {
  const { users: share, strength = 0.8, shared = 0, rampMs = 3 * HOUR_MS, window = [0.25, 0.75] } = tastes;
  const start = new Float64Array(users).fill(Number.NaN);
  const target = new Float64Array(users * latent);
  // Keep the old tastes' spread: target = ρ·old + √(1−ρ²)·fresh, with fresh drawn like old (sd 0.7)
  // and made of a part common to every shifting user and a part of their own.
  const rho = Math.cos((strength * Math.PI) / 2);
  const across = Math.sqrt(1 - rho * rho);
  const common = Float64Array.from({ length: latent }, () => random.normal() * 0.7);
  const commonShare = Math.sqrt(shared);
  const ownShare = Math.sqrt(1 - shared);
  for (let u = 0; u < users; u++) {
    const shifts = random.next() < share;
    const at = period.startTime + (window[0] + random.next() * (window[1] - window[0])) * period.durationMs;
    const old = oldLatent(u);
    for (let d = 0; d < latent; d++) {
      const fresh = commonShare * (common[d] as number) + ownShare * random.normal() * 0.7;
      target[u * latent + d] = rho * (old[d] as number) + across * fresh;
    }
    if (shifts) start[u] = at;
  }
  return { start, rampMs, target };
}

/** @internal How far user `u` has moved towards their new tastes at time `t`, in [0, 1]. */
export function tasteWeight(state: DriftState, u: number, t: number): number {
  const tastes = state.tastes;
  if (tastes === undefined) return 0;
  const start = tastes.start[u] as number;
  if (!(t > start)) return 0; // NaN (no shift) or before it
  return Math.min(1, (t - start) / tastes.rampMs);
}

/** @internal Launch times per campaign and per ad (undefined = live from the start), at least one ad of each format live from the start. */
export function drawLaunches(
  launches: SimLaunches,
  campaigns: readonly { readonly id: string }[],
  ads: readonly { readonly campaignId: string; readonly format: string }[],
  period: SimPeriod,
  random: Random,
): { campaigns: (number | undefined)[]; ads: (number | undefined)[] } {
  const { campaigns: campaignShare = 0, creatives: creativeShare = 0, window = [0.25, 0.75] } = launches;
  const timeIn = () => Math.floor(period.startTime + (window[0] + random.next() * (window[1] - window[0])) * period.durationMs);
  const byCampaign = new Map<string, number | undefined>();
  const campaignTimes = campaigns.map((c) => {
    const at = random.next() < campaignShare ? timeIn() : undefined;
    byCampaign.set(c.id, at);
    return at;
  });
  const adTimes = ads.map((ad) => {
    const campaignAt = byCampaign.get(ad.campaignId);
    if (campaignAt !== undefined) {
      // A creative of a launched campaign launches with it or a little later.
      return campaignAt + Math.floor(random.next() * 0.02 * period.durationMs);
    }
    return random.next() < creativeShare ? timeIn() : undefined;
  });
  // Every format keeps one ad live from the start, or its slots could not be filled.
  const formats = new Set(ads.map((ad) => ad.format));
  for (const format of formats) {
    const indices = ads.flatMap((ad, i) => (ad.format === format ? [i] : []));
    if (indices.every((i) => adTimes[i] !== undefined)) {
      const first = indices[0] as number;
      adTimes[first] = undefined;
      const campaign = campaigns.findIndex((c) => c.id === (ads[first] as { campaignId: string }).campaignId);
      campaignTimes[campaign] = undefined;
    }
  }
  return { campaigns: campaignTimes, ads: adTimes };
}
