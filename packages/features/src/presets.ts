/**
 * Ready-made specs for well-known logs, so training scripts and servers agree on them.
 */
import { CtrkitError } from '@ctrkit/core';
import { CRITEO_CATEGORICAL_COLUMNS, CRITEO_INTEGER_COLUMNS } from './readers/index.js';
import type { FeatureSpecJSON } from './spec.js';
import type { FieldSpec } from './spec/field-spec.js';

/** Options for {@link criteoSpec}.
 *
 * @example
 * ```ts
 * import type { CriteoSpecOptions } from '@ctrkit/features';
 * const options: CriteoSpecOptions = { idSpace: 1 << 20, crosses: [['C1', 'C2']] };
 * ```
 */
export interface CriteoSpecOptions {
  /** Size of the id space (default 2^20). */
  readonly idSpace?: number;
  /** The murmur3 seed (default 0). */
  readonly seed?: number;
  /** Crosses of two or three Criteo columns, named `A_x_B[_x_C]`. */
  readonly crosses?: readonly (readonly string[])[];
}

/**
 * The spec for Criteo logs: `I1`–`I13` bucketized by the Criteo log rule, `C1`–`C26` hashed,
 * plus optional crosses. In requests the values sit in `context.attributes` under the same names.
 *
 * @param options - Id space, seed and crosses.
 * @returns The spec's JSON form (pass it to `parseFeatureSpec` or `createFeatureEncoder`).
 * @throws `CtrkitError` `E_CONFIG` when a cross names something other than `I1`–`I13` / `C1`–`C26`.
 * @example
 * ```ts
 * import { createFeatureEncoder, criteoSpec } from '@ctrkit/features';
 * const encoder = createFeatureEncoder(criteoSpec({ crosses: [['C1', 'C2'], ['I1', 'C3']] }));
 * console.log(encoder.layout.idWidth); // 41
 * ```
 */
export function criteoSpec(options: CriteoSpecOptions = {}): FeatureSpecJSON {
  const known = new Set([...CRITEO_INTEGER_COLUMNS, ...CRITEO_CATEGORICAL_COLUMNS]);
  const fields: FieldSpec[] = [
    ...CRITEO_INTEGER_COLUMNS.map((name): FieldSpec => ({ name, kind: 'numeric', source: 'context', path: `attributes.${name}`, bucketize: { rule: 'criteo-log' } })),
    ...CRITEO_CATEGORICAL_COLUMNS.map((name): FieldSpec => ({ name, kind: 'categorical', source: 'context', path: `attributes.${name}` })),
  ];
  for (const cross of options.crosses ?? []) {
    for (const part of cross) {
      if (!known.has(part)) throw new CtrkitError('E_CONFIG', `criteoSpec: cross part '${part}' is not a Criteo column; use I1–I13 or C1–C26`);
    }
    fields.push({ name: cross.join('_x_'), kind: 'cross', of: cross as unknown as readonly [string, string] });
  }
  return { version: 1, name: 'criteo', seed: options.seed ?? 0, idSpace: options.idSpace ?? 1 << 20, fields };
}

/** Options for {@link adRequestSpec}.
 *
 * @example
 * ```ts
 * import type { AdRequestSpecOptions } from '@ctrkit/features';
 * const options: AdRequestSpecOptions = { idSpace: 1 << 18, store: false, historyLength: 10 };
 * ```
 */
export interface AdRequestSpecOptions {
  /** Size of the id space (default 2^20). */
  readonly idSpace?: number;
  /** The murmur3 seed (default 0). */
  readonly seed?: number;
  /** Include fields read from the feature store's counters (default true). */
  readonly store?: boolean;
  /** Include the user id and its crosses (default true). */
  readonly userId?: boolean;
  /**
   * Include personal data — the user's id, demographics, device, interests, segments, history and
   * user-level counters (default true). `false` gives a contextual spec for requests without
   * consent to personalized ads: context, candidate and ad-level counters only.
   */
  readonly personal?: boolean;
  /** Behavior-sequence length kept (default 20). */
  readonly historyLength?: number;
}

const CTR_BUCKETS = [0.002, 0.005, 0.01, 0.015, 0.02, 0.03, 0.04, 0.06, 0.08, 0.12, 0.2];
const COUNT_BUCKETS = [1, 2, 3, 5, 8, 13, 21, 34, 55, 89];
const SECONDS_BUCKETS = [60, 300, 900, 3_600, 14_400, 86_400, 604_800];

/**
 * A general spec for ctrkit's own `AdRequest`s — what the demo, the trainers' synthetic data
 * source and the example ad server use. User: id, demographics, device, interests and segments
 * (bags), recent behavior categories and brands (sequences sharing ids with the candidate's
 * category and advertiser, for DIN). Context: publisher, page category, local hour and weekday,
 * connection, slot position. Candidate: ad, advertiser, campaign, category, format, bid type and
 * bid. Crosses: user × category, user × advertiser, device × format, age × category, page ×
 * category, hour × device. Store: smoothed CTRs of the ad, of the user and of the user on the
 * category; the user's clicks on the advertiser; frequency of the ad for the user; recency;
 * session depth. `personal: false` keeps only what needs no consent.
 *
 * @param options - Id space, seed, and which groups of fields to include.
 * @returns The spec's JSON form.
 * @throws `CtrkitError` `E_CONFIG` on a history length below 1.
 * @example
 * ```ts
 * import { adRequestSpec, createFeatureEncoder } from '@ctrkit/features';
 * const encoder = createFeatureEncoder(adRequestSpec({ store: false }));
 * console.log(encoder.layout.sequences.length); // 2
 * ```
 */
export function adRequestSpec(options: AdRequestSpecOptions = {}): FeatureSpecJSON {
  const { store = true, personal = true, historyLength = 20 } = options;
  const userId = personal && (options.userId ?? true);
  if (!Number.isInteger(historyLength) || historyLength < 1) {
    throw new CtrkitError('E_CONFIG', `adRequestSpec: historyLength must be an integer ≥ 1, got ${historyLength}`);
  }
  const fields: FieldSpec[] = [
    ...(userId ? [{ name: 'user_id', kind: 'categorical', source: 'user', path: 'id' } as const] : []),
    { name: 'user_age', kind: 'numeric', source: 'user', path: 'age', bucketize: { boundaries: [18, 25, 35, 45, 55, 65] } },
    { name: 'user_gender', kind: 'categorical', source: 'user', path: 'gender' },
    { name: 'user_country', kind: 'categorical', source: 'user', path: 'country' },
    { name: 'user_device', kind: 'categorical', source: 'user', path: 'device' },
    { name: 'user_os', kind: 'categorical', source: 'user', path: 'os' },
    { name: 'user_interests', kind: 'bag', source: 'user', path: 'interests', maxSize: 5, combiner: 'mean' },
    { name: 'user_segments', kind: 'bag', source: 'user', path: 'segments', maxSize: 8, combiner: 'mean' },
    { name: 'context_publisher', kind: 'categorical', source: 'context', path: 'publisherId' },
    { name: 'context_page_category', kind: 'categorical', source: 'context', path: 'pageCategory' },
    { name: 'context_hour', kind: 'categorical', source: 'context', path: 'hourOfDay' },
    { name: 'context_weekday', kind: 'categorical', source: 'context', path: 'dayOfWeek' },
    { name: 'context_connection', kind: 'categorical', source: 'context', path: 'connection' },
    { name: 'context_slot_position', kind: 'categorical', source: 'context', path: 'slotPosition' },
    { name: 'ad_id', kind: 'categorical', source: 'candidate', path: 'adId' },
    { name: 'ad_advertiser', kind: 'categorical', source: 'candidate', path: 'advertiserId' },
    { name: 'ad_campaign', kind: 'categorical', source: 'candidate', path: 'campaignId' },
    { name: 'ad_category', kind: 'categorical', source: 'candidate', path: 'category' },
    { name: 'ad_format', kind: 'categorical', source: 'candidate', path: 'format' },
    { name: 'ad_bid_type', kind: 'categorical', source: 'candidate', path: 'bidType' },
    { name: 'ad_bid', kind: 'dense', source: 'candidate', path: 'bid', normalize: { method: 'log1p' } },
    { name: 'history_category', kind: 'sequence', source: 'user', path: 'history', item: 'category', maxLength: historyLength, sharesIdsWith: 'ad_category' },
    { name: 'history_brand', kind: 'sequence', source: 'user', path: 'history', item: 'brand', maxLength: historyLength, sharesIdsWith: 'ad_advertiser' },
    ...(userId
      ? [
          { name: 'user_x_ad_category', kind: 'cross', of: ['user_id', 'ad_category'] } as const,
          { name: 'user_x_ad_advertiser', kind: 'cross', of: ['user_id', 'ad_advertiser'] } as const,
        ]
      : []),
    { name: 'device_x_format', kind: 'cross', of: ['user_device', 'ad_format'] },
    { name: 'age_x_ad_category', kind: 'cross', of: ['user_age', 'ad_category'] },
    { name: 'page_x_ad_category', kind: 'cross', of: ['context_page_category', 'ad_category'] },
    { name: 'hour_x_device', kind: 'cross', of: ['context_hour', 'user_device'] },
  ];
  if (store) {
    fields.push({ name: 'store_ad_ctr_7d', kind: 'numeric', source: 'store', path: 'ad.ctr.7d', bucketize: { boundaries: CTR_BUCKETS } });
  }
  if (store && personal) {
    fields.push(
      { name: 'store_user_ctr_30d', kind: 'numeric', source: 'store', path: 'user.ctr.30d', bucketize: { boundaries: CTR_BUCKETS } },
      { name: 'store_user_category_ctr_30d', kind: 'numeric', source: 'store', path: 'user_category.ctr.30d', bucketize: { boundaries: CTR_BUCKETS } },
      { name: 'store_user_advertiser_clicks_30d', kind: 'numeric', source: 'store', path: 'user_advertiser.click.30d', bucketize: { boundaries: COUNT_BUCKETS } },
      { name: 'store_user_ad_imps_1d', kind: 'numeric', source: 'store', path: 'user_ad.imp.1d', bucketize: { boundaries: COUNT_BUCKETS } },
      { name: 'store_user_since_click', kind: 'numeric', source: 'store', path: 'user.since_click', bucketize: { boundaries: SECONDS_BUCKETS } },
      { name: 'store_user_session_pages', kind: 'numeric', source: 'store', path: 'user.session_pages', bucketize: { boundaries: COUNT_BUCKETS } },
    );
  }
  // Personal fields read the user (or cross something that does); a contextual spec drops them.
  const personalFields = new Set(fields.filter((f) => f.kind !== 'cross' && 'source' in f && f.source === 'user').map((f) => f.name));
  const kept = personal
    ? fields
    : fields.filter((f) => !personalFields.has(f.name) && !(f.kind === 'cross' && f.of.some((part) => personalFields.has(part))));
  return { version: 1, name: personal ? 'ad-request' : 'ad-request-contextual', seed: options.seed ?? 0, idSpace: options.idSpace ?? 1 << 20, fields: kept };
}
