/**
 * A log of impressions replayed through the feature store, as a server would have seen it: each
 * impression encoded with the counters the store held at its time (no leakage), then its events
 * recorded so later rows see them.
 */
import type { AdEvent, ManualClock } from '@ctrkit/core';
import type { SimImpression, TrafficGenerator } from '@ctrkit/core/sim';
import { allocateBatch, type CompiledEncoder, type MemoryFeatureStore } from '@ctrkit/features';
import { createRowCollector, type LabeledRows } from '@ctrkit/models';

/**
 * The events an impression of the log produced: the impression, its click 5 s later, its
 * conversion 5 minutes later.
 *
 * @param impression - The logged impression.
 * @param conversions - Whether to include the conversion (default true).
 * @returns The events, in time order.
 */
export function eventsOf(impression: SimImpression, conversions = true): AdEvent[] {
  const { request, position } = impression;
  const candidate = request.candidates[0]!;
  const base = {
    requestId: request.requestId,
    userId: request.user.id,
    adId: candidate.adId,
    campaignId: candidate.campaignId,
    advertiserId: candidate.advertiserId,
    category: candidate.category,
    format: candidate.format,
    position,
  };
  const t = request.context.timestamp;
  const events: AdEvent[] = [{ ...base, type: 'impression', eventId: `${request.requestId}:i`, timestamp: t }];
  if (impression.clicked) events.push({ ...base, type: 'click', eventId: `${request.requestId}:c`, timestamp: t + 5_000 });
  if (conversions && impression.converted) events.push({ ...base, type: 'conversion', eventId: `${request.requestId}:v`, timestamp: t + 300_000 });
  return events;
}

/** What to replay and through what. */
export interface ReplayOptions {
  readonly generator: TrafficGenerator;
  readonly store: MemoryFeatureStore;
  readonly encoder: CompiledEncoder;
  /** The store's clock: moved to each impression's time (never back). */
  readonly clock: ManualClock;
  /** Impressions to replay. */
  readonly count: number;
  /** The generator's stream label. */
  readonly stream: string;
  /** The part of the period the impressions come from. */
  readonly timeRange: readonly [number, number];
  /**
   * Whether conversions go to the store too (default true, as the demo logs them; the loop-gap
   * bench records impressions and clicks only, as its published figures were measured).
   */
  readonly conversions?: boolean;
  /** Called with each impression after its row is kept, before its events are recorded. */
  readonly onImpression?: (impression: SimImpression, row: number) => void;
}

/**
 * Replays `count` impressions: each is encoded with the store's counters at its time and kept as
 * a labeled row beside its true click probability, then its events are recorded.
 *
 * @param options - The log and the store.
 * @returns The rows, in time order, and the true click probability of each.
 */
export async function replayImpressions(options: ReplayOptions): Promise<{ readonly rows: LabeledRows; readonly truth: Float64Array }> {
  const { generator, store, encoder, clock, count, conversions = true, onImpression } = options;
  const layout = encoder.layout;
  const collector = createRowCollector(layout, count);
  const truth = new Float64Array(count);
  const one = allocateBatch(layout, 1);
  const label = new Float32Array(1);
  let row = 0;
  for (const impression of generator.impressions({ count, stream: options.stream, timeRange: options.timeRange })) {
    const { request } = impression;
    clock.set(Math.max(clock.now(), request.context.timestamp));
    const lookup = await store.lookup(request.user, request.candidates, request.context.timestamp);
    encoder.encode(request, lookup, one);
    label[0] = impression.clicked ? 1 : 0;
    collector.append(one, label);
    truth[row] = impression.pClick;
    onImpression?.(impression, row);
    for (const event of eventsOf(impression, conversions)) await store.record(event);
    row++;
  }
  return { rows: collector.toRows(), truth };
}
