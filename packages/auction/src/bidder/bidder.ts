/**
 * A DSP-side OpenRTB 2.6 bidder: validate a BidRequest, gate consent, map it to an `AdRequest`
 * around the host's own creatives, predict, pace, and answer a BidResponse or a no-bid with a
 * reason. The handler never throws. Each step lives beside this file: options, impressions,
 * pool (creatives and brand safety), pacing, bid prices, response.
 */
import { CtrkitError, isCtrkitError } from '@ctrkit/core';
import type { AdRequest, Rejection } from '@ctrkit/core';
import type { BidResponse } from 'iab-openrtb/v26';
import { describe, isRecord } from '../checks.js';
import type { ConsentEvaluation } from '../consent.js';
import { mapBidRequest, validateBidRequest } from '../openrtb.js';
import type { ValidationIssue } from '../openrtb.js';
import { stripPersonalData } from '../strip-personal-data.js';
import { bidPrices, predictionsOf } from './bid-prices.js';
import { beforeDeadline, TIMEOUT } from './deadline.js';
import { mapImpressions } from './impressions.js';
import { resolveSettings } from './options.js';
import type { OpenRtbBidderOptions, PacingDecision } from './options.js';
import { NO_BID_REASONS, NoBid } from './outcome.js';
import type { BidderOutcome, ImpOutcome } from './outcome.js';
import { askPacing } from './pacing.js';
import { poolOf, survivorsOf } from './pool.js';
import { placeBids } from './response.js';

/**
 * Answers OpenRTB bid requests.
 *
 * @example
 * ```ts
 * import type { OpenRtbBidder } from '@ctrkit/auction';
 * async function serve(bidder: OpenRtbBidder, body: string) {
 *   const outcome = await bidder.handle(body);
 *   return outcome.bid ? { status: 200, body: JSON.stringify(outcome.response) } : { status: 204 };
 * }
 * ```
 */
export interface OpenRtbBidder {
  /**
   * Handles one request.
   *
   * @param body - The request body: JSON text or an already parsed object.
   * @param options - `receivedAt`: when the request arrived, by the bidder's clock (default:
   * now). `tmax` counts from it, so time spent in the host before `handle` (reading the body,
   * queueing behind other requests) is not given away.
   * @returns The outcome; never rejects.
   */
  handle(body: unknown, options?: { readonly receivedAt?: number }): Promise<BidderOutcome>;
}

/**
 * Creates an {@link OpenRtbBidder}. For each request:
 *
 * 1. Parse (JSON text or object) and {@link validateBidRequest}; a malformed request gets a
 *    no-bid with `nbr` 2 and the issues. `bseat` / `wseat` excluding the seat: no-bid.
 * 2. Evaluate consent ({@link createConsentEvaluator}); without consent for personalized ads the
 *    request is stripped ({@link stripPersonalData}) and `predictContextual` is used.
 * 3. Each impression becomes a slot taking the formats of its media objects (`banner` →
 *    display, `video`, `native`; audio-only and private auctions are skipped with a reason; a
 *    native request that is not readable Native 1.2 JSON takes the native format away). Floors
 *    are converted from `bidfloorcur` (default USD) into the response currency; an unknown
 *    currency skips that impression with a reason.
 * 4. Creatives of a format some impression takes are filtered: targeting, frequency caps,
 *    brand safety — `bcat` against each creative's `cat` codes (a code and its subcategories:
 *    `IAB13` blocks `IAB13-6`), `acat` (must cover every code), a `bcat` / `acat` in another
 *    `cattax` than the creative's (no bid: it cannot be checked), `badv` (also against every
 *    `adomain`), `bapp` against the creative's `bundle` — and, per impression, `battr` against
 *    its `attr`. Each bid carries `cat`, `cattax`, `adomain` and `bundle`.
 * 5. `predict` runs with a deadline of `tmax` (or `defaultTmaxMs`) − `networkReserveMs` from
 *    arrival, raced against `setTimer`; too slow, or finished after the deadline by the clock:
 *    no-bid with `nbr` 15. The catalog, counters and pacing hooks race the same deadline. A
 *    failing hook: no-bid with `nbr` 1.
 * 6. Pacing per campaign: `admit: false` rejects `pacing_throttled`; a failing or malformed
 *    answer rejects that campaign's creatives rather than bid unpaced.
 * 7. Bid CPM = value per impression × 1000 × multiplier: bid (CPM), pCTR × bid (CPC),
 *    pCTR × pCVR × bid (CPA); × `firstPriceShading` unless `at` = 2; capped by `maxBidCpm` and
 *    the creative's own cap. Below the floor: raised when within `floorRaise`, else no bid there.
 * 8. Impressions are served in request order, each taking the highest bid among creatives that
 *    fit it (each creative once, with `oneBidPerAd`): of a format it takes; a banner of one of its
 *    sizes; a video with a media type in `video.mimes`, a `duration` within `minduration` /
 *    `maxduration` (and in `rqddurs`) and a `protocol` in `protocols`; a native creative able to
 *    fill every required asset of its native request, whose Native 1.2 response (with the
 *    request's asset ids) becomes the bid's `adm`. Video bids carry `protocol` and `dur`; `mtype`
 *    is 1, 2 or 4. Prices are rounded to `priceDecimals` places, to the nearest multiple not
 *    above the computed bid, and never below the floor.
 *
 * @param options - Catalog, predictor, pacing, consent, currency, limits, clock.
 * @returns The bidder.
 * @throws `CtrkitError` `E_CONFIG` on a missing hook, an unknown option, an invalid limit, or a
 *   malformed static creative — among them one whose categories are not IAB Content Taxonomy 1.0
 *   codes (a free-text `category` and no `cat`) unless it names another `cattax`. A catalog
 *   function's malformed creatives are left out of that request (`invalid_bid`).
 * @example
 * ```ts
 * import { createOpenRtbBidder } from '@ctrkit/auction';
 * const bidder = createOpenRtbBidder({
 *   catalog: [{ adId: 'ad-1', advertiserId: 'adv-1', campaignId: 'cmp-1', format: 'display', category: 'IAB20',
 *     bid: 1.5, bidType: 'CPC', domain: 'travel.example', width: 300, height: 250, adm: '<div>ad</div>' }],
 *   predict: async (request) => new Float64Array(request.candidates.length).fill(0.02),
 * });
 * const outcome = await bidder.handle({ id: 'req-1', imp: [{ id: '1', banner: { w: 300, h: 250 }, bidfloor: 0.5 }], tmax: 120 });
 * console.log(outcome.bid, outcome.response.seatbid?.[0]?.bid[0]?.price); // true 30
 * ```
 */
export function createOpenRtbBidder(options: OpenRtbBidderOptions): OpenRtbBidder {
  const settings = resolveSettings(options);
  const { catalog, predict, predictContextual, pacing, counters, filter, consent, currency, clock, setTimer, seat, rate } = settings;

  async function handle(body: unknown, handleOptions?: { readonly receivedAt?: number }): Promise<BidderOutcome> {
    const now = clock.now();
    const receivedAt = handleOptions?.receivedAt;
    // Never later than now: a host clock glitch must not extend the deadline.
    const started = receivedAt !== undefined && Number.isFinite(receivedAt) ? Math.min(receivedAt, now) : now;
    let requestId = '';
    let issues: readonly ValidationIssue[] = [];
    let imps: ImpOutcome[] = [];
    const rejected: Rejection[] = [];
    let evaluation: ConsentEvaluation | undefined;
    const finish = (response: BidResponse, bid: boolean, reason?: string, nbr?: number): BidderOutcome => ({
      bid,
      response,
      ...(reason === undefined ? {} : { reason }),
      ...(nbr === undefined ? {} : { nbr }),
      issues,
      imps,
      rejected,
      ...(evaluation === undefined ? {} : { consent: evaluation }),
      elapsedMs: clock.now() - started,
    });
    try {
      let raw = body;
      if (typeof body === 'string') {
        try {
          raw = JSON.parse(body) as unknown;
        } catch (error) {
          throw new NoBid(`the body is not JSON: ${(error as Error).message}`, NO_BID_REASONS.INVALID_REQUEST);
        }
      }
      if (isRecord(raw) && typeof raw.id === 'string') requestId = raw.id;
      const validation = validateBidRequest(raw);
      if (!validation.ok) {
        issues = validation.issues;
        throw new NoBid(`invalid BidRequest: ${validation.issues.map((i) => `${i.path || '(root)'} ${i.message}`).join('; ')}`, NO_BID_REASONS.INVALID_REQUEST);
      }
      const request = validation.request;
      issues = validation.impIssues;
      if (seat !== undefined && (request.bseat?.includes(seat) === true || (request.wseat !== undefined && request.wseat.length > 0 && !request.wseat.includes(seat)))) {
        throw new NoBid(`seat ${seat} is not allowed to bid on this request (wseat / bseat)`, undefined);
      }
      const tmax = request.tmax ?? settings.defaultTmax;
      const deadline = started + tmax - settings.reserveMs;
      if (deadline <= clock.now()) throw new NoBid(`tmax ${tmax} ms leaves no time after the ${settings.reserveMs} ms network reserve`, NO_BID_REASONS.INSUFFICIENT_AUCTION_TIME);

      // Response currency: ours if allowed, else the first allowed one we can convert to.
      const allowed = request.cur !== undefined && request.cur.length > 0 ? request.cur.map((c) => c.toUpperCase()) : ['USD'];
      const responseCurrency = allowed.includes(currency) ? currency : allowed.find((c) => rate(currency, c) !== undefined);
      if (responseCurrency === undefined) throw new NoBid(`cannot bid in any currency the request allows (${allowed.join(', ')}) from ${currency}; configure exchangeRate`, undefined);
      const toResponse = rate(currency, responseCurrency) as number;

      evaluation = consent.evaluateOpenRtb(request);
      const impressions = mapImpressions(request, validation.impIssues, rate, responseCurrency);
      imps = impressions.imps;
      const mapped = impressions.mapped;
      if (mapped.length === 0) throw new NoBid(`no impression can be bid on: ${imps.map((i) => `${i.impId}: ${i.reason ?? ''}`).join('; ')}`, undefined);

      const base = mapBidRequest(request, clock.now(), mapped.map((m) => m.slot));
      const personalized = evaluation.signals.personalizedAds;
      const adRequest: AdRequest = stripPersonalData({ ...base, consent: evaluation.signals }, evaluation.signals);

      const listed = typeof catalog === 'function' ? await beforeDeadline(() => catalog(adRequest), deadline, clock, setTimer) : catalog;
      if (listed === TIMEOUT) throw new NoBid('the catalog did not answer before the deadline', NO_BID_REASONS.INSUFFICIENT_AUCTION_TIME);
      if (!Array.isArray(listed)) throw new CtrkitError('E_INPUT', `the catalog function returned ${describe(listed)}; return an array of creatives`);
      // A static catalog was checked (ids unique included) when the bidder was created; a
      // function's creatives are checked on every request.
      const pool = poolOf(listed, typeof catalog !== 'function', mapped, request, rejected);
      if (pool.length === 0) throw new NoBid('no creative fits the impressions', undefined);

      const withPool: AdRequest = { ...adRequest, candidates: pool };
      const counterSource = counters === undefined ? undefined : await beforeDeadline(() => counters(withPool), deadline, clock, setTimer);
      if (counterSource === TIMEOUT) throw new NoBid('the counters did not answer before the deadline', NO_BID_REASONS.INSUFFICIENT_AUCTION_TIME);
      const filtered = filter.apply(withPool, {
        ...(counterSource === undefined ? {} : { counters: counterSource }),
        ...(request.bcat === undefined ? {} : { blockedCategories: request.bcat }),
        ...(request.badv === undefined ? {} : { blockedAdvertisers: request.badv }),
      });
      for (const r of filtered.rejected) rejected.push(r);
      const survivors = survivorsOf(pool, filtered.codes, request.badv, rejected);
      if (survivors.length === 0) throw new NoBid('every creative was filtered out (targeting, caps or block lists)', undefined);

      const scoring: AdRequest = { ...adRequest, candidates: survivors };
      const model = personalized ? predict : predictContextual;
      const predicted = await beforeDeadline(() => model(scoring), deadline, clock, setTimer);
      if (predicted === TIMEOUT) throw new NoBid('the predictor did not answer before the deadline', NO_BID_REASONS.INSUFFICIENT_AUCTION_TIME);
      if (clock.now() > deadline) throw new NoBid('the predictor answered after the deadline', NO_BID_REASONS.INSUFFICIENT_AUCTION_TIME);
      const { pCtr, pCvr } = predictionsOf(predicted, survivors.length);

      let decisions = new Map<string, PacingDecision | string>();
      if (pacing !== undefined) {
        const asked = askPacing(survivors, pacing);
        decisions = asked.decisions;
        if (asked.pending.length > 0 && (await beforeDeadline(() => Promise.all(asked.pending), deadline, clock, setTimer)) === TIMEOUT) {
          throw new NoBid('pacing did not answer before the deadline', NO_BID_REASONS.INSUFFICIENT_AUCTION_TIME);
        }
      }

      // OpenRTB's default auction type is 2 (second price plus); 1 and exchange-specific types shade.
      const firstPrice = (request.at ?? 2) !== 2;
      const prices = bidPrices(survivors, pCtr, pCvr, { decisions, firstPrice, shading: settings.shading, maxBidCpm: settings.maxBidCpm, toResponse }, rejected);
      const { bids, byImp } = placeBids(mapped, survivors, prices, { oneBidPerAd: settings.oneBidPerAd, floorRaise: settings.floorRaise, scale: settings.scale, responseCurrency }, rejected);
      imps = imps.map((outcome) => byImp.get(outcome.impId) ?? outcome);
      if (clock.now() > deadline) throw new NoBid('bidding finished after the deadline', NO_BID_REASONS.INSUFFICIENT_AUCTION_TIME);
      if (bids.length === 0) throw new NoBid(`no bid: ${imps.map((i) => `${i.impId}: ${i.reason ?? ''}`).join('; ')}`, undefined);
      return finish({ id: request.id, bidid: `${request.id}:${seat ?? 'ctrkit'}`, cur: responseCurrency, seatbid: [{ ...(seat === undefined ? {} : { seat }), bid: bids }] }, true);
    } catch (error) {
      if (error instanceof NoBid) return finish({ id: requestId, ...(error.nbr === undefined ? {} : { nbr: error.nbr as 2 }) }, false, error.reason, error.nbr);
      const message = isCtrkitError(error) ? `${error.code}: ${error.message}` : error instanceof Error ? error.message : String(error);
      return finish({ id: requestId, nbr: NO_BID_REASONS.TECHNICAL_ERROR }, false, `technical error: ${message}`, NO_BID_REASONS.TECHNICAL_ERROR);
    }
  }

  return { handle };
}
