/**
 * One request through ctrkit's request path, timed step by step: encode (the features encoder the
 * server uses), predict (whatever runner it is given — onnxruntime-web in the page), calibrate
 * (the manifest's calibrator), auction (GSP) and explain (occlusion, phrased by the spec's
 * factor describer). No DOM: the page renders what this returns.
 */
import { explainByOcclusion, summarizeFactors } from '@ctrkit/core';
import type { AdCandidate, AdRequest, AuctionResult, AuctionWinner, Calibrator, FactorDescriber, FeatureContribution, ModelRunner, Rejection } from '@ctrkit/core';
import type { Auction } from '@ctrkit/auction';
import type { CompiledEncoder } from '@ctrkit/features';

/** What ranking needs: the encoder, the model and its calibrator, the auction and the describer. */
export interface Ranker {
  readonly encoder: CompiledEncoder;
  readonly runner: ModelRunner;
  readonly calibrator: Calibrator;
  readonly auction: Auction;
  readonly describe: FactorDescriber;
}

/** One candidate's scores, auction outcome and explanation. */
export interface RankedAd {
  /** Its index in the request's candidates (and the batch's row). */
  readonly index: number;
  /** The candidate. */
  readonly candidate: AdCandidate;
  /** The model's probability before calibration. */
  readonly rawPCtr: number;
  /** The calibrated click probability the auction ranks by. */
  readonly pCtr: number;
  /** Expected revenue per thousand impressions at the top slot. */
  readonly ecpm: number;
  /** Its slot and price, when it won one. */
  readonly winner: AuctionWinner | undefined;
  /** Why it did not win, otherwise. */
  readonly rejection: Rejection | undefined;
  /** Every field's occlusion contribution, in logit units, largest first. */
  readonly contributions: readonly FeatureContribution[];
  /** Phrases for the factors that raised its score most. */
  readonly factors: readonly string[];
}

/** Milliseconds spent in each step. */
export interface Timings {
  readonly encode: number;
  readonly predict: number;
  readonly calibrate: number;
  readonly auction: number;
  readonly explain: number;
  readonly total: number;
}

/** The outcome of ranking one request. */
export interface Ranking {
  /** The request ranked. */
  readonly request: AdRequest;
  /** Every candidate, highest expected revenue first (ties by candidate order). */
  readonly ads: readonly RankedAd[];
  /** The auction's result. */
  readonly result: AuctionResult;
  /** Time per step. */
  readonly timings: Timings;
}

/**
 * Expected revenue per mille of a candidate at the top slot: the auction's ranking value with its
 * default settings (no squashing, neutral quality). CPM bids pay per mille, CPC per click, CPA per
 * conversion.
 *
 * @param candidate - The ad.
 * @param pCtr - Its calibrated click probability.
 * @returns eCPM in the bid's currency.
 */
export function expectedCpm(candidate: AdCandidate, pCtr: number): number {
  if (candidate.bidType === 'CPM') return candidate.bid;
  if (candidate.bidType === 'CPC') return 1000 * candidate.bid * pCtr;
  return 1000 * candidate.bid * pCtr * (candidate.pCvr ?? 0);
}

/**
 * Ranks a request's candidates.
 *
 * @param ranker - Encoder, runner, calibrator, auction, describer.
 * @param request - The request.
 * @param now - The clock (default `performance.now`).
 * @returns Scores, auction outcome, explanations and timings.
 */
export async function rank(ranker: Ranker, request: AdRequest, now: () => number = () => performance.now()): Promise<Ranking> {
  const { encoder, runner, calibrator, auction, describe } = ranker;
  const t0 = now();
  const batch = encoder.encode(request);
  const t1 = now();
  const raw = await runner.predict(batch, new Float32Array(batch.rows));
  const t2 = now();
  const pCtr = calibrator.apply(raw, new Float64Array(batch.rows));
  const t3 = now();
  const result = auction.run(request, pCtr);
  const t4 = now();
  const missingIds = encoder.missingIds();
  const contributions: FeatureContribution[][] = [];
  for (let row = 0; row < batch.rows; row++) contributions.push(await explainByOcclusion(runner, batch, row, missingIds));
  const t5 = now();
  const winners = new Map(result.winners.map((w) => [w.adId, w]));
  const rejections = new Map(result.rejected.map((r) => [r.adId, r]));
  const ads = request.candidates
    .map((candidate, index): RankedAd => {
      const p = pCtr[index] as number;
      const explained = contributions[index] ?? [];
      return {
        index,
        candidate,
        rawPCtr: raw[index] as number,
        pCtr: p,
        ecpm: expectedCpm(candidate, p),
        winner: winners.get(candidate.adId),
        rejection: rejections.get(candidate.adId),
        contributions: explained,
        factors: summarizeFactors(explained, request, index, describe, 3),
      };
    })
    .sort((a, b) => b.ecpm - a.ecpm || a.index - b.index);
  return {
    request,
    ads,
    result,
    timings: { encode: t1 - t0, predict: t2 - t1, calibrate: t3 - t2, auction: t4 - t3, explain: t5 - t4, total: t5 - t0 },
  };
}
