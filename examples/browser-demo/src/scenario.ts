/**
 * The demo's world, shared by the page, the model script and the test: the feature spec, the
 * synthetic world the model is trained on, the candidate ads shown on the page, the auction's
 * settings, and the function that turns the page's profile controls into an `AdRequest`.
 * Pure TypeScript with no DOM or Node API, so Node computes exactly what the page computes.
 */
import { AD_FORMATS, type AdCandidate, type AdRequest, type AdSlot, type BehaviorEvent, type DeviceType, type UserProfile } from '@ctrkit/core';
import { createTrafficGenerator, SIM_CATEGORIES, type TrafficGenerator, type TrafficGeneratorOptions } from '@ctrkit/core/sim';
import type { AuctionOptions } from '@ctrkit/auction';
import { adRequestSpec, type FeatureSpecJSON } from '@ctrkit/features';

/** The synthetic world: the model script trains on its impressions, the page shows its ads. */
export const SIM_OPTIONS: TrafficGeneratorOptions = { seed: 'browser-demo', users: 4_000 };

/**
 * The feature spec shared by training and the page: ctrkit's default spec for `AdRequest`s,
 * without the feature-store counters (a page has no store) and without the user id (the profile
 * on the page is made up; its id would be an unseen token anyway). 2^16 ids keep `model.onnx` small.
 */
export const SPEC: FeatureSpecJSON = adRequestSpec({ store: false, userId: false, idSpace: 1 << 16 });

/** What the page's controls edit. */
export interface DemoProfile {
  /** Age in years. */
  readonly age: number;
  /** Gender. */
  readonly gender: 'female' | 'male' | 'other';
  /** ISO country code. */
  readonly country: string;
  /** Device class. */
  readonly device: DeviceType;
  /** Operating system. */
  readonly os: string;
  /** Declared interests (ad categories). */
  readonly interests: readonly string[];
  /** Categories of ads the user clicked recently (behavior history and retargeting segments). */
  readonly recentClicks: readonly string[];
  /** Local hour of the visit, 0–23. */
  readonly hour: number;
  /** The publisher whose page is visited. */
  readonly publisherId: string;
}

/** Choices offered by the page's selects. */
export const COUNTRIES = ['US', 'GB', 'DE', 'FR', 'ES', 'IT', 'BR', 'IN', 'JP', 'CA'] as const;
/** Device classes of the synthetic world. */
export const DEVICES: readonly DeviceType[] = ['desktop', 'mobile', 'tablet', 'ctv'];
/** Operating systems per device class, as the synthetic world assigns them. */
export const OS_BY_DEVICE: Readonly<Record<string, readonly string[]>> = {
  desktop: ['windows', 'macos', 'linux'],
  mobile: ['android', 'ios'],
  tablet: ['android', 'ios'],
  ctv: ['tizen', 'webos', 'android'],
};
/** Interest and ad categories. */
export const CATEGORIES: readonly string[] = SIM_CATEGORIES;

/** The profile the page starts with. */
export const DEFAULT_PROFILE: DemoProfile = {
  age: 34,
  gender: 'female',
  country: 'FR',
  device: 'mobile',
  os: 'android',
  interests: ['travel', 'food'],
  recentClicks: ['travel'],
  hour: 20,
  publisherId: 'pub-0',
};

/**
 * Fields left out of the explanations' phrases: every training impression falls on the same
 * simulated Monday, so the weekday never varied and its "contribution" is the intercept in
 * disguise.
 */
export const UNPHRASED_FIELDS: ReadonlySet<string> = new Set(['context_weekday']);

/** Candidates per request on the page: one ad of each of the first twelve advertisers. */
export const CANDIDATE_COUNT = 12;

/** The auction: GSP over three slots, each accepting every format; CTR falls with the position. */
export const AUCTION_OPTIONS: AuctionOptions = {
  pricing: 'gsp',
  positionEffects: [1, 0.7, 0.5],
  reserveCpm: 0.5,
  formatCompatibility: { display: [...AD_FORMATS] },
  seed: 'browser-demo',
};

/** The page's slots: three display slots, most prominent first. */
export const SLOTS: readonly AdSlot[] = [0, 1, 2].map((position) => ({ id: `slot-${position}`, format: 'display', position, floorCpm: 0.5 }));

/** The world's parts the page needs: its ads as candidates and its publishers. */
export interface DemoWorld {
  /** The candidate ads, in the order the model scores them. */
  readonly candidates: readonly AdCandidate[];
  /** Publishers the page can be on: id, domain and page category. */
  readonly publishers: readonly { readonly id: string; readonly domain: string; readonly pageCategory: string }[];
  /** The advertiser whose main category is each category (for history brands and retargeting). */
  readonly advertiserOfCategory: ReadonlyMap<string, string>;
}

/**
 * Builds the demo's world from the synthetic generator (deterministic by seed): one ad per
 * advertiser for the first {@link CANDIDATE_COUNT} advertisers, with its campaign's bid.
 *
 * @param generator - The generator (default: a new one from {@link SIM_OPTIONS}).
 * @returns Candidates, publishers and category → advertiser.
 */
export function createDemoWorld(generator: TrafficGenerator = createTrafficGenerator(SIM_OPTIONS)): DemoWorld {
  const campaigns = new Map(generator.campaigns.map((c) => [c.id, c]));
  const advertisers = new Map(generator.advertisers.map((a) => [a.id, a]));
  const candidates: AdCandidate[] = [];
  for (const advertiser of generator.advertisers.slice(0, CANDIDATE_COUNT)) {
    const ad = generator.ads.find((a) => a.advertiserId === advertiser.id);
    if (ad === undefined) continue;
    const campaign = campaigns.get(ad.campaignId);
    if (campaign === undefined) continue;
    candidates.push({
      adId: ad.id,
      advertiserId: ad.advertiserId,
      campaignId: ad.campaignId,
      format: ad.format,
      category: ad.category,
      bid: campaign.bid,
      bidType: campaign.bidType,
      domain: advertisers.get(ad.advertiserId)?.domain ?? `${ad.advertiserId}.example`,
      // A flat conversion rate for CPA bids: the demo has no conversion model.
      pCvr: 0.08,
    });
  }
  const advertiserOfCategory = new Map<string, string>();
  for (const advertiser of generator.advertisers) if (!advertiserOfCategory.has(advertiser.category)) advertiserOfCategory.set(advertiser.category, advertiser.id);
  return {
    candidates,
    publishers: generator.publishers.map(({ id, domain, pageCategory }) => ({ id, domain, pageCategory })),
    advertiserOfCategory,
  };
}

/**
 * The day of the visit: the simulated day the model was trained on (the generator's default
 * start, Monday 2026-01-05), so the weekday is one the model has seen. The hour comes from the
 * profile, in the user's own time zone.
 */
const DAY = Date.UTC(2026, 0, 5);

/**
 * Turns the page's profile into the request the model scores — the same function in the page,
 * in the test and anywhere else, so both sides encode exactly the same input.
 *
 * @param world - Candidates and publishers.
 * @param profile - The edited profile.
 * @param requestId - The request id (default `demo`).
 * @returns The request: the profile as user, the publisher's page at the profile's hour, every candidate, three slots.
 */
export function buildRequest(world: DemoWorld, profile: DemoProfile, requestId = 'demo'): AdRequest {
  const history: BehaviorEvent[] = profile.recentClicks.map((category) => ({
    action: 'click',
    category,
    brand: world.advertiserOfCategory.get(category) ?? `brand-${category}`,
  }));
  const user: UserProfile = {
    id: 'demo-user',
    age: profile.age,
    gender: profile.gender,
    country: profile.country,
    device: profile.device,
    os: profile.os,
    interests: [...profile.interests],
    segments: [`age-${Math.floor(profile.age / 10) * 10}s`, ...history.map((event) => `rt-${event.brand ?? ''}`)],
    history,
  };
  const publisher = world.publishers.find((p) => p.id === profile.publisherId) ?? world.publishers[0];
  return {
    requestId,
    user,
    context: {
      timestamp: DAY + profile.hour * 3_600_000,
      timezoneOffsetMinutes: 0,
      ...(publisher === undefined ? {} : { publisherId: publisher.id, domain: publisher.domain, pageCategory: publisher.pageCategory }),
      connection: profile.device === 'mobile' ? 'cellular' : 'wifi',
      slots: SLOTS,
    },
    candidates: world.candidates,
  };
}
