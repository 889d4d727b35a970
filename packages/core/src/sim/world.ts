import { ensure } from '../errors.js';
import { createRandom, type Random } from '../random.js';
import { AD_FORMATS, type AdFormat, type BehaviourEvent, type BidType, type DeviceType } from '../types/request.js';
import { appealAt, buildAppeal, buildTastes, checkDrift, drawLaunches, tasteWeight, type DriftState, type SimDriftOptions, type SimLaunches, type SimPeriod } from './drift.js';

/**
 * Ad categories (and user interests) of the synthetic world.
 *
 * @example
 * ```ts
 * import { SIM_CATEGORIES } from '@ctrkit/core/sim';
 * console.log(SIM_CATEGORIES.includes('travel')); // true
 * ```
 */
export const SIM_CATEGORIES = [
  'travel', 'finance', 'auto', 'fashion', 'gaming', 'food', 'tech', 'sports', 'health', 'education',
  'home', 'beauty', 'entertainment', 'news', 'real-estate', 'pets', 'music', 'kids', 'insurance', 'telecom',
] as const;

/**
 * The IAB Content Taxonomy 1.0 code (OpenRTB `cattax` 1) of each of {@link SIM_CATEGORIES}: what a
 * creative of that category carries in `cat`, so that an exchange's `bcat` can block it. Tier-1
 * codes where the word is a whole tier-1 category (`travel` → `IAB20`), tier-2 where it is one of
 * its subcategories (`insurance` → `IAB13-6`, under Personal Finance).
 *
 * @example
 * ```ts
 * import { SIM_CATEGORY_IAB } from '@ctrkit/core/sim';
 * console.log(SIM_CATEGORY_IAB.insurance); // 'IAB13-6'
 * ```
 */
export const SIM_CATEGORY_IAB: Readonly<Record<(typeof SIM_CATEGORIES)[number], string>> = {
  travel: 'IAB20',
  finance: 'IAB13',
  auto: 'IAB2',
  fashion: 'IAB18-3',
  gaming: 'IAB9-30',
  food: 'IAB8',
  tech: 'IAB19',
  sports: 'IAB17',
  health: 'IAB7',
  education: 'IAB5',
  home: 'IAB10',
  beauty: 'IAB18-1',
  entertainment: 'IAB1',
  news: 'IAB12',
  'real-estate': 'IAB21',
  pets: 'IAB16',
  music: 'IAB1-6',
  kids: 'IAB6',
  insurance: 'IAB13-6',
  telecom: 'IAB19-6',
};
const COUNTRIES = ['US', 'GB', 'DE', 'FR', 'ES', 'IT', 'BR', 'IN', 'JP', 'CA'] as const;
const DEVICES: readonly DeviceType[] = ['desktop', 'mobile', 'tablet', 'ctv'];
const DEVICE_WEIGHTS = [0.35, 0.55, 0.08, 0.02];
const OS_BY_DEVICE: Record<DeviceType, readonly string[]> = {
  desktop: ['windows', 'macos', 'linux'],
  mobile: ['android', 'ios'],
  tablet: ['android', 'ios'],
  ctv: ['tizen', 'webos', 'android'],
  other: ['other'],
};
const FORMATS: readonly AdFormat[] = AD_FORMATS;
/** Latent dimension of the user × category interaction. */
const LATENT = 4;

/** A synthetic user, with the hidden parameters the click model uses. @internal */
export interface SimUser {
  readonly index: number;
  readonly id: string;
  readonly age: number;
  readonly gender: 'male' | 'female';
  readonly country: string;
  readonly device: DeviceType;
  readonly os: string;
  readonly interests: readonly string[];
  readonly history: readonly BehaviourEvent[];
  readonly clickedAdvertisers: ReadonlySet<string>;
  readonly bias: number;
  readonly latent: Float64Array;
}

/** A synthetic advertiser.
 *
 * @example
 * ```ts
 * import type { SimAdvertiser } from '@ctrkit/core/sim';
 * const name = (a: SimAdvertiser) => a.id;
 * ```
 */
export interface SimAdvertiser {
  /** Advertiser id. */
  readonly id: string;
  /** Its main category. */
  readonly category: string;
  /** Landing domain. */
  readonly domain: string;
}

/** A synthetic campaign: what it bids and how much it may spend per day.
 *
 * @example
 * ```ts
 * import type { SimCampaign } from '@ctrkit/core/sim';
 * const daily = (c: SimCampaign) => c.dailyBudget;
 * ```
 */
export interface SimCampaign {
  /** Campaign id. */
  readonly id: string;
  /** Its advertiser. */
  readonly advertiserId: string;
  /** What it pays for. */
  readonly bidType: BidType;
  /** Its bid in `bidType` units. */
  readonly bid: number;
  /** Daily budget in currency units. */
  readonly dailyBudget: number;
  /** When it starts serving, ms since epoch; absent when it serves from the start (see {@link SimLaunches}). */
  readonly launchAt?: number;
}

/** A synthetic ad (creative).
 *
 * @example
 * ```ts
 * import type { SimAd } from '@ctrkit/core/sim';
 * const label = (ad: SimAd) => `${ad.id} (${ad.format})`;
 * ```
 */
export interface SimAd {
  /** Ad id. */
  readonly id: string;
  /** Its campaign. */
  readonly campaignId: string;
  /** Its advertiser. */
  readonly advertiserId: string;
  /** Its category. */
  readonly category: string;
  /** Its format. */
  readonly format: AdFormat;
  /** When it becomes servable, ms since epoch; absent when it serves from the start (see {@link SimLaunches}). */
  readonly launchAt?: number;
  /** @internal */ readonly index: number;
  /** @internal */ readonly bias: number;
  /** @internal */ readonly categoryIndex: number;
  /** @internal */ readonly conversionBias: number;
}

/** A synthetic publisher.
 *
 * @example
 * ```ts
 * import type { SimPublisher } from '@ctrkit/core/sim';
 * const where = (p: SimPublisher) => p.domain;
 * ```
 */
export interface SimPublisher {
  /** Publisher id. */
  readonly id: string;
  /** Site domain. */
  readonly domain: string;
  /** Page category. */
  readonly pageCategory: string;
  /** The slot format its pages offer. */
  readonly format: AdFormat;
  /** @internal */ readonly bias: number;
}

/** Sizes and strengths of the synthetic world.
 *
 * @example
 * ```ts
 * import type { SimWorldOptions } from '@ctrkit/core/sim';
 * const options: SimWorldOptions = { seed: 7, users: 5_000, baseCtr: 0.03 };
 * ```
 */
export interface SimWorldOptions {
  /** Seed: the same seed gives the same world and traffic everywhere (default 1). */
  readonly seed?: number | string;
  /** Number of users (default 20,000). */
  readonly users?: number;
  /** Number of advertisers (default 24). */
  readonly advertisers?: number;
  /** Campaigns per advertiser (default 2). */
  readonly campaignsPerAdvertiser?: number;
  /** Ads per campaign (default 5). */
  readonly adsPerCampaign?: number;
  /** Number of publishers (default 60). */
  readonly publishers?: number;
  /** Target mean click probability at position 0 (default 0.03). */
  readonly baseCtr?: number;
  /** Scale of the interaction terms (user × category, device × format, …; default 1). */
  readonly interactionStrength?: number;
  /** How the world changes through the period: appeal drift, launches, taste shifts (default none: a stationary world). */
  readonly drift?: SimDriftOptions;
}

/** @internal The hidden parameters of the click and conversion models. */
export interface TruthTables {
  intercept: number;
  readonly interaction: number;
  readonly categoryLatent: Float64Array; // [category × LATENT]
  readonly ageCategory: Float64Array; // [ageGroup × category]
  readonly deviceFormat: Float64Array; // [device × format]
  readonly advertiserBias: Map<string, number>;
  readonly conversionIntercept: number;
}

/** @internal A world: entities plus truth. */
export interface SimWorld {
  readonly seed: number | string;
  readonly users: readonly SimUser[];
  readonly advertisers: readonly SimAdvertiser[];
  readonly campaigns: readonly SimCampaign[];
  readonly ads: readonly SimAd[];
  readonly publishers: readonly SimPublisher[];
  readonly adsByFormat: ReadonlyMap<AdFormat, readonly SimAd[]>;
  readonly truth: TruthTables;
  readonly userIndex: ReadonlyMap<string, number>;
  readonly adById: ReadonlyMap<string, SimAd>;
  readonly publisherById: ReadonlyMap<string, SimPublisher>;
  /** Time-varying truth, or undefined for a stationary world. */
  readonly drift: DriftState | undefined;
}

/** @internal Index of a weighted draw. */
export function drawWeighted(random: Random, cumulative: Float64Array): number {
  const total = cumulative[cumulative.length - 1] as number;
  const u = random.next() * total;
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((cumulative[mid] as number) > u) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** @internal Cumulative Zipf weights 1/(k+1)^s. */
export function zipfCumulative(n: number, s: number): Float64Array {
  const out = new Float64Array(n);
  let total = 0;
  for (let k = 0; k < n; k++) {
    total += 1 / Math.pow(k + 1, s);
    out[k] = total;
  }
  return out;
}

function cumulativeOf(weights: readonly number[]): Float64Array {
  const out = new Float64Array(weights.length);
  let total = 0;
  weights.forEach((w, i) => {
    total += w;
    out[i] = total;
  });
  return out;
}

/** @internal Age bucket used by the truth model. */
export function ageGroup(age: number): number {
  return age < 25 ? 0 : age < 35 ? 1 : age < 45 ? 2 : age < 55 ? 3 : 4;
}

const pick = <T>(random: Random, items: readonly T[]): T => items[random.int(items.length)] as T;

/** @internal Builds the entities and hidden truth of a world over `period` (which only drift reads). */
export function buildWorld(options: SimWorldOptions, period: SimPeriod = { startTime: Date.UTC(2026, 0, 5), durationMs: 86_400_000 }): SimWorld {
  const {
    seed = 1,
    users: userCount = 20_000,
    advertisers: advertiserCount = 24,
    campaignsPerAdvertiser = 2,
    adsPerCampaign = 5,
    publishers: publisherCount = 60,
    interactionStrength = 1,
  } = options;
  for (const [name, value] of Object.entries({ userCount, advertiserCount, campaignsPerAdvertiser, adsPerCampaign, publisherCount })) {
    ensure(Number.isInteger(value) && value > 0, 'E_CONFIG', () => `sim: ${name} must be a positive integer, got ${value}`);
  }
  ensure(interactionStrength >= 0 && Number.isFinite(interactionStrength), 'E_CONFIG', () => 'sim: interactionStrength must be ≥ 0');
  if (options.drift !== undefined) checkDrift(options.drift);
  const root = createRandom(seed);
  const categories = SIM_CATEGORIES;
  const nCategories = categories.length;

  const truthRandom = root.fork('truth');
  const categoryLatent = new Float64Array(nCategories * LATENT);
  for (let i = 0; i < categoryLatent.length; i++) categoryLatent[i] = truthRandom.normal() * 0.7;
  const ageCategory = new Float64Array(5 * nCategories);
  for (let i = 0; i < ageCategory.length; i++) ageCategory[i] = truthRandom.normal() * 0.35;
  const deviceFormat = new Float64Array(DEVICES.length * FORMATS.length);
  for (let i = 0; i < deviceFormat.length; i++) deviceFormat[i] = truthRandom.normal() * 0.3;

  const advertiserRandom = root.fork('advertisers');
  const advertisers: SimAdvertiser[] = [];
  const campaigns: SimCampaign[] = [];
  const ads: SimAd[] = [];
  const advertiserBias = new Map<string, number>();
  for (let a = 0; a < advertiserCount; a++) {
    const category = categories[a % nCategories] as string;
    const advertiser: SimAdvertiser = { id: `adv-${a}`, category, domain: `${category}-brand-${a}.example` };
    advertisers.push(advertiser);
    advertiserBias.set(advertiser.id, advertiserRandom.normal() * 0.25);
    for (let c = 0; c < campaignsPerAdvertiser; c++) {
      const roll = advertiserRandom.next();
      const bidType: BidType = roll < 0.6 ? 'CPC' : roll < 0.85 ? 'CPM' : 'CPA';
      const scale = Math.exp(advertiserRandom.normal() * 0.4);
      const bid = bidType === 'CPC' ? 0.8 * scale : bidType === 'CPM' ? 4 * scale : 20 * scale;
      const campaign: SimCampaign = {
        id: `cmp-${a}-${c}`,
        advertiserId: advertiser.id,
        bidType,
        bid: Math.round(bid * 100) / 100,
        dailyBudget: Math.round(50 + advertiserRandom.next() * 450),
      };
      campaigns.push(campaign);
      for (let k = 0; k < adsPerCampaign; k++) {
        // Most creatives share the advertiser's category; some cross over.
        const categoryIndex = advertiserRandom.next() < 0.8 ? a % nCategories : advertiserRandom.int(nCategories);
        ads.push({
          id: `ad-${a}-${c}-${k}`,
          campaignId: campaign.id,
          advertiserId: advertiser.id,
          category: categories[categoryIndex] as string,
          format: FORMATS[(a + c + k) % FORMATS.length] as AdFormat,
          index: ads.length,
          bias: advertiserRandom.normal() * 0.4,
          categoryIndex,
          conversionBias: advertiserRandom.normal() * 0.3,
        });
      }
    }
  }

  // Launches draw from their own stream, after the entities, so a world without them is unchanged.
  if (options.drift?.launches !== undefined) {
    const times = drawLaunches(options.drift.launches, campaigns, ads, period, root.fork('drift:launches'));
    times.campaigns.forEach((launchAt, i) => {
      if (launchAt !== undefined) campaigns[i] = { ...(campaigns[i] as SimCampaign), launchAt };
    });
    times.ads.forEach((launchAt, i) => {
      if (launchAt !== undefined) ads[i] = { ...(ads[i] as SimAd), launchAt };
    });
  }

  const publisherRandom = root.fork('publishers');
  const publishers: SimPublisher[] = [];
  for (let p = 0; p < publisherCount; p++) {
    const pageCategory = pick(publisherRandom, categories);
    publishers.push({
      id: `pub-${p}`,
      domain: `${pageCategory}-site-${p}.example`,
      pageCategory,
      format: FORMATS[p % FORMATS.length] as AdFormat,
      bias: publisherRandom.normal() * 0.3,
    });
  }

  const userRandom = root.fork('users');
  const deviceCumulative = cumulativeOf(DEVICE_WEIGHTS);
  const countryCumulative = zipfCumulative(COUNTRIES.length, 1);
  const users: SimUser[] = [];
  const affinity = new Float64Array(nCategories);
  for (let u = 0; u < userCount; u++) {
    const latent = new Float64Array(LATENT);
    for (let d = 0; d < LATENT; d++) latent[d] = userRandom.normal() * 0.7;
    const age = Math.max(18, Math.min(80, Math.round(38 + userRandom.normal() * 13)));
    const device = DEVICES[drawWeighted(userRandom, deviceCumulative)] as DeviceType;
    // Interests follow the latent affinity, so that they carry signal about clicks.
    for (let c = 0; c < nCategories; c++) {
      let dot = 0;
      for (let d = 0; d < LATENT; d++) dot += (latent[d] as number) * (categoryLatent[c * LATENT + d] as number);
      affinity[c] = Math.exp(1.5 * dot);
    }
    const affinityCumulative = cumulativeOf(Array.from(affinity));
    const interestCount = 1 + userRandom.int(4);
    const interests = new Set<string>();
    for (let k = 0; k < interestCount; k++) interests.add(categories[drawWeighted(userRandom, affinityCumulative)] as string);
    const historyLength = userRandom.int(21);
    const history: BehaviourEvent[] = [];
    const clickedAdvertisers = new Set<string>();
    for (let h = 0; h < historyLength; h++) {
      const categoryIndex = drawWeighted(userRandom, affinityCumulative);
      const advertiser = advertisers[(categoryIndex + nCategories * userRandom.int(Math.max(1, Math.ceil(advertiserCount / nCategories)))) % advertiserCount] as SimAdvertiser;
      const action = userRandom.next() < 0.25 ? 'click' : 'view';
      if (action === 'click') clickedAdvertisers.add(advertiser.id);
      history.push({ action, item: `item-${userRandom.int(5000)}`, category: categories[categoryIndex] as string, brand: advertiser.id });
    }
    users.push({
      index: u,
      id: `u-${u}`,
      age,
      gender: userRandom.next() < 0.5 ? 'female' : 'male',
      country: COUNTRIES[drawWeighted(userRandom, countryCumulative)] as string,
      device,
      os: pick(userRandom, OS_BY_DEVICE[device]),
      interests: [...interests],
      history,
      clickedAdvertisers,
      bias: userRandom.normal() * 0.5,
      latent,
    });
  }

  const driftOptions = options.drift;
  const drift: DriftState | undefined =
    driftOptions?.appeal !== undefined || driftOptions?.tastes !== undefined
      ? {
          startTime: period.startTime,
          appeal: driftOptions.appeal === undefined ? undefined : buildAppeal(driftOptions.appeal, ads.length, period, root.fork('drift:appeal')),
          tastes:
            driftOptions.tastes === undefined
              ? undefined
              : buildTastes(driftOptions.tastes, (u) => (users[u] as SimUser).latent, users.length, LATENT, period, root.fork('drift:tastes')),
        }
      : undefined;

  const adsByFormat = new Map<AdFormat, SimAd[]>();
  for (const format of FORMATS) adsByFormat.set(format, []);
  for (const ad of ads) adsByFormat.get(ad.format)?.push(ad);
  for (const format of FORMATS) {
    ensure((adsByFormat.get(format)?.length ?? 0) > 0, 'E_CONFIG', () => `sim: no ad has format ${format}; raise advertisers, campaigns or ads per campaign`);
  }

  return {
    seed,
    users,
    advertisers,
    campaigns,
    ads,
    publishers,
    adsByFormat,
    truth: {
      intercept: 0,
      interaction: interactionStrength,
      categoryLatent,
      ageCategory,
      deviceFormat,
      advertiserBias,
      conversionIntercept: Math.log(0.08 / 0.92),
    },
    userIndex: new Map(users.map((u) => [u.id, u.index])),
    adById: new Map(ads.map((a) => [a.id, a])),
    publisherById: new Map(publishers.map((p) => [p.id, p])),
    drift,
  };
}

/** @internal Position effect: examination probability falls with the slot's rank. */
export function positionEffect(position: number): number {
  return -0.45 * Math.log1p(position);
}

/** @internal Hour-of-day effect (local time), peaking in the evening. */
export function hourEffect(hour: number): number {
  return 0.25 * Math.sin((2 * Math.PI * (hour - 14)) / 24);
}

/** @internal The true click logit of a user seeing an ad on a publisher's page at `timestamp` (which only drift reads). */
export function clickLogit(world: SimWorld, user: SimUser, ad: SimAd, publisher: SimPublisher, localHour: number, position: number, timestamp: number): number {
  const truth = world.truth;
  const c = ad.categoryIndex;
  let dot = 0;
  for (let d = 0; d < LATENT; d++) dot += (user.latent[d] as number) * (truth.categoryLatent[c * LATENT + d] as number);
  let appeal = 0;
  const drift = world.drift;
  if (drift !== undefined) {
    appeal = appealAt(drift, ad.index, timestamp);
    const w = tasteWeight(drift, user.index, timestamp);
    if (w > 0) {
      // The affinity is linear in the latent vector, so moving the vector moves the dot product alike.
      const target = (drift.tastes as NonNullable<DriftState['tastes']>).target;
      let shifted = 0;
      for (let d = 0; d < LATENT; d++) shifted += (target[user.index * LATENT + d] as number) * (truth.categoryLatent[c * LATENT + d] as number);
      dot = (1 - w) * dot + w * shifted;
    }
  }
  const interest = user.interests.includes(ad.category) ? 0.6 : 0;
  const demographic = truth.ageCategory[ageGroup(user.age) * SIM_CATEGORIES.length + c] as number;
  const deviceFormat = truth.deviceFormat[DEVICES.indexOf(user.device) * FORMATS.length + FORMATS.indexOf(ad.format)] as number;
  const pageMatch = publisher.pageCategory === ad.category ? 0.4 : 0;
  const retargeting = user.clickedAdvertisers.has(ad.advertiserId) ? 0.5 : 0;
  return (
    truth.intercept +
    user.bias +
    ad.bias +
    appeal +
    (truth.advertiserBias.get(ad.advertiserId) ?? 0) +
    publisher.bias +
    truth.interaction * (dot + interest + demographic + deviceFormat + pageMatch + retargeting) +
    hourEffect(localHour) +
    positionEffect(position)
  );
}

/** @internal The true conversion probability given a click. */
export function conversionProbability(world: SimWorld, user: SimUser, ad: SimAd): number {
  const z = world.truth.conversionIntercept + ad.conversionBias + (user.interests.includes(ad.category) ? 0.5 : 0);
  return 1 / (1 + Math.exp(-z));
}
