/**
 * Drift of the synthetic world: each effect is pinned against the generator's own truth, and a
 * world without drift is pinned bit for bit to the generator as it was before drift existed.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CtrkitError, evaluate, type AdRequest } from '../src/index.js';
import { createTrafficGenerator, type SimDriftOptions, type TrafficGenerator } from '../src/sim/index.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;

/** A digest of everything numeric the generator streams (ids, times, positions, probabilities, outcomes, bids). */
function digest(generator: TrafficGenerator): string {
  const h = createHash('sha256');
  for (const row of generator.impressions({ count: 3_000, stream: 'golden' })) {
    h.update(`${row.request.user.id} ${row.request.candidates[0]!.adId} ${row.request.context.timestamp} ${row.position} ${row.pClick} ${row.clicked} ${row.pConversion} ${row.converted}\n`);
  }
  for (const { request, pClick } of generator.requests({ count: 300, stream: 'golden', timeRange: [0.3, 0.9] })) {
    h.update(`${request.user.id} ${request.context.timestamp} ${request.candidates.map((c) => `${c.adId}:${c.bid}`).join(',')} ${Array.from(pClick).join(',')}\n`);
  }
  return h.digest('hex');
}

const at = (request: AdRequest, timestamp: number): AdRequest => ({ ...request, context: { ...request.context, timestamp } });
const logit = (p: number) => Math.log(p / (1 - p));

describe('a world without drift', () => {
  it('streams exactly what the generator streamed before drift existed', () => {
    // Digest taken from the generator at 89578b1, before drift was added.
    const before = '909cbe51093f9581f7f4028e90ec4becb0f392569dd268072e6fe84d994b4fec';
    expect(digest(createTrafficGenerator({ seed: 11, users: 500, durationMs: 2 * DAY }))).toBe(before);
    expect(digest(createTrafficGenerator({ seed: 11, users: 500, durationMs: 2 * DAY, drift: {} }))).toBe(before);
    const plain = createTrafficGenerator({ seed: 11, users: 500, durationMs: 2 * DAY, drift: {} });
    for (const ad of plain.ads) expect('launchAt' in ad).toBe(false);
    for (const campaign of plain.campaigns) expect('launchAt' in campaign).toBe(false);
  });

  it('gives the same true CTR a day apart at the same hour', () => {
    const generator = createTrafficGenerator({ seed: 2, users: 500, durationMs: 2 * DAY });
    for (const { request } of generator.requests({ count: 50, timeRange: [0, 0.5] })) {
      const later = at(request, request.context.timestamp + DAY);
      for (let k = 0; k < request.candidates.length; k++) expect(generator.clickProbability(later, k)).toBe(generator.clickProbability(request, k));
    }
  });
});

describe('ad appeal drift', () => {
  const drift: SimDriftOptions = { appeal: { sd: 0.5, timescaleMs: 12 * HOUR } };
  const generator = createTrafficGenerator({ seed: 2, users: 500, durationMs: 2 * DAY, drift });

  it('moves each ad\'s true CTR through time, smoothly, by the stated spread', () => {
    // The same user, page and ad a day apart at the same hour: only the ad's appeal differs, so the
    // logit difference is the walk's increment over 24 h: sd·√(2(1 − e^(−24/12))) ≈ 0.66.
    const differences: number[] = [];
    const minuteApart: number[] = [];
    const perAd = new Map<string, number>();
    for (const { request } of generator.requests({ count: 400, timeRange: [0, 0.5] })) {
      for (let k = 0; k < request.candidates.length; k++) {
        const now = logit(generator.clickProbability(request, k));
        const day = logit(generator.clickProbability(at(request, request.context.timestamp + DAY), k)) - now;
        // One increment per ad: the walks of different ads are independent, a second draw of one is not.
        const adId = request.candidates[k]!.adId;
        if (perAd.has(adId)) continue;
        perAd.set(adId, day);
        differences.push(day);
        const minute = logit(generator.clickProbability(at(request, request.context.timestamp + 60_000), k)) - now;
        minuteApart.push(minute);
      }
    }
    expect(differences.length).toBeGreaterThan(150);
    const sd = Math.sqrt(differences.reduce((s, d) => s + d * d, 0) / differences.length);
    const expected = 0.5 * Math.sqrt(2 * (1 - Math.exp(-2)));
    expect(sd).toBeGreaterThan(expected * 0.8);
    expect(sd).toBeLessThan(expected * 1.2);
    // A minute apart (hour effect included) the logit hardly moves: the walk is continuous.
    for (const d of minuteApart) expect(Math.abs(d)).toBeLessThan(0.05);
  });

  it('reports the truth at the impression\'s time, and clicks follow it', () => {
    const labels: number[] = [];
    const truth: number[] = [];
    for (const row of generator.impressions({ count: 40_000, stream: 'truth' })) {
      expect(row.pClick).toBe(generator.clickProbability(row.request, 0, row.position));
      labels.push(row.clicked ? 1 : 0);
      truth.push(row.pClick);
    }
    const summary = evaluate(labels, truth);
    expect(summary.calibration).toBeGreaterThan(0.9);
    expect(summary.calibration).toBeLessThan(1.1);
  });
});

describe('launches', () => {
  const drift: SimDriftOptions = { launches: { campaigns: 0.3, creatives: 0.2, window: [0.5, 0.8] } };
  const generator = createTrafficGenerator({ seed: 4, users: 500, durationMs: 2 * DAY, drift });
  const start = generator.startTime;
  const launchOf = new Map(generator.ads.map((ad) => [ad.id, ad.launchAt]));

  it('launches the stated shares of campaigns and creatives inside the window, creatives with or after their campaign', () => {
    const launchedCampaigns = generator.campaigns.filter((c) => c.launchAt !== undefined);
    expect(launchedCampaigns.length / generator.campaigns.length).toBeGreaterThan(0.15);
    expect(launchedCampaigns.length / generator.campaigns.length).toBeLessThan(0.45);
    for (const campaign of launchedCampaigns) {
      expect(campaign.launchAt!).toBeGreaterThanOrEqual(start + 0.5 * 2 * DAY);
      expect(campaign.launchAt!).toBeLessThan(start + 0.8 * 2 * DAY);
      for (const ad of generator.ads.filter((a) => a.campaignId === campaign.id)) {
        expect(ad.launchAt).toBeDefined();
        expect(ad.launchAt!).toBeGreaterThanOrEqual(campaign.launchAt!);
      }
    }
    const others = generator.ads.filter((ad) => generator.campaigns.find((c) => c.id === ad.campaignId)!.launchAt === undefined);
    const lateCreatives = others.filter((ad) => ad.launchAt !== undefined).length / others.length;
    expect(lateCreatives).toBeGreaterThan(0.1);
    expect(lateCreatives).toBeLessThan(0.3);
  });

  it('never serves an ad before its launch, and serves launched ads after it', () => {
    const seenAfterLaunch = new Set<string>();
    for (const row of generator.impressions({ count: 20_000, stream: 'launch' })) {
      const adId = row.request.candidates[0]!.adId;
      const launchAt = launchOf.get(adId);
      if (launchAt !== undefined) {
        expect(row.request.context.timestamp).toBeGreaterThanOrEqual(launchAt);
        seenAfterLaunch.add(adId);
      }
    }
    for (const { request } of generator.requests({ count: 1_000, stream: 'launch' })) {
      for (const candidate of request.candidates) {
        const launchAt = launchOf.get(candidate.adId);
        if (launchAt !== undefined) {
          expect(request.context.timestamp).toBeGreaterThanOrEqual(launchAt);
          seenAfterLaunch.add(candidate.adId);
        }
      }
      // Slots are still filled: fewer candidates only when fewer ads of the format are live.
      expect(request.candidates.length).toBeGreaterThan(0);
    }
    const launched = generator.ads.filter((ad) => ad.launchAt !== undefined).length;
    expect(seenAfterLaunch.size).toBeGreaterThan(launched * 0.8);
  });

  it('keeps an ad of every format live from the start, however many launch', () => {
    const all = createTrafficGenerator({ seed: 4, users: 200, durationMs: DAY, drift: { launches: { campaigns: 1 } } });
    const formats = new Set(all.ads.map((ad) => ad.format));
    for (const format of formats) expect(all.ads.some((ad) => ad.format === format && ad.launchAt === undefined)).toBe(true);
    // And the first hour is served from those alone.
    const early = new Map(all.ads.map((ad) => [ad.id, ad.launchAt]));
    for (const row of all.impressions({ count: 500, timeRange: [0, 0.04] })) expect(early.get(row.request.candidates[0]!.adId)).toBeUndefined();
  });
});

describe('taste shift', () => {
  const drift: SimDriftOptions = { tastes: { users: 0.4, strength: 1, rampMs: 2 * HOUR, window: [0.1, 0.4] } };
  const generator = createTrafficGenerator({ seed: 6, users: 600, durationMs: 2 * DAY, drift });

  it('changes the category affinities of about the stated share of users, and leaves the rest alone', () => {
    // Each user's first request, and the same request a day later at the same hour (after every
    // shift has ended): for a shifted user the change differs across categories.
    const changed = new Map<string, boolean>();
    for (const { request } of generator.requests({ count: 3_000, timeRange: [0, 0.05] })) {
      if (changed.has(request.user.id)) continue;
      const later = at(request, request.context.timestamp + DAY);
      const byCategory = new Map<string, number>();
      for (let k = 0; k < request.candidates.length; k++) {
        byCategory.set(request.candidates[k]!.category, logit(generator.clickProbability(later, k)) - logit(generator.clickProbability(request, k)));
      }
      const values = [...byCategory.values()];
      if (values.length < 3) continue;
      const spread = Math.max(...values) - Math.min(...values);
      changed.set(request.user.id, spread > 1e-9);
      if (spread <= 1e-9) for (const v of values) expect(Math.abs(v)).toBeLessThan(1e-9);
    }
    expect(changed.size).toBeGreaterThan(200);
    const share = [...changed.values()].filter(Boolean).length / changed.size;
    expect(share).toBeGreaterThan(0.3);
    expect(share).toBeLessThan(0.5);
  });
});

describe('a shared taste shift', () => {
  it('moves every shifting user the same way: per category, their changes agree', () => {
    // With shared = 1 and strength = 1, every shifting user ends at the same tastes, so the change
    // of a category's logit for one such user predicts it for another far better than at shared = 0.
    const agreement = (shared: number) => {
      const g = createTrafficGenerator({ seed: 6, users: 600, durationMs: 2 * DAY, drift: { tastes: { users: 1, strength: 1, shared, window: [0.1, 0.2] } } });
      const ends = new Map<string, Map<string, number>>();
      for (const { request } of g.requests({ count: 3_000, timeRange: [0, 0.05] })) {
        if (ends.has(request.user.id)) continue;
        const later = at(request, request.context.timestamp + DAY);
        const byCategory = new Map<string, number>();
        for (let k = 0; k < request.candidates.length; k++) byCategory.set(request.candidates[k]!.category, logit(g.clickProbability(later, k)));
        ends.set(request.user.id, byCategory);
      }
      // Spread across users of the end logit of one ad category, averaged over categories.
      const perCategory = new Map<string, number[]>();
      for (const byCategory of ends.values()) for (const [category, z] of byCategory) perCategory.set(category, [...(perCategory.get(category) ?? []), z]);
      let total = 0;
      let n = 0;
      for (const values of perCategory.values()) {
        if (values.length < 20) continue;
        const mean = values.reduce((s, v) => s + v, 0) / values.length;
        total += Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length);
        n++;
      }
      return total / n;
    };
    expect(agreement(1)).toBeLessThan(agreement(0) * 0.9);
  });
});

describe('drift options', () => {
  it('are checked once, when the world is built', () => {
    const bad: SimDriftOptions[] = [
      { appeal: { sd: -1 } },
      { appeal: { sd: 0.3, timescaleMs: 0 } },
      { launches: { campaigns: 1.5 } },
      { launches: { window: [0.8, 0.2] } },
      { tastes: { users: Number.NaN } },
      { tastes: { users: 0.2, rampMs: -1 } },
      { tastes: { users: 0.2, shared: 2 } },
    ];
    for (const drift of bad) {
      expect(() => createTrafficGenerator({ users: 100, drift })).toThrow(CtrkitError);
      try {
        createTrafficGenerator({ users: 100, drift });
      } catch (error) {
        expect((error as CtrkitError).code).toBe('E_CONFIG');
      }
    }
  });
});
