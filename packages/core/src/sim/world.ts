/**
 * A synthetic world: its entities and the hidden truth tables of its click and conversion
 * models, built deterministically from a seed over a period.
 */
import { ensure } from '../errors.js';
import { createRandom } from '../random.js';
import type { AdFormat, BehaviorEvent, BidType, DeviceType } from '../types/request.js';
import { buildAppeal, buildTastes, checkDrift, drawLaunches, type DriftState, type SimDriftOptions, type SimPeriod } from './drift.js';
import { cumulativeOf, drawWeighted, pick, zipfCumulative } from './draws.js';
import {
  COUNTRIES,
  DEVICE_WEIGHTS,
  DEVICES,
  FORMATS,
  LATENT,
  OS_BY_DEVICE,
  SIM_CATEGORIES,
  type SimAd,
  type SimAdvertiser,
  type SimCampaign,
  type SimPublisher,
  type SimUser,
} from './entities.js';

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
    const history: BehaviorEvent[] = [];
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
