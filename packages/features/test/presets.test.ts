import { createRandom } from '@ctrkit/core';
import { createTrafficGenerator } from '@ctrkit/core/sim';
import { describe, expect, it } from 'vitest';
import { adRequestSpec, createFeatureEncoder, createMemoryFeatureStore, hashFeature, parseFeatureSpec } from '../src/index.js';

describe('adRequestSpec', () => {
  const generator = createTrafficGenerator({ seed: 4, users: 500 });

  it('validates and encodes synthetic requests with every field present', async () => {
    const encoder = createFeatureEncoder(adRequestSpec());
    const store = createMemoryFeatureStore();
    const random = createRandom(1);
    let rows = 0;
    for (const { request } of generator.requests({ count: 200 })) {
      const lookup = await store.lookup(request.user, request.candidates, request.context.timestamp);
      const batch = encoder.encode(request, lookup);
      rows += batch.rows;
      const outcome = generator.outcome(request, 0, 0, random);
      for (const event of outcome.events) await store.record(event);
    }
    expect(rows).toBe(200 * 20);
    const missing = encoder.stats().missing;
    // Synthetic users always carry these fields; store fields may be missing (recency before any click).
    for (const field of ['user_id', 'user_age', 'user_gender', 'user_country', 'user_device', 'context_publisher', 'context_hour', 'context_slot_position', 'ad_id', 'ad_category', 'ad_format']) {
      expect(missing[field] ?? 0, field).toBe(0);
    }
    expect(encoder.layout.sequences.map((s) => s.sharesIdsWith)).toEqual(['ad_category', 'ad_advertiser']);
  });

  it('reads the slot position of the first slot', () => {
    const spec = adRequestSpec({ store: false });
    const encoder = createFeatureEncoder(spec);
    const [first] = generator.requests({ count: 1 });
    const request = first!.request;
    const column = encoder.layout.fields.find((f) => f.name === 'context_slot_position')!.offset;
    const idSpace = encoder.layout.idSpace;
    const expected = 1 + (hashFeature('context_slot_position', '0', 0) % (idSpace - 1));
    expect(encoder.encode(request).ids[column]).toBe(expected);
    const moved = { ...request, context: { ...request.context, slots: [{ id: 's', format: 'display' as const, position: 2 }] } };
    expect(encoder.encode(moved).ids[column]).toBe(1 + (hashFeature('context_slot_position', '2', 0) % (idSpace - 1)));
  });

  it('a contextual spec drops every personal field and cross', () => {
    const spec = parseFeatureSpec(adRequestSpec({ personal: false }));
    const names = spec.layout.fields.map((f) => f.name);
    expect(names.some((n) => n.startsWith('user') || n.startsWith('history') || n.startsWith('store_user'))).toBe(false);
    expect(names).toContain('ad_category');
    expect(names).toContain('page_x_ad_category');
    expect(names).toContain('store_ad_ctr_7d');
    expect(spec.layout.sequences).toEqual([]);
    expect(() => adRequestSpec({ historyLength: 0 })).toThrow(/historyLength/);
  });
});

describe('missingIds', () => {
  it('gives the id a field writes for a missing value', () => {
    const encoder = createFeatureEncoder(adRequestSpec({ store: false }));
    const missing = encoder.missingIds();
    const [first] = createTrafficGenerator({ seed: 2, users: 50 }).requests({ count: 1 });
    const request = first!.request;
    const stripped = { ...request, user: { id: request.user.id } };
    const batch = encoder.encode(stripped);
    for (const name of ['user_age', 'user_country', 'user_interests', 'age_x_ad_category']) {
      const slot = encoder.layout.fields.find((f) => f.name === name)!;
      expect(batch.ids[slot.offset], name).toBe(missing.get(name));
    }
    expect(missing.has('history_category')).toBe(false);
    expect(missing.size).toBe(encoder.layout.fields.length);
  });
});
