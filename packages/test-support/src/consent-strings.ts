/**
 * Consent strings built offline, for the auction's consent tests and the ad server's: real TCF v2
 * strings (`@iabtcf/core` needs a Global Vendor List to encode, so tests give it a minimal
 * in-memory one, 11 purposes and three vendors, instead of downloading it) and GPP headers.
 */
import { GVL, PurposeRestriction, RestrictionType, TCModel, TCString } from '@iabtcf/core';

const purposes: Record<string, { id: number; name: string; description: string; descriptionLegal: string }> = {};
for (let id = 1; id <= 11; id++) purposes[id] = { id, name: `Purpose ${id}`, description: '', descriptionLegal: '' };

function vendor(id: number, flexiblePurposes = [2, 7]) {
  return {
    id,
    name: `Vendor ${id}`,
    purposes: [1, 3, 4],
    legIntPurposes: [2, 7],
    flexiblePurposes,
    specialPurposes: [],
    features: [],
    specialFeatures: [],
    policyUrl: 'https://example.com/privacy',
  };
}

const vendorList = {
  gvlSpecificationVersion: 2,
  vendorListVersion: 101,
  tcfPolicyVersion: 4,
  lastUpdated: '2026-01-01T00:00:00Z',
  purposes,
  specialPurposes: {},
  features: {},
  specialFeatures: {},
  stacks: {},
  // Vendor 1000 lets publishers move purpose 3 to legitimate interest (a flexible purpose).
  vendors: { 32: vendor(32), 755: vendor(755), 1000: vendor(1000, [2, 3, 7]) },
};

/** What a TC string of {@link tcString} grants and restricts. */
export interface TcOptions {
  /** Purposes consented to (default 1, 3 and 4). */
  readonly purposes?: readonly number[];
  /** Vendors consented to (default 755; the vendor list knows 32, 755 and 1000). */
  readonly vendors?: readonly number[];
  /** The purpose-one-treatment flag (default false). */
  readonly purposeOneTreatment?: boolean;
  /** Publisher restrictions: this vendor may not process for this purpose. */
  readonly notAllowed?: readonly (readonly [vendor: number, purpose: number])[];
  /** Publisher restrictions: this vendor must rely on legitimate interest for this purpose. */
  readonly requireLi?: readonly (readonly [vendor: number, purpose: number])[];
}

/**
 * Encodes a TC string (TCF v2.2) with the given consents and restrictions, publisher country FR.
 *
 * @param options - What it grants (default: purposes 1, 3, 4 and vendor 755).
 * @returns The encoded core string.
 * @throws Error from `@iabtcf/core` when a purpose or vendor is not in the vendor list.
 * @example
 * ```ts
 * import { tcString } from '@ctrkit/test-support';
 * const consent = tcString({ purposes: [1], vendors: [755] }); // 'CQ…'
 * ```
 */
export function tcString(options: TcOptions = {}): string {
  const model = new TCModel(new GVL(vendorList as never));
  model.cmpId = 10;
  model.cmpVersion = 1;
  model.consentScreen = 1;
  model.publisherCountryCode = 'FR';
  model.purposeConsents.set([...(options.purposes ?? [1, 3, 4])]);
  model.vendorConsents.set([...(options.vendors ?? [755])]);
  model.purposeOneTreatment = options.purposeOneTreatment ?? false;
  for (const [vendorId, purposeId] of options.notAllowed ?? []) {
    model.publisherRestrictions.add(vendorId, new PurposeRestriction(purposeId, RestrictionType.NOT_ALLOWED));
  }
  for (const [vendorId, purposeId] of options.requireLi ?? []) {
    model.publisherRestrictions.add(vendorId, new PurposeRestriction(purposeId, RestrictionType.REQUIRE_LI));
  }
  return TCString.encode(model);
}

/**
 * Encodes a GPP header for the given section ids (Fibonacci ranges, as the GPP spec defines).
 *
 * @param ids - The section ids (e.g. 2 for TCF EU v2, 7 for US national).
 * @returns The header's base64url text, without the sections themselves.
 * @example
 * ```ts
 * import { gppHeader } from '@ctrkit/test-support';
 * const header = gppHeader([2, 7]);
 * ```
 */
export function gppHeader(ids: readonly number[]): string {
  const fib = (value: number): string => {
    const weights: number[] = [1, 2];
    while ((weights[weights.length - 1] as number) + (weights[weights.length - 2] as number) <= value) {
      weights.push((weights[weights.length - 1] as number) + (weights[weights.length - 2] as number));
    }
    const bits = new Array<string>(weights.length).fill('0');
    let rest = value;
    for (let i = weights.length - 1; i >= 0; i--) {
      if ((weights[i] as number) <= rest) {
        bits[i] = '1';
        rest -= weights[i] as number;
      }
    }
    const text = bits.join('').replace(/0+$/, '');
    return `${text}1`;
  };
  const sorted = [...ids].sort((a, b) => a - b);
  let bits = '000011' + '000001' + sorted.length.toString(2).padStart(12, '0');
  let offset = 0;
  for (const id of sorted) {
    bits += '0' + fib(id - offset);
    offset = id;
  }
  while (bits.length % 6 !== 0) bits += '0';
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  let out = '';
  for (let i = 0; i < bits.length; i += 6) out += alphabet[parseInt(bits.slice(i, i + 6), 2)];
  return out;
}
