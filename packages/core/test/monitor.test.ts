import { describe, expect, it } from 'vitest';
import {
  createCampaignReporter,
  createDriftMonitor,
  createManualClock,
  createPipelineMetrics,
  createQualityMonitor,
  createRandom,
  evaluateAlarms,
  populationStabilityIndex,
  profileFeatures,
  type AdEvent,
  type FeatureBatch,
  type FeatureLayout,
} from '../src/index.js';
import { registerCtrkitMetrics } from '../src/prometheus.js';

const layout: FeatureLayout = {
  fingerprint: 'test',
  idSpace: 1024,
  idWidth: 3,
  fields: [
    { name: 'device', kind: 'categorical', offset: 0, width: 1 },
    { name: 'interests', kind: 'bag', offset: 1, width: 2 },
  ],
  denseWidth: 0,
  denseNames: [],
  sequences: [],
};

function batchOf(rows: number[][], values?: number[][]): FeatureBatch {
  return {
    layout,
    rows: rows.length,
    ids: Int32Array.from(rows.flat()),
    values: Float32Array.from(values ? values.flat() : rows.flat().map(() => 1)),
    dense: new Float32Array(0),
    sequenceIds: new Int32Array(0),
    sequenceLengths: new Int32Array(0),
  };
}

describe('population stability index', () => {
  it('matches a hand computation', () => {
    // (0.3−0.5)·ln(0.3/0.5) + (0.7−0.5)·ln(0.7/0.5)
    const expected = -0.2 * Math.log(0.6) + 0.2 * Math.log(1.4);
    expect(populationStabilityIndex([0.5, 0.5], [0.3, 0.7])).toBeCloseTo(expected, 12);
    expect(populationStabilityIndex([0.2, 0.8], [0.2, 0.8])).toBe(0);
    expect(() => populationStabilityIndex([1], [0.5, 0.5])).toThrow(/bins/);
  });
});

describe('drift monitor', () => {
  const training = batchOf(
    [
      [1, 10, 11],
      [1, 10, 0],
      [2, 11, 0],
      [3, 12, 0],
    ],
    [
      [1, 1, 1],
      [1, 1, 0],
      [1, 1, 0],
      [1, 1, 0],
    ],
  );
  const profile = profileFeatures([training], [0.1, 0.2, 0.3, 0.4], { topK: 2, scoreBins: 2 });

  it('profiles fields by their most frequent ids, ignoring bag padding', () => {
    const device = profile.fields[0]!;
    expect(device).toEqual({ field: 'device', ids: [1, 2], shares: [0.5, 0.25], otherShare: 0.25 });
    const interests = profile.fields[1]!;
    // 10 twice, 11 twice, 12 once: 5 present values (padding zeros excluded).
    expect(interests.ids).toEqual([10, 11]);
    expect(interests.shares).toEqual([0.4, 0.4]);
    expect(interests.otherShare).toBeCloseTo(0.2, 12);
    expect(profile.scoreEdges).toEqual([0.3]);
    expect(profile.scoreShares).toEqual([0.5, 0.5]);
    expect(JSON.parse(JSON.stringify(profile))).toEqual(profile);
  });

  it('reports no drift on the training traffic and large drift on shifted traffic', () => {
    const drift = createDriftMonitor(profile);
    drift.observe(training, [0.1, 0.2, 0.3, 0.4]);
    for (const entry of drift.report()) expect(entry.psi).toBeCloseTo(0, 9);
    drift.reset();
    drift.observe(batchOf([[3, 12, 12], [3, 12, 12]]), [0.9, 0.95]);
    const report = drift.report();
    expect(report.find((e) => e.field === 'device')!.psi).toBeGreaterThan(0.25);
    expect(report.find((e) => e.field === 'prediction')!.psi).toBeGreaterThan(0.25);
    const alarms = evaluateAlarms({ drift: report });
    expect(alarms.filter((a) => a.firing).map((a) => a.name)).toEqual(['feature_drift', 'feature_drift', 'prediction_drift']);
  });
});

describe('quality monitor', () => {
  it('labels clicked impressions 1, and silent ones 0 once the attribution window passes', () => {
    const clock = createManualClock(0);
    const quality = createQualityMonitor({ clock, attributionWindowMs: 1000 });
    quality.impression('a', 0.9);
    quality.impression('b', 0.1);
    quality.impression('c', 0.8);
    expect(quality.click('a')).toBe(true);
    clock.advance(500);
    expect(quality.click('c')).toBe(true);
    expect(quality.snapshot().rows).toBe(2);
    clock.advance(600);
    expect(quality.click('b')).toBe(false); // too late
    const summary = quality.snapshot();
    expect(summary.rows).toBe(3);
    expect(summary.auc).toBe(1);
    expect(quality.pending()).toBe(0);
    expect(quality.unmatchedClicks()).toBe(1);
  });

  it('tracks calibration of a stream against its truth', () => {
    const clock = createManualClock(0);
    const quality = createQualityMonitor({ clock, attributionWindowMs: 10 });
    const random = createRandom(2);
    for (let i = 0; i < 20_000; i++) {
      const p = 0.02 + 0.1 * random.next();
      quality.impression(`k${i}`, p * 2); // over-predicts by 2×
      if (random.next() < p) quality.click(`k${i}`);
    }
    clock.advance(11);
    const summary = quality.snapshot();
    expect(summary.calibration).toBeGreaterThan(1.8);
    expect(summary.calibration).toBeLessThan(2.2);
    const alarms = evaluateAlarms({ quality: summary });
    expect(alarms.find((a) => a.name === 'calibration_drift')?.firing).toBe(true);
    expect(alarms.find((a) => a.name === 'ctr_below_predicted')?.firing).toBe(true);
  });

  it('does not judge with too little data', () => {
    const alarms = evaluateAlarms({ quality: { rows: 10, auc: 0.5, logloss: 1, ne: 1, calibration: 3, ece: 0.1 } });
    expect(alarms.every((a) => !a.firing && Number.isNaN(a.value))).toBe(true);
  });
});

describe('campaign reporter', () => {
  const event = (type: AdEvent['type'], timestamp: number, campaignId: string, cost = 0): AdEvent =>
    ({ type, eventId: `${type}${timestamp}`, requestId: 'r', timestamp, userId: 'u', adId: 'a', campaignId, advertiserId: `adv-${campaignId}`, category: 'k', cost }) as AdEvent;

  it('holds at most maxEntities campaigns and advertisers under a flood of new ids, forgetting the least recently recorded', () => {
    const clock = createManualClock(0);
    const reporter = createCampaignReporter({ clock, bucketMs: 1000, horizonMs: 10_000, maxEntities: 50 });
    reporter.record(event('impression', 0, 'kept'));
    for (let i = 0; i < 10_000; i++) {
      reporter.record(event('click', 0, `flood-${i}`));
      if (i % 10 === 0) reporter.record(event('impression', 0, 'kept')); // recorded recently: stays
    }
    const report = reporter.report(10_000);
    expect(report.campaigns).toHaveLength(50);
    expect(report.advertisers).toHaveLength(50);
    expect(report.campaigns.find((c) => c.id === 'kept')?.impressions).toBe(1001);
    expect(report.campaigns.some((c) => c.id === 'flood-0')).toBe(false);
    expect(reporter.evicted()).toBe(2 * (10_001 - 50));
    expect(() => createCampaignReporter({ maxEntities: 0 })).toThrow(/maxEntities/);
  });

  it('computes CTR, CPC, CPM and CPA over sliding windows', () => {
    const clock = createManualClock(0);
    const reporter = createCampaignReporter({ clock, bucketMs: 1000, horizonMs: 10_000 });
    for (let i = 0; i < 100; i++) reporter.record(event('impression', 0, 'c1', 0.001));
    reporter.record(event('click', 500, 'c1', 0.5));
    reporter.record(event('click', 900, 'c1', 0.3));
    reporter.record(event('conversion', 900, 'c1'));
    clock.set(5_000);
    reporter.record(event('impression', 5_000, 'c1', 0.001));
    const all = reporter.report(10_000).campaigns[0]!;
    expect(all).toMatchObject({ id: 'c1', impressions: 101, clicks: 2, conversions: 1 });
    expect(all.spend).toBeCloseTo(0.101 + 0.8, 12);
    expect(all.ctr).toBeCloseTo(2 / 101, 12);
    expect(all.cpc).toBeCloseTo(0.901 / 2, 12);
    expect(all.cpm).toBeCloseTo((0.901 / 101) * 1000, 12);
    expect(all.cpa).toBeCloseTo(0.901, 12);
    const recent = reporter.report(2_000).campaigns[0]!;
    expect(recent.impressions).toBe(1);
    expect(reporter.report(2_000).advertisers[0]!.id).toBe('adv-c1');
    clock.set(20_000);
    expect(reporter.report(10_000).campaigns[0]!.impressions).toBe(0);
    reporter.record(event('click', 1_000, 'c1'));
    expect(reporter.late()).toBe(1);
  });
});

describe('pipeline metrics and Prometheus exposition', () => {
  it('exposes stage latencies, counters, quality, drift, alarms and campaigns as text', async () => {
    const clock = createManualClock(0);
    const pipeline = createPipelineMetrics(clock);
    for (let i = 1; i <= 100; i++) {
      pipeline.recordStage('predict', i / 100);
      pipeline.recordRequest(i / 50, 100);
    }
    pipeline.recordError('predict', 'E_TIMEOUT');
    pipeline.recordDegradation('lookup', 'deadline');
    clock.advance(10_000);
    const snapshot = pipeline.snapshot();
    expect(snapshot.requests).toBe(100);
    expect(snapshot.requestsPerSecond).toBeCloseTo(10, 9);
    expect(snapshot.stages.find((s) => s.stage === 'predict')!.p99Ms).toBeCloseTo(0.99, 1);
    const reporter = createCampaignReporter({ clock });
    reporter.record({ type: 'impression', eventId: 'e', requestId: 'r', timestamp: 10_000, userId: 'u', adId: 'a', campaignId: 'c1', advertiserId: 'x', category: 'k', cost: 0.002 });
    const quality = createQualityMonitor({ clock });
    const registry = registerCtrkitMetrics({ pipeline, reporter, quality });
    const text = await registry.metrics();
    expect(text).toContain('ctrkit_stage_latency_ms{stage="predict",quantile="0.99"}');
    expect(text).toContain('ctrkit_requests_total 100');
    expect(text).toContain('ctrkit_candidates_scored_total 10000');
    expect(text).toContain('ctrkit_errors_total{stage="predict",code="E_TIMEOUT"} 1');
    expect(text).toContain('ctrkit_degraded_total{stage="lookup",reason="deadline"} 1');
    expect(text).toContain('ctrkit_campaign{level="campaign",id="c1",window="3600s",metric="impressions"} 1');
    expect(text).toContain('ctrkit_alarm{alarm="calibration_drift",detail=""} 0');
    // A second scrape reports the same totals (collectors reset before they set).
    expect(await registry.metrics()).toContain('ctrkit_requests_total 100');
  });
});

describe('quality monitor memory', () => {
  it('labels overdue impressions as new ones arrive, without a snapshot', () => {
    const clock = createManualClock(0);
    const quality = createQualityMonitor({ clock, attributionWindowMs: 1_000 });
    for (let i = 0; i < 10_000; i++) {
      quality.impression(`k${i}`, 0.1);
      clock.advance(1);
    }
    // Only the last second's impressions can still be clicked.
    expect(quality.pending()).toBeLessThanOrEqual(1_001);
  });
});
