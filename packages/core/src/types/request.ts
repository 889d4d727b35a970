/**
 * An ad request and what it is made of — the user, the slots, the page context, the candidate
 * ads, consent — as plain, JSON-serializable objects that travel between packages and hosts.
 * Timestamps are milliseconds since the Unix epoch; money is in the campaign's currency units
 * (CPM prices are per thousand impressions, CPC per click, CPA per conversion).
 */
/** Where an ad is shown.
 *
 * @example
 * ```ts
 * import type { AdFormat } from '@ctrkit/core';
 * const format: AdFormat = 'native';
 * ```
 */
export type AdFormat = (typeof AD_FORMATS)[number];

/** Every {@link AdFormat}.
 *
 * @example
 * ```ts
 * import { AD_FORMATS } from '@ctrkit/core';
 * console.log(AD_FORMATS.length); // 5
 * ```
 */
export const AD_FORMATS = Object.freeze(['search', 'display', 'video', 'native', 'social'] as const);

/** What an advertiser pays for: a thousand impressions, a click or a conversion.
 *
 * @example
 * ```ts
 * import type { BidType } from '@ctrkit/core';
 * const bidType: BidType = 'CPC';
 * ```
 */
export type BidType = 'CPM' | 'CPC' | 'CPA';

/** A device class.
 *
 * @example
 * ```ts
 * import type { DeviceType } from '@ctrkit/core';
 * const device: DeviceType = 'mobile';
 * ```
 */
export type DeviceType = 'desktop' | 'mobile' | 'tablet' | 'ctv' | 'other';

/** A scalar feature value as it arrives from a host.
 *
 * @example
 * ```ts
 * import type { FeatureValue } from '@ctrkit/core';
 * const values: FeatureValue[] = ['fr', 34, true, null];
 * ```
 */
export type FeatureValue = string | number | boolean | null;

/** One past action of the user, for behavior-sequence features (most recent last).
 *
 * @example
 * ```ts
 * import type { BehaviorEvent } from '@ctrkit/core';
 * const event: BehaviorEvent = { action: 'click', item: 'ad-17', category: 'travel', timestamp: 0 };
 * ```
 */
export interface BehaviorEvent {
  /** What the user did: `view`, `click`, `conversion`, `search`, `cart`, … */
  readonly action: string;
  /** The item (ad, product, article) acted on. */
  readonly item?: string;
  /** Its category. */
  readonly category?: string;
  /** Its brand or advertiser. */
  readonly brand?: string;
  /** When it happened. */
  readonly timestamp?: number;
}

/** Who the ad is for. Every field but `id` is optional; a missing value is data, not an error.
 *
 * @example
 * ```ts
 * import type { UserProfile } from '@ctrkit/core';
 * const user: UserProfile = { id: 'u-1', age: 34, country: 'FR', device: 'mobile', interests: ['travel'] };
 * ```
 */
export interface UserProfile {
  /** A stable pseudonymous id (hashed before it reaches ctrkit, ideally). */
  readonly id: string;
  /** Age in years. */
  readonly age?: number;
  /** Self-declared or inferred gender. */
  readonly gender?: 'male' | 'female' | 'other';
  /** ISO 3166-1 alpha-2 country code. */
  readonly country?: string;
  /** Region or state code. */
  readonly region?: string;
  /** City. */
  readonly city?: string;
  /** Device class. */
  readonly device?: DeviceType;
  /** Operating system. */
  readonly os?: string;
  /** Preferred language (BCP 47). */
  readonly language?: string;
  /** Declared or inferred interests. */
  readonly interests?: readonly string[];
  /** Behavioral segments from a DMP or the host. */
  readonly segments?: readonly string[];
  /** Past actions, most recent last. */
  readonly history?: readonly BehaviorEvent[];
  /** Any further host-defined attributes. */
  readonly attributes?: Readonly<Record<string, FeatureValue | readonly string[]>>;
}

/** A place on the page where an ad can go.
 *
 * @example
 * ```ts
 * import type { AdSlot } from '@ctrkit/core';
 * const slot: AdSlot = { id: 'top', format: 'display', position: 0, width: 728, height: 90, floorCpm: 0.5 };
 * ```
 */
export interface AdSlot {
  /** Slot id, unique within the request. */
  readonly id: string;
  /** What format the slot takes. */
  readonly format: AdFormat;
  /** 0 for the most prominent slot, then 1, 2, … */
  readonly position: number;
  /** Width in CSS pixels. */
  readonly width?: number;
  /** Height in CSS pixels. */
  readonly height?: number;
  /** Reserve price in CPM. */
  readonly floorCpm?: number;
}

/** Where and when the ad would be shown.
 *
 * @example
 * ```ts
 * import type { RequestContext } from '@ctrkit/core';
 * const context: RequestContext = { timestamp: Date.UTC(2026, 0, 1, 20), publisherId: 'news-1', pageCategory: 'sports' };
 * ```
 */
export interface RequestContext {
  /** When the request arrived. */
  readonly timestamp: number;
  /** Publisher (site or app owner). */
  readonly publisherId?: string;
  /** Site or app domain. */
  readonly domain?: string;
  /** The page's category. */
  readonly pageCategory?: string;
  /** Search query or page keywords. */
  readonly keywords?: readonly string[];
  /** Network connection. */
  readonly connection?: 'wifi' | 'cellular' | 'ethernet' | 'unknown';
  /** The user's offset from UTC in minutes, for local hour-of-day features. */
  readonly timezoneOffsetMinutes?: number;
  /** Slots on the page, most prominent first. */
  readonly slots?: readonly AdSlot[];
  /** Any further host-defined attributes. */
  readonly attributes?: Readonly<Record<string, FeatureValue | readonly string[]>>;
}

/** One ad that could be shown.
 *
 * @example
 * ```ts
 * import type { AdCandidate } from '@ctrkit/core';
 * const ad: AdCandidate = {
 *   adId: 'ad-1', advertiserId: 'adv-1', campaignId: 'cmp-1',
 *   format: 'display', category: 'travel', bid: 0.8, bidType: 'CPC',
 * };
 * ```
 */
export interface AdCandidate {
  /** The ad (creative) id. */
  readonly adId: string;
  /** Who pays. */
  readonly advertiserId: string;
  /** The campaign whose budget pays. */
  readonly campaignId: string;
  /** What format the creative is. */
  readonly format: AdFormat;
  /** The ad's category (IAB content taxonomy or the host's own): what the model reads. */
  readonly category: string;
  /**
   * The ad's IAB content taxonomy codes (OpenRTB `bid.cat`, such as `IAB13-6`), when `category`
   * is the host's own word; block lists (OpenRTB `bcat`) match these, else `category`.
   */
  readonly cat?: readonly string[];
  /** The bid, in the unit `bidType` names. */
  readonly bid: number;
  /** What the bid pays for. */
  readonly bidType: BidType;
  /** Advertiser landing domain (for `badv` blocking). */
  readonly domain?: string;
  /** Creative id when it differs from the ad id. */
  readonly creativeId?: string;
  /** An optional quality score in (0, ∞), 1 meaning neutral. */
  readonly quality?: number;
  /** A conversion probability given a click, when the host has one (CPA bids). */
  readonly pCvr?: number;
  /** Any further host-defined attributes. */
  readonly attributes?: Readonly<Record<string, FeatureValue | readonly string[]>>;
}

/** Privacy signals that travel with a request (see the auction package for their parsing).
 *
 * @example
 * ```ts
 * import type { ConsentSignals } from '@ctrkit/core';
 * const consent: ConsentSignals = { gdprApplies: true, personalizedAds: false };
 * ```
 */
export interface ConsentSignals {
  /** Whether GDPR applies to the request. */
  readonly gdprApplies?: boolean;
  /** Whether personalized advertising is allowed (after evaluating TCF, GPP, US privacy). */
  readonly personalizedAds?: boolean;
  /** Whether the user is a child under COPPA: no personal data at all. */
  readonly coppa?: boolean;
}

/** A request for ads: a user, a context and the candidates to score.
 *
 * @example
 * ```ts
 * import type { AdRequest } from '@ctrkit/core';
 * const request: AdRequest = {
 *   requestId: 'r-1',
 *   user: { id: 'u-1', device: 'mobile' },
 *   context: { timestamp: Date.UTC(2026, 0, 1, 20) },
 *   candidates: [{ adId: 'a', advertiserId: 'x', campaignId: 'c', format: 'display', category: 'travel', bid: 1, bidType: 'CPC' }],
 * };
 * ```
 */
export interface AdRequest {
  /** Unique request id. */
  readonly requestId: string;
  /** Who. */
  readonly user: UserProfile;
  /** Where and when. */
  readonly context: RequestContext;
  /** What could be shown. */
  readonly candidates: readonly AdCandidate[];
  /** Privacy signals, already evaluated. */
  readonly consent?: ConsentSignals;
}
