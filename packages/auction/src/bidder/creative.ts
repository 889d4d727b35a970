/**
 * The host's creatives as the bidder sees them: {@link BidderCreative}, and the checks a creative
 * passes before it may bid (ids, IAB categories, media, prices, markup).
 */
import { AD_FORMATS } from '@ctrkit/core';
import type { AdCandidate } from '@ctrkit/core';
import { CATTAX_IAB_1_0, isIabCategory } from '../categories.js';
import { describe, isRecord } from '../checks.js';
import { nativeProblem } from '../native.js';
import type { NativeCreative } from '../native.js';

/** One of the host's own ads, with what the bidder needs to answer for it.
 *
 * @example
 * ```ts
 * import type { BidderCreative } from '@ctrkit/auction';
 * const creative: BidderCreative = {
 *   adId: 'ad-1', advertiserId: 'adv-1', campaignId: 'cmp-1', format: 'display', category: 'IAB20',
 *   bid: 0.8, bidType: 'CPC', domain: 'travel.example', width: 300, height: 250,
 *   adm: '<a href="https://travel.example"><img src="https://cdn.example/ad-1.png"></a>',
 * };
 * ```
 */
export interface BidderCreative extends AdCandidate {
  /** Width in pixels (banners must match one of the impression's sizes when both are known). */
  readonly width?: number;
  /** Height in pixels. */
  readonly height?: number;
  /**
   * Ad markup returned in the bid: HTML for a banner, VAST XML for a video. One of `adm`, `nurl`
   * and (native creatives) `native` is required.
   */
  readonly adm?: string;
  /** Win notice URL (serves the markup when there is no `adm`). */
  readonly nurl?: string;
  /** Billing notice URL. */
  readonly burl?: string;
  /** Advertiser domains for `adomain` (default `[domain]`); each is checked against `badv`. */
  readonly adomain?: readonly string[];
  /**
   * The creative's content categories (OpenRTB `bid.cat`) in the taxonomy `cattax` names: with
   * the default, IAB Content Taxonomy 1.0 codes such as `IAB13-6`, each checked by
   * {@link isIabCategory}. The request's `bcat` blocks a code and its subcategories (`IAB13`
   * blocks `IAB13-6`); a non-empty `acat` must cover every code. Default `[category]`, which then
   * has to be a code itself: keep a free-text `category` for the model and put the codes here.
   */
  readonly cat?: readonly string[];
  /**
   * The taxonomy of `cat` (OpenRTB 2.6 / AdCOM list Category Taxonomies; default 1, IAB Content
   * Taxonomy 1.0). Codes of other taxonomies are not checked and match `bcat` exactly, and a
   * request whose `bcat` or `acat` is in another taxonomy than the creative's gets no bid from it.
   */
  readonly cattax?: number;
  /** The advertised app's store id (OpenRTB `bid.bundle`), checked against `bapp`. */
  readonly bundle?: string;
  /** Creative attributes (OpenRTB / AdCOM list Creative Attributes), checked against each impression's `battr`. */
  readonly attr?: readonly number[];
  /** Video (required): the media types of its files (`video/mp4`); one must be in the impression's `video.mimes`. */
  readonly mimes?: readonly string[];
  /** Video (required): its length in seconds, within the impression's `minduration` / `maxduration` (and one of `rqddurs`); sent as `dur`. */
  readonly duration?: number;
  /** Video: the VAST version of its `adm` (OpenRTB list Protocols: 7 = VAST 4.0, 11 = 4.1, 13 = 4.2); must be one of the impression's `protocols` when it lists any; sent as `protocol`. */
  readonly protocol?: number;
  /** Native: the content of its Native 1.2 response, assembled per impression for the assets that impression's request asks for (the bid's `adm`). */
  readonly native?: NativeCreative;
  /** The most this creative may bid, CPM in the bidder's currency. */
  readonly maxBidCpm?: number;
}

const FORMATS: readonly string[] = AD_FORMATS;
const BID_TYPES = ['CPM', 'CPC', 'CPA'];

const isInteger = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

/**
 * Why a creative's categories cannot be checked against `bcat`, or undefined when they can. A
 * free-text category is refused rather than matched as it is: OpenRTB's `bcat` holds taxonomy
 * codes, so a word such as "insurance" could never be blocked, and a brand-safety list that
 * silently blocks nothing is worse than a creative that does not load.
 */
function categoryProblem(creative: Record<string, unknown>): string | undefined {
  const cattax = creative.cattax ?? CATTAX_IAB_1_0;
  if (!isInteger(cattax) || cattax < 1) return `cattax must be an OpenRTB category taxonomy (an integer ≥ 1; 1 = IAB Content Taxonomy 1.0), got ${describe(creative.cattax)}`;
  const cat = creative.cat;
  if (cat !== undefined && !(Array.isArray(cat) && cat.length > 0 && cat.length <= 32 && cat.every((c) => typeof c === 'string' && c.length > 0))) {
    return `cat must be 1 to 32 category codes (strings such as "IAB13-6"), got ${describe(cat)}`;
  }
  if (cattax !== CATTAX_IAB_1_0) return undefined;
  const codes = (cat as readonly string[] | undefined) ?? [creative.category as string];
  const bad = codes.find((code) => !isIabCategory(code));
  if (bad === undefined) return undefined;
  const where = cat === undefined ? `category ${JSON.stringify(bad)}` : `cat entry ${JSON.stringify(bad)}`;
  return `${where} is not an IAB Content Taxonomy 1.0 code (IAB1 … IAB26 or a subcategory such as IAB13-6), so an exchange's bcat could never block it; give the creative cat: [its IAB codes] (category stays free text for the model), or set cattax for another taxonomy`;
}

/** Why a video or native creative lacks what its impressions are checked against, or undefined. */
function mediaProblem(creative: Record<string, unknown>): string | undefined {
  if (creative.native !== undefined) {
    if (creative.format !== 'native') return `native content is only for format native, got format ${describe(creative.format)}`;
    const problem = nativeProblem(creative.native);
    if (problem !== undefined) return problem;
  }
  if (creative.format !== 'video') return undefined;
  const mimes = creative.mimes;
  if (!(Array.isArray(mimes) && mimes.length > 0 && mimes.every((m) => typeof m === 'string' && m.length > 0))) return `a video creative needs mimes, the media types of its files (["video/mp4"]), got ${describe(mimes)}`;
  if (!(typeof creative.duration === 'number' && Number.isFinite(creative.duration) && creative.duration > 0)) return `a video creative needs duration, its length in seconds (> 0), got ${describe(creative.duration)}`;
  if (creative.protocol !== undefined && !(isInteger(creative.protocol) && creative.protocol >= 1)) return `protocol must be an OpenRTB protocol id (7 = VAST 4.0), got ${describe(creative.protocol)}`;
  if (typeof creative.adm === 'string' && !/<VAST[\s>]/.test(creative.adm)) return 'a video creative\'s adm must be VAST XML (a <VAST> document)';
  return undefined;
}

/** @internal Why a creative cannot be used, or undefined when it can. */
export function creativeProblem(creative: unknown): string | undefined {
  if (!isRecord(creative)) return `a creative must be an object, got ${describe(creative)}`;
  for (const key of ['adId', 'advertiserId', 'campaignId', 'category'] as const) {
    if (typeof creative[key] !== 'string' || creative[key] === '') return `${key} must be a non-empty string, got ${describe(creative[key])}`;
  }
  const categories = categoryProblem(creative);
  if (categories !== undefined) return categories;
  if (creative.bundle !== undefined && !(typeof creative.bundle === 'string' && creative.bundle.length > 0)) return `bundle must be a non-empty app store id, got ${describe(creative.bundle)}`;
  if (creative.attr !== undefined && !(Array.isArray(creative.attr) && creative.attr.every(isInteger))) return `attr must be an array of creative attribute integers, got ${describe(creative.attr)}`;
  const media = mediaProblem(creative);
  if (media !== undefined) return media;
  if (typeof creative.format !== 'string' || !FORMATS.includes(creative.format)) return `format must be one of ${FORMATS.join(', ')}, got ${describe(creative.format)}`;
  if (typeof creative.bidType !== 'string' || !BID_TYPES.includes(creative.bidType)) return `bidType must be one of ${BID_TYPES.join(', ')}, got ${describe(creative.bidType)}`;
  if (typeof creative.bid !== 'number' || !Number.isFinite(creative.bid) || creative.bid <= 0) return `bid must be a finite number > 0, got ${describe(creative.bid)}`;
  if (typeof creative.adm !== 'string' && typeof creative.nurl !== 'string' && !(creative.format === 'native' && creative.native !== undefined)) {
    return 'needs adm (markup), nurl (win notice serving the markup) or, for a native creative, native (its assets)';
  }
  if (creative.maxBidCpm !== undefined && !(typeof creative.maxBidCpm === 'number' && creative.maxBidCpm > 0)) return `maxBidCpm must be a number > 0, got ${describe(creative.maxBidCpm)}`;
  if (creative.pCvr !== undefined && !(typeof creative.pCvr === 'number' && creative.pCvr >= 0 && creative.pCvr <= 1)) return `pCvr must be in [0, 1], got ${describe(creative.pCvr)}`;
  if (creative.adomain !== undefined && !(Array.isArray(creative.adomain) && creative.adomain.every((d) => typeof d === 'string'))) return 'adomain must be an array of domains';
  return undefined;
}
