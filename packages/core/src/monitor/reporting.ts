import type { Clock } from '../clock.js';
import { systemClock } from '../clock.js';
import { ensure } from '../errors.js';
import type { AdEvent } from '../types/events.js';

/** Figures of one campaign or advertiser over a window.
 *
 * @example
 * ```ts
 * import type { CampaignFigures } from '@ctrkit/core';
 * const cpcOf = (f: CampaignFigures) => f.cpc;
 * ```
 */
export interface CampaignFigures {
  /** Campaign or advertiser id. */
  readonly id: string;
  /** Impressions in the window. */
  readonly impressions: number;
  /** Clicks in the window. */
  readonly clicks: number;
  /** Conversions in the window. */
  readonly conversions: number;
  /** Money charged in the window (sum of event costs). */
  readonly spend: number;
  /** Clicks / impressions (NaN without impressions). */
  readonly ctr: number;
  /** Spend / clicks (NaN without clicks). */
  readonly cpc: number;
  /** Spend per thousand impressions (NaN without impressions). */
  readonly cpm: number;
  /** Spend / conversions (NaN without conversions). */
  readonly cpa: number;
}

/** A report over one window.
 *
 * @example
 * ```ts
 * import type { CampaignReport } from '@ctrkit/core';
 * const total = (r: CampaignReport) => r.campaigns.reduce((s, c) => s + c.spend, 0);
 * ```
 */
export interface CampaignReport {
  /** Window length in ms. */
  readonly windowMs: number;
  /** End of the window (the clock's now). */
  readonly until: number;
  /** Per campaign, sorted by id. */
  readonly campaigns: readonly CampaignFigures[];
  /** Per advertiser, sorted by id. */
  readonly advertisers: readonly CampaignFigures[];
}

/** Options for {@link createCampaignReporter}.
 *
 * @example
 * ```ts
 * import type { CampaignReporterOptions } from '@ctrkit/core';
 * const options: CampaignReporterOptions = { bucketMs: 60_000, horizonMs: 86_400_000 };
 * ```
 */
export interface CampaignReporterOptions {
  /** Time resolution of the windows (default one minute). */
  readonly bucketMs?: number;
  /** Longest window that can be asked for (default one day). */
  readonly horizonMs?: number;
  /** Time source. */
  readonly clock?: Clock;
  /**
   * Most campaigns and most advertisers held (default 10,000 each): each keys a ring of
   * `horizonMs / bucketMs` buckets, and ids come from outside (events), so the map is capped;
   * past the cap the entity recorded least recently is forgotten and counted in `evicted()`.
   */
  readonly maxEntities?: number;
}

/**
 * Real-time campaign reporting from the event stream, in sliding windows.
 *
 * @example
 * ```ts
 * import { createCampaignReporter, createManualClock } from '@ctrkit/core';
 * const clock = createManualClock(0);
 * const reporter = createCampaignReporter({ clock });
 * reporter.record({ type: 'impression', eventId: 'e1', requestId: 'r', timestamp: 0, userId: 'u', adId: 'a', campaignId: 'c', advertiserId: 'x', category: 'k', cost: 0.002 });
 * console.log(reporter.report(3_600_000).campaigns[0]?.impressions); // 1
 * ```
 */
export interface CampaignReporter {
  /** Counts one event (late events older than the horizon are counted in `late()` only). */
  record(event: AdEvent): void;
  /** Figures over the last `windowMs` (at most the horizon), bucket-aligned. */
  report(windowMs: number): CampaignReport;
  /** Events dropped for arriving after the horizon. */
  late(): number;
  /** Campaigns and advertisers forgotten because `maxEntities` was reached. */
  evicted(): number;
}

const FIELDS = 4; // impressions, clicks, conversions, spend

/**
 * The figures of one campaign or advertiser from its counts: CTR, CPC, CPM and CPA derived, each
 * NaN when its denominator is 0. Every reporter (in process, or the Redis one of
 * `@ctrkit/pacing/redis`) builds its figures with it, so they read alike.
 *
 * @param id - Campaign or advertiser id.
 * @param impressions - Impressions counted.
 * @param clicks - Clicks counted.
 * @param conversions - Conversions counted.
 * @param spend - Money charged, currency units.
 * @returns The figures.
 * @example
 * ```ts
 * import { campaignFiguresOf } from '@ctrkit/core';
 * console.log(campaignFiguresOf('c-1', 2000, 30, 2, 6).cpm); // 3
 * ```
 */
export function campaignFiguresOf(id: string, impressions: number, clicks: number, conversions: number, spend: number): CampaignFigures {
  return {
    id,
    impressions,
    clicks,
    conversions,
    spend,
    ctr: impressions > 0 ? clicks / impressions : Number.NaN,
    cpc: clicks > 0 ? spend / clicks : Number.NaN,
    cpm: impressions > 0 ? (spend / impressions) * 1000 : Number.NaN,
    cpa: conversions > 0 ? spend / conversions : Number.NaN,
  };
}

/**
 * Creates a {@link CampaignReporter}: per entity a ring of time buckets, so memory is
 * O(entities × horizon / bucket) and `record` is O(1).
 *
 * @param options - Bucket size, horizon, clock.
 * @returns A reporter.
 * @throws {@link CtrkitError} `E_CONFIG` when the bucket or horizon is not positive, or the horizon is not a whole number of buckets.
 * @example
 * ```ts
 * import { createCampaignReporter } from '@ctrkit/core';
 * const reporter = createCampaignReporter({ bucketMs: 10_000, horizonMs: 3_600_000 });
 * ```
 */
export function createCampaignReporter(options: CampaignReporterOptions = {}): CampaignReporter {
  const { bucketMs = 60_000, horizonMs = 86_400_000, clock = systemClock, maxEntities = 10_000 } = options;
  ensure(bucketMs > 0 && horizonMs > 0, 'E_CONFIG', () => 'bucketMs and horizonMs must be positive');
  ensure(Number.isInteger(maxEntities) && maxEntities >= 1, 'E_CONFIG', () => `maxEntities must be a positive integer, got ${maxEntities}`);
  ensure(Number.isInteger(horizonMs / bucketMs), 'E_CONFIG', () => `horizonMs (${horizonMs}) must be a multiple of bucketMs (${bucketMs})`);
  const buckets = horizonMs / bucketMs;
  interface Series {
    readonly data: Float64Array; // [buckets × FIELDS]
    readonly stamp: Float64Array; // bucket index held in each ring slot
  }
  const campaigns = new Map<string, Series>();
  const advertisers = new Map<string, Series>();
  let late = 0;
  let evicted = 0;
  // Map order is recency order: a recorded entity moves to the back, the front is evicted.
  const seriesOf = (map: Map<string, Series>, id: string): Series => {
    let series = map.get(id);
    if (series === undefined) {
      if (map.size >= maxEntities) {
        const oldest = map.keys().next().value as string;
        map.delete(oldest);
        evicted++;
      }
      series = { data: new Float64Array(buckets * FIELDS), stamp: new Float64Array(buckets).fill(-1) };
    } else map.delete(id);
    map.set(id, series);
    return series;
  };
  const add = (series: Series, bucket: number, field: number, amount: number): void => {
    const slot = bucket % buckets;
    if (series.stamp[slot] !== bucket) {
      series.stamp[slot] = bucket;
      series.data.fill(0, slot * FIELDS, slot * FIELDS + FIELDS);
    }
    series.data[slot * FIELDS + field] = (series.data[slot * FIELDS + field] as number) + amount;
  };
  const figures = (id: string, series: Series, first: number, last: number): CampaignFigures => {
    const sum = [0, 0, 0, 0];
    for (let b = first; b <= last; b++) {
      const slot = b % buckets;
      if (series.stamp[slot] !== b) continue;
      for (let f = 0; f < FIELDS; f++) sum[f] = (sum[f] as number) + (series.data[slot * FIELDS + f] as number);
    }
    const [impressions = 0, clicks = 0, conversions = 0, spend = 0] = sum;
    return campaignFiguresOf(id, impressions, clicks, conversions, spend);
  };
  return {
    record(event) {
      const now = clock.now();
      const bucket = Math.floor(event.timestamp / bucketMs);
      if (bucket <= Math.floor(now / bucketMs) - buckets || !Number.isFinite(bucket)) {
        late++;
        return;
      }
      const field = event.type === 'impression' ? 0 : event.type === 'click' ? 1 : 2;
      const cost = event.cost !== undefined && Number.isFinite(event.cost) ? event.cost : 0;
      for (const series of [seriesOf(campaigns, event.campaignId), seriesOf(advertisers, event.advertiserId)]) {
        add(series, bucket, field, 1);
        if (cost !== 0) add(series, bucket, 3, cost);
      }
    },
    report(windowMs) {
      ensure(windowMs > 0, 'E_INPUT', () => `windowMs must be positive, got ${windowMs}`);
      const until = clock.now();
      const last = Math.floor(until / bucketMs);
      const span = Math.min(buckets, Math.ceil(windowMs / bucketMs));
      const first = last - span + 1;
      const list = (map: Map<string, Series>) =>
        [...map.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([id, series]) => figures(id, series, first, last));
      return { windowMs: span * bucketMs, until, campaigns: list(campaigns), advertisers: list(advertisers) };
    },
    late: () => late,
    evicted: () => evicted,
  };
}
