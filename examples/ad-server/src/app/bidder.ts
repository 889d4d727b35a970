/**
 * The bidder wiring: `createOpenRtbBidder` around the catalog, with the serving model's
 * predictor, the campaigns' pacing, frequency caps over the feature store and TCF consent for
 * this vendor; and the predictions of the requests in flight, which the bid route reads to price
 * and keep the row of each bid it holds.
 *
 * @internal
 */
import { createOpenRtbBidder, type OpenRtbBidder } from '@ctrkit/auction';
import { CtrkitError, type AdCandidate, type AdRequest, type Clock, type FeatureBatch, type FeatureStore, type Predictor } from '@ctrkit/core';
import type { ServerConfig } from '../config.js';
import type { World } from '../world.js';
import type { Pacing } from './pacing.js';

/** What a request in flight was scored with. */
export interface Scored {
  /** The candidates scored, in the order of `pCtr` (searched only for the few ads that bid). */
  readonly candidates: readonly AdCandidate[];
  readonly pCtr: Float32Array;
  readonly version: string;
  /** The user id the request was scored for (events of its bids carry it). */
  readonly userId: string;
  /** The encoded rows scored (online learning only) and each candidate's row among them. */
  readonly batch: FeatureBatch | undefined;
  readonly batchRows: Int32Array | undefined;
}

/** What {@link createBidding} needs. */
export interface BiddingDeps {
  readonly config: Pick<ServerConfig, 'maxBidCpm' | 'frequencyCap' | 'stageBudgets' | 'tcfVendorId'>;
  readonly world: World;
  readonly clock: Clock;
  readonly store: FeatureStore;
  readonly pacing: Pick<Pacing, 'decide'>;
  /** The serving predictor, once the first model is loaded. */
  readonly predictor: () => Predictor | undefined;
  /** Runs before each prediction (a test hook). */
  readonly beforePredict: ((request: AdRequest) => void | Promise<void>) | undefined;
}

/** The bidder and the predictions of the requests it is answering. */
export interface Bidding {
  readonly bidder: OpenRtbBidder;
  /** The prediction of a request in flight, by BidRequest id. */
  scored(requestId: string): Scored | undefined;
  /** Forgets a request's prediction (it is answered, or bid again). */
  forget(requestId: string): void;
}

/**
 * Creates the bidder.
 *
 * @param deps - Settings, catalog, clock, store, pacing, predictor, hook.
 * @returns The bidder and its predictions in flight.
 * @throws When the bidder's options are refused (a frequency cap on a counter the store does not keep).
 */
export function createBidding(deps: BiddingDeps): Bidding {
  const { config, world, clock, store, pacing } = deps;
  const cap = config.frequencyCap;
  /** The predictions of requests in flight, by BidRequest id (ids in flight are unique). */
  const scored = new Map<string, Scored>();
  let predictions = 0;
  const bidder = createOpenRtbBidder({
    catalog: world.catalog,
    async predict(request) {
      await deps.beforePredict?.(request);
      const predictor = deps.predictor();
      if (predictor === undefined) throw new CtrkitError('E_STATE', 'the model is not loaded');
      // A private id: the predictor shares one computation between calls with the same id.
      const result = await predictor.predict({ ...request, requestId: `${request.requestId}#${++predictions}` });
      scored.set(request.requestId, { candidates: request.candidates, pCtr: result.pCtr, version: result.modelVersion, userId: request.user.id, batch: result.batch, batchRows: result.batchRows });
      return result.pCtr;
    },
    pacing: (campaignId) => pacing.decide(campaignId),
    maxBidCpm: config.maxBidCpm,
    // At most cap.max impressions per user per campaign in the window: counts of the creatives of the request's formats, read before scoring (a lookup that fails or runs late rejects them).
    ...(cap === undefined
      ? {}
      : {
          counters: (request: AdRequest) => store.lookup(request.user, request.candidates, clock.now(), { deadlineMs: config.stageBudgets.lookup, degradeOnError: true }),
          filter: { frequencyCaps: [{ counter: `user_campaign.imp_count.${cap.window}`, max: cap.max }], counterNames: store.names },
        }),
    seat: 'ctrkit',
    // TCF v2.2 for this vendor: purposes 1, 3, 4 need consent (the TCF allows no legitimate interest for 3 and 4) and so does the vendor.
    consent: config.tcfVendorId === undefined ? {} : { vendorId: config.tcfVendorId },
  });
  return {
    bidder,
    scored: (requestId) => scored.get(requestId),
    forget: (requestId) => void scored.delete(requestId),
  };
}
