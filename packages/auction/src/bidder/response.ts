/**
 * The bids of a response: impressions served in request order, each taking the highest bid among
 * the creatives that fit it, priced to `priceDecimals` and never below its floor, written as
 * OpenRTB `Bid` objects.
 */
import type { Rejection } from '@ctrkit/core';
import type { Bid } from 'iab-openrtb/v26';
import { CATTAX_IAB_1_0 } from '../categories.js';
import { nativeResponse } from '../native.js';
import type { BidderCreative } from './creative.js';
import { attributeBlocked, videoFits } from './imp-fit.js';
import type { BiddableImp } from './impressions.js';
import type { ImpOutcome } from './outcome.js';

const MTYPE: Readonly<Record<string, 1 | 2 | 4>> = { display: 1, video: 2, native: 4 };

/**
 * Rounds a bid to the nearest multiple of 1 / `scale` that is not above it (a bid is ours to
 * choose, so never round it up), and not below the floor (the exact floor when they are closer
 * than one quantum).
 */
function roundBid(price: number, floor: number, scale: number): number {
  let steps = Math.round(price * scale);
  if (steps / scale > price) steps -= 1;
  const rounded = steps / scale;
  return rounded < floor ? floor : rounded;
}


/** @internal The settings {@link placeBids} reads. */
export interface PlacementSettings {
  readonly oneBidPerAd: boolean;
  readonly floorRaise: number;
  /** 10 ^ priceDecimals. */
  readonly scale: number;
  readonly responseCurrency: string;
}

/** The OpenRTB bid of `creative` on `imp` at `price`, with `adm` (a native response) or the creative's own markup. */
function bidOf(imp: BiddableImp, creative: BidderCreative, price: number, nativeAdm: string | undefined): Bid {
  const adomain = creative.adomain ?? (creative.domain === undefined ? undefined : [creative.domain]);
  const mtype = MTYPE[creative.format];
  const adm = nativeAdm ?? creative.adm;
  return {
    id: `${imp.imp.id}:${creative.adId}`,
    impid: imp.imp.id,
    price,
    adid: creative.adId,
    crid: creative.creativeId ?? creative.adId,
    cid: creative.campaignId,
    cat: [...(creative.cat ?? [creative.category])],
    cattax: (creative.cattax ?? CATTAX_IAB_1_0) as NonNullable<Bid['cattax']>,
    ...(creative.bundle === undefined ? {} : { bundle: creative.bundle }),
    ...(creative.attr === undefined ? {} : { attr: [...creative.attr] as NonNullable<Bid['attr']> }),
    ...(adomain === undefined ? {} : { adomain: [...adomain] }),
    ...(adm === undefined ? {} : { adm }),
    ...(creative.nurl === undefined ? {} : { nurl: creative.nurl }),
    ...(creative.burl === undefined ? {} : { burl: creative.burl }),
    ...(creative.width === undefined ? {} : { w: creative.width }),
    ...(creative.height === undefined ? {} : { h: creative.height }),
    ...(mtype === undefined ? {} : { mtype }),
    ...(creative.format === 'video' && creative.protocol !== undefined ? { protocol: creative.protocol as NonNullable<Bid['protocol']> } : {}),
    ...(creative.format === 'video' && creative.duration !== undefined ? { dur: creative.duration } : {}),
  };
}

/**
 * @internal Places the bids: per impression (request order) the highest-priced creative that fits
 * it — format, banner size, `battr`, video constraints, a native response for every required
 * asset — and clears its floor (raised to it within `floorRaise`); each creative once with
 * `oneBidPerAd`. Returns the bids and the outcome of each impression bid on, or why none was;
 * creatives that bid nowhere are pushed onto `rejected` (`below_reserve` or `outranked`).
 */
export function placeBids(
  mapped: readonly BiddableImp[],
  survivors: readonly BidderCreative[],
  prices: Float64Array,
  settings: PlacementSettings,
  rejected: Rejection[],
): { readonly bids: Bid[]; readonly byImp: Map<string, ImpOutcome> } {
  const { oneBidPerAd, floorRaise, scale, responseCurrency } = settings;
  const used = new Uint8Array(survivors.length);
  const belowFloor = new Uint8Array(survivors.length);
  const bids: Bid[] = [];
  const byImp = new Map<string, ImpOutcome>();
  for (const m of mapped) {
    let best = -1;
    let bestPrice = 0;
    let bestAdm: string | undefined;
    let compatible = 0;
    for (let i = 0; i < survivors.length; i++) {
      const creative = survivors[i] as BidderCreative;
      let price = prices[i] as number;
      if (Number.isNaN(price) || (oneBidPerAd && used[i] === 1) || !m.formats.includes(creative.format)) continue;
      if (creative.format === 'display' && m.sizes.length > 0 && creative.width !== undefined && creative.height !== undefined && !m.sizes.some(([w, h]) => w === creative.width && h === creative.height)) continue;
      if (attributeBlocked(m.imp, creative)) continue;
      if (creative.format === 'video' && !videoFits(m.imp, creative)) continue;
      let adm: string | undefined;
      if (creative.format === 'native' && creative.native !== undefined) {
        adm = m.native === undefined ? undefined : nativeResponse(creative.native, m.native);
        if (adm === undefined) continue;
      }
      compatible++;
      if (price < m.floor) {
        if (price >= m.floor * (1 - floorRaise)) price = m.floor;
        else {
          belowFloor[i] = 1;
          continue;
        }
      }
      if (price > bestPrice) {
        best = i;
        bestPrice = price;
        bestAdm = adm;
      }
    }
    if (best < 0 || !(bestPrice > 0)) {
      byImp.set(m.imp.id, { impId: m.imp.id, reason: compatible === 0 ? 'no creative of an accepted format, size and media (video mimes, duration, protocols; native assets)' : `every bid is below the floor ${m.floor} ${responseCurrency}` });
      continue;
    }
    const creative = survivors[best] as BidderCreative;
    used[best] = 1;
    const price = roundBid(bestPrice, m.floor, scale);
    bids.push(bidOf(m, creative, price, bestAdm));
    byImp.set(m.imp.id, { impId: m.imp.id, bid: { adId: creative.adId, price } });
  }
  survivors.forEach((creative, i) => {
    if (used[i] === 1 || Number.isNaN(prices[i] as number)) return;
    rejected.push(belowFloor[i] === 1 ? { adId: creative.adId, reason: 'below_reserve', detail: 'bid below the floor of every impression it fits' } : { adId: creative.adId, reason: 'outranked' });
  });
  return { bids, byImp };
}
