/**
 * `/admin/*`, behind `Authorization: Bearer $ADMIN_TOKEN` (disabled without one): model swaps,
 * budgets, the campaign report (the fleet's with Redis) and a user's counters.
 *
 * @internal
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { isCtrkitError, type CampaignReport, type CampaignReporter, type Clock, type FeatureStore } from '@ctrkit/core';
import type { BudgetLedger } from '@ctrkit/pacing';
import type { RedisLedger } from '@ctrkit/pacing/redis';
import { describe } from '../app/describe.js';
import type { ModelHost } from '../app/model.js';
import type { Monitors } from '../app/monitors.js';
import type { Pacing } from '../app/pacing.js';
import type { HoldBook } from '../holds.js';
import { countersQuerySchema, reportQuerySchema } from '../schemas.js';
import type { World } from '../world.js';

/** What the admin routes need. */
export interface AdminRouteDeps {
  /** The bearer token; undefined disables every admin route (401). */
  readonly adminToken: string | undefined;
  readonly world: World;
  readonly clock: Clock;
  readonly model: Pick<ModelHost, 'swapModel' | 'version'>;
  readonly ledger: BudgetLedger;
  readonly redisLedger: RedisLedger | undefined;
  readonly holds: Pick<HoldBook, 'size'>;
  readonly pacing: Pick<Pacing, 'multiplier'>;
  readonly reporter: CampaignReporter;
  readonly fleetReporter: Monitors['fleetReporter'];
  readonly store: FeatureStore;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/**
 * An `onRequest` guard answering 401 unless the request carries the bearer token (compared in
 * constant time, by hash).
 *
 * @param adminToken - The token; undefined refuses every request.
 * @returns The guard.
 */
export function createAdminGuard(adminToken: string | undefined): (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined> {
  const tokenHash = adminToken === undefined ? undefined : sha256(adminToken);
  const authorized = (request: FastifyRequest): boolean => {
    const match = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '');
    return tokenHash !== undefined && match !== null && timingSafeEqual(sha256(match[1] as string), tokenHash);
  };
  return async (request, reply) => {
    if (!authorized(request)) {
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer')
        .send({ error: 'unauthorized', reason: adminToken === undefined ? 'the admin endpoints are disabled: set ADMIN_TOKEN' : 'a valid bearer token is required' });
    }
    return undefined;
  };
}

/**
 * Registers `POST /admin/model`, `GET /admin/budgets`, `GET /admin/report` and `GET /admin/counters`.
 *
 * @param app - The instance (encapsulated: the routes only).
 * @param deps - The token and what the routes read or swap.
 */
export const adminRoutes: FastifyPluginAsync<AdminRouteDeps> = async (app, deps) => {
  const { world, clock, model, ledger, redisLedger, holds, pacing, reporter, fleetReporter, store } = deps;
  const adminGuard = createAdminGuard(deps.adminToken);

  app.post('/admin/model', { onRequest: adminGuard, bodyLimit: 4096 }, async (request, reply) => {
    const body = request.body as unknown;
    let dir: string | undefined;
    if (body !== undefined && body !== null && body !== '') {
      const ok = typeof body === 'object' && !Array.isArray(body) && Object.keys(body).every((k) => k === 'dir') && ((body as { dir?: unknown }).dir === undefined || typeof (body as { dir?: unknown }).dir === 'string');
      if (!ok) return reply.code(400).send({ error: 'invalid', reason: 'the body must be empty or { "dir": "<directory below MODEL_ROOT>" }' });
      dir = (body as { dir?: string }).dir;
    }
    try {
      const result = await model.swapModel(dir);
      return { previous: result.previous.version, current: result.current.version };
    } catch (error) {
      const status = isCtrkitError(error) && error.code === 'E_STATE' ? 503 : isCtrkitError(error) && error.code === 'E_INPUT' ? 400 : 409;
      return reply.code(status).send({ error: 'swap_refused', reason: describe(error), serving: model.version() ?? null });
    }
  });
  app.get('/admin/budgets', { onRequest: adminGuard }, async (_request, reply) => {
    try {
      const campaigns = await Promise.all(
        world.budgets.map(async (b) => {
          const snapshot = await ledger.snapshot(b.id);
          const daily = snapshot.lines.find((l) => l.scope === 'campaign' && l.period === 'daily');
          return { id: b.id, limit: daily?.limit, spent: daily?.spent, reserved: daily?.reserved, remaining: snapshot.remaining, multiplier: pacing.multiplier(b.id) };
        }),
      );
      const overspendBound = redisLedger === undefined ? 0 : redisLedger.overspendBound(world.budgets[0]?.id ?? '');
      return { openHolds: holds.size(), overspendBoundPerProcess: overspendBound, ledger: redisLedger?.stats() ?? null, campaigns };
    } catch (error) {
      return reply.code(503).send({ error: 'ledger_unavailable', reason: describe(error) });
    }
  });
  app.get('/admin/report', { onRequest: adminGuard, schema: { querystring: reportQuerySchema } }, async (request, reply) => {
    const windowMs = Number((request.query as { windowMs?: string }).windowMs ?? 3_600_000);
    if (!(windowMs >= 60_000 && windowMs <= 86_400_000)) return reply.code(400).send({ error: 'invalid', reason: `windowMs must be between 60000 (a minute) and 86400000 (a day), got ${windowMs}` });
    // NaN ratios (no impressions, no clicks) as null.
    const json = (scope: 'fleet' | 'process', figures: CampaignReport) => JSON.parse(JSON.stringify({ scope, ...figures }, (_key, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? null : value))) as unknown;
    if (fleetReporter === undefined) return json('process', reporter.report(windowMs));
    try {
      return json('fleet', await fleetReporter.report(windowMs));
    } catch (error) {
      return reply.code(503).send({ error: 'report_unavailable', reason: describe(error) });
    }
  });
  app.get('/admin/counters', { onRequest: adminGuard, schema: { querystring: countersQuerySchema } }, async (request, reply) => {
    const { user, ad } = request.query as { user: string; ad: string };
    const creative = world.creativeById.get(ad);
    if (creative === undefined) return reply.code(404).send({ error: 'not_found', reason: `ad ${ad} is not in the catalog` });
    try {
      const lookup = await store.lookup({ id: user }, [creative], clock.now(), { deadlineMs: 1_000 });
      return { user, ad, degraded: lookup.degraded, counters: Object.fromEntries(lookup.names.map((name, i) => [name, lookup.values[i]])) };
    } catch (error) {
      return reply.code(503).send({ error: 'store_unavailable', reason: describe(error) });
    }
  });
};
