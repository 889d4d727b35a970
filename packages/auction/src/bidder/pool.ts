/**
 * Which of the host's creatives a request may see: of a format some impression takes, well formed
 * (a catalog function's creatives are checked per request), and brand-safe by the request's own
 * rules — `acat`, `bapp`, taxonomies, and `badv` against every `adomain` — on top of what the
 * candidate filter applies.
 */
import type { AdFormat, Rejection } from '@ctrkit/core';
import type { BidRequest } from 'iab-openrtb/v26';
import { CATTAX_IAB_1_0, categoryBlocked } from '../categories.js';
import { isRecord } from '../checks.js';
import { PASS } from '../codes.js';
import { domainBlocked } from '../targeting/block-lists.js';
import { creativeProblem } from './creative.js';
import type { BidderCreative } from './creative.js';
import type { BiddableImp } from './impressions.js';

/**
 * The request's category and app rules that the candidate filter does not apply: `bcat` / `acat`
 * in another taxonomy than a creative's, `acat` (every code of the creative covered), `bapp`.
 * `bcat` itself goes to the filter, which matches it against each creative's `cat`.
 */
function brandSafetyOf(request: BidRequest): { check(creative: BidderCreative): Rejection | undefined } {
  const taxonomy = request.cattax ?? CATTAX_IAB_1_0;
  const bcat = request.bcat !== undefined && request.bcat.length > 0;
  const acat = request.acat !== undefined && request.acat.length > 0 ? new Set(request.acat) : undefined;
  const bapp = request.bapp !== undefined && request.bapp.length > 0 ? new Set(request.bapp) : undefined;
  return {
    check(creative) {
      const adId = creative.adId;
      const own = creative.cattax ?? CATTAX_IAB_1_0;
      if ((bcat || acat !== undefined) && own !== taxonomy) {
        return { adId, reason: 'blocked_category', detail: `the request's ${bcat ? 'bcat' : 'acat'} is in category taxonomy ${taxonomy} and this creative's cat in ${own}: it cannot be checked` };
      }
      if (acat !== undefined) {
        const outside = (creative.cat ?? [creative.category]).find((code) => !categoryBlocked(code, acat));
        if (outside !== undefined) return { adId, reason: 'blocked_category', detail: `category ${outside} is not in the request's acat` };
      }
      if (bapp !== undefined && creative.bundle !== undefined && bapp.has(creative.bundle)) {
        return { adId, reason: 'blocked_advertiser', detail: `app ${creative.bundle} is blocked (bapp)` };
      }
      return undefined;
    },
  };
}

/**
 * @internal The creatives of `listed` worth filtering for this request, in catalog order; every
 * other one is pushed onto `rejected` with its reason. `checked`: the creatives were checked when
 * the bidder was created (a static catalog), so only their format and brand safety are looked at.
 */
export function poolOf(listed: readonly BidderCreative[], checked: boolean, mapped: readonly BiddableImp[], request: BidRequest, rejected: Rejection[]): BidderCreative[] {
  const acceptedFormats = new Set<AdFormat>(mapped.flatMap((m) => m.formats));
  const brandSafety = brandSafetyOf(request);
  const pool: BidderCreative[] = [];
  const seenIds = new Set<string>();
  for (const creative of listed) {
    if (!checked) {
      const problem = creativeProblem(creative);
      const adId = isRecord(creative) && typeof creative.adId === 'string' ? creative.adId : '';
      if (problem !== undefined || seenIds.has(adId)) {
        rejected.push({ adId, reason: 'invalid_bid', detail: problem ?? `adId "${adId}" appears twice in the catalog` });
        continue;
      }
      seenIds.add(adId);
    }
    const adId = creative.adId;
    if (!acceptedFormats.has(creative.format)) {
      rejected.push({ adId, reason: 'format_mismatch', detail: `no impression takes ${creative.format}` });
      continue;
    }
    const unsafe = brandSafety.check(creative);
    if (unsafe !== undefined) {
      rejected.push(unsafe);
      continue;
    }
    pool.push(creative);
  }
  return pool;
}

/**
 * @internal The creatives of `pool` the candidate filter passed (`codes`) whose advertiser
 * domains (`adomain`) `badv` does not block; those it blocks are pushed onto `rejected`.
 */
export function survivorsOf(pool: readonly BidderCreative[], codes: Uint8Array, badvList: readonly string[] | undefined, rejected: Rejection[]): BidderCreative[] {
  const badv = badvList === undefined || badvList.length === 0 ? undefined : new Set(badvList.map((d) => d.toLowerCase()));
  const survivors: BidderCreative[] = [];
  pool.forEach((creative, i) => {
    if (codes[i] !== PASS) return;
    const blocked = badv === undefined ? undefined : creative.adomain?.find((d) => domainBlocked(d, badv));
    if (blocked !== undefined) {
      rejected.push({ adId: creative.adId, reason: 'blocked_advertiser', detail: `advertiser domain ${blocked} is blocked` });
      return;
    }
    survivors.push(creative);
  });
  return survivors;
}
