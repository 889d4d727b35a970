import { describe, expect, it } from 'vitest';
import { criteoSpec, featureSpecToJSON, parseFeatureSpec, type FeatureSpecJSON } from '../src/index.js';

const base: FeatureSpecJSON = {
  version: 1,
  name: 'demo',
  seed: 7,
  idSpace: 1 << 16,
  fields: [
    { name: 'country', kind: 'categorical', source: 'user', path: 'country' },
    { name: 'age', kind: 'numeric', source: 'user', path: 'age', bucketize: { boundaries: [18, 25, 35] } },
    { name: 'interests', kind: 'bag', source: 'user', path: 'interests', maxSize: 4 },
    { name: 'bid', kind: 'dense', source: 'candidate', path: 'bid', normalize: { method: 'log1p' } },
    { name: 'ad_category', kind: 'categorical', source: 'candidate', path: 'category' },
    { name: 'history', kind: 'sequence', source: 'user', path: 'history', item: 'category', maxLength: 5, sharesIdsWith: 'ad_category' },
    { name: 'country_x_category', kind: 'cross', of: ['country', 'ad_category'] },
    { name: 'ad_ctr', kind: 'numeric', source: 'store', path: 'ad.ctr.1d', bucketize: { boundaries: [0.01, 0.02, 0.05] } },
  ],
};

function specWith(patch: (fields: Record<string, unknown>[]) => void, top: Record<string, unknown> = {}): unknown {
  const copy = JSON.parse(JSON.stringify(base)) as { fields: Record<string, unknown>[] };
  patch(copy.fields);
  return { ...copy, ...top };
}

function specError(input: unknown): string {
  try {
    parseFeatureSpec(input as FeatureSpecJSON);
  } catch (error) {
    expect((error as { code: string }).code).toBe('E_SPEC');
    return (error as Error).message;
  }
  throw new Error('expected E_SPEC');
}

describe('parseFeatureSpec', () => {
  it('lays out ids, dense values and sequences in spec order', () => {
    const spec = parseFeatureSpec(base);
    expect(spec.layout.fields.map((f) => [f.name, f.kind, f.offset, f.width])).toEqual([
      ['country', 'categorical', 0, 1],
      ['age', 'bucketized', 1, 1],
      ['interests', 'bag', 2, 4],
      ['ad_category', 'categorical', 6, 1],
      ['country_x_category', 'cross', 7, 1],
      ['ad_ctr', 'store', 8, 1],
    ]);
    expect(spec.layout.idWidth).toBe(9);
    expect(spec.layout.denseNames).toEqual(['bid']);
    expect(spec.layout.sequences).toEqual([{ name: 'history', maxLength: 5, sharesIdsWith: 'ad_category' }]);
    expect(spec.layout.fingerprint).toBe(spec.fingerprint);
    expect(spec.fingerprint).toMatch(/^[0-9a-f]{32}$/);
    expect(Object.isFrozen(spec) && Object.isFrozen(spec.fields) && Object.isFrozen(spec.layout)).toBe(true);
  });

  it('has a stable fingerprint that ignores key order and the name, and changes with anything that changes the bits', () => {
    const a = parseFeatureSpec(base).fingerprint;
    // Pinned: a change here means every model trained on this spec no longer matches its encoder.
    expect(a).toBe('33945eee8de8bda97be90ba372bbcf0b');
    expect(parseFeatureSpec(JSON.stringify(base)).fingerprint).toBe(a);
    const reordered = JSON.parse(JSON.stringify(base, Object.keys(base).reverse())) as FeatureSpecJSON;
    expect(parseFeatureSpec({ ...reordered, fields: base.fields.map((f) => Object.fromEntries(Object.entries(f).reverse()) as typeof f) }).fingerprint).toBe(a);
    expect(parseFeatureSpec({ ...base, name: 'renamed' }).fingerprint).toBe(a);
    expect(parseFeatureSpec({ ...base, seed: 8 }).fingerprint).not.toBe(a);
    expect(parseFeatureSpec({ ...base, idSpace: 1 << 17 }).fingerprint).not.toBe(a);
    expect(parseFeatureSpec(specWith((f) => ((f[1] as { bucketize: unknown }).bucketize = { boundaries: [18, 25, 36] })) as FeatureSpecJSON).fingerprint).not.toBe(a);
    expect(parseFeatureSpec(featureSpecToJSON(parseFeatureSpec(base))).fingerprint).toBe(a);
  });

  it('names the field and the fix for each kind of mistake', () => {
    // A spec written before the US spelling (0.x renamed the key without an alias) is told the new name.
    expect(specError(specWith((f) => ((f[1] as Record<string, unknown>).bucketise = {})))).toMatch(/fields\[1\] \('age'\) has an unknown property 'bucketise'; use 'bucketize'/); // us-spelling: keep
    expect(specError(specWith((f) => ((f[1] as { bucketize: unknown }).bucketize = { boundaries: [18, 18, 25] })))).toMatch(/'age'.*strictly increasing, but 18 follows 18 at index 1; sort them and drop duplicates/);
    expect(specError(specWith((f) => ((f[0] as { path: string }).path = 'contry')))).toMatch(/'country'\)\.path 'contry' is not a property of 'user'; use 'country'/);
    expect(specError(specWith((f) => ((f[0] as { path: string }).path = 'interests')))).toMatch(/holds a list; use kind 'bag'/);
    expect(specError(specWith((f) => ((f[2] as { maxSize: number }).maxSize = 0)))).toMatch(/'interests'\)\.maxSize must be an integer in \[1, 1024\]/);
    expect(specError(specWith((f) => ((f[6] as { of: string[] }).of = ['country', 'ad_categry'])))).toMatch(/crosses 'ad_categry', which is not a field; use 'ad_category'/);
    expect(specError(specWith((f) => ((f[6] as { of: string[] }).of = ['country', 'interests'])))).toMatch(/only categorical and numeric fields can be crossed/);
    expect(specError(specWith((f) => ((f[4] as { name: string }).name = 'country')))).toMatch(/reuses the name 'country'/);
    expect(specError(specWith((f) => ((f[0] as { kind: string }).kind = 'categorial')))).toMatch(/kind must be 'categorical'/);
    expect(specError(specWith((f) => ((f[0] as { source: string }).source = 'users')))).toMatch(/source must be 'user'/);
    expect(specError(specWith((f) => delete (f[5] as { item?: string }).item))).toMatch(/set item to one of/);
    expect(specError(specWith((f) => ((f[5] as { sharesIdsWith: string }).sharesIdsWith = 'bid')))).toMatch(/sharesIdsWith must name a categorical field/);
    expect(specError(specWith((f) => ((f[3] as { normalize: unknown }).normalize = { method: 'standard', mean: 0, std: 0 })))).toMatch(/'bid'\)\.normalize\.std must be positive/);
    expect(specError(specWith((f) => ((f[0] as { kind: string; source: string }).source = 'store')))).toMatch(/counters are numbers/);
    expect(specError(specWith(() => undefined, { version: 2 }))).toMatch(/version must be 1/);
    expect(specError(specWith(() => undefined, { idSpace: 1 }))).toMatch(/idSpace must be an integer in \[2, 2147483647\]/);
    expect(specError(specWith(() => undefined, { seed: -1 }))).toMatch(/seed must be an integer/);
    expect(specError(specWith(() => undefined, { extra: true }))).toMatch(/unknown property 'extra'/);
    expect(specError('{ not json')).toMatch(/not valid JSON/);
    expect(specError(specWith((f) => ((f[0] as { name: string }).name = 'bad name')))).toMatch(/name must match/);
  });

  it('builds the Criteo preset: 13 bucketized, 26 categorical, crosses', () => {
    const spec = parseFeatureSpec(criteoSpec({ crosses: [['C1', 'C2'], ['I1', 'C3'], ['C14', 'C17', 'C20']] }));
    expect(spec.layout.idWidth).toBe(42);
    expect(spec.fingerprint).toBe('ebf8bd06135f3a3244d1dc1f1edd48f6');
    expect(spec.layout.fields.filter((f) => f.kind === 'bucketized')).toHaveLength(13);
    expect(spec.layout.fields.at(-1)).toEqual({ name: 'C14_x_C17_x_C20', kind: 'cross', offset: 41, width: 1 });
    expect(() => criteoSpec({ crosses: [['C1', 'C27']] })).toThrow(expect.objectContaining({ code: 'E_CONFIG' }));
  });
});
