/**
 * The monitors and the Prometheus registry: pipeline stage metrics, the quality monitor, the
 * campaign reporter (and its fleet-wide twin in Redis), the drift monitor of the serving model,
 * and ctrkit's series on one registry (the server's own are added by `registerServerMetrics`).
 *
 * @internal
 */
import type { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import {
  createCampaignReporter,
  createDriftMonitor,
  createLabelJoiner,
  createPipelineMetrics,
  createQualityMonitor,
  type AdEvent,
  type CampaignReporter,
  type Clock,
  type DriftMonitor,
  type FeatureProfile,
  type OnlineLearningCounters,
  type PipelineMetrics,
  type QualityMonitor,
} from '@ctrkit/core';
import { registerCtrkitMetrics } from '@ctrkit/core/prometheus';
import { createRedisCampaignReporter } from '@ctrkit/pacing/redis';
import type { ServerConfig } from '../config.js';
import type { OnlineLoop } from '../online.js';
import type { World } from '../world.js';

/** A drift monitor whose profile follows the serving model (each version brings its own). */
export interface DriftHolder extends DriftMonitor {
  /** Monitors against this profile from now on (none: observes nothing). */
  use(profile: FeatureProfile | undefined): void;
}

/** What {@link createMonitors} needs. */
export interface MonitorsDeps {
  readonly config: Pick<ServerConfig, 'attributionWindowMs' | 'online' | 'redisPrefix'>;
  readonly world: World;
  readonly clock: Clock;
  /** With Redis, campaign figures are also kept for the whole fleet. */
  readonly redis: Redis | undefined;
  /** The online loop once the first model is loaded (read at scrape time). */
  readonly online: () => OnlineLoop | undefined;
}

/** The monitors and the registry they are exposed on. */
export interface Monitors {
  readonly pipeline: PipelineMetrics;
  readonly quality: QualityMonitor;
  /** This process's campaign figures. */
  readonly reporter: CampaignReporter;
  /** The fleet's campaign figures in Redis, undefined in embedded mode. */
  readonly fleetReporter: ReturnType<typeof createRedisCampaignReporter> | undefined;
  /** Reports an event to this process's reporter and the fleet's. */
  report(event: AdEvent): void;
  readonly drift: DriftHolder;
  readonly registry: Registry;
  /** Stops the quality monitor's timer. */
  stop(): void;
}

function createDriftHolder(): DriftHolder {
  let current: DriftMonitor | undefined;
  return {
    use(profile) {
      current = profile === undefined ? undefined : createDriftMonitor(profile);
    },
    observe: (batch, scores) => current?.observe(batch, scores),
    report: () => current?.report() ?? [],
    reset: () => current?.reset(),
  };
}

/**
 * Creates the monitors and registers ctrkit's series on a new registry; starts the quality
 * monitor's 30-second timer (unref'd).
 *
 * @param deps - Settings, catalog, clock, Redis, the online loop.
 * @returns The monitors.
 */
export function createMonitors(deps: MonitorsDeps): Monitors {
  const { config, world, clock, redis } = deps;
  const pipeline = createPipelineMetrics(clock);
  const quality = createQualityMonitor({ clock, attributionWindowMs: config.attributionWindowMs });
  // Label sets bounded by the catalog: events are checked against it, and the reporter is capped at its size.
  const reporter = createCampaignReporter({ clock, bucketMs: 60_000, horizonMs: 86_400_000, maxEntities: Math.max(1, world.budgets.length) });
  // With Redis, the same figures for the whole fleet: every process adds its counts to shared
  // buckets (flushed each second), so GET /admin/report answers for all servers of the prefix.
  const catalogEntities = world.budgets.length + new Set(world.catalog.map((c) => c.advertiserId)).size;
  const fleetReporter =
    redis === undefined
      ? undefined
      : createRedisCampaignReporter({ redis, keyPrefix: `${config.redisPrefix}report:`, clock, bucketMs: 60_000, horizonMs: 86_400_000, maxEntitiesPerBucket: Math.max(2, catalogEntities), maxPendingEntities: Math.max(2, 2 * catalogEntities) });
  const report = (event: AdEvent): void => {
    reporter.record(event);
    fleetReporter?.record(event);
  };
  const drift = createDriftHolder();
  // The online loop starts with the first model; until then its series read zero.
  const idle: OnlineLearningCounters = { rowsAdded: 0, rowsLearned: 0, windowRows: 0, swaps: 0, refusals: 0, refusalsByReason: {}, rollbacks: 0, servingVersion: 'none', lastLogLoss: undefined };
  const idleJoiner = createLabelJoiner({ windowMs: config.attributionWindowMs, clock, onLabel: () => undefined });
  const onlineSources = config.online.enabled
    ? { joiner: { stats: () => deps.online()?.joinerStats() ?? idleJoiner.stats() }, onlineLearning: { stats: () => deps.online()?.stats() ?? idle } }
    : {};
  const registry = registerCtrkitMetrics({ pipeline, quality, drift, reporter, ...onlineSources }, new Registry());
  // The quality monitor labels overdue impressions (no click within the window) only when it is
  // read; read it every 30 s so its pending impressions stay bounded even when nobody scrapes.
  const qualityTimer = setInterval(() => quality.snapshot(), 30_000);
  qualityTimer.unref();
  return { pipeline, quality, reporter, fleetReporter, report, drift, registry, stop: () => clearInterval(qualityTimer) };
}
