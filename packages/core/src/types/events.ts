/**
 * The feedback events of served ads — impressions, clicks, conversions — as plain,
 * JSON-serializable objects. Timestamps are milliseconds since the Unix epoch.
 */
import type { AdFormat } from './request.js';

/** The kinds of feedback event.
 *
 * @example
 * ```ts
 * import type { AdEventType } from '@ctrkit/core';
 * const type: AdEventType = 'click';
 * ```
 */
export type AdEventType = 'impression' | 'click' | 'conversion';

/** Fields every feedback event carries.
 *
 * @example
 * ```ts
 * import type { AdEventBase } from '@ctrkit/core';
 * const base: AdEventBase = {
 *   eventId: 'e-1', requestId: 'r-1', timestamp: 0, userId: 'u-1',
 *   adId: 'a', campaignId: 'c', advertiserId: 'x', category: 'travel',
 * };
 * ```
 */
export interface AdEventBase {
  /** Unique id of this event (for deduplication). */
  readonly eventId: string;
  /** The request that led to it. */
  readonly requestId: string;
  /** When it happened. */
  readonly timestamp: number;
  /** The user. */
  readonly userId: string;
  /** The ad. */
  readonly adId: string;
  /** The campaign. */
  readonly campaignId: string;
  /** The advertiser. */
  readonly advertiserId: string;
  /** The ad's category. */
  readonly category: string;
  /** The ad's format, when known. */
  readonly format?: AdFormat;
  /** The slot position the ad was shown in, when known. */
  readonly position?: number;
}

/** The ad was shown; `cost` is what the advertiser was charged for it, if billed per impression.
 *
 * @example
 * ```ts
 * import type { ImpressionEvent } from '@ctrkit/core';
 * const impression: ImpressionEvent = {
 *   type: 'impression', eventId: 'e-1', requestId: 'r-1', timestamp: 0, userId: 'u-1',
 *   adId: 'a', campaignId: 'c', advertiserId: 'x', category: 'travel', cost: 0.001, pCtr: 0.02,
 * };
 * ```
 */
export interface ImpressionEvent extends AdEventBase {
  /** Discriminant. */
  readonly type: 'impression';
  /** Amount charged for this impression (0 for CPC/CPA campaigns). */
  readonly cost?: number;
  /** The pCTR the model served, for monitoring. */
  readonly pCtr?: number;
}

/** The ad was clicked; `cost` is the charge for CPC campaigns.
 *
 * @example
 * ```ts
 * import type { ClickEvent } from '@ctrkit/core';
 * const click: ClickEvent = {
 *   type: 'click', eventId: 'e-2', requestId: 'r-1', timestamp: 5_000, userId: 'u-1',
 *   adId: 'a', campaignId: 'c', advertiserId: 'x', category: 'travel', cost: 0.4,
 * };
 * ```
 */
export interface ClickEvent extends AdEventBase {
  /** Discriminant. */
  readonly type: 'click';
  /** Amount charged for this click (0 for CPM/CPA campaigns). */
  readonly cost?: number;
}

/** The user converted after a click; `value` is its worth to the advertiser.
 *
 * @example
 * ```ts
 * import type { ConversionEvent } from '@ctrkit/core';
 * const conversion: ConversionEvent = {
 *   type: 'conversion', eventId: 'e-3', requestId: 'r-1', timestamp: 60_000, userId: 'u-1',
 *   adId: 'a', campaignId: 'c', advertiserId: 'x', category: 'travel', value: 25,
 * };
 * ```
 */
export interface ConversionEvent extends AdEventBase {
  /** Discriminant. */
  readonly type: 'conversion';
  /** Amount charged for this conversion (CPA campaigns). */
  readonly cost?: number;
  /** Revenue to the advertiser. */
  readonly value?: number;
}

/** Any feedback event.
 *
 * @example
 * ```ts
 * import type { AdEvent } from '@ctrkit/core';
 * const isClick = (event: AdEvent) => event.type === 'click';
 * ```
 */
export type AdEvent = ImpressionEvent | ClickEvent | ConversionEvent;
