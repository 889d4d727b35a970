/**
 * A server's connection to the fleet's learning loop (`EVENT_STREAM=nats`): one NATS connection
 * carrying the event stream it publishes to ({@link createStreamPublisher}) and the bucket it
 * takes model versions from ({@link createModelFeed}), plus `POST /admin/stream-model/rollback`.
 *
 * @internal
 */
import type { FastifyPluginAsync } from 'fastify';
import type { FeatureBatch, FeatureLayout } from '@ctrkit/core';
import { createNatsEventStream, type NatsEventStream } from '@ctrkit/core/nats';
import type { HotSwapRunner } from '@ctrkit/models';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Registry } from 'prom-client';
import { connectNats, openModelBucket } from '../published-model.js';
import type { EventStreamConfig } from '../stream-config.js';
import { createAdminGuard } from '../routes/admin.js';
import { describe } from './describe.js';
import { createModelFeed, type ModelFeed } from './model-feed.js';
import { createStreamPublisher, type StreamPublisher } from './stream.js';

/** The serving model, as the feed swaps into it. */
export interface ServingModel {
  readonly hot: HotSwapRunner;
  readonly layout: FeatureLayout;
  readonly warmBatch: FeatureBatch | undefined;
}

/** A server's part of the fleet stream. */
export interface FleetStream {
  readonly publisher: StreamPublisher;
  /** The model feed, once started. */
  feed(): ModelFeed | undefined;
  /** Starts taking published versions into the serving model. */
  startFeed(model: ServingModel): Promise<void>;
  /** Stops taking versions (first thing at shutdown). */
  stopFeed(): Promise<void>;
  /** Waits (at most `ms`) for events still being published, then closes the connection. */
  close(ms: number): Promise<void>;
}

/** What {@link connectFleetStream} needs. */
export interface FleetStreamDeps {
  readonly config: EventStreamConfig;
  readonly registry: Registry;
  readonly log: { info(fields: Record<string, unknown>, message: string): void; warn(fields: Record<string, unknown>, message: string): void };
  /** The client name NATS shows. */
  readonly name: string;
}

/**
 * Connects to NATS, sets up the stream (created when absent) and the publisher.
 *
 * @param deps - Settings, registry, logger.
 * @returns The fleet stream; the feed starts with {@link FleetStream.startFeed}.
 * @throws `CtrkitError` `E_STREAM` when NATS or JetStream does not answer.
 */
export async function connectFleetStream(deps: FleetStreamDeps): Promise<FleetStream> {
  const { config, registry, log } = deps;
  const nc: NatsConnection = await connectNats(config.servers, deps.name);
  let stream: NatsEventStream;
  try {
    stream = await createNatsEventStream({ connection: nc, stream: config.stream, subjectPrefix: config.subjectPrefix });
  } catch (error) {
    await nc.close().catch(() => undefined);
    throw error;
  }
  const publisher = createStreamPublisher({ stream, config, log, registry });
  let feed: ModelFeed | undefined;
  return {
    publisher,
    feed: () => feed,
    async startFeed(model) {
      if (feed !== undefined) return;
      const store = await openModelBucket(nc, config.modelBucket);
      feed = createModelFeed({ store, hot: model.hot, layout: model.layout, warmup: model.warmBatch, registry, log });
      await feed.start();
    },
    async stopFeed() {
      await feed?.close();
    },
    async close(ms) {
      await publisher.close(ms);
      await stream.close().catch(() => undefined);
      await nc.drain().catch(() => nc.close());
    },
  };
}

/** What the rollback route needs. */
export interface StreamAdminDeps {
  readonly adminToken: string | undefined;
  readonly feed: () => ModelFeed | undefined;
}

/**
 * Registers `POST /admin/stream-model/rollback` (bearer token): back to the version kept before
 * the last published one swapped in.
 *
 * @param app - The instance.
 * @param deps - Token and feed.
 */
export const streamAdminRoutes: FastifyPluginAsync<StreamAdminDeps> = async (app, deps) => {
  const guard = createAdminGuard(deps.adminToken);
  app.post('/admin/stream-model/rollback', { onRequest: guard, bodyLimit: 1024 }, async (_request, reply) => {
    const feed = deps.feed();
    if (feed === undefined) return reply.code(503).send({ error: 'not_ready', reason: 'the model feed starts with the first model' });
    try {
      const result = await feed.rollback();
      return { previous: result.previous.version, current: result.current.version };
    } catch (error) {
      return reply.code(409).send({ error: 'rollback_refused', reason: describe(error) });
    }
  });
};
