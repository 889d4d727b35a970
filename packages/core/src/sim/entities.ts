/**
 * What the synthetic world is made of: its categories (with their IAB codes), countries,
 * devices, formats and latent dimension, and its users, advertisers, campaigns, ads and
 * publishers.
 */
import { AD_FORMATS, type AdFormat, type BehaviorEvent, type BidType, type DeviceType } from '../types/request.js';
import type { SimLaunches } from './drift.js';

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
/** @internal Countries users live in, most common first (drawn Zipf). */
export const COUNTRIES = ['US', 'GB', 'DE', 'FR', 'ES', 'IT', 'BR', 'IN', 'JP', 'CA'] as const;
/** @internal Device types of users. */
export const DEVICES: readonly DeviceType[] = ['desktop', 'mobile', 'tablet', 'ctv'];
/** @internal Share of users on each of {@link DEVICES}. */
export const DEVICE_WEIGHTS = [0.35, 0.55, 0.08, 0.02];
/** @internal Operating systems each device type runs. */
export const OS_BY_DEVICE: Record<DeviceType, readonly string[]> = {
  desktop: ['windows', 'macos', 'linux'],
  mobile: ['android', 'ios'],
  tablet: ['android', 'ios'],
  ctv: ['tizen', 'webos', 'android'],
  other: ['other'],
};
/** @internal Ad formats, in the order the truth tables index them. */
export const FORMATS: readonly AdFormat[] = AD_FORMATS;
/** @internal Latent dimension of the user × category interaction. */
export const LATENT = 4;


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
  readonly history: readonly BehaviorEvent[];
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
