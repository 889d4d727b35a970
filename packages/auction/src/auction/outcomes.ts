/**
 * The outcome of one auction: its winners, and every other candidate's reason snapshotted
 * compactly and turned into `Rejection` objects only when read.
 */
import type { AdCandidate, AuctionResult, AuctionWinner, Rejection } from '@ctrkit/core';
import { CODE, PASS, REASONS } from '../codes.js';
import type { FilterResult } from '../targeting/filter.js';
import { AUCTION_REJECTED } from './scratch.js';
import type { Scratch } from './scratch.js';

/**
 * @internal The result of the run that left `scratch` as it is: filter rejections first, then
 * the auction's own in candidate order. Clears `scratch.details` for the next run.
 */
export function resultOf(requestId: string, candidates: readonly AdCandidate[], winners: AuctionWinner[], filterResults: readonly FilterResult[], scratch: Scratch): AuctionResult {
  const { codes, fate, taken, details } = scratch;
  const n = candidates.length;
  // Rejections are snapshotted compactly (one byte per candidate, details only where set) and
  // turned into objects on first read: ~1,000 'outranked' objects per auction would otherwise be
  // most of the allocation, and most hosts only sample them.
  // A plain array: a typed array per auction is an off-heap buffer whose external-memory
  // accounting triggers full collections under load.
  const reasons: number[] = new Array<number>(n).fill(PASS);
  let snapshotDetails: (string | undefined)[] | undefined;
  for (let i = 0; i < n; i++) {
    const detail = details[i];
    if (detail !== undefined) details[i] = undefined;
    const code = codes[i] as number;
    let reason: number;
    if (code === PASS) {
      if (taken[i] === 1) continue;
      reason = fate[i] === PASS ? CODE.outranked : (fate[i] as number);
    } else if (code === AUCTION_REJECTED) {
      reason = fate[i] as number;
    } else {
      continue; // rejected by a filter, already listed
    }
    reasons[i] = reason;
    if (detail !== undefined && reason !== CODE.outranked) (snapshotDetails ??= [])[i] = detail;
  }
  let materialized: Rejection[] | undefined;
  return {
    requestId,
    winners,
    get rejected(): readonly Rejection[] {
      if (materialized === undefined) {
        materialized = [];
        for (const result of filterResults) for (const r of result.rejected) materialized.push(r);
        for (let i = 0; i < n; i++) {
          const reason = reasons[i] as number;
          if (reason === PASS) continue;
          const adId = (candidates[i] as AdCandidate).adId;
          const name = REASONS[reason] as Rejection['reason'];
          const detail = snapshotDetails?.[i];
          materialized.push(detail === undefined ? { adId, reason: name } : { adId, reason: name, detail });
        }
      }
      return materialized;
    },
  };
}
