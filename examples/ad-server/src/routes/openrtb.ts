/**
 * `POST /openrtb2/bid`: the request path. The envelope schema → the bidder (validation, consent,
 * prediction, pacing) → each bid's price for one impression reserved in the ledger (bidding
 * again without campaigns out of budget) → each (auction, imp) claimed once in the settlement
 * registry → the BidResponse with signed `burl` / `lurl` and the event token. Any failure after
 * the first reservation releases every reservation of the request before it is answered.
 *
 * @internal
 */
import type { FastifyBaseLogger, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { NO_BID_REASONS, type BidderOutcome } from '@ctrkit/auction';
import { servedRowOf, type AdRequest, type Clock, type FeatureBatch } from '@ctrkit/core';
import type { BudgetLedger, Reservation } from '@ctrkit/pacing';
import type { Bidding } from '../app/bidder.js';
import { describe, headerText } from '../app/describe.js';
import { isStopping, type Lifecycle } from '../app/lifecycle.js';
import type { ModelHost } from '../app/model.js';
import type { Pacing } from '../app/pacing.js';
import type { Settling } from '../app/settling.js';
import type { ServerConfig } from '../config.js';
import type { Hold } from '../holds.js';
import { classifyNoBid, type NoBidClass, type ServerMetrics } from '../metrics.js';
import { bidRequestSchema } from '../schemas.js';
import type { SettlementRegistry } from '../settlement.js';
import type { NoticeSigner } from '../signing.js';
import type { World } from '../world.js';

type BidResponse = BidderOutcome['response'];
type Bid = NonNullable<BidResponse['seatbid']>[number]['bid'][number];

/** The steps of a bid request after its first reservation (see {@link AdServerHooks.afterReserve}). */
export type BidStep = 'reserved' | 'rebid' | 'rereserved' | 'claimed' | 'respond';

/** Test and instrumentation hooks; none is needed in production. */
export interface AdServerHooks {
  /** Runs before each prediction (a test holds an auction open with it). */
  readonly beforePredict?: (request: AdRequest) => void | Promise<void>;
  /**
   * Runs at each step of a bid request after budget was first reserved; a test throws from it
   * to check that every reservation of the request is released before the answer.
   */
  readonly afterReserve?: (step: BidStep, requestId: string) => void | Promise<void>;
}

/** What the bid route needs. */
export interface OpenRtbRouteDeps {
  readonly config: Pick<ServerConfig, 'bidBodyLimit' | 'tmaxMinMs' | 'tmaxMaxMs' | 'tcfVendorId'>;
  readonly world: World;
  readonly clock: Clock;
  readonly log: FastifyBaseLogger;
  readonly hooks: AdServerHooks;
  readonly lifecycle: Lifecycle;
  readonly model: Pick<ModelHost, 'predictor' | 'version'>;
  readonly redisUp: () => boolean;
  readonly bidding: Bidding;
  readonly pacing: Pick<Pacing, 'markExhausted'>;
  readonly ledger: BudgetLedger;
  readonly settling: Pick<Settling, 'holds' | 'fieldsOf'>;
  readonly settlement: SettlementRegistry;
  readonly signer: NoticeSigner;
  readonly metrics: Pick<ServerMetrics, 'bidRequests' | 'noBids' | 'bids' | 'reservations' | 'consent'>;
  /** When a request arrived (the bid deadline counts from it), undefined when unknown. */
  readonly receivedAt: (request: FastifyRequest) => number | undefined;
  /** Base of the notice URLs. */
  readonly baseUrl: () => string;
}

/** A lone UTF-16 surrogate (paired ones are matched as whole code points under `u`). */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

const wantsDebug = (body: { test?: unknown; ext?: unknown }): boolean =>
  body.test === 1 || (typeof body.ext === 'object' && body.ext !== null && (body.ext as { ctrkit?: { debug?: unknown } }).ctrkit?.debug === true);

/**
 * Registers `POST /openrtb2/bid`.
 *
 * @param app - The instance (encapsulated: the route only).
 * @param deps - What the route reads and moves.
 */
export const openRtbRoutes: FastifyPluginAsync<OpenRtbRouteDeps> = async (app, deps) => {
  const { config, world, clock, log, hooks, lifecycle, model, bidding, pacing, ledger, settling, settlement, signer, metrics } = deps;
  const { holds } = settling;
  const { bidder } = bidding;

  /** Reserves each bid's price for one impression; drops the bids the ledger refuses. */
  async function holdBids(requestId: string, outcome: BidderOutcome): Promise<{ held: Map<string, Hold>; budget: number; unavailable: number; detail: string }> {
    const bids = outcome.response.seatbid?.flatMap((seat) => seat.bid) ?? [];
    const entry = bidding.scored(requestId);
    const userId = entry?.userId ?? '';
    const held = new Map<string, Hold>();
    let budget = 0;
    let unavailable = 0;
    let detail = '';
    await Promise.all(
      bids.map(async (bid) => {
        const creative = world.creativeById.get(bid.adid ?? '');
        if (creative === undefined) return;
        let answer: Reservation | { ok: false; reason: string; detail: string };
        try {
          answer = await ledger.reserve(creative.campaignId, bid.price / 1000);
        } catch (error) {
          answer = { ok: false, reason: 'unavailable', detail: describe(error) };
        }
        if (!answer.ok) {
          metrics.reservations.inc({ result: answer.reason === 'budget' ? 'budget' : 'unavailable' });
          if (answer.reason === 'budget') {
            budget++;
            pacing.markExhausted(creative.campaignId);
          } else unavailable++;
          detail = answer.detail;
          return;
        }
        metrics.reservations.inc({ result: 'ok' });
        const i = entry === undefined ? -1 : entry.candidates.findIndex((c) => c.adId === creative.adId);
        const pCtr = i < 0 ? Number.NaN : (entry?.pCtr[i] ?? Number.NaN);
        const row = i < 0 || entry?.batch === undefined || entry.batchRows === undefined ? undefined : (entry.batchRows[i] as number);
        const createdAt = clock.now();
        // The row exactly as scored, copied now: the next request encodes into fresh arrays, but the hold outlives this one.
        const servedRow =
          row === undefined || !(pCtr >= 0 && pCtr <= 1)
            ? undefined
            : servedRowOf(entry?.batch as FeatureBatch, row, {
                eventId: `${requestId}:${bid.impid}`,
                requestId,
                impId: bid.impid,
                adId: creative.adId,
                position: 0, // one bid per slot: each is the top of its own
                pCtr,
                servedAt: createdAt,
                modelVersion: entry?.version ?? 'unknown',
              });
        held.set(bid.id, {
          requestId,
          impId: bid.impid,
          adId: creative.adId,
          campaignId: creative.campaignId,
          advertiserId: creative.advertiserId,
          category: creative.category,
          userId,
          priceCpm: bid.price,
          pCtr,
          modelVersion: entry?.version ?? 'unknown',
          reservation: answer,
          createdAt,
          ...(servedRow === undefined ? {} : { servedRow }),
        });
      }),
    );
    holds.add([...held.values()]);
    return { held, budget, unavailable, detail };
  }

  // Rate-limited no-bid log lines: one per class and second at info level, each at debug.
  const lastNoBidLog = new Map<NoBidClass, { at: number; suppressed: number }>();
  function noBid(reply: FastifyReply, status: 204 | 400 | 503, cls: NoBidClass, reason: string, nbr: number | undefined, requestId: string | undefined, extra: Record<string, unknown> = {}) {
    metrics.bidRequests.inc({ outcome: status === 204 ? 'nobid' : status === 400 ? 'invalid' : 'unavailable' });
    metrics.noBids.inc({ reason: cls });
    log.debug({ requestId, nbr, class: cls, reason }, 'no bid');
    const seen = lastNoBidLog.get(cls);
    const now = clock.now();
    if (seen === undefined || now - seen.at >= 1_000) {
      log.info({ requestId, nbr, class: cls, reason, suppressed: seen?.suppressed ?? 0 }, 'no bid');
      lastNoBidLog.set(cls, { at: now, suppressed: 0 });
    } else seen.suppressed++;
    reply.header('x-ctrkit-nbr', String(nbr ?? 0)).header('x-ctrkit-reason', headerText(`${cls}: ${reason}`));
    if (status === 204) return reply.code(204).send();
    return reply.code(status).send({ error: cls, reason, ...(nbr === undefined ? {} : { nbr }), ...extra });
  }

  /** Request ids being answered now. */
  const inFlight = new Set<string>();

  /** Counts the consent decision of a valid request; its debug form for `ext.ctrkit.consent`. */
  const countConsent = (outcome: BidderOutcome): Record<string, unknown> | undefined => {
    const evaluation = outcome.consent;
    if (evaluation === undefined) return undefined;
    const { signals, findings } = evaluation;
    const decision = signals.coppa ? 'coppa' : signals.personalizedAds ? (signals.gdprApplies ? 'personalized' : 'no_gdpr') : 'contextual';
    metrics.consent.inc({ outcome: decision, finding: findings[0]?.code ?? 'none' });
    return { decision, vendorId: config.tcfVendorId ?? null, gdprApplies: signals.gdprApplies, personalizedAds: signals.personalizedAds, findings };
  };

  async function bid(request: FastifyRequest, reply: FastifyReply) {
    const body = request.body as { id: string; imp: { id: string }[]; tmax?: number; test?: unknown; ext?: unknown };
    // Ids travel into notice URLs and headers: refuse what cannot be encoded there, before any budget moves.
    if (LONE_SURROGATE.test(body.id) || body.imp.some((imp) => LONE_SURROGATE.test(imp.id))) {
      return noBid(reply, 400, 'invalid', 'id and imp[].id must be well-formed Unicode (a lone UTF-16 surrogate is not)', 2, undefined);
    }
    if (isStopping(lifecycle)) return noBid(reply, 503, 'draining', 'the server is shutting down', undefined, body.id);
    if (model.predictor() === undefined) return noBid(reply, 503, 'not_ready', 'the model is not loaded yet', undefined, body.id);
    if (!deps.redisUp()) return noBid(reply, 204, 'redis_unavailable', 'Redis is unreachable: not bidding rather than spending blind', 1, body.id);
    if (inFlight.has(body.id)) return noBid(reply, 204, 'duplicate', `request ${body.id} is already being answered`, undefined, body.id);
    // tmax within [TMAX_MIN_MS, TMAX_MAX_MS]: above is cut to the top (2^31 ms and Infinity included), below cannot be met.
    let input: unknown = body;
    if (body.tmax !== undefined) {
      if (body.tmax < config.tmaxMinMs) return noBid(reply, 204, 'deadline', `tmax ${body.tmax} ms is below TMAX_MIN_MS (${config.tmaxMinMs} ms): no bid could arrive in time`, NO_BID_REASONS.INSUFFICIENT_AUCTION_TIME, body.id);
      if (body.tmax > config.tmaxMaxMs) input = { ...body, tmax: config.tmaxMaxMs };
    }
    const arrival = deps.receivedAt(request);
    const handleOptions = arrival === undefined ? {} : { receivedAt: arrival };
    inFlight.add(body.id);
    lifecycle.activeBids++;
    /** Every hold this request made, and the (auction, imp) pairs it claimed: all go back if it fails. */
    const mine: Hold[] = [];
    const claimed: Hold[] = [];
    try {
      let outcome = await bidder.handle(input, handleOptions);
      let consent = countConsent(outcome);
      if (!outcome.bid) {
        if (outcome.nbr === 2) return noBid(reply, 400, 'invalid', outcome.reason ?? 'invalid BidRequest', 2, body.id, { issues: outcome.issues });
        return noBid(reply, 204, classifyNoBid(outcome), outcome.reason ?? 'no bid', outcome.nbr, body.id);
      }
      let holding = await holdBids(body.id, outcome);
      mine.push(...holding.held.values());
      await hooks.afterReserve?.('reserved', body.id);
      if (holding.budget > 0) {
        // Campaigns out of budget are now refused by pacing: bid again without them, so each
        // impression goes to the best campaign that can still pay. No third round.
        await Promise.all([...holding.held.values()].map((h) => holds.release(h, 'released-unused')));
        bidding.forget(body.id);
        const again = await bidder.handle(input, handleOptions);
        await hooks.afterReserve?.('rebid', body.id);
        if (!again.bid) return noBid(reply, 204, 'budget', `${holding.detail}; ${again.reason ?? 'no other bid'}`, again.nbr, body.id);
        outcome = again;
        consent = countConsent(outcome) ?? consent;
        holding = await holdBids(body.id, outcome);
        mine.push(...holding.held.values());
        await hooks.afterReserve?.('rereserved', body.id);
      }
      if (holding.held.size === 0) {
        const cls: NoBidClass = holding.budget > 0 ? 'budget' : 'ledger_unavailable';
        return noBid(reply, 204, cls, holding.detail, cls === 'ledger_unavailable' ? 1 : undefined, body.id);
      }
      // Each (auction, imp) is bid on once in the notice window: a reused request id (a replay,
      // an exchange retry) bids only on pairs never bid on, so no win can be charged twice.
      const fresh = new Map<string, Hold>();
      const claims = await Promise.allSettled(
        [...holding.held].map(async ([bidId, hold]) => {
          const previous = await settlement.transition(hold.requestId, hold.impId, ['none'], 'open');
          if (previous === 'none') {
            claimed.push(hold);
            fresh.set(bidId, hold);
          } else await holds.release(hold, 'released-unused');
        }),
      );
      const failedClaim = claims.find((c): c is PromiseRejectedResult => c.status === 'rejected');
      if (failedClaim !== undefined) throw failedClaim.reason;
      await hooks.afterReserve?.('claimed', body.id);
      if (fresh.size === 0) return noBid(reply, 204, 'duplicate', `request ${body.id}: every impression was bid on before under this id`, undefined, body.id);
      const base = deps.baseUrl();
      const response: BidResponse = {
        ...outcome.response,
        seatbid: (outcome.response.seatbid ?? [])
          .map((seat) => ({
            ...seat,
            bid: seat.bid
              .filter((b) => fresh.has(b.id))
              .map((b): Bid => {
                const hold = fresh.get(b.id) as Hold;
                const f = settling.fieldsOf(hold);
                const sig = signer.sign(f);
                const query = `id=${encodeURIComponent(f.auction)}&imp=${encodeURIComponent(f.imp)}&cmp=${encodeURIComponent(f.campaign)}&crid=${encodeURIComponent(f.creative)}&bid=${f.bidMicros}&exp=${f.expiresAt}&sig=${sig}`;
                return {
                  ...b,
                  burl: `${base}/openrtb2/win?${query}&price=\${AUCTION_PRICE}`,
                  lurl: `${base}/openrtb2/loss?${query}&reason=\${AUCTION_LOSS}`,
                  // `token` authorizes the host's impression event to settle this bid (POST /events).
                  ext: { ctrkit: { pctr: Math.round(hold.pCtr * 1e6) / 1e6, model: hold.modelVersion, token: `${f.bidMicros}.${f.expiresAt}.${sig}.${f.imp}` } },
                };
              }),
          }))
          .filter((seat) => seat.bid.length > 0),
        ...(consent !== undefined && wantsDebug(body) ? { ext: { ...(outcome.response.ext ?? {}), ctrkit: { consent } } } : {}),
      };
      await hooks.afterReserve?.('respond', body.id);
      metrics.bidRequests.inc({ outcome: 'bid' });
      metrics.bids.inc(fresh.size);
      return reply.code(200).header('x-ctrkit-model', model.version() ?? '').send(response);
    } catch (error) {
      // No budget without a bid: everything this request held goes back before it is answered.
      await Promise.all(mine.map((h) => holds.release(h, 'released-unused')));
      await Promise.allSettled(claimed.map((h) => settlement.transition(h.requestId, h.impId, ['open'], 'released')));
      request.log.error({ requestId: body.id, err: describe(error) }, 'bid failed after reserving; every reservation released');
      return noBid(reply, 204, 'technical', `internal error: ${describe(error)}`, NO_BID_REASONS.TECHNICAL_ERROR, body.id);
    } finally {
      bidding.forget(body.id);
      inFlight.delete(body.id);
      lifecycle.activeBids--;
    }
  }

  app.post('/openrtb2/bid', { bodyLimit: config.bidBodyLimit, schema: { body: bidRequestSchema } }, bid);
};
