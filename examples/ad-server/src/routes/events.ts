/**
 * `POST /events`: `{ "events": [AdEvent, …] }` from the host. Every event must name an ad of the
 * catalog and (unless `EVENTS_REQUIRE_TOKEN=0`) carry its bid's signed token; a bad batch is
 * refused whole with nothing recorded. An impression settles its bid once; each event is recorded
 * in the feature store, reported per campaign and given to the quality monitor (a click also to
 * the online loop).
 *
 * @internal
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { AdEvent, Clock, FeatureStore, QualityMonitor } from '@ctrkit/core';
import { describe } from '../app/describe.js';
import { chargeMicrosOf, MICROS } from '../app/money.js';
import { impressionKey, REFUSAL_STATUS, type Settling, type WinResult } from '../app/settling.js';
import type { FeedbackSink } from '../app/stream.js';
import type { ServerConfig } from '../config.js';
import type { ServerMetrics } from '../metrics.js';
import { eventBatchSchema } from '../schemas.js';
import type { SignedFields } from '../signing.js';
import type { World } from '../world.js';

/** An impression event more than this far ahead of the server's clock is refused (the store's own limit). */
const MAX_FUTURE_MS = 86_400_000;
/** Events older than this are refused: they would only move decayed counters by nothing. */
const MAX_AGE_MS = 30 * 86_400_000;

/** What the event route needs. */
export interface EventRouteDeps {
  readonly config: Pick<ServerConfig, 'eventsBodyLimit' | 'maxEventsPerBatch' | 'eventsRequireToken' | 'attributionWindowMs'>;
  readonly world: World;
  readonly clock: Clock;
  readonly store: FeatureStore;
  readonly settling: Pick<Settling, 'checkSigned' | 'settleWin' | 'countImpression' | 'isCounted'>;
  readonly metrics: Pick<ServerMetrics, 'events'>;
  readonly quality: QualityMonitor;
  /** Reports an event per campaign (this process and the fleet). */
  readonly report: (event: AdEvent) => void;
  /** Where clicks and conversions go: the online loop once the first model is loaded, or the fleet's event stream. */
  readonly online: () => FeedbackSink | undefined;
}

/** An event's settlement token (`ext.ctrkit.token` of its bid): `<bid micros>.<expiry>.<signature>.<imp id>`. */
const parseToken = (token: string): { bid: string; exp: string; sig: string; imp: string } | undefined => {
  const match = /^([0-9]{1,15})\.([0-9]{1,15})\.([A-Za-z0-9_-]{22})\.(.+)$/s.exec(token);
  return match === null ? undefined : { bid: match[1] as string, exp: match[2] as string, sig: match[3] as string, imp: match[4] as string };
};

/**
 * Registers `POST /events`.
 *
 * @param app - The instance (encapsulated: the route only).
 * @param deps - Settings, catalog, clock, store, settling path, counters, monitors.
 */
export const eventRoutes: FastifyPluginAsync<EventRouteDeps> = async (app, deps) => {
  const { config, world, clock, store, settling, metrics, quality, report } = deps;

  async function events(request: FastifyRequest, reply: FastifyReply) {
    const batch = (request.body as { events: (AdEvent & { token?: string })[] }).events;
    const now = clock.now();
    const refuseBatch = (result: string, error: string, reason: string, status = 400) => {
      for (const e of batch) metrics.events.inc({ type: e.type, result });
      return reply.code(status).send({ error, reason });
    };
    for (let i = 0; i < batch.length; i++) {
      const t = (batch[i] as AdEvent).timestamp;
      if (t > now + MAX_FUTURE_MS || t < now - MAX_AGE_MS) {
        return refuseBatch('invalid', 'invalid_events', `events[${i}].timestamp ${t} is ${t > now ? 'more than a day ahead of' : 'more than 30 days before'} the server's clock (${now}); nothing was recorded`);
      }
    }
    // Only the catalog's ids: an outsider's ids would key reporter rings and metric series.
    for (let i = 0; i < batch.length; i++) {
      const e = batch[i] as AdEvent;
      const creative = world.creativeById.get(e.adId);
      if (creative === undefined || creative.campaignId !== e.campaignId || creative.advertiserId !== e.advertiserId || creative.category !== e.category) {
        return refuseBatch('unknown_id', 'unknown_ids', `events[${i}]: ad ${JSON.stringify(e.adId)} of campaign ${JSON.stringify(e.campaignId)} and advertiser ${JSON.stringify(e.advertiserId)} (category ${JSON.stringify(e.category)}) is not in the catalog; nothing was recorded`);
      }
    }
    // An event counts only with its bid's signed token (an impression settles money only so);
    // clicks and conversions may follow for the attribution window after the notice window.
    const signed: (SignedFields | undefined)[] = [];
    for (let i = 0; i < batch.length; i++) {
      const e = batch[i] as AdEvent & { token?: string };
      if (e.token === undefined) {
        if (config.eventsRequireToken) return refuseBatch('unsigned', 'unsigned', `events[${i}] carries no token (the bid's ext.ctrkit.token); nothing was recorded`, 403);
        signed.push(undefined);
        continue;
      }
      const token = parseToken(e.token);
      const grace = e.type === 'impression' ? 0 : config.attributionWindowMs;
      const checked =
        token === undefined
          ? ({ ok: false, refusal: 'malformed', reason: 'the token is not <bid>.<exp>.<sig>.<imp>' } as const)
          : settling.checkSigned({ auction: e.requestId, imp: token.imp, campaign: e.campaignId, creative: e.adId, bid: token.bid, exp: token.exp, sig: token.sig }, grace);
      if (!checked.ok) return refuseBatch(checked.refusal, checked.refusal, `events[${i}]: ${checked.reason}; nothing was recorded`, REFUSAL_STATUS[checked.refusal]);
      if (e.cost !== undefined && Math.round(e.cost * MICROS) * 1000 > checked.fields.bidMicros) return refuseBatch('price_above_bid', 'price_above_bid', `events[${i}]: cost ${e.cost} is above the bid; nothing was recorded`);
      signed.push(checked.fields);
    }
    let settled = 0;
    let spendMicros = 0;
    const toStore: { index: number; event: AdEvent }[] = [];
    // Publishes to the fleet's stream, awaited with the store's writes: an event not stored there is answered as failed.
    const toStream: { index: number; eventId: string; stored: Promise<boolean> }[] = [];
    for (let index = 0; index < batch.length; index++) {
      const { token: _token, ...event } = batch[index] as AdEvent & { token?: string };
      const fields = signed[index];
      if (event.type === 'impression') {
        if (fields !== undefined) {
          const charge = event.cost === undefined ? chargeMicrosOf(fields.bidMicros) : Math.round(event.cost * MICROS);
          let result: WinResult;
          try {
            result = await settling.settleWin(fields, charge);
          } catch (error) {
            return reply.code(503).header('retry-after', '1').send({ error: 'unavailable', reason: `events[${index}]: ${describe(error)}; sending the batch again is safe` });
          }
          if (result.result === 'committed' || result.result === 'committed_late' || result.result === 'unrecorded_late') {
            settled++;
            spendMicros += result.chargeMicros;
            await settling.countImpression(fields, result.hold, result.chargeMicros, event);
            toStore.push({ index, event });
            continue;
          }
          if (result.result === 'duplicate') {
            // Settled before — by its win notice or an earlier copy, through this worker or another
            // (the registry is the fleet's): the impression was counted then.
            metrics.events.inc({ type: event.type, result: 'duplicate' });
            continue;
          }
        }
        if (settling.isCounted(event.requestId, event.adId)) {
          // Counted already from its win notice (or an earlier copy of this event).
          metrics.events.inc({ type: event.type, result: 'duplicate' });
          continue;
        }
        report({ ...event, cost: 0 });
      } else {
        report(event);
        if (event.type === 'click') {
          quality.click(impressionKey(event.requestId, event.adId));
          const stored = deps.online()?.click(event);
          if (stored !== undefined) toStream.push({ index, eventId: event.eventId, stored });
        } else if (event.type === 'conversion') {
          const stored = deps.online()?.conversion?.(event);
          if (stored !== undefined) toStream.push({ index, eventId: event.eventId, stored });
        }
      }
      toStore.push({ index, event });
    }
    const failed: { index: number; eventId: string; reason: string }[] = [];
    // Sent together: one connection, in order, pipelined by ioredis.
    await Promise.all(
      toStore.map(async ({ index, event }) => {
        try {
          await store.record(event);
          metrics.events.inc({ type: event.type, result: 'recorded' });
        } catch (error) {
          metrics.events.inc({ type: event.type, result: 'store_failed' });
          failed.push({ index, eventId: event.eventId, reason: describe(error) });
        }
      }),
    );
    const recorded = toStore.length - failed.length;
    for (const { index, eventId, stored } of toStream) {
      if (!(await stored) && !failed.some((f) => f.index === index)) failed.push({ index, eventId, reason: 'the event stream did not store it (counted in adserver_stream_published_total)' });
    }
    failed.sort((a, b) => a.index - b.index);
    const body = { received: batch.length, recorded, settled, spend: spendMicros / MICROS, failed };
    if (failed.length > 0) return reply.code(503).header('retry-after', '1').send({ ...body, reason: 'some events could not be recorded in the feature store or the event stream; sending them again is safe' });
    return reply.code(200).send(body);
  }

  app.post('/events', { bodyLimit: config.eventsBodyLimit, schema: { body: eventBatchSchema(config.maxEventsPerBatch) } }, events);
};
