import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AdRequest, FeatureBatch, StoreLookup } from '@ctrkit/core';
import { createTrafficGenerator } from '@ctrkit/core/sim';
import { allocateBatch, bagOffsets, createFeatureEncoder, type FeatureSpecJSON } from '../src/index.js';
import { referenceId } from './fixtures/reference-id.js';

const SEED = 1234;
const ID_SPACE = 1_000_003;
const id = (key: string) => referenceId(key, SEED, ID_SPACE);
const missing = (field: string) => id(`${field}\u0000`);

const spec: FeatureSpecJSON = {
  version: 1,
  seed: SEED,
  idSpace: ID_SPACE,
  fields: [
    { name: 'user_id', kind: 'categorical', source: 'user', path: 'id' },
    { name: 'country', kind: 'categorical', source: 'user', path: 'country' },
    { name: 'age', kind: 'numeric', source: 'user', path: 'age', bucketize: { boundaries: [18, 25, 35, 45, 55, 65] } },
    { name: 'interests', kind: 'bag', source: 'user', path: 'interests', maxSize: 3, combiner: 'mean' },
    { name: 'publisher', kind: 'categorical', source: 'context', path: 'publisherId' },
    { name: 'hour', kind: 'categorical', source: 'context', path: 'hourOfDay' },
    { name: 'ad', kind: 'categorical', source: 'candidate', path: 'adId' },
    { name: 'advertiser', kind: 'categorical', source: 'candidate', path: 'advertiserId' },
    { name: 'ad_category', kind: 'categorical', source: 'candidate', path: 'category' },
    { name: 'bid', kind: 'dense', source: 'candidate', path: 'bid', normalize: { method: 'log1p' } },
    { name: 'history', kind: 'sequence', source: 'user', path: 'history', item: 'category', maxLength: 8, sharesIdsWith: 'ad_category' },
    { name: 'user_x_category', kind: 'cross', of: ['user_id', 'ad_category'] },
    { name: 'user_x_advertiser', kind: 'cross', of: ['user_id', 'advertiser'] },
    { name: 'age_x_category_x_hour', kind: 'cross', of: ['age', 'ad_category', 'hour'] },
    { name: 'ad_ctr', kind: 'numeric', source: 'store', path: 'ad.ctr.1d', bucketize: { boundaries: [0.01, 0.02, 0.04] } },
    { name: 'user_ad_imps', kind: 'dense', source: 'store', path: 'user_ad.imp.1d', normalize: { method: 'log1p' } },
  ],
};

function ageBucket(age: number | undefined): string | undefined {
  if (age === undefined) return undefined;
  return String([18, 25, 35, 45, 55, 65].filter((b) => b <= age).length);
}

function lookupFor(rows: number): StoreLookup {
  const names = ['user.imp.1d', 'ad.ctr.1d', 'user_ad.imp.1d'];
  const values = new Float32Array(rows * 3);
  for (let r = 0; r < rows; r++) {
    values[r * 3] = 5;
    values[r * 3 + 1] = r === 1 ? Number.NaN : 0.005 * r;
    values[r * 3 + 2] = r;
  }
  return { names, rows, values, degraded: false };
}

describe('encoding synthetic requests', () => {
  const generator = createTrafficGenerator({ seed: 9, users: 500, candidatesPerRequest: 12 });
  const requests = [...generator.requests({ count: 20 })].map((r) => r.request);

  it('writes every field of every row to hand-computed ids', () => {
    const encoder = createFeatureEncoder(spec);
    const layout = encoder.layout;
    const col = (name: string) => layout.fields.find((f) => f.name === name)?.offset as number;
    for (const request of requests) {
      const rows = request.candidates.length;
      const batch = encoder.encode(request, lookupFor(rows));
      const W = layout.idWidth;
      const { user, context } = request;
      const localHour = Math.floor(((((context.timestamp + (context.timezoneOffsetMinutes ?? 0) * 60_000) % 86_400_000) + 86_400_000) % 86_400_000) / 3_600_000);
      expect(batch.rows).toBe(rows);
      for (let r = 0; r < rows; r++) {
        const ad = request.candidates[r] as AdRequest['candidates'][number];
        const at = (name: string) => batch.ids[r * W + col(name)];
        expect(at('user_id')).toBe(id(`user_id\u0001${user.id}`));
        expect(at('country')).toBe(id(`country\u0001${user.country}`));
        expect(at('age')).toBe(id(`age\u0001${ageBucket(user.age)}`));
        expect(at('publisher')).toBe(id(`publisher\u0001${context.publisherId}`));
        expect(at('hour')).toBe(id(`hour\u0001${localHour}`));
        expect(at('ad')).toBe(id(`ad\u0001${ad.adId}`));
        expect(at('advertiser')).toBe(id(`advertiser\u0001${ad.advertiserId}`));
        expect(at('ad_category')).toBe(id(`ad_category\u0001${ad.category}`));
        expect(at('user_x_category')).toBe(id(`user_x_category\u0001${user.id}\u0002${ad.category}`));
        expect(at('user_x_advertiser')).toBe(id(`user_x_advertiser\u0001${user.id}\u0002${ad.advertiserId}`));
        expect(at('age_x_category_x_hour')).toBe(id(`age_x_category_x_hour\u0001${ageBucket(user.age)}\u0002${ad.category}\u0002${localHour}`));
        // Store: ctr 0.005·r → buckets 0 (r = 0), missing (r = 1, NaN), then [0.01, 0.02) …
        const ctr = r === 1 ? undefined : String([0.01, 0.02, 0.04].filter((b) => b <= Math.fround(0.005 * r)).length);
        expect(at('ad_ctr')).toBe(ctr === undefined ? missing('ad_ctr') : id(`ad_ctr\u0001${ctr}`));
        // Bag: the first 3 interests, mean weights, padded with id 0 / weight 0.
        const interests = (user.interests ?? []).slice(0, 3);
        for (let k = 0; k < 3; k++) {
          const p = r * W + col('interests') + k;
          if (interests.length === 0) {
            expect([batch.ids[p], batch.values[p]]).toEqual(k === 0 ? [missing('interests'), 1] : [0, 0]);
          } else if (k < interests.length) {
            expect(batch.ids[p]).toBe(id(`interests\u0001${interests[k]}`));
            expect(batch.values[p]).toBeCloseTo(1 / interests.length, 7);
          } else expect([batch.ids[p], batch.values[p]]).toEqual([0, 0]);
        }
        // Dense: log1p(bid), log1p(user × ad impressions).
        expect(batch.dense[r * 2]).toBeCloseTo(Math.log1p(ad.bid), 6);
        expect(batch.dense[r * 2 + 1]).toBeCloseTo(Math.log1p(r), 6);
        // Sequence: the last 8 history categories, most recent last, left-padded, ids shared with ad_category.
        const history = (user.history ?? []).slice(-8).map((e) => id(`ad_category\u0001${e.category}`));
        const padded = [...new Array(8 - history.length).fill(0), ...history];
        expect(Array.from(batch.sequenceIds.subarray(r * 8, r * 8 + 8))).toEqual(padded);
        expect(batch.sequenceLengths[r]).toBe(history.length);
      }
    }
  });

  it('counts missing values once per row and fills store fields as missing without a lookup', () => {
    const encoder = createFeatureEncoder(spec);
    const request = requests[0] as AdRequest;
    const rows = request.candidates.length;
    const stripped: AdRequest = { ...request, user: { id: request.user.id }, context: { timestamp: request.context.timestamp } };
    const batch = encoder.encode(stripped);
    const stats = encoder.stats();
    expect(stats.rows).toBe(rows);
    for (const name of ['country', 'age', 'interests', 'publisher', 'history', 'ad_ctr', 'user_ad_imps', 'age_x_category_x_hour']) expect(stats.missing[name], name).toBe(rows);
    expect(stats.missing.ad).toBe(0);
    const col = encoder.layout.fields.find((f) => f.name === 'country')?.offset as number;
    expect(batch.ids[col]).toBe(missing('country'));
    expect(batch.sequenceLengths[0]).toBe(0);
    encoder.resetStats();
    expect(encoder.stats().missing.country).toBe(0);
  });

  it('fills a preallocated batch in place, or views into a larger one, with identical bits', () => {
    const encoder = createFeatureEncoder(spec);
    const request = requests[3] as AdRequest;
    const rows = request.candidates.length;
    const fresh = encoder.encode(request, lookupFor(rows));
    const exact = allocateBatch(encoder.layout, rows);
    exact.ids.fill(-7);
    exact.sequenceIds.fill(-7);
    expect(encoder.encode(request, lookupFor(rows), exact)).toBe(exact);
    const big = allocateBatch(encoder.layout, 64);
    big.values.fill(9);
    const viewed = encoder.encode(request, lookupFor(rows), big);
    expect(viewed.ids.buffer).toBe(big.ids.buffer);
    for (const batch of [exact, viewed]) {
      for (const key of ['ids', 'values', 'dense', 'sequenceIds', 'sequenceLengths'] as const) {
        expect(Array.from(batch[key] as ArrayLike<number>), key).toEqual(Array.from(fresh[key] as ArrayLike<number>));
      }
    }
    const other = createFeatureEncoder({ ...spec, seed: 1 });
    expect(() => encoder.encode(request, undefined, allocateBatch(other.layout, rows))).toThrow(/allocateBatch/);
  });

  it('gives a bag field as offsets into a flat id list (padding left out)', () => {
    const encoder = createFeatureEncoder(spec);
    const request = requests[2] as AdRequest;
    const interests = (request.user.interests ?? []).slice(0, 3);
    const bag = bagOffsets(encoder.encode({ ...request, candidates: request.candidates.slice(0, 4) }), 'interests');
    const n = Math.max(1, interests.length);
    expect(Array.from(bag.offsets)).toEqual([0, n, 2 * n, 3 * n, 4 * n]);
    const want = interests.length === 0 ? [missing('interests')] : interests.map((i) => id(`interests\u0001${i}`));
    expect(Array.from(bag.ids)).toEqual([...want, ...want, ...want, ...want]);
    expect(bag.weights[0]).toBeCloseTo(interests.length === 0 ? 1 : 1 / interests.length, 7);
    expect(() => bagOffsets(encoder.encode(request), 'country')).toThrow(/no bag field 'country'; its bags are interests/);
  });

  it('rejects malformed requests and mismatched lookups with E_INPUT', () => {
    const encoder = createFeatureEncoder(spec);
    const request = requests[0] as AdRequest;
    const bad = (value: unknown) => () => encoder.encode(value as AdRequest);
    expect(bad(null)).toThrow(expect.objectContaining({ code: 'E_INPUT' }));
    expect(bad({ ...request, user: undefined })).toThrow(/no user object/);
    expect(bad({ ...request, candidates: 'x' })).toThrow(/candidates must be an array/);
    expect(bad({ ...request, candidates: [null] })).toThrow(/candidates\[0\] must be an object/);
    expect(bad({ ...request, user: { ...request.user, country: ['FR'] } })).toThrow(/user\.country \(field 'country'\).*array/);
    expect(bad({ ...request, user: { ...request.user, age: 'old' } })).toThrow(/user\.age \(field 'age'\) must be a number/);
    expect(bad({ ...request, user: { ...request.user, interests: 'travel' } })).toThrow(/user\.interests.*must be a list/);
    expect(() => encoder.encode(request, lookupFor(1))).toThrow(/lookup has 1 rows but the request has 12/);
    expect(() => encoder.encode(request, { ...lookupFor(12), names: ['a', 'b', 'c'] })).toThrow(/reads counter 'ad.ctr.1d', which the store does not provide/);
  });

  it('gives every row the same user and context ids, whatever the candidates (property)', () => {
    const encoder = createFeatureEncoder(spec);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: requests.length - 1 }), fc.integer({ min: 1, max: 12 }), (index, count) => {
        const request = requests[index] as AdRequest;
        const partial: AdRequest = { ...request, candidates: request.candidates.slice(0, count) };
        const full = encoder.encode(request) as FeatureBatch;
        const part = encoder.encode(partial);
        const W = encoder.layout.idWidth;
        expect(Array.from(part.ids)).toEqual(Array.from(full.ids.subarray(0, count * W)));
        for (let r = 1; r < count; r++) expect(part.ids[r * W]).toBe(part.ids[0]);
        for (const v of part.ids) expect(v >= 0 && v < ID_SPACE).toBe(true);
      }),
      { numRuns: 50, seed: 3 },
    );
  });
});
