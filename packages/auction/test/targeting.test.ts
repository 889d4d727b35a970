import { describe, expect, it } from 'vitest';
import type { AdCandidate, StoreLookup } from '@ctrkit/core';
import { createCandidateFilter, rejectionReasonOf, type TargetingRules } from '../src/index.js';
import { ad, request } from './fixtures/ad-requests.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 0, 5, 12);

function verdict(rules: TargetingRules, user: Parameters<typeof request>[2], consent?: Parameters<typeof request>[3]) {
  const filter = createCandidateFilter({ targeting: { 'cmp-a': rules } });
  const result = filter.apply(request([ad('a', 1)], undefined, user, consent));
  return result.rejected[0] ?? 'pass';
}

describe('targeting rules', () => {
  it('demographics: age range (inclusive) and genders; unknown values fail', () => {
    expect(verdict({ ageMin: 25, ageMax: 34 }, { age: 25 })).toBe('pass');
    expect(verdict({ ageMin: 25, ageMax: 34 }, { age: 34 })).toBe('pass');
    expect(verdict({ ageMin: 25, ageMax: 34 }, { age: 35 })).toEqual({ adId: 'a', reason: 'targeting_demographic', detail: 'age 35 outside [25, 34]' });
    expect(verdict({ ageMin: 25 }, {})).toEqual({ adId: 'a', reason: 'targeting_demographic', detail: 'age unknown outside [25, Infinity]' });
    expect(verdict({ genders: ['female'] }, { gender: 'female' })).toBe('pass');
    expect(verdict({ genders: ['female'] }, { gender: 'male' })).toMatchObject({ reason: 'targeting_demographic' });
  });

  it('geography: countries (any case), exclusions, regions and cities', () => {
    expect(verdict({ countries: ['fr', 'BE'] }, { country: 'FR' })).toBe('pass');
    expect(verdict({ countries: ['FR'] }, { country: 'de' })).toEqual({ adId: 'a', reason: 'targeting_geo', detail: 'country DE not targeted' });
    expect(verdict({ countries: ['FR'] }, {})).toMatchObject({ reason: 'targeting_geo' });
    expect(verdict({ excludeCountries: ['US'] }, { country: 'us' })).toMatchObject({ reason: 'targeting_geo', detail: 'country US excluded' });
    expect(verdict({ excludeCountries: ['US'] }, {})).toBe('pass');
    expect(verdict({ regions: ['IDF'] }, { region: 'IDF' })).toBe('pass');
    expect(verdict({ cities: ['Paris'] }, { city: 'Lyon' })).toMatchObject({ reason: 'targeting_geo', detail: 'city Lyon not targeted' });
  });

  it('devices and operating systems (case-insensitive os)', () => {
    expect(verdict({ devices: ['mobile', 'tablet'] }, { device: 'tablet' })).toBe('pass');
    expect(verdict({ devices: ['mobile'] }, { device: 'desktop' })).toMatchObject({ reason: 'targeting_device' });
    expect(verdict({ os: ['iOS'] }, { os: 'ios' })).toBe('pass');
    expect(verdict({ os: ['iOS'] }, { os: 'Android' })).toMatchObject({ reason: 'targeting_device', detail: 'os Android not targeted' });
  });

  it('interests (any of) and segments (any of, none of)', () => {
    expect(verdict({ interests: ['travel', 'golf'] }, { interests: ['cars', 'golf'] })).toBe('pass');
    expect(verdict({ interests: ['travel'] }, { interests: ['cars'] })).toMatchObject({ reason: 'targeting_interest' });
    expect(verdict({ interests: ['travel'] }, {})).toMatchObject({ reason: 'targeting_interest' });
    expect(verdict({ segments: ['in-market-auto'] }, { segments: ['in-market-auto'] })).toBe('pass');
    expect(verdict({ segments: ['in-market-auto'] }, { segments: [] })).toMatchObject({ reason: 'targeting_segment' });
    expect(verdict({ excludeSegments: ['churned'] }, { segments: ['churned'] })).toMatchObject({ reason: 'targeting_segment', detail: 'in an excluded segment' });
    expect(verdict({ excludeSegments: ['churned'] }, {})).toBe('pass');
  });

  it('behavior rules count matching actions inside the window', () => {
    const history = [
      { action: 'click', category: 'travel', timestamp: NOW - 10 * DAY },
      { action: 'click', category: 'travel', timestamp: NOW - 2 * DAY },
      { action: 'view', category: 'travel', timestamp: NOW - DAY },
      { action: 'click', category: 'cars', timestamp: NOW - DAY },
    ];
    expect(verdict({ behavior: [{ action: 'click', category: 'travel', withinMs: 7 * DAY }] }, { history })).toBe('pass');
    expect(verdict({ behavior: [{ action: 'click', category: 'travel', withinMs: 7 * DAY, minCount: 2 }] }, { history })).toMatchObject({ reason: 'targeting_segment' });
    expect(verdict({ behavior: [{ action: 'click', category: 'travel', minCount: 2 }] }, { history })).toBe('pass');
    // Any rule may match.
    expect(verdict({ behavior: [{ action: 'cart' }, { action: 'click', category: 'cars', withinMs: 2 * DAY }] }, { history })).toBe('pass');
    // Events after `now` (clock skew) and without timestamps do not count inside a window.
    expect(verdict({ behavior: [{ action: 'click', withinMs: DAY }] }, { history: [{ action: 'click', timestamp: NOW + DAY }, { action: 'click' }] })).toMatchObject({
      reason: 'targeting_segment',
    });
  });

  it('checks families in order: the first failing family is the reason', () => {
    expect(verdict({ ageMin: 50, countries: ['FR'], interests: ['x'] }, { age: 20, country: 'DE' })).toMatchObject({ reason: 'targeting_demographic' });
    expect(verdict({ ageMin: 18, countries: ['FR'], interests: ['x'] }, { age: 20, country: 'DE' })).toMatchObject({ reason: 'targeting_geo' });
  });
});

describe('consent gating', () => {
  it('rules on personal data reject with consent when personalized ads are not allowed', () => {
    const noConsent = { gdprApplies: true, personalizedAds: false };
    expect(verdict({ interests: ['travel'] }, { interests: ['travel'] }, noConsent)).toMatchObject({ reason: 'consent' });
    expect(verdict({ ageMin: 18 }, { age: 30 }, noConsent)).toMatchObject({ reason: 'consent' });
    expect(verdict({ behavior: [{ action: 'click' }] }, { history: [{ action: 'click' }] }, noConsent)).toMatchObject({ reason: 'consent' });
    // Contextual rules (country, device) still apply.
    expect(verdict({ countries: ['FR'], devices: ['mobile'] }, { country: 'FR', device: 'mobile' }, noConsent)).toBe('pass');
    expect(verdict({ regions: ['IDF'] }, { region: 'IDF' }, noConsent)).toBe('pass');
  });

  it('under COPPA, regions and cities are personal too', () => {
    expect(verdict({ regions: ['IDF'] }, { region: 'IDF' }, { coppa: true })).toMatchObject({ reason: 'consent', detail: expect.stringMatching(/COPPA/) });
    expect(verdict({ countries: ['US'] }, { country: 'US' }, { coppa: true })).toBe('pass');
  });
});

describe('frequency caps', () => {
  const NAMES = ['user_ad.imp_count.24h', 'user_advertiser.imp_count.24h', 'user_campaign.imp_count.24h', 'user_campaign.imp_count.1h', 'user_ad.imp.1d'];
  const lookup = (values: number[], degraded = false): StoreLookup => ({
    names: ['user_ad.imp_count.24h', 'user_advertiser.imp_count.24h'],
    rows: values.length / 2,
    values: new Float32Array(values),
    degraded,
  });

  it('reads a StoreLookup row per candidate; a counter at the cap rejects', () => {
    const filter = createCandidateFilter({
      frequencyCaps: [{ counter: 'user_ad.imp_count.24h', max: 3 }],
      targeting: { 'cmp-b': { frequencyCaps: [{ counter: 'user_advertiser.imp_count.24h', max: 5 }] } },
      counterNames: NAMES,
    });
    const candidates = [ad('a', 1), ad('b', 1), ad('c', 1)];
    const result = filter.apply(request(candidates), { counters: lookup([3, 0, 1, 5, 2, 9]) });
    expect(result.rejected).toEqual([
      { adId: 'a', reason: 'frequency_cap', detail: 'user_ad.imp_count.24h = 3 ≥ cap 3' },
      { adId: 'b', reason: 'frequency_cap', detail: 'user_advertiser.imp_count.24h = 5 ≥ cap 5' },
    ]);
    expect(result.passed).toBe(1);
    expect(Array.from(result.codes).map(rejectionReasonOf)).toEqual(['frequency_cap', 'frequency_cap', undefined]);
  });

  it('max 3: three impressions block the 4th, exactly at the count (not a decayed sum)', () => {
    const filter = createCandidateFilter({ frequencyCaps: [{ counter: 'user_campaign.imp_count.24h', max: 3 }], counterNames: NAMES });
    const at = (count: number) => filter.apply(request([ad('a', 1)]), { counters: () => count }).passed;
    expect([0, 1, 2, 3, 4].map(at)).toEqual([1, 1, 1, 0, 0]);
  });

  it('a cap naming a counter that does not exist is an E_CONFIG error with a suggestion, not a 0', () => {
    const make = (counter: string, counterNames?: readonly string[]) => () => createCandidateFilter({ frequencyCaps: [{ counter, max: 3 }], ...(counterNames === undefined ? {} : { counterNames }) });
    expect(make('user_campaign.imp_count.42h', NAMES)).toThrow(/frequencyCaps\[0\]: counter "user_campaign.imp_count.42h" is not among the 5 counterNames; did you mean "user_campaign.imp_count.24h"\?/);
    // The old TSDoc example's name: nothing is close, so the exact counts of that entity are listed.
    expect(make('user_advertiser.impressions.1d', NAMES)).toThrow(/"user_advertiser.impressions.1d" is not among .*exact impression counts are user_advertiser.imp_count.24h/);
    expect(make('user_ad.imp_count.24h')).toThrow(/caps need counterNames/);
    expect(() => createCandidateFilter({ targeting: { c: { frequencyCaps: [{ counter: 'user_ad.imp_cnt.24h', max: 1 }] } }, counterNames: NAMES })).toThrow(/targeting\["c"\]\.frequencyCaps\[0\]: .*did you mean "user_ad.imp_count.24h"/);
    try {
      make('nope', NAMES)();
      expect.fail('no error');
    } catch (error) {
      expect(error).toMatchObject({ code: 'E_CONFIG' });
    }
    expect(make('user_ad.imp_count.24h', NAMES)).not.toThrow();
  });

  it('a lookup without the capped column rejects (cannot verify); a function\'s undefined or NaN counts as 0', () => {
    const filter = createCandidateFilter({ frequencyCaps: [{ counter: 'user_campaign.imp_count.24h', max: 1 }], counterNames: NAMES });
    expect(filter.apply(request([ad('a', 1)]), { counters: lookup([5, 5]) }).rejected).toEqual([
      { adId: 'a', reason: 'frequency_cap', detail: 'the counters have no user_campaign.imp_count.24h; cannot verify its cap' },
    ]);
    const fn = filter.apply(request([ad('a', 1), ad('b', 1), ad('c', 1)]), { counters: (_name, row) => (row === 0 ? 1 : row === 1 ? Number.NaN : undefined) });
    expect(fn.rejected.map((r) => r.adId)).toEqual(['a']);
  });

  it('degraded counters reject capped candidates unless configured to allow them', () => {
    const caps = [{ counter: 'user_ad.imp_count.24h', max: 3 }];
    const degraded = lookup([0, 0], true);
    expect(createCandidateFilter({ frequencyCaps: caps, counterNames: NAMES }).apply(request([ad('a', 1)]), { counters: degraded }).rejected[0]).toMatchObject({
      reason: 'frequency_cap',
      detail: expect.stringMatching(/degraded/),
    });
    expect(createCandidateFilter({ frequencyCaps: caps, counterNames: NAMES, degradedCounters: 'allow' }).apply(request([ad('a', 1)]), { counters: degraded }).passed).toBe(1);
    // A candidate without caps is not affected by degraded counters.
    expect(createCandidateFilter().apply(request([ad('a', 1)]), { counters: degraded }).passed).toBe(1);
  });

  it('refuses counters whose rows do not match the candidates', () => {
    const filter = createCandidateFilter({ frequencyCaps: [{ counter: 'x', max: 1 }], counterNames: ['x'] });
    expect(() => filter.apply(request([ad('a', 1), ad('b', 1)]), { counters: lookup([1, 1]) })).toThrow(/counters have 1 rows .* 2 candidates/);
  });
});

describe('block lists', () => {
  it('blocks a category and its IAB subcategories, not look-alike prefixes', () => {
    const filter = createCandidateFilter({ blockedCategories: ['IAB7'] });
    const candidates = [ad('a', 1, { category: 'IAB7' }), ad('b', 1, { category: 'IAB7-39' }), ad('c', 1, { category: 'IAB70' }), ad('d', 1, { category: 'IAB17-1' })];
    expect(filter.apply(request(candidates)).rejected.map((r) => r.adId)).toEqual(['a', 'b']);
  });

  it('matches block lists against a candidate\'s IAB codes (cat) when it has them, not its free-text category', () => {
    const filter = createCandidateFilter({ blockedCategories: ['IAB13'] });
    const candidates = [ad('a', 1, { category: 'insurance', cat: ['IAB13-6'] }), ad('b', 1, { category: 'IAB13', cat: ['IAB20'] }), ad('c', 1, { category: 'travel', cat: ['IAB20', 'IAB13-2'] })];
    const result = filter.apply(request(candidates));
    expect(result.rejected).toEqual([
      { adId: 'a', reason: 'blocked_category', detail: 'category IAB13-6 is blocked' },
      { adId: 'c', reason: 'blocked_category', detail: 'category IAB13-2 is blocked' },
    ]);
  });

  it('blocks advertisers by id or domain, including subdomains, case-insensitively', () => {
    const filter = createCandidateFilter({ blockedAdvertisers: ['adv-a'] });
    const candidates = [ad('a', 1), ad('b', 1, { domain: 'Shop.Example.com' }), ad('c', 1, { domain: 'notexample.com' }), ad('d', 1, { domain: 'example.com' })];
    const result = filter.apply(request(candidates), { blockedAdvertisers: ['EXAMPLE.com'] });
    expect(result.rejected.map((r) => [r.adId, r.reason])).toEqual([
      ['a', 'blocked_advertiser'],
      ['b', 'blocked_advertiser'],
      ['d', 'blocked_advertiser'],
    ]);
  });

  it('merges static and per-request block lists', () => {
    const filter = createCandidateFilter({ blockedCategories: ['IAB1'] });
    const candidates = [ad('a', 1, { category: 'IAB1-2' }), ad('b', 1, { category: 'IAB3' }), ad('c', 1, { category: 'IAB4' })];
    expect(filter.apply(request(candidates), { blockedCategories: ['IAB3'] }).rejected.map((r) => r.adId)).toEqual(['a', 'b']);
  });
});

describe('filter mechanics', () => {
  it('targeting by function compiles each returned rules object and validates it', () => {
    const byCategory: Record<string, TargetingRules> = { travel: { countries: ['FR'] } };
    const filter = createCandidateFilter({ targeting: (candidate: AdCandidate) => byCategory[candidate.category] });
    const candidates = [ad('a', 1), ad('b', 1, { category: 'cars' })];
    expect(filter.apply(request(candidates, undefined, { country: 'DE' })).rejected.map((r) => r.adId)).toEqual(['a']);
    const broken = createCandidateFilter({ targeting: () => ({ countrys: ['FR'] }) as never });
    expect(() => broken.apply(request([ad('a', 1)]))).toThrow(/unknown option "countrys"/);
  });

  it('leaves candidates already rejected in `out` alone and does not report them again', () => {
    const filter = createCandidateFilter({ blockedCategories: ['travel'] });
    const out = new Uint8Array(4);
    out[0] = 14; // invalid_bid, set by an earlier stage
    const result = filter.apply(request([ad('a', 1), ad('b', 1)]), {}, out);
    expect(result.codes.length).toBe(2);
    expect(result.rejected.map((r) => r.adId)).toEqual(['b']);
    expect(out[0]).toBe(14);
  });

  it('memoizes a campaign verdict per request but re-judges each new request', () => {
    const filter = createCandidateFilter({ targeting: { 'cmp-a': { countries: ['FR'] } } });
    const candidates = [ad('a', 1), ad('a', 1)];
    expect(filter.apply(request(candidates, undefined, { country: 'FR' })).passed).toBe(2);
    expect(filter.apply(request(candidates, undefined, { country: 'DE' })).passed).toBe(0);
    expect(filter.apply(request(candidates, undefined, { country: 'FR' })).passed).toBe(2);
  });

  it('rejections read later describe their own request, not a later one', () => {
    const filter = createCandidateFilter({ targeting: { 'cmp-a': { countries: ['FR'] } }, frequencyCaps: [{ counter: 'n', max: 1 }], counterNames: ['n'] });
    const first = filter.apply(request([ad('a', 1), ad('b', 1)], undefined, { country: 'DE' }), { counters: (_c, row) => row });
    const second = filter.apply(request([ad('a', 1), ad('b', 1)], undefined, { country: 'IT' }), { counters: () => 0 });
    expect(second.rejected).toEqual([{ adId: 'a', reason: 'targeting_geo', detail: 'country IT not targeted' }]);
    expect(first.rejected).toEqual([
      { adId: 'a', reason: 'targeting_geo', detail: 'country DE not targeted' },
      { adId: 'b', reason: 'frequency_cap', detail: 'n = 1 ≥ cap 1' },
    ]);
  });

  it('rejects malformed options with E_CONFIG naming the field', () => {
    expect(() => createCandidateFilter({ targeting: { x: { ageMin: 40, ageMax: 30 } } })).toThrow(/ageMin 40 is above ageMax 30/);
    expect(() => createCandidateFilter({ targeting: { x: { devices: ['phone' as never] } } })).toThrow(/"phone" is not one of desktop, mobile, tablet, ctv, other/);
    expect(() => createCandidateFilter({ frequencyCaps: [{ counter: '', max: 1 }] })).toThrow(/counter must name a counter/);
    expect(() => createCandidateFilter({ frequencyCaps: [{ counter: 'x' } as never], counterNames: ['x'] })).toThrow(/max is required/);
    expect(() => createCandidateFilter({ targeting: { x: { behavior: [{ action: 'click', minCount: 0 }] } } })).toThrow(/minCount must be a finite number in \[1, Infinity\]/);
    expect(() => createCandidateFilter({ blockedCategories: 'IAB1' as never })).toThrow(/blockedCategories must be an array of non-empty strings/);
    expect(() => createCandidateFilter({ degradedCounters: 'maybe' as never })).toThrow(/degradedCounters/);
    expect(() => createCandidateFilter({ target: {} } as never)).toThrow(/unknown option "target"/);
  });
});
