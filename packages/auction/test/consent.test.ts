import { describe, expect, it } from 'vitest';
import type { AdRequest } from '@ctrkit/core';
import { consentInputFromOpenRtb, createConsentEvaluator, stripPersonalData } from '../src/index.js';
import { decodeGppHeader, parseGpp, readUsSection } from '../src/gpp.js';
import { gppHeader, tcString } from '@ctrkit/test-support';

const consent = createConsentEvaluator({ vendorId: 755 });
const codes = (input: Parameters<typeof consent.evaluate>[0], evaluator = consent) => evaluator.evaluate(input).findings.map((f) => f.code);

describe('GPP header and sections', () => {
  it('decodes the published header vectors (IAB iabgpp-es test suite)', () => {
    expect(decodeGppHeader('DBAA')).toEqual([]);
    expect(decodeGppHeader('DBABMA')).toEqual([2]);
    expect(decodeGppHeader('DBACNYA')).toEqual([2, 6]);
    expect(decodeGppHeader('DBABLA')).toEqual([7]);
  });

  it('round-trips headers built by an independent encoder, including ranges', () => {
    for (const ids of [[2], [7], [2, 6], [6, 7, 8], [2, 7, 9, 12], [8]]) expect(decodeGppHeader(gppHeader(ids))).toEqual(ids);
    // A range entry: one group 7–9 is "1" + fib(7) + fib(2) after the count.
    const bits = '000011' + '000001' + '000000000001' + '1' + '01011' + '011';
    const padded = bits.padEnd(Math.ceil(bits.length / 6) * 6, '0');
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const header = Array.from({ length: padded.length / 6 }, (_, i) => alphabet[parseInt(padded.slice(i * 6, i * 6 + 6), 2)]).join('');
    expect(decodeGppHeader(header)).toEqual([7, 8, 9]);
  });

  it('rejects malformed headers and strings', () => {
    expect(() => decodeGppHeader('CBAA')).toThrow(/type is 2, expected 3/);
    expect(() => decodeGppHeader('DB*A')).toThrow(/not a base64url character/);
    expect(() => decodeGppHeader('DBAB')).toThrow(/needs 1 more bits at bit 24 of 24/);
    expect(() => decodeGppHeader('DBABA')).toThrow(/Fibonacci integer runs past the end/);
    expect(() => parseGpp('DBACNYA~only-one')).toThrow(/lists 2 sections \(2, 6\) but the string has 1/);
  });

  it('reads US national opt-outs and the GPC subsection (iabgpp-es vectors)', () => {
    // BVVVkkkkkpFY: sale, sharing and targeted-advertising opt-outs all 1 (opted out).
    expect(readUsSection(7, 'BVVVkkkkkpFY').optedOut).toEqual(['SaleOptOut', 'SharingOptOut', 'TargetedAdvertisingOptOut']);
    // BVQqAAAACg: notices given, all three opt-outs 2 (did not opt out).
    expect(readUsSection(7, 'BVQqAAAACg').optedOut).toEqual([]);
    // .YA is the GPC subsection with GPC set; .QA has it clear.
    expect(readUsSection(7, 'BVQqAAAACg.YA').optedOut).toEqual(['Gpc']);
    expect(readUsSection(7, 'BVQqAAAACg.QA').optedOut).toEqual([]);
    expect(() => readUsSection(7, 'z')).toThrow(/needs 2 more bits/);
  });

  it('reads state sections at their own offsets', () => {
    // usca: version 1, three notices, SaleOptOut (bits 12–13) = 1, SharingOptOut = 2.
    const bits = (fields: string) => {
      const padded = fields.padEnd(Math.ceil(fields.length / 6) * 6, '0');
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      return Array.from({ length: padded.length / 6 }, (_, i) => alphabet[parseInt(padded.slice(i * 6, i * 6 + 6), 2)]).join('');
    };
    expect(readUsSection(8, bits('000001' + '010101' + '01' + '10'))).toEqual({ optedOut: ['SaleOptOut'] });
    // usva: SaleOptOut 2 at 12, TargetedAdvertisingOptOut 1 at 14.
    expect(readUsSection(9, bits('000001' + '010101' + '10' + '01'))).toEqual({ optedOut: ['TargetedAdvertisingOptOut'] });
    // usut has one more notice: opt-outs at 14 and 16.
    expect(readUsSection(11, bits('000001' + '01010101' + '01' + '10'))).toEqual({ optedOut: ['SaleOptOut'] });
  });
});

describe('consent rules, case by case', () => {
  it('no signals: GDPR does not apply and personalization is allowed', () => {
    expect(consent.evaluate({})).toEqual({ signals: { gdprApplies: false, personalizedAds: true, coppa: false }, findings: [] });
  });

  it('COPPA denies everything personal', () => {
    expect(consent.evaluate({ coppa: 1 }).signals).toEqual({ gdprApplies: false, personalizedAds: false, coppa: true });
    expect(codes({ coppa: true })).toEqual(['coppa']);
  });

  it('GDPR without a TC string denies', () => {
    expect(codes({ gdpr: 1 })).toEqual(['tcf-missing']);
    expect(consent.evaluate({ gdpr: 1 }).signals.gdprApplies).toBe(true);
  });

  it('GDPR with consent to purposes 1, 3, 4 and the vendor allows', () => {
    const result = consent.evaluate({ gdpr: 1, tcString: tcString() });
    expect(result).toEqual({ signals: { gdprApplies: true, personalizedAds: true, coppa: false }, findings: [] });
  });

  it('a missing purpose or vendor denies, naming what is missing', () => {
    const purpose = consent.evaluate({ gdpr: 1, tcString: tcString({ purposes: [1, 4] }) });
    expect(purpose.findings).toEqual([{ code: 'tcf-purpose', detail: 'the TC string lacks consent for purpose 3' }]);
    expect(codes({ gdpr: 1, tcString: tcString({ vendors: [32] }) })).toEqual(['tcf-vendor']);
    expect(codes({ gdpr: 1, tcString: tcString({ purposes: [], vendors: [] }) })).toEqual(['tcf-purpose', 'tcf-vendor']);
    // Without a configured vendor id only purposes are checked.
    expect(codes({ gdpr: 1, tcString: tcString({ vendors: [32] }) }, createConsentEvaluator())).toEqual([]);
  });

  it('purpose one treatment waives purpose 1', () => {
    expect(codes({ gdpr: 1, tcString: tcString({ purposes: [3, 4], purposeOneTreatment: true }) })).toEqual([]);
    expect(codes({ gdpr: 1, tcString: tcString({ purposes: [3, 4] }) })).toEqual(['tcf-purpose']);
  });

  it('publisher restrictions that forbid a purpose, or move it to legitimate interest, deny', () => {
    expect(codes({ gdpr: 1, tcString: tcString({ notAllowed: [[755, 4]] }) })).toEqual(['tcf-restricted']);
    const vendor1000 = createConsentEvaluator({ vendorId: 1000 });
    expect(codes({ gdpr: 1, tcString: tcString({ vendors: [1000], requireLi: [[1000, 3]] }) }, vendor1000)).toEqual(['tcf-restricted']);
    expect(vendor1000.evaluate({ gdpr: 1, tcString: tcString({ vendors: [1000], requireLi: [[1000, 3]] }) }).findings[0]?.detail).toBe(
      'the TC string: the publisher moves to legitimate interest purpose 3 for vendor 1000',
    );
    expect(codes({ gdpr: 1, tcString: tcString({ vendors: [1000] }) }, vendor1000)).toEqual([]);
    // A restriction on another vendor does not matter.
    expect(codes({ gdpr: 1, tcString: tcString({ notAllowed: [[32, 4]] }) })).toEqual([]);
  });

  it('an undecodable TC string denies, whatever the decoder throws', () => {
    expect(codes({ gdpr: 1, tcString: 'not a tc string!' })).toEqual(['tcf-undecodable']);
    expect(codes({ gdpr: 1, tcString: 'AAAA' })).toEqual(['tcf-undecodable']);
  });

  it('gdpr = 0 ignores the TC string; an absent flag with a string evaluates it', () => {
    expect(consent.evaluate({ gdpr: 0, tcString: 'garbage' })).toEqual({ signals: { gdprApplies: false, personalizedAds: true, coppa: false }, findings: [] });
    expect(consent.evaluate({ tcString: tcString({ purposes: [1] }) }).signals).toEqual({ gdprApplies: true, personalizedAds: false, coppa: false });
    expect(codes({}, createConsentEvaluator({ gdprWhenUnknown: true }))).toEqual(['tcf-missing']);
  });

  it('US privacy: an opt-out of sale denies, N or - allows, malformed strings deny', () => {
    expect(codes({ usPrivacy: '1YYN' })).toEqual(['usp-opt-out']);
    expect(codes({ usPrivacy: '1yyn' })).toEqual(['usp-opt-out']);
    expect(codes({ usPrivacy: '1YNN' })).toEqual([]);
    expect(codes({ usPrivacy: '1---' })).toEqual([]);
    expect(codes({ usPrivacy: '2YYN' })).toEqual(['usp-invalid']);
    expect(codes({ usPrivacy: '1YY' })).toEqual(['usp-invalid']);
  });

  it('GPP: applicable US sections that opt out deny; others allow', () => {
    const optedOut = `${gppHeader([7])}~BVVVkkkkkpFY`;
    const clear = `${gppHeader([7])}~BVQqAAAACg`;
    expect(codes({ gpp: optedOut, gppSid: [7] })).toEqual(['gpp-opt-out']);
    expect(consent.evaluate({ gpp: optedOut }).findings[0]?.detail).toBe('GPP usnat opts out: SaleOptOut, SharingOptOut, TargetedAdvertisingOptOut');
    expect(codes({ gpp: clear, gppSid: [7] })).toEqual([]);
    expect(codes({ gpp: `${gppHeader([7])}~BVQqAAAACg.YA` })).toEqual(['gpp-opt-out']);
    // A section outside gpp_sid does not apply.
    expect(codes({ gpp: `${gppHeader([6, 7])}~1YNN~BVVVkkkkkpFY`, gppSid: [6] })).toEqual([]);
    expect(codes({ gpp: `DBACNYA~${tcString()}~1YYN`, gppSid: [6] })).toEqual(['usp-opt-out']);
  });

  it('GPP: a TCF EU section makes GDPR apply and is judged like user.consent', () => {
    const granted = consent.evaluate({ gpp: `DBABMA~${tcString()}`, gppSid: [2] });
    expect(granted.signals).toEqual({ gdprApplies: true, personalizedAds: true, coppa: false });
    expect(codes({ gpp: `DBABMA~${tcString({ purposes: [1, 3] })}`, gppSid: [2] })).toEqual(['tcf-purpose']);
    // regs.gdpr = 0 overrides the section.
    expect(codes({ gdpr: 0, gpp: `DBABMA~${tcString({ purposes: [] })}`, gppSid: [2] })).toEqual([]);
  });

  it('GPP that cannot be evaluated denies personalization', () => {
    expect(codes({ gpp: 'not-a-gpp-string' })).toEqual(['gpp-undecodable']);
    expect(codes({ gpp: `${gppHeader([7])}~BVQqAAAACg`, gppSid: [8] })).toEqual(['gpp-section-missing']);
    expect(codes({ gpp: `${gppHeader([13])}~BVQqAAAACg`, gppSid: [13] })).toEqual(['gpp-section-unsupported']);
    expect(codes({ gpp: `${gppHeader([7])}~!!` })).toEqual(['gpp-undecodable']);
    expect(codes({ gppSid: [7] })).toEqual(['gpp-section-missing']);
    expect(codes({ gppSid: [-1] })).toEqual([]);
  });

  it('limit ad tracking denies unless the evaluator is told otherwise', () => {
    expect(codes({ limitAdTracking: 1 })).toEqual(['limit-ad-tracking']);
    expect(codes({ limitAdTracking: 1 }, createConsentEvaluator({ honorLimitAdTracking: false }))).toEqual([]);
  });

  it('collects every finding, not just the first', () => {
    expect(codes({ coppa: 1, gdpr: 1, usPrivacy: '1YYN', limitAdTracking: 1 })).toEqual(['coppa', 'tcf-missing', 'usp-opt-out', 'limit-ad-tracking']);
  });

  it('the cache returns the same verdict for a repeated string, and can be disabled', () => {
    const uncached = createConsentEvaluator({ vendorId: 755, cacheSize: 0 });
    const value = tcString({ purposes: [1, 3] });
    for (let i = 0; i < 3; i++) {
      expect(codes({ gdpr: 1, tcString: value })).toEqual(['tcf-purpose']);
      expect(codes({ gdpr: 1, tcString: value }, uncached)).toEqual(['tcf-purpose']);
    }
  });

  it('refuses bad options', () => {
    expect(() => createConsentEvaluator({ vendorId: 0 })).toThrow(/vendorId must be a finite number in \[1, 65535\]/);
    expect(() => createConsentEvaluator({ purposes: [0] })).toThrow(/purposes must be TCF purpose ids/);
    expect(() => createConsentEvaluator({ vendor: 1 } as never)).toThrow(/unknown option "vendor"/);
  });
});

describe('reading OpenRTB', () => {
  it('reads 2.6 fields, falls back to 2.5 ext fields, and ignores mistyped ones', () => {
    expect(
      consentInputFromOpenRtb({
        regs: { gdpr: 1, us_privacy: '1YNN', gpp: 'DBABMA~x', gpp_sid: [2], coppa: 0, ext: { gdpr: 0, us_privacy: '1YYN' } },
        user: { consent: 'abc', ext: { consent: 'def' } },
        device: { lmt: 1 },
      }),
    ).toEqual({ gdpr: 1, tcString: 'abc', usPrivacy: '1YNN', gpp: 'DBABMA~x', gppSid: [2], coppa: 0, limitAdTracking: 1 });
    expect(consentInputFromOpenRtb({ regs: { ext: { gdpr: 1, us_privacy: '1YYN' } }, user: { ext: { consent: 'def' } } })).toEqual({
      gdpr: 1,
      tcString: 'def',
      usPrivacy: '1YYN',
    });
    expect(consentInputFromOpenRtb({ regs: { gdpr: 'yes', coppa: 2, gpp_sid: ['2'] }, user: { consent: 7 } })).toEqual({});
    expect(consentInputFromOpenRtb(null)).toEqual({});
  });

  it('evaluates a BidRequest in one call', () => {
    const evaluation = consent.evaluateOpenRtb({ id: 'r', imp: [], regs: { ext: { gdpr: 1 } }, user: { ext: { consent: tcString() } } });
    expect(evaluation.signals).toEqual({ gdprApplies: true, personalizedAds: true, coppa: false });
  });
});

describe('stripPersonalData', () => {
  const request: AdRequest = {
    requestId: 'r-7',
    user: {
      id: 'u-1',
      age: 34,
      gender: 'female',
      country: 'FR',
      region: 'IDF',
      city: 'Paris',
      device: 'mobile',
      os: 'iOS',
      language: 'fr',
      interests: ['travel'],
      segments: ['rt-adv-1'],
      history: [{ action: 'click', item: 'ad-1' }],
      attributes: { email_hash: 'abc' },
    },
    context: { timestamp: 0, pageCategory: 'news', keywords: ['election'] },
    candidates: [],
  };

  it('returns the same request when personalization is allowed', () => {
    expect(stripPersonalData(request, { gdprApplies: true, personalizedAds: true })).toBe(request);
    expect(stripPersonalData(request)).toBe(request);
  });

  it('without consent keeps only contextual user fields and an unlinkable id', () => {
    const stripped = stripPersonalData(request, { gdprApplies: true, personalizedAds: false, coppa: false });
    expect(stripped.user).toEqual({ id: 'anon:r-7', country: 'FR', region: 'IDF', city: 'Paris', device: 'mobile', os: 'iOS', language: 'fr' });
    expect(stripped.context).toBe(request.context);
    expect(stripped.consent).toEqual({ gdprApplies: true, personalizedAds: false, coppa: false });
    expect(request.user.age).toBe(34); // the input is not mutated
  });

  it('under COPPA also drops region and city', () => {
    const stripped = stripPersonalData(request, { coppa: true });
    expect(stripped.user).toEqual({ id: 'anon:r-7', country: 'FR', device: 'mobile', os: 'iOS', language: 'fr' });
    expect(stripped.consent).toEqual({ coppa: true, personalizedAds: false });
  });

  it('uses the request’s own consent by default', () => {
    expect(stripPersonalData({ ...request, consent: { personalizedAds: false } }).user.id).toBe('anon:r-7');
  });
});
