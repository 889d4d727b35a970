/**
 * The auction: score candidates by expected value, allocate the page's slots in rank order, and
 * price the winners by GSP, VCG, first price or second price, with reserves per slot and format.
 * Its options and inputs are in options.ts, slots and their groups in slots.ts, the reused
 * scratch in scratch.ts, the result and its rejections in outcomes.ts.
 */
import { CtrkitError } from '@ctrkit/core';
import { fmix32 } from '@ctrkit/core/internal';
import type { AdCandidate, AdRequest, AuctionResult, AuctionWinner, BidType } from '@ctrkit/core';
import { describe, isRecord } from '../checks.js';
import { CODE, PASS } from '../codes.js';
import { clampRounded } from '../price.js';
import type { FilterResult } from '../targeting/filter.js';
import { resolveSettings } from './options.js';
import type { Auction, AuctionInputs, AuctionOptions } from './options.js';
import { resultOf } from './outcomes.js';
import { AUCTION_REJECTED, Scratch } from './scratch.js';
import { FORMAT_INDEX, groupsOf } from './slots.js';
import type { ResolvedSlot } from './slots.js';

const BID_TYPE_INDEX: Readonly<Record<string, number>> = { CPM: 0, CPC: 1, CPA: 2 };
const BID_TYPES: readonly BidType[] = ['CPM', 'CPC', 'CPA'];

/**
 * Creates an {@link Auction}.
 *
 * **Model.** Candidate i has an effective bid b_i (bid × pacing multiplier) in its own unit, and
 * billable events per mille at position 0: u_i = 1 (CPM), 1000 × pCTR (CPC), 1000 × pCTR × pCVR
 * (CPA). Its rank weight is s_i = q_i × (1 for CPM, 1000 × pCTR^γ for CPC, 1000 × pCTR^γ × pCVR
 * for CPA) with q_i its quality (when `useQuality`), and its rank score
 * r_i = λ_i b_i + c_i with λ_i = W_rev × s_i and c_i the objective's other terms. A slot at
 * position p multiplies clicks by α_p (`positionEffects`).
 *
 * **Allocation.** Slots are grouped by the ad formats they accept; groups run in order of their
 * most prominent slot, and a candidate that wins in one group leaves the others. Within a group,
 * candidates are taken in decreasing r_i (ties broken by a seeded draw) and fill the slots in
 * position order. A candidate whose bid is below the reserve of the slot it would take is
 * rejected `below_reserve` and does not take part further.
 *
 * **Reserves.** Slot j's reserve F_j (CPM) is the largest of its `floorCpm`, the format floor and
 * `reserveCpm`; in bid units it is R_ij = F_j / e_ij with e_ij = 1 for CPM and u_i × α_j for CPC
 * and CPA, so a CPM floor becomes a per-click floor through pCTR.
 *
 * **Prices** (bid units, per event), for the winner of slot k, with r_{k+1} the next candidate's
 * rank score (0 if none): GSP (r_{k+1} − c_i) / λ_i; VCG (T_k / α_k − c_i) / λ_i with
 * T_k = Σ_{j≥k} (α_j − α_{j+1}) r_{j+1} over the group's slots (α past the last slot is 0);
 * first price b_i; second price GSP + increment. Every price then goes through
 * {@link roundPrice}'s rule: rounded half up to `priceDecimals`, clamped into [R_ik, b_i].
 * `priceCpm` is price × e_ik, the expected cost per thousand impressions in that slot.
 *
 * **Bad values.** A request without a candidates array, a `pCtr` of the wrong length or malformed
 * slots throw `E_INPUT`. A single candidate with a non-finite or non-positive bid, an unknown bid
 * type, a pCTR or pCVR outside [0, 1] or a non-positive quality is rejected `invalid_bid` with a
 * detail naming the field; the rest of the auction goes on.
 *
 * @param options - Pricing rule, scoring, position effects, reserves, tie-breaking seed, filter.
 * @returns The auction; `run` is synchronous and reuses internal scratch (not re-entrant).
 * @throws `CtrkitError` `E_CONFIG` on an unknown option or an invalid value.
 * @remarks `run` allocates only its result: the winners, a one-number-per-candidate snapshot of
 * the outcomes, and — on first read of `result.rejected` — the rejection objects (filter
 * rejections first, then the auction's in candidate order). Scoring and selection use typed-array
 * scratch sized by `capacity`, grown by doubling; selection is a binary heap, O(n + k log n) for
 * k slots.
 * @example
 * ```ts
 * import { createAuction } from '@ctrkit/auction';
 * import type { AdRequest } from '@ctrkit/core';
 * const auction = createAuction({ pricing: 'gsp' });
 * const ad = (adId: string, bid: number) => ({ adId, advertiserId: adId, campaignId: adId, format: 'search' as const, category: 'travel', bid, bidType: 'CPC' as const });
 * const request: AdRequest = {
 *   requestId: 'r-1', user: { id: 'u-1' }, context: { timestamp: 0, slots: [{ id: 'top', format: 'search', position: 0 }] },
 *   candidates: [ad('a', 2), ad('b', 1)],
 * };
 * const result = auction.run(request, new Float32Array([0.1, 0.1]));
 * console.log(result.winners[0]?.adId, result.winners[0]?.price); // a 1
 * ```
 */
export function createAuction(options: AuctionOptions = {}): Auction {
  const settings = resolveSettings(options);
  const { pricing, gamma, useQuality, wRevenue, wUx, wAdv, increment, scale, random, filter, capacity } = settings;
  const scratch = new Scratch();
  scratch.ensure(capacity);
  /** Winners of the current group in slot order, then the runner-up. */
  const competitors: number[] = [];

  function run(request: AdRequest, pCtr: ArrayLike<number>, inputs: AuctionInputs = {}): AuctionResult {
    if (!isRecord(request)) throw new CtrkitError('E_INPUT', `auction.run needs an AdRequest, got ${describe(request)}`);
    const candidates = request.candidates;
    if (!Array.isArray(candidates)) throw new CtrkitError('E_INPUT', `request.candidates must be an array, got ${describe(candidates)}`);
    if (!isRecord(request.context)) throw new CtrkitError('E_INPUT', `request.context must be an object, got ${describe(request.context)}`);
    const n = candidates.length;
    if (pCtr === null || typeof pCtr !== 'object' || pCtr.length !== n) {
      throw new CtrkitError('E_INPUT', `pCtr must hold one probability per candidate (${n}), got ${pCtr === null || typeof pCtr !== 'object' ? describe(pCtr) : `${pCtr.length} values`}`);
    }
    for (const key of ['pCvr', 'bidMultiplier', 'admitted', 'exhausted', 'userExperience', 'advertiserValue'] as const) {
      const values = inputs[key];
      if (values !== undefined && values.length !== n) {
        throw new CtrkitError('E_INPUT', `inputs.${key} has ${values.length} values for ${n} candidates; pass one per candidate`);
      }
    }
    const groups = groupsOf(request, settings);
    scratch.ensure(n);
    const { codes, fate, taken, bidType, formatOf, heap, tie, bid, units, lambda, offset, score, details } = scratch;
    codes.fill(0, 0, n);
    fate.fill(0, 0, n);
    taken.fill(0, 0, n);
    const filterResults: FilterResult[] = [];

    if (inputs.filtered !== undefined) {
      if (inputs.filtered.codes.length !== n) throw new CtrkitError('E_INPUT', `inputs.filtered covers ${inputs.filtered.codes.length} candidates, the request has ${n}`);
      codes.set(inputs.filtered.codes);
      filterResults.push(inputs.filtered);
    }
    if (filter !== undefined) {
      // The inputs are the filter's context (counters and block lists): passed as they are.
      filterResults.push(filter.apply(request, inputs, codes));
    }

    let allFormats = 0;
    for (const group of groups) allFormats |= group.formatMask;
    const pCvrs = inputs.pCvr;
    const multipliers = inputs.bidMultiplier;
    const admitted = inputs.admitted;
    const exhausted = inputs.exhausted;
    const uxs = inputs.userExperience;
    const advs = inputs.advertiserValue;
    const salt = (random.next() * 4294967296) >>> 0;
    const reject = (i: number, code: number): void => {
      codes[i] = AUCTION_REJECTED;
      fate[i] = code;
    };

    // Score every candidate still in the running. One pass, no allocation on the passing path.
    for (let i = 0; i < n; i++) {
      if (codes[i] !== PASS) continue;
      const candidate = candidates[i] as AdCandidate;
      if (!isRecord(candidate)) {
        throw new CtrkitError('E_INPUT', `request.candidates[${i}] must be an AdCandidate, got ${describe(candidate)}`);
      }
      if (exhausted !== undefined && (exhausted[i] === true || exhausted[i] === 1)) {
        reject(i, CODE.budget_exhausted);
        continue;
      }
      if (admitted !== undefined && (admitted[i] === false || admitted[i] === 0)) {
        reject(i, CODE.pacing_throttled);
        continue;
      }
      const type = BID_TYPE_INDEX[candidate.bidType];
      const p = pCtr[i] as number;
      const multiplier = multipliers === undefined ? 1 : (multipliers[i] as number);
      const quality = useQuality && candidate.quality !== undefined ? candidate.quality : 1;
      const cvr = type === 2 ? (pCvrs === undefined ? (candidate.pCvr ?? Number.NaN) : (pCvrs[i] as number)) : pCvrs === undefined ? (candidate.pCvr ?? 0) : (pCvrs[i] as number);
      const raw = candidate.bid;
      let problem: string | undefined;
      if (type === undefined) problem = `bidType ${describe(candidate.bidType)} is not one of ${BID_TYPES.join(', ')}`;
      else if (typeof raw !== 'number' || !(raw > 0) || raw === Infinity) problem = `bid must be a finite number > 0, got ${describe(raw)}`;
      else if (!(p >= 0 && p <= 1)) problem = `pCTR must be a probability in [0, 1], got ${p}`;
      else if (!(cvr >= 0 && cvr <= 1)) problem = type === 2 ? `CPA bids need a pCVR in [0, 1] (inputs.pCvr or candidate.pCvr), got ${cvr}` : `pCVR must be in [0, 1], got ${cvr}`;
      else if (!(quality > 0 && quality < Infinity)) problem = `quality must be a finite number > 0, got ${describe(quality)}`;
      else if (!(multiplier >= 0 && multiplier < Infinity)) problem = `pacing multiplier must be a finite number ≥ 0, got ${multiplier}`;
      if (problem !== undefined) {
        reject(i, CODE.invalid_bid);
        details[i] = problem;
        continue;
      }
      if (multiplier === 0) {
        reject(i, CODE.pacing_throttled);
        details[i] = 'pacing multiplier is 0';
        continue;
      }
      const f = FORMAT_INDEX[candidate.format];
      if (f === undefined || ((allFormats >>> f) & 1) === 0) {
        reject(i, CODE.format_mismatch);
        details[i] = `no slot accepts format ${describe(candidate.format)}`;
        continue;
      }
      const t = type as number;
      const u = t === 0 ? 1 : t === 1 ? 1000 * p : 1000 * p * cvr;
      if (!(u > 0)) {
        reject(i, CODE.below_reserve);
        details[i] = `zero expected value (pCTR ${p}${t === 2 ? `, pCVR ${cvr}` : ''})`;
        continue;
      }
      const squashed = gamma === 1 ? p : Math.pow(p, gamma);
      const weight = quality * (t === 0 ? 1 : t === 1 ? 1000 * squashed : 1000 * squashed * cvr);
      const b = raw * multiplier;
      const lam = wRevenue * weight;
      let c = 0;
      if (wUx !== 0) c += wUx * (uxs === undefined ? 1000 * p : (uxs[i] as number));
      if (wAdv !== 0) c += wAdv * (advs === undefined ? 1000 * p * cvr : (advs[i] as number));
      if (!Number.isFinite(c)) {
        reject(i, CODE.invalid_bid);
        details[i] = `objective terms must be finite, got ${c}`;
        continue;
      }
      bidType[i] = t;
      bid[i] = b;
      units[i] = u;
      lambda[i] = lam;
      offset[i] = c;
      score[i] = lam * b + c;
      tie[i] = fmix32(salt ^ Math.imul(i + 1, 0x9e3779b9));
      formatOf[i] = f;
    }

    const better = (a: number, b: number): boolean => {
      const sa = score[a] as number;
      const sb = score[b] as number;
      if (sa !== sb) return sa > sb;
      const ta = tie[a] as number;
      const tb = tie[b] as number;
      return ta !== tb ? ta > tb : a < b;
    };
    const siftDown = (size: number, from: number): void => {
      let at = from;
      const item = heap[at] as number;
      for (;;) {
        let child = 2 * at + 1;
        if (child >= size) break;
        if (child + 1 < size && better(heap[child + 1] as number, heap[child] as number)) child++;
        if (!better(heap[child] as number, item)) break;
        heap[at] = heap[child] as number;
        at = child;
      }
      heap[at] = item;
    };

    const winners: AuctionWinner[] = [];
    for (const group of groups) {
      const m = group.slots.length;
      let size = 0;
      for (let i = 0; i < n; i++) {
        if (codes[i] === PASS && taken[i] === 0 && ((group.formatMask >>> (formatOf[i] as number)) & 1) === 1) heap[size++] = i;
      }
      for (let at = (size >> 1) - 1; at >= 0; at--) siftDown(size, at);
      competitors.length = 0;
      let assigned = 0;
      while (size > 0) {
        const i = heap[0] as number;
        heap[0] = heap[--size] as number;
        siftDown(size, 0);
        if (assigned === m) {
          competitors.push(i); // the runner-up: prices the last slot, does not win
          break;
        }
        const slot = group.slots[assigned] as ResolvedSlot;
        const events = bidType[i] === 0 ? 1 : (units[i] as number) * slot.alpha;
        const reserve = slot.floorCpm / events;
        if ((bid[i] as number) < reserve) {
          fate[i] = CODE.below_reserve;
          details[i] = `bid ${bid[i]} below the reserve ${reserve} of slot ${slot.slot.id} (${slot.floorCpm} CPM)`;
          continue;
        }
        competitors.push(i);
        assigned++;
      }
      for (let k = 0; k < assigned; k++) {
        const i = competitors[k] as number;
        const slot = group.slots[k] as ResolvedSlot;
        const b = bid[i] as number;
        const lam = lambda[i] as number;
        const c = offset[i] as number;
        const next = competitors[k + 1];
        let price: number;
        if (pricing === 'first-price') {
          price = b;
        } else if (pricing === 'vcg') {
          let total = 0;
          for (let j = k; j < m; j++) {
            const follower = competitors[j + 1];
            if (follower === undefined) break;
            const alphaNext = j + 1 < m ? (group.slots[j + 1] as ResolvedSlot).alpha : 0;
            total += ((group.slots[j] as ResolvedSlot).alpha - alphaNext) * (score[follower] as number);
          }
          price = (total / slot.alpha - c) / lam;
        } else {
          price = ((next === undefined ? 0 : (score[next] as number)) - c) / lam;
          if (pricing === 'second-price') price += increment;
        }
        if (!(price > 0)) price = 0;
        const events = bidType[i] === 0 ? 1 : (units[i] as number) * slot.alpha;
        const reserve = slot.floorCpm / events;
        const charged = clampRounded(price, reserve, b, scale);
        const candidate = candidates[i] as AdCandidate;
        taken[i] = 1;
        fate[i] = PASS;
        winners.push({
          adId: candidate.adId,
          campaignId: candidate.campaignId,
          advertiserId: candidate.advertiserId,
          slotId: slot.slot.id,
          position: slot.slot.position,
          bidType: candidate.bidType,
          bid: b,
          price: charged,
          priceCpm: Math.round(charged * events * scale) / scale,
          pCtr: pCtr[i] as number,
          score: score[i] as number,
        });
      }
      // Candidates of this group that were neither winners nor dropped were outranked (a later
      // group may still take them and overwrite this).
      for (let h = 0; h < size; h++) {
        const i = heap[h] as number;
        if (fate[i] === PASS) fate[i] = CODE.outranked;
      }
      for (let k = assigned; k < competitors.length; k++) {
        const i = competitors[k] as number;
        if (fate[i] === PASS) fate[i] = CODE.outranked;
      }
    }

    return resultOf(request.requestId, candidates, winners, filterResults, scratch);
  }

  return { pricing, run };
}
