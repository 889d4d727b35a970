/**
 * Removing from an `AdRequest` what its consent signals do not let a bidder use.
 */
import type { AdRequest, ConsentSignals, UserProfile } from '@ctrkit/core';

/**
 * Removes what a request may not use under its consent signals. When personalized ads are
 * allowed and COPPA does not apply, the request is returned as it is (the same object).
 * Otherwise a new request is returned whose user keeps only contextual fields:
 *
 * | user field | no personalization | COPPA |
 * |---|---|---|
 * | `id` | replaced by `anon:<requestId>` (links nothing across requests) | same |
 * | `age`, `gender`, `interests`, `segments`, `history`, `attributes` | dropped | dropped |
 * | `country`, `device`, `os`, `language` | kept | kept |
 * | `region`, `city` | kept (coarse location) | dropped |
 *
 * The context (page, keywords, slots) and the candidates are kept; `consent` is set to the
 * signals used.
 *
 * @param request - The request.
 * @param signals - The signals to apply (default `request.consent`; absent signals allow personalization).
 * @returns The request, stripped when it must be.
 * @example
 * ```ts
 * import { stripPersonalData } from '@ctrkit/auction';
 * import type { AdRequest } from '@ctrkit/core';
 * const request: AdRequest = {
 *   requestId: 'r-9', user: { id: 'u-1', age: 34, country: 'FR', interests: ['travel'] },
 *   context: { timestamp: 0 }, candidates: [],
 * };
 * const stripped = stripPersonalData(request, { gdprApplies: true, personalizedAds: false });
 * console.log(stripped.user); // { id: 'anon:r-9', country: 'FR' }
 * ```
 */
export function stripPersonalData(request: AdRequest, signals: ConsentSignals | undefined = request.consent): AdRequest {
  if (signals === undefined) return request;
  const coppa = signals.coppa === true;
  if (!coppa && signals.personalizedAds !== false) return request;
  const source = request.user;
  const user: { -readonly [K in keyof UserProfile]: UserProfile[K] } = { id: `anon:${request.requestId}` };
  if (source.country !== undefined) user.country = source.country;
  if (!coppa && source.region !== undefined) user.region = source.region;
  if (!coppa && source.city !== undefined) user.city = source.city;
  if (source.device !== undefined) user.device = source.device;
  if (source.os !== undefined) user.os = source.os;
  if (source.language !== undefined) user.language = source.language;
  return { ...request, user, consent: { ...signals, personalizedAds: false } };
}
