/**
 * What `npm run demo -- --json` prints: one JSON object with the figures of a scenario — model
 * quality on the held-out log beside the Bayes optimum, the day served, and what the online loop
 * did on day two. Plain numbers only (NaN and ±Infinity become null), so any JSON reader takes it.
 */
import type { EvaluationSummary } from '@ctrkit/core';
import type { ScenarioReport, ServingFigures } from './scenario-report.js';

/** A model's figures on the held-out log. */
export interface ModelFigures {
  readonly name: string;
  readonly auc: number;
  readonly logloss: number;
  readonly ne: number;
  readonly calibration: number;
  readonly ece: number;
}

/** The demo's JSON output. */
export interface DemoSummary {
  readonly seed: string;
  readonly world: ScenarioReport['world'];
  readonly log: ScenarioReport['log'];
  readonly quality: {
    /** The trained models (calibrated), on the held-out end of day one. */
    readonly models: readonly ModelFigures[];
    /** The true click probabilities on the same rows. */
    readonly bayes: { readonly auc: number; readonly logloss: number };
    readonly calibrators: Readonly<Record<string, string>>;
  };
  /** Day two's serving figures, without the late-charge count, and the online quality's headline figures. */
  readonly serving: Omit<ServingFigures, 'lateChargesRefused' | 'online'> & {
    readonly online: Pick<EvaluationSummary, 'rows' | 'auc' | 'logloss' | 'calibration'>;
  };
  /** The online loop on day two, on the served impressions. */
  readonly loop: ScenarioReport['loop'];
  readonly latency: readonly { readonly stage: string; readonly p50Ms: number; readonly p95Ms: number; readonly p99Ms: number }[];
  readonly seconds: Readonly<Record<string, number>>;
  readonly report?: string;
}

const BAYES = 'Bayes optimum (true pCTR)';

/**
 * The JSON summary of a scenario.
 *
 * @param report - What `runScenario` returned.
 * @param extra - The seed, and where the HTML report was written (if it was).
 * @returns A plain object; `JSON.stringify` it.
 */
export function summarize(report: ScenarioReport, extra: { readonly seed: string; readonly report?: string }): DemoSummary {
  const bayes = report.quality.find((q) => q.model === BAYES);
  if (bayes === undefined) throw new Error('summarize: the scenario reported no Bayes optimum');
  const s = report.serving;
  return {
    seed: extra.seed,
    world: report.world,
    log: report.log,
    quality: {
      models: report.quality
        .filter((q) => q !== bayes)
        .map((q) => ({ name: q.model, auc: q.auc, logloss: q.logloss, ne: q.ne, calibration: q.calibration, ece: q.ece })),
      bayes: { auc: bayes.auc, logloss: bayes.logloss },
      calibrators: report.calibrators,
    },
    serving: {
      requests: s.requests,
      winners: s.winners,
      impressions: s.impressions,
      clicks: s.clicks,
      conversions: s.conversions,
      predictedClicks: s.predictedClicks,
      expectedClicks: s.expectedClicks,
      revenue: s.revenue,
      overspend: s.overspend,
      spendAfterMidnight: s.spendAfterMidnight,
      degradedRequests: s.degradedRequests,
      online: { rows: s.online.rows, auc: s.online.auc, logloss: s.online.logloss, calibration: s.online.calibration },
    },
    loop: report.loop,
    latency: report.latency.stages.map((stage) => ({ stage: stage.stage, p50Ms: stage.p50Ms, p95Ms: stage.p95Ms, p99Ms: stage.p99Ms })),
    seconds: report.seconds,
    ...(extra.report === undefined ? {} : { report: extra.report }),
  };
}

/**
 * One line of JSON: non-finite numbers become null (JSON has no NaN).
 *
 * @param summary - The summary.
 * @returns The line, without a newline.
 */
export function toJsonLine(summary: DemoSummary): string {
  return JSON.stringify(summary, (_key, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? null : value));
}
