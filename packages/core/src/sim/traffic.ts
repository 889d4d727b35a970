/**
 * Synthetic ad traffic over a world: requests with many candidates, shown impressions with
 * sampled clicks and conversions, and the true probabilities behind every one of them.
 */
import { CtrkitError, ensure } from '../errors.js';
import { createRandom, type Random } from '../random.js';
import type { AdEvent } from '../types/events.js';
import type { AdCandidate, AdFormat, AdRequest, AdSlot, UserProfile } from '../types/request.js';
import { interceptForBaseRate } from './base-rate.js';
import { clickLogit, conversionProbability as trueConversion } from './click-model.js';
import { createTimeSampler, DAY_MS, localHourOf, TIMEZONES } from './diurnal.js';
import { drawWeighted, zipfCumulative } from './draws.js';
import type { SimDriftOptions } from './drift.js';
import type { SimAd, SimAdvertiser, SimCampaign, SimPublisher, SimUser } from './entities.js';
import { candidateOf, profileOf } from './request-parts.js';
import { buildWorld, type SimWorld, type SimWorldOptions } from './world.js';

/** Options for {@link createTrafficGenerator}.
 *
 * @example
 * ```ts
 * import type { TrafficGeneratorOptions } from '@ctrkit/core/sim';
 * const options: TrafficGeneratorOptions = { seed: 3, candidatesPerRequest: 50, startTime: Date.UTC(2026, 0, 5) };
 * ```
 */
export interface TrafficGeneratorOptions extends SimWorldOptions {
  /** Candidates per request (default 20; capped by the ads of the slot's format). */
  readonly candidatesPerRequest?: number;
  /** Slots per page (default 3). */
  readonly slotsPerRequest?: number;
  /** Start of the simulated period, ms since epoch (default Monday 2026-01-05 00:00 UTC). */
  readonly startTime?: number;
  /** Length of the simulated period, ms (default one day). */
  readonly durationMs?: number;
}

/** A request plus the hidden truth about it.
 *
 * @example
 * ```ts
 * import { createTrafficGenerator } from '@ctrkit/core/sim';
 * const generator = createTrafficGenerator({ users: 100 });
 * for (const { request, pClick } of generator.requests({ count: 1 })) console.log(request.candidates.length === pClick.length);
 * ```
 */
export interface SimRequest {
  /** The request, as an ad server would receive it. */
  readonly request: AdRequest;
  /** True click probability of each candidate at position 0. */
  readonly pClick: Float64Array;
}

/** One shown ad with its true click probability and sampled outcome: a row of a training log.
 *
 * @example
 * ```ts
 * import { createTrafficGenerator } from '@ctrkit/core/sim';
 * const generator = createTrafficGenerator({ users: 100 });
 * for (const row of generator.impressions({ count: 2 })) console.log(row.clicked, row.pClick);
 * ```
 */
export interface SimImpression {
  /** A request holding exactly the shown ad as its one candidate, and the shown slot. */
  readonly request: AdRequest;
  /** The slot position it was shown at. */
  readonly position: number;
  /** True click probability. */
  readonly pClick: number;
  /** Whether it was clicked (drawn from `pClick`). */
  readonly clicked: boolean;
  /** True conversion probability given a click. */
  readonly pConversion: number;
  /** Whether it converted (only after a click). */
  readonly converted: boolean;
}

/** What happened when an ad was shown.
 *
 * @example
 * ```ts
 * import type { SimOutcome } from '@ctrkit/core/sim';
 * const clicks = (o: SimOutcome) => (o.clicked ? 1 : 0);
 * ```
 */
export interface SimOutcome {
  /** True click probability at that position. */
  readonly pClick: number;
  /** Whether it was clicked. */
  readonly clicked: boolean;
  /** Whether it converted. */
  readonly converted: boolean;
  /** The impression, click and conversion events, in time order. */
  readonly events: readonly AdEvent[];
}

/** Options for a stream of requests or impressions.
 *
 * @example
 * ```ts
 * import type { StreamOptions } from '@ctrkit/core/sim';
 * const options: StreamOptions = { count: 10_000, stream: 'train' };
 * ```
 */
export interface StreamOptions {
  /** How many to generate. */
  readonly count: number;
  /** A label for an independent random stream: the same label gives the same sequence (default `main`). */
  readonly stream?: string | number;
  /** Spread timestamps over this part of the period, as fractions [from, to) (default [0, 1)). */
  readonly timeRange?: readonly [number, number];
}

/**
 * Synthetic ad traffic with a known ground truth: users, ads, publishers with power-law
 * popularity, and a hidden click model with main effects, user × category interactions,
 * device × format, time-of-day and position effects. Deterministic by seed; streams lazily.
 * With `drift` ({@link SimDriftOptions}) the world changes through the period — ad appeal
 * wanders, campaigns and creatives launch part-way (never drawn before their `launchAt`),
 * users' tastes shift — and every probability it reports is the truth at the row's own time.
 *
 * @example
 * ```ts
 * import { createTrafficGenerator } from '@ctrkit/core/sim';
 * const generator = createTrafficGenerator({ seed: 1, users: 1_000 });
 * const [first] = generator.requests({ count: 1 });
 * ```
 */
export interface TrafficGenerator {
  /** Advertisers of the world. */
  readonly advertisers: readonly SimAdvertiser[];
  /** Campaigns, with bids and daily budgets. */
  readonly campaigns: readonly SimCampaign[];
  /** Ads (creatives). */
  readonly ads: readonly SimAd[];
  /** Publishers. */
  readonly publishers: readonly SimPublisher[];
  /** Number of users. */
  readonly userCount: number;
  /** Start of the simulated period. */
  readonly startTime: number;
  /** Length of the simulated period. */
  readonly durationMs: number;
  /** Requests with many candidates, in time order. */
  requests(options: StreamOptions): Generator<SimRequest>;
  /** Shown impressions with sampled clicks, in time order: a training log. */
  impressions(options: StreamOptions): Generator<SimImpression>;
  /** The true click probability of a candidate at a slot position, at the request's `context.timestamp`. */
  clickProbability(request: AdRequest, candidateIndex: number, position?: number): number;
  /** The true conversion probability, given a click, of a candidate. */
  conversionProbability(request: AdRequest, candidateIndex: number): number;
  /** Samples what happens when a candidate is shown: click, conversion, and their events. */
  outcome(request: AdRequest, candidateIndex: number, position: number, random: Random, cost?: { impression?: number; click?: number; conversion?: number }): SimOutcome;
  /** The user profile a request for this user would carry. */
  userProfile(userId: string): UserProfile;
}

/**
 * Creates a {@link TrafficGenerator}.
 *
 * @param options - World sizes, interaction strength, drift, period and request shape.
 * @returns The generator; building the world takes ~50 ms per 10,000 users.
 * @throws `CtrkitError` `E_CONFIG` on non-positive sizes, an empty period or drift options out of range.
 * @remarks Drift costs little: appeal is a table lookup per candidate, a taste shift one more
 *   4-term dot product for a shifting user, launches a rejected draw now and then.
 * @example
 * ```ts
 * import { createTrafficGenerator } from '@ctrkit/core/sim';
 * import { evaluate } from '@ctrkit/core';
 * const generator = createTrafficGenerator({ seed: 42, users: 2_000 });
 * const labels: number[] = [];
 * const truth: number[] = [];
 * for (const row of generator.impressions({ count: 5_000 })) {
 *   labels.push(row.clicked ? 1 : 0);
 *   truth.push(row.pClick);
 * }
 * console.log(evaluate(labels, truth).auc); // the Bayes-optimal AUC of this traffic
 * ```
 */
export function createTrafficGenerator(options: TrafficGeneratorOptions = {}): TrafficGenerator {
  const {
    candidatesPerRequest = 20,
    slotsPerRequest = 3,
    startTime = Date.UTC(2026, 0, 5),
    durationMs = DAY_MS,
    baseCtr = 0.03,
  } = options;
  ensure(Number.isInteger(candidatesPerRequest) && candidatesPerRequest > 0, 'E_CONFIG', () => `candidatesPerRequest must be a positive integer, got ${candidatesPerRequest}`);
  ensure(Number.isInteger(slotsPerRequest) && slotsPerRequest > 0, 'E_CONFIG', () => `slotsPerRequest must be a positive integer, got ${slotsPerRequest}`);
  ensure(Number.isFinite(durationMs) && durationMs > 0, 'E_CONFIG', () => `durationMs must be positive, got ${durationMs}`);
  ensure(Number.isFinite(startTime), 'E_CONFIG', () => `startTime must be finite, got ${startTime}`);
  ensure(baseCtr > 0 && baseCtr < 0.5, 'E_CONFIG', () => `baseCtr must be in (0, 0.5), got ${baseCtr}`);
  const world: SimWorld = buildWorld(options, { startTime, durationMs });
  const campaignById = new Map(world.campaigns.map((c) => [c.id, c]));
  const advertiserById = new Map(world.advertisers.map((a) => [a.id, a]));
  const userCumulative = zipfCumulative(world.users.length, 0.9);
  const publisherCumulative = zipfCumulative(world.publishers.length, 1.0);
  const adCumulativeByFormat = new Map([...world.adsByFormat].map(([format, ads]) => [format, zipfCumulative(ads.length, 0.8)]));
  const averageCvr = new Map(world.ads.map((ad) => [ad.id, 1 / (1 + Math.exp(-(world.truth.conversionIntercept + ad.conversionBias + 0.15)))]));

  const timeAt = createTimeSampler(startTime, durationMs);
  const localHour = (timestamp: number, user: SimUser): number => localHourOf(timestamp, user.country);

  const userOf = (userId: string): SimUser => {
    const index = world.userIndex.get(userId);
    if (index === undefined) throw new CtrkitError('E_NOT_FOUND', `sim: unknown user ${userId}`);
    return world.users[index] as SimUser;
  };
  const adOf = (adId: string): SimAd => {
    const ad = world.adById.get(adId);
    if (ad === undefined) throw new CtrkitError('E_NOT_FOUND', `sim: unknown ad ${adId}`);
    return ad;
  };
  const publisherOf = (request: AdRequest): SimPublisher => {
    const publisher = world.publisherById.get(request.context.publisherId ?? '');
    if (publisher === undefined) throw new CtrkitError('E_NOT_FOUND', `sim: unknown publisher ${String(request.context.publisherId)}`);
    return publisher;
  };

  const probability = (user: SimUser, ad: SimAd, publisher: SimPublisher, timestamp: number, position: number): number =>
    1 / (1 + Math.exp(-clickLogit(world, user, ad, publisher, localHour(timestamp, user), position, timestamp)));

  // Launches: an ad is servable from its launchAt. Without launches every draw below takes the
  // same random numbers as before launches existed.
  const launches = world.ads.some((ad) => ad.launchAt !== undefined);
  const live = (ad: SimAd, timestamp: number): boolean => ad.launchAt === undefined || ad.launchAt <= timestamp;
  /** A popularity-weighted draw among the ads of a format that are live at `timestamp`. */
  const drawAd = (random: Random, format: AdFormat, timestamp: number): SimAd => {
    const pool = world.adsByFormat.get(format) as readonly SimAd[];
    const cumulative = adCumulativeByFormat.get(format) as Float64Array;
    for (let attempt = 0; attempt < 1_000; attempt++) {
      const ad = pool[drawWeighted(random, cumulative)] as SimAd;
      if (!launches || live(ad, timestamp)) return ad;
    }
    // Live ads hold a tiny share of the popularity: take the most popular live one.
    return pool.find((ad) => live(ad, timestamp)) as SimAd;
  };

  const drawPage = (random: Random, timestamp: number) => {
    const user = world.users[drawWeighted(random, userCumulative)] as SimUser;
    const publisher = world.publishers[drawWeighted(random, publisherCumulative)] as SimPublisher;
    const slots: AdSlot[] = [];
    for (let s = 0; s < slotsPerRequest; s++) {
      slots.push({ id: `slot-${s}`, format: publisher.format, position: s, floorCpm: 0.5 });
    }
    const connection: 'wifi' | 'cellular' | 'ethernet' =
      user.device === 'mobile' ? (random.next() < 0.45 ? 'cellular' : 'wifi') : random.next() < 0.5 ? 'ethernet' : 'wifi';
    return { user, publisher, slots, connection, timestamp };
  };

  const contextOf = (page: ReturnType<typeof drawPage>, slots: readonly AdSlot[]) => ({
    timestamp: page.timestamp,
    publisherId: page.publisher.id,
    domain: page.publisher.domain,
    pageCategory: page.publisher.pageCategory,
    connection: page.connection,
    timezoneOffsetMinutes: TIMEZONES[page.user.country] ?? 0,
    slots,
  });

  const toCandidate = (ad: SimAd): AdCandidate =>
    candidateOf(ad, campaignById.get(ad.campaignId) as SimCampaign, advertiserById.get(ad.advertiserId) as SimAdvertiser, averageCvr.get(ad.id) as number);

  // Calibrate the intercept so that the mean click probability at position 0 is `baseCtr`.
  {
    const random = createRandom(world.seed).fork('calibration');
    const samples: number[] = [];
    for (let i = 0; i < 4000; i++) {
      const page = drawPage(random, timeAt(random.next()));
      const ad = drawAd(random, page.publisher.format, page.timestamp);
      samples.push(clickLogit(world, page.user, ad, page.publisher, localHour(page.timestamp, page.user), 0, page.timestamp));
    }
    world.truth.intercept = interceptForBaseRate(samples, baseCtr);
  }

  function checkCount(count: number): void {
    ensure(Number.isInteger(count) && count >= 0, 'E_INPUT', () => `count must be a non-negative integer, got ${count}`);
  }
  function rangeOf(options: StreamOptions): [number, number] {
    const [from, to] = options.timeRange ?? [0, 1];
    ensure(from >= 0 && to <= 1 && from < to, 'E_INPUT', () => `timeRange must satisfy 0 ≤ from < to ≤ 1, got [${from}, ${to}]`);
    return [from, to];
  }

  return {
    advertisers: world.advertisers,
    campaigns: world.campaigns,
    ads: world.ads,
    publishers: world.publishers,
    userCount: world.users.length,
    startTime,
    durationMs,

    *requests(streamOptions: StreamOptions) {
      checkCount(streamOptions.count);
      const [from, to] = rangeOf(streamOptions);
      const random = createRandom(world.seed).fork(`requests:${streamOptions.stream ?? 'main'}`);
      for (let i = 0; i < streamOptions.count; i++) {
        const page = drawPage(random, timeAt(from + ((to - from) * (i + 0.5)) / streamOptions.count));
        const pool = world.adsByFormat.get(page.publisher.format) as readonly SimAd[];
        const cumulative = adCumulativeByFormat.get(page.publisher.format) as Float64Array;
        const servable = launches ? pool.reduce((n, ad) => n + (live(ad, page.timestamp) ? 1 : 0), 0) : pool.length;
        const wanted = Math.min(candidatesPerRequest, servable);
        const chosen = new Set<number>();
        // Popularity-weighted draws without replacement; fall back to a scan once draws stall.
        for (let attempts = 0; chosen.size < wanted && attempts < wanted * 20; attempts++) {
          const k = drawWeighted(random, cumulative);
          if (!launches || live(pool[k] as SimAd, page.timestamp)) chosen.add(k);
        }
        for (let k = 0; chosen.size < wanted; k++) if (!launches || live(pool[k] as SimAd, page.timestamp)) chosen.add(k);
        const ads = [...chosen].map((k) => pool[k] as SimAd);
        const pClick = new Float64Array(ads.length);
        ads.forEach((ad, k) => {
          pClick[k] = probability(page.user, ad, page.publisher, page.timestamp, 0);
        });
        yield {
          request: {
            requestId: `req-${streamOptions.stream ?? 'main'}-${i}`,
            user: profileOf(page.user),
            context: contextOf(page, page.slots),
            candidates: ads.map(toCandidate),
          },
          pClick,
        };
      }
    },

    *impressions(streamOptions: StreamOptions) {
      checkCount(streamOptions.count);
      const [from, to] = rangeOf(streamOptions);
      const random = createRandom(world.seed).fork(`impressions:${streamOptions.stream ?? 'main'}`);
      for (let i = 0; i < streamOptions.count; i++) {
        const page = drawPage(random, timeAt(from + ((to - from) * (i + 0.5)) / streamOptions.count));
        const ad = drawAd(random, page.publisher.format, page.timestamp);
        const roll = random.next();
        const position = Math.min(slotsPerRequest - 1, roll < 0.6 ? 0 : roll < 0.85 ? 1 : 2);
        const pClick = probability(page.user, ad, page.publisher, page.timestamp, position);
        const clicked = random.next() < pClick;
        const pConversion = trueConversion(world, page.user, ad);
        const converted = clicked && random.next() < pConversion;
        yield {
          request: {
            requestId: `imp-${streamOptions.stream ?? 'main'}-${i}`,
            user: profileOf(page.user),
            context: contextOf(page, [page.slots[position] as AdSlot]),
            candidates: [toCandidate(ad)],
          },
          position,
          pClick,
          clicked,
          pConversion,
          converted,
        };
      }
    },

    clickProbability(request, candidateIndex, position = 0) {
      const candidate = request.candidates[candidateIndex];
      if (candidate === undefined) throw new CtrkitError('E_INPUT', `sim: request has no candidate ${candidateIndex}`);
      return probability(userOf(request.user.id), adOf(candidate.adId), publisherOf(request), request.context.timestamp, position);
    },

    conversionProbability(request, candidateIndex) {
      const candidate = request.candidates[candidateIndex];
      if (candidate === undefined) throw new CtrkitError('E_INPUT', `sim: request has no candidate ${candidateIndex}`);
      return trueConversion(world, userOf(request.user.id), adOf(candidate.adId));
    },

    outcome(request, candidateIndex, position, random, cost = {}) {
      const candidate = request.candidates[candidateIndex];
      if (candidate === undefined) throw new CtrkitError('E_INPUT', `sim: request has no candidate ${candidateIndex}`);
      const user = userOf(request.user.id);
      const ad = adOf(candidate.adId);
      const pClick = probability(user, ad, publisherOf(request), request.context.timestamp, position);
      const clicked = random.next() < pClick;
      const converted = clicked && random.next() < trueConversion(world, user, ad);
      const base = {
        requestId: request.requestId,
        userId: user.id,
        adId: ad.id,
        campaignId: ad.campaignId,
        advertiserId: ad.advertiserId,
        category: ad.category,
        format: ad.format,
        position,
      };
      const t = request.context.timestamp;
      const events: AdEvent[] = [{ ...base, type: 'impression', eventId: `${request.requestId}:${ad.id}:i`, timestamp: t, cost: cost.impression ?? 0 }];
      if (clicked) events.push({ ...base, type: 'click', eventId: `${request.requestId}:${ad.id}:c`, timestamp: t + 2_000 + random.next() * 10_000, cost: cost.click ?? 0 });
      if (converted) {
        events.push({ ...base, type: 'conversion', eventId: `${request.requestId}:${ad.id}:v`, timestamp: t + 60_000 + random.next() * 600_000, cost: cost.conversion ?? 0, value: 20 + random.next() * 80 });
      }
      return { pClick, clicked, converted, events };
    },

    userProfile(userId) {
      return profileOf(userOf(userId));
    },
  };
}
