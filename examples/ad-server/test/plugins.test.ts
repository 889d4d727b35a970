/**
 * Route plugins alone: each is registered on a bare Fastify instance with a hand-made dependency
 * object and driven with `app.inject` — no model, no store, no Redis, no socket.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { Counter, Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createLifecycle, type Lifecycle } from '../src/app/lifecycle.js';
import { adminRoutes, type AdminRouteDeps } from '../src/routes/admin.js';
import { healthRoutes, type HealthRouteDeps } from '../src/routes/health.js';

const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

/**
 * Only what the guard and the counters route's catalog check read: a request that got past the
 * guard into any other part would fail with a 500, not a 401.
 */
function adminDeps(adminToken: string | undefined): AdminRouteDeps {
  return { adminToken, world: { creativeById: new Map() } } as unknown as AdminRouteDeps;
}

async function adminApp(adminToken: string | undefined): Promise<FastifyInstance> {
  const app = Fastify();
  apps.push(app);
  await app.register(adminRoutes, adminDeps(adminToken));
  return app;
}

describe('admin routes', () => {
  const routes = [
    ['POST', '/admin/model'],
    ['GET', '/admin/budgets'],
    ['GET', '/admin/report'],
    ['GET', '/admin/counters?user=u&ad=a'],
  ] as const;

  it('answer 401 with a bearer challenge without the token, with a wrong one, and when no token is set', async () => {
    const guarded = await adminApp('s3cret');
    const disabled = await adminApp(undefined);
    for (const [method, url] of routes) {
      for (const authorization of [undefined, 'Bearer wrong', 'Basic s3cret', 'Bearer s3cret-and-more']) {
        const answer = await guarded.inject({ method, url, ...(authorization === undefined ? {} : { headers: { authorization } }) });
        expect(answer.statusCode, `${method} ${url} with ${authorization}`).toBe(401);
        expect(answer.headers['www-authenticate']).toBe('Bearer');
        expect(answer.json()).toEqual({ error: 'unauthorized', reason: 'a valid bearer token is required' });
      }
      const off = await disabled.inject({ method, url, headers: { authorization: 'Bearer s3cret' } });
      expect(off.statusCode).toBe(401);
      expect(off.json()).toEqual({ error: 'unauthorized', reason: 'the admin endpoints are disabled: set ADMIN_TOKEN' });
    }
  });

  it('let the right token through to the handler (case-insensitive scheme)', async () => {
    const app = await adminApp('s3cret');
    for (const authorization of ['Bearer s3cret', 'bearer s3cret']) {
      const answer = await app.inject({ method: 'GET', url: '/admin/counters?user=u&ad=nope', headers: { authorization } });
      expect(answer.statusCode).toBe(404);
      expect(answer.json()).toEqual({ error: 'not_found', reason: 'ad nope is not in the catalog' });
    }
  });
});

describe('health routes', () => {
  function healthApp(overrides: Partial<HealthRouteDeps> & { lifecycle: Lifecycle }) {
    const registry = new Registry();
    new Counter({ name: 'adserver_spend_committed_total', help: 'spend', registers: [registry] }).inc(0.25);
    const app = Fastify();
    apps.push(app);
    let redis = true;
    const deps: HealthRouteDeps = { model: { loaded: () => true, version: () => 'v-test' }, usesRedis: true, redisUp: () => redis, openHolds: () => 3, registry, ...overrides };
    return { app, ready: () => app.register(healthRoutes, deps), setRedis: (up: boolean) => (redis = up) };
  }

  it('healthz always answers with the phase; readyz lists what is missing', async () => {
    const lifecycle = createLifecycle();
    let loaded = false;
    const { app, ready, setRedis } = healthApp({ lifecycle, model: { loaded: () => loaded, version: () => (loaded ? 'v-test' : undefined) } });
    await ready();
    expect((await app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok', phase: 'starting' });
    setRedis(false);
    const starting = await app.inject({ url: '/readyz' });
    expect(starting.statusCode).toBe(503);
    expect(starting.json()).toEqual({ ready: false, problems: ['model not loaded', 'redis unreachable'], model: null });
    loaded = true;
    setRedis(true);
    lifecycle.phase = 'serving';
    const serving = await app.inject({ url: '/readyz' });
    expect(serving.statusCode).toBe(200);
    expect(serving.json()).toEqual({ ready: true, model: 'v-test', redis: 'up', openHolds: 3 });
    lifecycle.phase = 'draining';
    const draining = await app.inject({ url: '/readyz' });
    expect(draining.statusCode).toBe(503);
    expect(draining.json()).toEqual({ ready: false, problems: ['shutting down'], model: 'v-test' });
    expect((await app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok', phase: 'draining' });
  });

  it('readyz says redis none in embedded mode; metrics is Prometheus text from the registry', async () => {
    const { app, ready } = healthApp({ lifecycle: { phase: 'serving', activeBids: 0 }, usesRedis: false });
    await ready();
    expect((await app.inject({ url: '/readyz' })).json()).toMatchObject({ ready: true, redis: 'none' });
    const metrics = await app.inject({ url: '/metrics' });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(metrics.body).toMatch(/^adserver_spend_committed_total 0\.25$/m);
  });
});
