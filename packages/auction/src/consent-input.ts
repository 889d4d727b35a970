/**
 * A request's raw privacy signals ({@link ConsentInput}) and where OpenRTB 2.5 and 2.6 keep them.
 */
import { isRecord } from './checks.js';

/** Raw privacy signals, as they arrive (OpenRTB field names in comments).
 *
 * @example
 * ```ts
 * import type { ConsentInput } from '@ctrkit/auction';
 * const input: ConsentInput = { gdpr: 1, tcString: 'CQ…', usPrivacy: '1YNN', coppa: 0 };
 * ```
 */
export interface ConsentInput {
  /** `regs.gdpr` (or `regs.ext.gdpr` in OpenRTB 2.5): 1 when GDPR applies, 0 when not, absent when unknown. */
  readonly gdpr?: number | boolean;
  /** `user.consent` (or `user.ext.consent`): the TCF v2 TC string. */
  readonly tcString?: string;
  /** `regs.us_privacy` (or `regs.ext.us_privacy`): the IAB US privacy string, e.g. `1YNN`. */
  readonly usPrivacy?: string;
  /** `regs.gpp`: a Global Privacy Platform string. */
  readonly gpp?: string;
  /** `regs.gpp_sid`: the GPP sections that apply to this request. */
  readonly gppSid?: readonly number[];
  /** `regs.coppa`: 1 when the request is subject to COPPA. */
  readonly coppa?: number | boolean;
  /** `device.lmt`: 1 when the operating system's "limit ad tracking" is on. */
  readonly limitAdTracking?: number | boolean;
}

/**
 * Reads privacy signals from an OpenRTB BidRequest: `regs.gdpr` (2.6) or `regs.ext.gdpr` (2.5),
 * `user.consent` or `user.ext.consent`, `regs.us_privacy` or `regs.ext.us_privacy`, `regs.gpp`,
 * `regs.gpp_sid`, `regs.coppa` and `device.lmt`. The 2.6 field wins when both are present.
 * Fields of the wrong type are ignored (treated as absent).
 *
 * @param bidRequest - A parsed BidRequest.
 * @returns The raw signals.
 * @example
 * ```ts
 * import { consentInputFromOpenRtb } from '@ctrkit/auction';
 * const input = consentInputFromOpenRtb({ id: '1', imp: [], regs: { ext: { gdpr: 1 } }, user: { ext: { consent: 'CQ…' } } });
 * console.log(input.gdpr, input.tcString); // 1 CQ…
 * ```
 */
export function consentInputFromOpenRtb(bidRequest: unknown): ConsentInput {
  if (!isRecord(bidRequest)) return {};
  const regs = isRecord(bidRequest.regs) ? bidRequest.regs : {};
  const regsExt = isRecord(regs.ext) ? regs.ext : {};
  const user = isRecord(bidRequest.user) ? bidRequest.user : {};
  const userExt = isRecord(user.ext) ? user.ext : {};
  const device = isRecord(bidRequest.device) ? bidRequest.device : {};
  const bit = (value: unknown): number | undefined => (value === 0 || value === 1 ? value : undefined);
  const text = (value: unknown): string | undefined => (typeof value === 'string' && value.length > 0 ? value : undefined);
  const gdpr = bit(regs.gdpr) ?? bit(regsExt.gdpr);
  const tcString = text(user.consent) ?? text(userExt.consent);
  const usPrivacy = text(regs.us_privacy) ?? text(regsExt.us_privacy);
  const gpp = text(regs.gpp);
  const gppSid = Array.isArray(regs.gpp_sid) && regs.gpp_sid.every((id) => Number.isInteger(id)) ? (regs.gpp_sid as number[]) : undefined;
  const coppa = bit(regs.coppa);
  const lmt = bit(device.lmt);
  return {
    ...(gdpr === undefined ? {} : { gdpr }),
    ...(tcString === undefined ? {} : { tcString }),
    ...(usPrivacy === undefined ? {} : { usPrivacy }),
    ...(gpp === undefined ? {} : { gpp }),
    ...(gppSid === undefined ? {} : { gppSid }),
    ...(coppa === undefined ? {} : { coppa }),
    ...(lmt === undefined ? {} : { limitAdTracking: lmt }),
  };
}

