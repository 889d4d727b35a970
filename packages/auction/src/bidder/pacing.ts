/**
 * The pacing hook asked once per campaign of a request: its answers checked, a failing or
 * malformed one kept as the reason that campaign's creatives do not bid (never bid unpaced).
 */
import { describe, isRecord } from '../checks.js';
import type { BidderCreative } from './creative.js';
import type { PacingDecision } from './options.js';

/** A pacing answer, or why it cannot be used. */
function checkDecision(decision: unknown): PacingDecision | string {
  if (!isRecord(decision) || typeof decision.admit !== 'boolean' || typeof decision.multiplier !== 'number' || !Number.isFinite(decision.multiplier) || decision.multiplier < 0) {
    return `pacing returned ${isRecord(decision) ? JSON.stringify(decision) : describe(decision)}; expected { multiplier ≥ 0, admit: boolean }`;
  }
  return decision as unknown as PacingDecision;
}

/**
 * @internal Asks `pacing` about each campaign of `survivors` once. Synchronous answers are used
 * as they come; promises are returned in `pending`, for the caller to await together against the
 * deadline, so a host with in-memory pacing pays no async machinery per campaign. Per campaign,
 * `decisions` holds its decision or why there is none usable (settled once `pending` is).
 */
export function askPacing(
  survivors: readonly BidderCreative[],
  pacing: (campaignId: string) => PacingDecision | Promise<PacingDecision>,
): { readonly decisions: Map<string, PacingDecision | string>; readonly pending: Promise<void>[] } {
  const decisions = new Map<string, PacingDecision | string>();
  const pending: Promise<void>[] = [];
  for (const creative of survivors) {
    const campaignId = creative.campaignId;
    if (decisions.has(campaignId)) continue;
    decisions.set(campaignId, 'pacing did not answer');
    try {
      const answer: unknown = pacing(campaignId);
      if (isRecord(answer) && typeof answer.then === 'function') {
        pending.push(
          (answer as unknown as Promise<unknown>).then(
            (decision) => void decisions.set(campaignId, checkDecision(decision)),
            (error: unknown) => void decisions.set(campaignId, `pacing failed: ${error instanceof Error ? error.message : String(error)}`),
          ),
        );
      } else {
        decisions.set(campaignId, checkDecision(answer));
      }
    } catch (error) {
      decisions.set(campaignId, `pacing failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return { decisions, pending };
}
