/**
 * Consent gating: turn a request's privacy signals (TCF v2, GDPR flag, US privacy, GPP, COPPA,
 * limit-ad-tracking) into core's `ConsentSignals`. The gating is a function of the request alone;
 * the signals are read by consent-input.ts, and applied to a request by strip-personal-data.ts.
 */
import { RestrictionType, TCString } from '@iabtcf/core';
import { CtrkitError } from '@ctrkit/core';
import type { ConsentSignals } from '@ctrkit/core';
import { checkKnownKeys, checkNumber, describe, isRecord } from './checks.js';
import { consentInputFromOpenRtb } from './consent-input.js';
import type { ConsentInput } from './consent-input.js';
import { GPP_SECTIONS, parseGpp, readUsSection, sectionName } from './gpp.js';

/** Options for {@link createConsentEvaluator}; validated once.
 *
 * @example
 * ```ts
 * import type { ConsentOptions } from '@ctrkit/auction';
 * const options: ConsentOptions = { vendorId: 755, purposes: [1, 3, 4] };
 * ```
 */
export interface ConsentOptions {
  /** Your IAB Global Vendor List id; when set, the TC string must give this vendor consent. */
  readonly vendorId?: number;
  /** TCF purposes that need consent for personalized ads (default 1, 3, 4). */
  readonly purposes?: readonly number[];
  /** Deny personalization when `limitAdTracking` is set (default true). */
  readonly honorLimitAdTracking?: boolean;
  /** Whether GDPR applies when a request says nothing and carries no TC string (default false). */
  readonly gdprWhenUnknown?: boolean;
  /** How many decoded TC and GPP strings to remember (default 1,000; 0 disables the cache). */
  readonly cacheSize?: number;
}

/** Why personalized ads were denied.
 *
 * - `coppa` — the request is under COPPA.
 * - `tcf-missing` — GDPR applies and there is no TC string.
 * - `tcf-undecodable` — the TC string could not be decoded.
 * - `tcf-version` — the TC string is not TCF v2.
 * - `tcf-purpose` — a required purpose lacks consent.
 * - `tcf-vendor` — the configured vendor lacks consent.
 * - `tcf-restricted` — the publisher restricts a required purpose for the vendor.
 * - `usp-opt-out` — the US privacy string opts out of sale.
 * - `usp-invalid` — the US privacy string is malformed.
 * - `gpp-undecodable` — the GPP string or one of its sections could not be decoded.
 * - `gpp-section-missing` — `gpp_sid` names a section the string does not hold.
 * - `gpp-section-unsupported` — an applicable section this package cannot evaluate.
 * - `gpp-opt-out` — an applicable US section opts out (sale, sharing, targeted ads, GPC).
 * - `limit-ad-tracking` — the device limits ad tracking.
 *
 * @example
 * ```ts
 * import type { ConsentFindingCode } from '@ctrkit/auction';
 * const code: ConsentFindingCode = 'tcf-purpose';
 * ```
 */
export type ConsentFindingCode =
  | 'coppa'
  | 'tcf-missing'
  | 'tcf-undecodable'
  | 'tcf-version'
  | 'tcf-purpose'
  | 'tcf-vendor'
  | 'tcf-restricted'
  | 'usp-opt-out'
  | 'usp-invalid'
  | 'gpp-undecodable'
  | 'gpp-section-missing'
  | 'gpp-section-unsupported'
  | 'gpp-opt-out'
  | 'limit-ad-tracking';

/** One reason personalization was denied.
 *
 * @example
 * ```ts
 * import type { ConsentFinding } from '@ctrkit/auction';
 * const finding: ConsentFinding = { code: 'usp-opt-out', detail: 'US privacy string 1YYN opts out of sale' };
 * ```
 */
export interface ConsentFinding {
  /** Machine-readable reason. */
  readonly code: ConsentFindingCode;
  /** What exactly was found. */
  readonly detail: string;
}

/** The outcome of {@link ConsentEvaluator.evaluate}.
 *
 * @example
 * ```ts
 * import type { ConsentEvaluation } from '@ctrkit/auction';
 * const allowed = (e: ConsentEvaluation) => e.signals.personalizedAds === true;
 * ```
 */
export interface ConsentEvaluation {
  /** Core's signals: `gdprApplies`, `personalizedAds`, `coppa`, all set. */
  readonly signals: Required<ConsentSignals>;
  /** Why personalization was denied; empty when it is allowed. */
  readonly findings: readonly ConsentFinding[];
}

/**
 * Evaluates privacy signals with fixed options.
 *
 * @example
 * ```ts
 * import type { ConsentEvaluator } from '@ctrkit/auction';
 * const personalized = (evaluator: ConsentEvaluator) => evaluator.evaluate({ usPrivacy: '1YNN' }).signals.personalizedAds;
 * ```
 */
export interface ConsentEvaluator {
  /**
   * Evaluates raw signals.
   *
   * @param input - The signals.
   * @returns Signals and findings; never throws on malformed strings (they deny personalization).
   */
  evaluate(input: ConsentInput): ConsentEvaluation;
  /**
   * Reads the signals of an OpenRTB 2.5 / 2.6 BidRequest (see {@link consentInputFromOpenRtb}) and evaluates them.
   *
   * @param bidRequest - A parsed BidRequest (any shape; missing or mistyped fields count as absent).
   * @returns Signals and findings.
   */
  evaluateOpenRtb(bidRequest: unknown): ConsentEvaluation;
}

const OPTION_KEYS = ['vendorId', 'purposes', 'honorLimitAdTracking', 'gdprWhenUnknown', 'cacheSize'] as const;
const US_PRIVACY = /^1[YN-][YN-][YN-]$/i;

function flag(value: number | boolean | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  return value === true || value === 1;
}

/** A bounded memo: cleared when full, which keeps it O(1) and allocation-free on hits. */
class Memo<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly size: number) {}
  get(key: string, compute: () => V): V {
    if (this.size === 0) return compute();
    let value = this.map.get(key);
    if (value === undefined) {
      if (this.map.size >= this.size) this.map.clear();
      value = compute();
      this.map.set(key, value);
    }
    return value;
  }
}

/**
 * Creates a {@link ConsentEvaluator}. The rules, in order (every failing rule adds a finding;
 * any finding denies personalized ads):
 *
 * 1. **COPPA** (`coppa` = 1): no personal data at all; `coppa` is set in the signals.
 * 2. **GDPR** applies when `gdpr` = 1; when `gdpr` is absent, it applies when the applicable GPP
 *    sections include 2 (TCF EU), when a TC string is present, or with `gdprWhenUnknown`.
 *    `gdpr` = 0 ignores the TC string and GPP section 2. Under GDPR the TC string (and GPP section 2, when applicable) must decode as TCF v2
 *    and give consent to every purpose in `purposes` (purpose 1 is waived when the string sets
 *    `purposeOneTreatment`), consent to `vendorId` when configured, and carry no publisher
 *    restriction that forbids (type 0) or moves to legitimate interest (type 2) a required purpose
 *    for that vendor.
 * 3. **US privacy** (`usPrivacy`): must match `1[YN-]{3}`; a `Y` opt-out of sale (third
 *    character) denies. `1---` (not applicable) allows.
 * 4. **GPP** (`gpp`): the header must decode (`gppSid` naming sections without a GPP string denies). The applicable sections are `gppSid` when given
 *    (values ≤ 0 ignored), else every section in the string. Each applicable section must be
 *    present and evaluable: 2 (TCF EU v2, as in rule 2), 6 (US privacy, as in rule 3), 7–12 (US
 *    national, CA, VA, CO, UT, CT: a sale, sharing or targeted-advertising opt-out, or a GPC
 *    subsection with GPC set, denies). Any other applicable section cannot be evaluated and denies.
 * 5. **Limit ad tracking** (`limitAdTracking` = 1) denies unless `honorLimitAdTracking` is false.
 *
 * @param options - Vendor id, required purposes, defaults.
 * @returns The evaluator.
 * @throws `CtrkitError` `E_CONFIG` on an unknown option or an invalid vendor id or purpose.
 * @remarks Decoded TC and GPP strings are memoized (`cacheSize`), so a returning user costs a map lookup.
 * @example
 * ```ts
 * import { createConsentEvaluator } from '@ctrkit/auction';
 * const consent = createConsentEvaluator({ vendorId: 755 });
 * const { signals, findings } = consent.evaluate({ gdpr: 0, usPrivacy: '1YYN' });
 * console.log(signals.personalizedAds, findings[0]?.code); // false usp-opt-out
 * ```
 */
export function createConsentEvaluator(options: ConsentOptions = {}): ConsentEvaluator {
  if (!isRecord(options as unknown)) throw new CtrkitError('E_CONFIG', `consent options must be an object, got ${describe(options)}`);
  checkKnownKeys(options as Record<string, unknown>, OPTION_KEYS, 'createConsentEvaluator');
  const vendorId = checkNumber(options.vendorId, 'vendorId', 1, 65535);
  if (vendorId !== undefined && !Number.isInteger(vendorId)) throw new CtrkitError('E_CONFIG', `vendorId must be an integer GVL id, got ${vendorId}`);
  const purposes = options.purposes ?? [1, 3, 4];
  if (!Array.isArray(purposes) || purposes.some((p) => !Number.isInteger(p) || p < 1 || p > 24)) {
    throw new CtrkitError('E_CONFIG', `purposes must be TCF purpose ids (integers 1–24), got ${describe(purposes)}`);
  }
  const honorLmt = options.honorLimitAdTracking ?? true;
  const gdprWhenUnknown = options.gdprWhenUnknown ?? false;
  const cacheSize = checkNumber(options.cacheSize, 'cacheSize', 0, 1e7) ?? 1000;
  const tcfMemo = new Memo<readonly ConsentFinding[]>(cacheSize);
  const gppMemo = new Memo<ReturnType<typeof tryParseGpp>>(cacheSize);

  function judgeTcString(tcString: string, where: string): readonly ConsentFinding[] {
    let model;
    try {
      model = TCString.decode(tcString);
    } catch (error) {
      return [{ code: 'tcf-undecodable', detail: `${where} could not be decoded: ${error instanceof Error ? error.message : String(error)}` }];
    }
    if (model.version !== 2) return [{ code: 'tcf-version', detail: `${where} is TCF v${String(model.version)}; only v2 is accepted` }];
    const findings: ConsentFinding[] = [];
    const missing = purposes.filter((p) => !(p === 1 && model.purposeOneTreatment) && !model.purposeConsents.has(p));
    if (missing.length > 0) findings.push({ code: 'tcf-purpose', detail: `${where} lacks consent for purpose${missing.length > 1 ? 's' : ''} ${missing.join(', ')}` });
    if (vendorId !== undefined) {
      if (!model.vendorConsents.has(vendorId)) findings.push({ code: 'tcf-vendor', detail: `${where} lacks consent for vendor ${vendorId}` });
      for (const purpose of purposes) {
        const restriction = model.publisherRestrictions.getRestrictionType(vendorId, purpose);
        if (restriction === RestrictionType.NOT_ALLOWED || restriction === RestrictionType.REQUIRE_LI) {
          const what = restriction === RestrictionType.NOT_ALLOWED ? 'forbids' : 'moves to legitimate interest';
          findings.push({ code: 'tcf-restricted', detail: `${where}: the publisher ${what} purpose ${purpose} for vendor ${vendorId}` });
        }
      }
    }
    return findings;
  }

  function judgeUsPrivacy(value: string, where: string): ConsentFinding | undefined {
    if (!US_PRIVACY.test(value)) return { code: 'usp-invalid', detail: `${where} ${describe(value)} is not a US privacy string (1 followed by three of Y, N, -)` };
    if (value[2] === 'Y' || value[2] === 'y') return { code: 'usp-opt-out', detail: `${where} ${value} opts out of sale` };
    return undefined;
  }

  function evaluate(input: ConsentInput): ConsentEvaluation {
    const findings: ConsentFinding[] = [];
    const source = isRecord(input as unknown) ? input : {};
    const coppa = flag(source.coppa) === true;
    if (coppa) findings.push({ code: 'coppa', detail: 'the request is subject to COPPA: no personal data' });

    const gppSid = Array.isArray(source.gppSid) ? source.gppSid.filter((id) => Number.isInteger(id) && id > 0) : undefined;
    const gpp = typeof source.gpp === 'string' && source.gpp.length > 0 ? source.gpp : undefined;
    const parsed = gpp === undefined ? undefined : gppMemo.get(gpp, () => tryParseGpp(gpp));
    const sections = parsed === undefined || 'error' in parsed ? undefined : parsed;
    const applicable = gppSid ?? sections?.sectionIds ?? [];
    const gdprFlag = flag(source.gdpr);
    const tcString = typeof source.tcString === 'string' && source.tcString.length > 0 ? source.tcString : undefined;
    const gdprApplies = gdprFlag ?? (applicable.includes(GPP_SECTIONS.tcfeuv2) || tcString !== undefined || gdprWhenUnknown);

    if (gdprApplies) {
      if (tcString !== undefined) {
        for (const finding of tcfMemo.get(tcString, () => judgeTcString(tcString, 'the TC string'))) findings.push(finding);
      } else if (sections === undefined || !applicable.includes(GPP_SECTIONS.tcfeuv2)) {
        findings.push({ code: 'tcf-missing', detail: 'GDPR applies but the request carries no TC string (user.consent, or GPP section tcfeuv2)' });
      }
    }

    if (typeof source.usPrivacy === 'string') {
      const finding = judgeUsPrivacy(source.usPrivacy, 'us_privacy');
      if (finding) findings.push(finding);
    }

    if (gpp === undefined && gppSid !== undefined && gppSid.length > 0) {
      findings.push({ code: 'gpp-section-missing', detail: `gpp_sid names sections ${gppSid.join(', ')} but the request has no GPP string` });
    } else if (parsed !== undefined && 'error' in parsed) {
      findings.push({ code: 'gpp-undecodable', detail: `the GPP string could not be decoded: ${parsed.error}` });
    } else if (sections !== undefined) {
      for (const id of applicable) {
        const section = sections.sections.get(id);
        const name = sectionName(id);
        if (section === undefined) {
          findings.push({ code: 'gpp-section-missing', detail: `gpp_sid names ${name} (${id}) but the GPP string does not hold it` });
        } else if (id === GPP_SECTIONS.tcfeuv2) {
          // regs.gdpr = 0 overrides the section; otherwise the section is a TC string like any other.
          if (gdprApplies) for (const finding of tcfMemo.get(section, () => judgeTcString(section, 'GPP tcfeuv2'))) findings.push(finding);
        } else if (id === GPP_SECTIONS.uspv1) {
          const finding = judgeUsPrivacy(section, 'GPP uspv1');
          if (finding) findings.push(finding);
        } else if (id >= GPP_SECTIONS.usnat && id <= GPP_SECTIONS.usct) {
          try {
            const { optedOut } = readUsSection(id, section);
            if (optedOut.length > 0) findings.push({ code: 'gpp-opt-out', detail: `GPP ${name} opts out: ${optedOut.join(', ')}` });
          } catch (error) {
            findings.push({ code: 'gpp-undecodable', detail: `GPP ${name} could not be decoded: ${(error as Error).message}` });
          }
        } else {
          findings.push({ code: 'gpp-section-unsupported', detail: `GPP ${name} (${id}) applies but cannot be evaluated here; treated as no consent` });
        }
      }
    }

    if (honorLmt && flag(source.limitAdTracking) === true) findings.push({ code: 'limit-ad-tracking', detail: 'the device limits ad tracking (lmt = 1)' });

    return { signals: { gdprApplies, personalizedAds: findings.length === 0, coppa }, findings };
  }

  return {
    evaluate,
    evaluateOpenRtb: (bidRequest) => evaluate(consentInputFromOpenRtb(bidRequest)),
  };
}

function tryParseGpp(gpp: string): ReturnType<typeof parseGpp> | { error: string } {
  try {
    return parseGpp(gpp);
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}
