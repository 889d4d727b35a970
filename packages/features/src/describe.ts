/**
 * Plain-language phrases for feature fields, for explanations ("evening on mobile", "recently
 * clicked this advertiser"). Reads the field's value from the request the way its spec says.
 */
import type { AdRequest, FactorDescriber } from '@ctrkit/core';
import { isValidatedSpec, parseFeatureSpec, type FeatureSpec, type FeatureSpecJSON } from './spec.js';
import type { FieldSpec } from './spec/field-spec.js';

const DAY_MS = 86_400_000;
// The encoder's dayOfWeek counts from Sunday (0), as Date.getUTCDay does.
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

function article(word: string): string {
  return /^[aeiou]/i.test(word) ? 'an' : 'a';
}

function partOfDay(hour: number): string {
  return hour < 6 ? 'at night' : hour < 12 ? 'in the morning' : hour < 18 ? 'in the afternoon' : 'in the evening';
}

function contextValue(request: AdRequest, path: string): unknown {
  const context = request.context;
  const local = context.timestamp + (context.timezoneOffsetMinutes ?? 0) * 60_000;
  if (path === 'hourOfDay') return Math.floor((((local % DAY_MS) + DAY_MS) % DAY_MS) / 3_600_000);
  if (path === 'dayOfWeek') return (((Math.floor(local / DAY_MS) + 4) % 7) + 7) % 7;
  if (path === 'slotPosition') return context.slots?.[0]?.position;
  return readPath(context, path);
}

function readPath(object: unknown, path: string): unknown {
  if (object === null || typeof object !== 'object') return undefined;
  if (path.startsWith('attributes.')) return (object as { attributes?: Record<string, unknown> }).attributes?.[path.slice(11)];
  return (object as Record<string, unknown>)[path];
}

function valueOf(field: FieldSpec, request: AdRequest, candidateIndex: number): unknown {
  if (field.kind === 'cross' || field.source === 'store') return undefined;
  if (field.source === 'user') return readPath(request.user, field.path);
  if (field.source === 'context') return contextValue(request, field.path);
  return readPath(request.candidates[candidateIndex], field.path);
}

function text(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (Array.isArray(value)) return value.length === 0 ? undefined : value.slice(0, 3).map(String).join(', ');
  return String(value);
}

/**
 * Phrases for the fields of {@link adRequestSpec} (and any spec using the same names); other
 * fields get a generic "field: value" phrase. Store fields and crosses are phrased from the
 * request's values too (the ad's category, the user's device, …).
 *
 * @param spec - The spec the explanation's fields come from.
 * @returns A describer for core's `summarizeFactors`.
 * @throws `CtrkitError` `E_SPEC` when the spec is invalid.
 * @example
 * ```ts
 * import { adRequestSpec, createFactorDescriber } from '@ctrkit/features';
 * import { summarizeFactors, type AdRequest } from '@ctrkit/core';
 * declare const request: AdRequest;
 * const describe = createFactorDescriber(adRequestSpec());
 * const phrases = summarizeFactors([{ field: 'hour_x_device', contribution: 0.4 }], request, 0, describe);
 * ```
 */
export function createFactorDescriber(spec: FeatureSpec | FeatureSpecJSON): FactorDescriber {
  const parsed = isValidatedSpec(spec) ? spec : parseFeatureSpec(spec);
  const fields = new Map(parsed.fields.map((f) => [f.name, f]));
  const value = (name: string, request: AdRequest, i: number): string | undefined => {
    const field = fields.get(name);
    return field === undefined ? undefined : text(valueOf(field, request, i));
  };
  return (name, request, i) => {
    const candidate = request.candidates[i];
    const category = candidate?.category ?? 'these';
    const device = request.user.device;
    const hour = contextValue(request, 'hourOfDay') as number;
    switch (name) {
      case 'store_user_advertiser_clicks_30d':
      case 'user_x_ad_advertiser':
        return 'recently clicked this advertiser';
      case 'history_brand':
        return 'recently engaged with this advertiser';
      case 'store_user_category_ctr_30d':
      case 'user_x_ad_category':
        return `often clicks ${category} ads`;
      case 'history_category':
        return `recently browsed ${category}`;
      case 'user_interests':
        return request.user.interests?.includes(category) ? `interested in ${category}` : value(name, request, i) && `interested in ${value(name, request, i)}`;
      case 'user_segments': {
        const segments = request.user.segments ?? [];
        if (candidate !== undefined && segments.some((s) => s === `rt-${candidate.advertiserId}` || s === `rt-${candidate.campaignId}`)) {
          return "in this advertiser's retargeting audience";
        }
        return segments.length === 0 ? undefined : `in the ${segments[0]} audience`;
      }
      case 'store_ad_ctr_7d':
        return 'an ad that is performing well this week';
      case 'store_user_ctr_30d':
        return 'a user who clicks ads often';
      case 'store_user_since_click':
        return 'clicked an ad recently';
      case 'store_user_ad_imps_1d':
        return 'has rarely seen this ad today';
      case 'store_user_session_pages':
        return 'deep in a browsing session';
      case 'hour_x_device':
        return device === undefined ? partOfDay(hour) : `${partOfDay(hour).replace(/^(in|at) the /, '').replace(/^at /, '')} on ${device}`;
      case 'context_hour':
        return partOfDay(hour);
      case 'context_weekday':
        return `on ${WEEKDAYS[contextValue(request, 'dayOfWeek') as number] ?? 'this day'}`;
      case 'user_device':
        return device === undefined ? undefined : `on ${device}`;
      case 'device_x_format':
        return device === undefined || candidate === undefined ? undefined : `${candidate.format} ads on ${device}`;
      case 'page_x_ad_category':
        return request.context.pageCategory === undefined ? undefined : `${category} ad on a ${request.context.pageCategory} page`;
      case 'age_x_ad_category':
        return request.user.age === undefined ? undefined : `${category} appeals to ${Math.floor(request.user.age / 10) * 10}s`;
      case 'context_page_category':
        return request.context.pageCategory === undefined ? undefined : `on a ${request.context.pageCategory} page`;
      case 'context_publisher':
        return request.context.domain === undefined ? undefined : `on ${request.context.domain}`;
      case 'context_slot_position':
        return request.context.slots?.[0]?.position === 0 ? 'the top slot' : undefined;
      case 'ad_category':
        return `${article(category)} ${category} ad`;
      case 'ad_id':
        return 'a creative that gets clicks';
      case 'ad_campaign':
        return 'a campaign that gets clicks';
      case 'ad_advertiser':
        return 'an advertiser people click';
      case 'ad_format':
        return candidate === undefined ? undefined : `the ${candidate.format} format`;
      case 'ad_bid_type':
      case 'ad_bid':
        return undefined; // what the advertiser pays is not a reason to click
      case 'user_country':
        return request.user.country === undefined ? undefined : `in ${request.user.country}`;
      default: {
        const shown = value(name, request, i);
        return shown === undefined ? undefined : `${name.replace(/_/g, ' ')}: ${shown}`;
      }
    }
  };
}
