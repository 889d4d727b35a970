/**
 * A request's impressions as slots the bidder can fill: each takes the formats of its media
 * objects, a floor converted into the response currency and, for native, its parsed request; an
 * impression that cannot be bid on gets its reason instead.
 */
import type { BidRequest } from 'iab-openrtb/v26';
import { mapImp } from '../openrtb.js';
import type { MappedImp, ValidationIssue } from '../openrtb.js';
import { parseNativeRequest } from '../native.js';
import type { NativeRequest } from '../native.js';
import type { ImpOutcome } from './outcome.js';

/** @internal An impression the bidder may bid on: its slot, its floor (response currency) and its native request. */
export type BiddableImp = MappedImp & { readonly floor: number; readonly native: NativeRequest | undefined };

/**
 * @internal Maps every impression of a valid request, in request order: one outcome each (a
 * reason for those skipped: an impression-level validation issue, a private auction, a floor
 * currency `rate` cannot convert, an unreadable native request with no other format), and the
 * biddable ones.
 */
export function mapImpressions(
  request: BidRequest,
  impIssues: readonly ValidationIssue[],
  rate: (from: string, to: string) => number | undefined,
  responseCurrency: string,
): { readonly imps: ImpOutcome[]; readonly mapped: BiddableImp[] } {
  const impIssueByIndex = new Map<number, string>();
  for (const issue of impIssues) {
    const index = Number(/^imp\[(\d+)\]/.exec(issue.path)?.[1]);
    impIssueByIndex.set(index, `${impIssueByIndex.has(index) ? `${impIssueByIndex.get(index)}; ` : ''}${issue.path} ${issue.message}`);
  }
  const mapped: BiddableImp[] = [];
  const imps = request.imp.map((imp, index): ImpOutcome => {
    const problem = impIssueByIndex.get(index);
    if (problem !== undefined) return { impId: imp.id, reason: problem };
    if (imp.pmp?.private_auction === 1) return { impId: imp.id, reason: 'private auction: this bidder has no deals' };
    const floorCurrency = (imp.bidfloorcur ?? 'USD').toUpperCase();
    const floorRate = rate(floorCurrency, responseCurrency);
    if (floorRate === undefined) return { impId: imp.id, reason: `bidfloorcur ${floorCurrency} cannot be converted to ${responseCurrency}; configure exchangeRate` };
    const floor = (imp.bidfloor ?? 0) * floorRate;
    let slot = mapImp(imp, index, floor);
    let native: NativeRequest | undefined;
    if (imp.native !== undefined) {
      const parsed = parseNativeRequest(imp.native.request);
      if (typeof parsed === 'string') {
        // An unreadable native request: the impression may still take its banner or video.
        const formats = slot.formats.filter((f) => f !== 'native');
        if (formats.length === 0) return { impId: imp.id, reason: `imp[${index}].${parsed}` };
        slot = { ...slot, formats };
      } else native = parsed;
    }
    mapped.push({ ...slot, floor, native });
    return { impId: imp.id };
  });
  return { imps, mapped };
}
