/**
 * JSON schemas of the request bodies, checked by Fastify (ajv) before a handler runs, so a
 * malformed body is answered 400 with the first problem found and never reaches the pipeline.
 *
 * The bid route checks only the OpenRTB envelope here; the bidder's own validator checks the
 * rest of the BidRequest (OpenRTB requires bidders to ignore fields they do not know, so unknown
 * fields pass). Event batches are strict: unknown fields are refused, because a misspelled `cost`
 * would silently bill nothing.
 */
import { AD_FORMATS } from '@ctrkit/core';

/** The BidRequest envelope: an object with an id and 1–20 impressions with ids. */
export const bidRequestSchema = {
  type: 'object',
  required: ['id', 'imp'],
  properties: {
    id: { type: 'string', minLength: 1, maxLength: 256 },
    imp: {
      type: 'array',
      minItems: 1,
      maxItems: 20,
      items: {
        type: 'object',
        required: ['id'],
        properties: { id: { type: 'string', minLength: 1, maxLength: 64 } },
      },
    },
    tmax: { type: 'number', exclusiveMinimum: 0 },
  },
} as const;

const id = { type: 'string', minLength: 1, maxLength: 256 } as const;

/**
 * One event: core's `AdEvent` (impression, click or conversion).
 *
 * @param maxEvents - Most events per batch.
 * @returns The schema of `{ events: AdEvent[] }`.
 */
export function eventBatchSchema(maxEvents: number) {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['events'],
    properties: {
      events: {
        type: 'array',
        minItems: 1,
        maxItems: maxEvents,
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['type', 'eventId', 'requestId', 'timestamp', 'userId', 'adId', 'campaignId', 'advertiserId', 'category'],
          properties: {
            type: { enum: ['impression', 'click', 'conversion'] },
            eventId: id,
            requestId: id,
            timestamp: { type: 'number', minimum: 0 },
            userId: id,
            adId: id,
            campaignId: id,
            advertiserId: id,
            category: id,
            format: { enum: AD_FORMATS },
            position: { type: 'integer', minimum: 0, maximum: 100 },
            cost: { type: 'number', minimum: 0, maximum: 1e6 },
            value: { type: 'number', minimum: 0, maximum: 1e9 },
            pCtr: { type: 'number', minimum: 0, maximum: 1 },
            /** The bid's `ext.ctrkit.token`: without it an impression settles no money. */
            token: { type: 'string', minLength: 1, maxLength: 128 },
          },
        },
      },
    },
  } as const;
}

/**
 * Win and loss notice query strings (`${AUCTION_PRICE}` must have been substituted). The
 * signed fields (`cmp`, `crid`, `bid`, `exp`, `sig`) are checked by the handler, so that an
 * unsigned or forged notice is refused with its own reason and counted.
 */
export const noticeQuerySchema = {
  type: 'object',
  required: ['id', 'imp'],
  properties: {
    id,
    imp: id,
    cmp: id,
    crid: id,
    bid: { type: 'string', maxLength: 20 },
    exp: { type: 'string', maxLength: 20 },
    sig: { type: 'string', maxLength: 64 },
    price: { type: 'string', pattern: '^[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?$' },
    reason: { type: 'string', pattern: '^[0-9]{1,6}$' },
  },
} as const;

/** `POST /admin/model`: an optional directory below MODEL_ROOT. */
export const swapBodySchema = {
  anyOf: [
    { type: 'null' },
    {
      type: 'object',
      additionalProperties: false,
      properties: { dir: { type: 'string', minLength: 1, maxLength: 1024 } },
    },
  ],
} as const;

/** `GET /admin/report?windowMs=…` (at most a day, the reporters' horizon). */
export const reportQuerySchema = {
  type: 'object',
  properties: { windowMs: { type: 'string', pattern: '^[0-9]{1,9}$' } },
  additionalProperties: false,
} as const;

/** `GET /admin/counters?user=…&ad=…`. */
export const countersQuerySchema = {
  type: 'object',
  required: ['user', 'ad'],
  properties: { user: id, ad: id },
} as const;
