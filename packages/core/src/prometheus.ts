/**
 * `@ctrkit/core/prometheus` — exposes ctrkit's monitors in Prometheus text format through
 * prom-client. Values are read from the monitors when Prometheus scrapes, so the request path
 * pays nothing for them.
 *
 * @packageDocumentation
 */
import { Counter, Gauge, Registry } from 'prom-client';
import type { AlarmThresholds } from './monitor/alarms.js';
import { DEFAULT_ALARM_THRESHOLDS, evaluateAlarms } from './monitor/alarms.js';
import type { DriftMonitor } from './monitor/drift.js';
import type { PipelineMetrics } from './monitor/pipeline-metrics.js';
import type { QualityMonitor } from './monitor/quality.js';
import type { CampaignReporter } from './monitor/reporting.js';
import type { LabelJoinerStats } from './label-joiner.js';
import type { OnlineLearningCounters } from './online-trainer.js';

/** What to expose; every source is optional.
 *
 * @example
 * ```ts
 * import type { PrometheusSources } from '@ctrkit/core/prometheus';
 * import { createPipelineMetrics } from '@ctrkit/core';
 * const sources: PrometheusSources = { pipeline: createPipelineMetrics(), prefix: 'adserver_' };
 * ```
 */
export interface PrometheusSources {
  /** Stage latencies, throughput, errors, degradations. */
  readonly pipeline?: PipelineMetrics;
  /** Rolling AUC, log loss, calibration. */
  readonly quality?: QualityMonitor;
  /** Feature and prediction drift. */
  readonly drift?: DriftMonitor;
  /** Campaign and advertiser figures. */
  readonly reporter?: CampaignReporter;
  /** Windows reported for campaigns, ms (default one hour and one day). */
  readonly reportWindowsMs?: readonly number[];
  /** Alarm rules (default `DEFAULT_ALARM_THRESHOLDS`). */
  readonly alarms?: AlarmThresholds;
  /** The label joiner that turns served rows and clicks into training rows. */
  readonly joiner?: {
    /** The joiner's counters now. */
    stats(): LabelJoinerStats;
  };
  /** The online-learning loop (the models package's online refresher): swaps, refusals, rows learned. */
  readonly onlineLearning?: {
    /** The online loop's counters now. */
    stats(): OnlineLearningCounters;
  };
  /** Metric name prefix (default `ctrkit_`). */
  readonly prefix?: string;
}

const finite = (value: number): number => (Number.isFinite(value) ? value : Number.NaN);

/**
 * Registers ctrkit's collectors on a prom-client registry (a new one when none is given).
 *
 * @param sources - The monitors to expose.
 * @param registry - Where to register (default: a fresh `Registry`).
 * @returns The registry; `await registry.metrics()` gives the text exposition.
 * @example
 * ```ts
 * import { createPipelineMetrics } from '@ctrkit/core';
 * import { registerCtrkitMetrics } from '@ctrkit/core/prometheus';
 * const pipeline = createPipelineMetrics();
 * const registry = registerCtrkitMetrics({ pipeline });
 * pipeline.recordRequest(1.5, 100);
 * const text = await registry.metrics();
 * ```
 */
export function registerCtrkitMetrics(sources: PrometheusSources, registry: Registry = new Registry()): Registry {
  const prefix = sources.prefix ?? 'ctrkit_';
  const registers = [registry];
  const { pipeline, quality, drift, reporter } = sources;
  if (pipeline) {
    new Gauge({
      name: `${prefix}stage_latency_ms`,
      help: 'Latency of each pipeline stage (and total) in milliseconds, by quantile',
      labelNames: ['stage', 'quantile'],
      registers,
      collect() {
        this.reset();
        for (const s of pipeline.snapshot().stages) {
          this.set({ stage: s.stage, quantile: '0.5' }, finite(s.p50Ms));
          this.set({ stage: s.stage, quantile: '0.95' }, finite(s.p95Ms));
          this.set({ stage: s.stage, quantile: '0.99' }, finite(s.p99Ms));
        }
      },
    });
    new Counter({
      name: `${prefix}requests_total`,
      help: 'Requests completed by the pipeline',
      registers,
      collect() {
        this.reset();
        this.inc(pipeline.snapshot().requests);
      },
    });
    new Counter({
      name: `${prefix}candidates_scored_total`,
      help: 'Candidates scored by the pipeline',
      registers,
      collect() {
        this.reset();
        this.inc(pipeline.snapshot().rows);
      },
    });
    new Gauge({
      name: `${prefix}requests_per_second`,
      help: 'Requests per second since start or the last reset',
      registers,
      collect() {
        this.set(pipeline.snapshot().requestsPerSecond);
      },
    });
    new Counter({
      name: `${prefix}errors_total`,
      help: 'Errors by stage and error code',
      labelNames: ['stage', 'code'],
      registers,
      collect() {
        this.reset();
        for (const e of pipeline.snapshot().errors) this.inc({ stage: e.stage, code: e.label }, e.count);
      },
    });
    new Counter({
      name: `${prefix}degraded_total`,
      help: 'Degraded requests by stage and reason',
      labelNames: ['stage', 'reason'],
      registers,
      collect() {
        this.reset();
        for (const d of pipeline.snapshot().degradations) this.inc({ stage: d.stage, reason: d.label }, d.count);
      },
    });
  }
  if (quality) {
    new Gauge({
      name: `${prefix}model_quality`,
      help: 'Rolling model quality over labeled impressions: auc, logloss, ne, calibration (mean prediction / mean label), ece, rows',
      labelNames: ['metric'],
      registers,
      collect() {
        this.reset();
        const s = quality.snapshot();
        for (const metric of ['auc', 'logloss', 'ne', 'calibration', 'ece', 'rows'] as const) this.set({ metric }, finite(s[metric]));
      },
    });
    new Gauge({
      name: `${prefix}impressions_awaiting_label`,
      help: 'Served impressions whose click attribution window is still open',
      registers,
      collect() {
        this.set(quality.pending());
      },
    });
  }
  if (drift) {
    new Gauge({
      name: `${prefix}drift_psi`,
      help: 'Population stability index against the training profile, by field (prediction = score distribution)',
      labelNames: ['field'],
      registers,
      collect() {
        this.reset();
        for (const entry of drift.report()) this.set({ field: entry.field }, entry.psi);
      },
    });
  }
  if (quality || drift) {
    const thresholds = sources.alarms ?? DEFAULT_ALARM_THRESHOLDS;
    new Gauge({
      name: `${prefix}alarm`,
      help: 'Alarm state: 1 firing, 0 not (detail label names the field for feature drift)',
      labelNames: ['alarm', 'detail'],
      registers,
      collect() {
        this.reset();
        const inputs = { ...(quality ? { quality: quality.snapshot() } : {}), ...(drift ? { drift: drift.report() } : {}) };
        for (const alarm of evaluateAlarms(inputs, thresholds)) {
          const detail = alarm.name === 'feature_drift' ? (alarm.detail.split(':')[0] ?? '') : '';
          this.set({ alarm: alarm.name, detail }, alarm.firing ? 1 : 0);
        }
      },
    });
  }
  if (reporter) {
    const windows = sources.reportWindowsMs ?? [3_600_000, 86_400_000];
    new Gauge({
      name: `${prefix}campaign`,
      help: 'Campaign figures in sliding windows: impressions, clicks, conversions, spend, ctr, cpc, cpm, cpa',
      labelNames: ['level', 'id', 'window', 'metric'],
      registers,
      collect() {
        this.reset();
        for (const windowMs of windows) {
          const report = reporter.report(windowMs);
          const window = `${Math.round(report.windowMs / 1000)}s`;
          for (const [level, rows] of [['campaign', report.campaigns], ['advertiser', report.advertisers]] as const) {
            for (const row of rows) {
              for (const metric of ['impressions', 'clicks', 'conversions', 'spend', 'ctr', 'cpc', 'cpm', 'cpa'] as const) {
                const value = row[metric];
                if (Number.isFinite(value)) this.set({ level, id: row.id, window, metric }, value);
              }
            }
          }
        }
      },
    });
  }
  const { joiner, onlineLearning } = sources;
  if (joiner) {
    new Counter({
      name: `${prefix}joined_rows_total`,
      help: 'Served rows the label joiner labeled, by label (positive: clicked within the window; negative: window closed)',
      labelNames: ['label'],
      registers,
      collect() {
        this.reset();
        const s = joiner.stats();
        this.inc({ label: 'positive' }, s.positives);
        this.inc({ label: 'negative' }, s.negatives);
      },
    });
    new Gauge({
      name: `${prefix}joiner_pending_rows`,
      help: 'Served rows waiting for their attribution window to close',
      registers,
      collect() {
        this.set(joiner.stats().pending);
      },
    });
    new Counter({
      name: `${prefix}joiner_dropped_total`,
      help: 'Events and rows the joiner did not join, by reason (shed at the cap, collision, duplicate, orphan, late, early, repeat)',
      labelNames: ['reason'],
      registers,
      collect() {
        this.reset();
        const s = joiner.stats();
        const sum = (o: { readonly [kind: string]: number }) => Object.values(o).reduce((a, b) => a + b, 0);
        this.inc({ reason: 'shed' }, s.shed);
        this.inc({ reason: 'collision' }, s.collisions);
        this.inc({ reason: 'duplicate' }, sum(s.duplicates));
        this.inc({ reason: 'orphan' }, sum(s.orphans));
        this.inc({ reason: 'late' }, sum(s.late));
        this.inc({ reason: 'early' }, sum(s.early));
        this.inc({ reason: 'repeat' }, sum(s.repeats));
      },
    });
  }
  if (onlineLearning) {
    new Counter({
      name: `${prefix}online_rows_learned_total`,
      help: 'Joined rows the online trainer learned from (rows leave the hold-out window first)',
      registers,
      collect() {
        this.reset();
        this.inc(onlineLearning.stats().rowsLearned);
      },
    });
    new Gauge({
      name: `${prefix}online_window_rows`,
      help: 'Joined rows in the hold-out window, not yet learned: what candidate and serving model are judged on',
      registers,
      collect() {
        this.set(onlineLearning.stats().windowRows);
      },
    });
    new Counter({
      name: `${prefix}online_swaps_total`,
      help: 'Online snapshots that took over serving (not worse than the serving model on the window)',
      registers,
      collect() {
        this.reset();
        this.inc(onlineLearning.stats().swaps);
      },
    });
    new Counter({
      name: `${prefix}online_refusals_total`,
      help: 'Online snapshots refused, by reason',
      labelNames: ['reason'],
      registers,
      collect() {
        this.reset();
        for (const [reason, count] of Object.entries(onlineLearning.stats().refusalsByReason)) this.inc({ reason }, count);
      },
    });
    new Counter({
      name: `${prefix}online_rollbacks_total`,
      help: 'Returns to the version kept before the last online swap',
      registers,
      collect() {
        this.reset();
        this.inc(onlineLearning.stats().rollbacks);
      },
    });
    new Gauge({
      name: `${prefix}online_last_logloss`,
      help: 'Log loss on the hold-out window at the last decision that scored both, by model (candidate, serving)',
      labelNames: ['model'],
      registers,
      collect() {
        this.reset();
        const last = onlineLearning.stats().lastLogLoss;
        if (last === undefined) return;
        this.set({ model: 'candidate' }, finite(last.candidate));
        this.set({ model: 'serving' }, finite(last.serving));
      },
    });
  }
  return registry;
}
