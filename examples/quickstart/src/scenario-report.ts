/**
 * What a scenario measures: model quality on the held-out log, the day served, each campaign's
 * day, and what the online loop did — the figures the demo prints and the tests check.
 */
import type { CampaignFigures, EvaluationSummary, PipelineSnapshot } from '@ctrkit/core';

/** AUC and log loss of one model on day two's served impressions. */
export interface LoopFigures {
  readonly auc: number;
  readonly logloss: number;
  /** Mean prediction / mean label. */
  readonly calibration: number;
}

/** Log loss of frozen, online and Bayes on a slice of day two's served impressions (NaN when it is empty). */
export interface LoopSlice {
  readonly rows: number;
  readonly frozen: number;
  readonly online: number;
  readonly bayes: number;
}

/** What the online loop did on day two, scored on the served impressions. */
export interface LoopReport {
  /** Which day-one model is the frozen one (the better of FTRL-LR and DCN-v2 on the held-out log). */
  readonly frozenModel: string;
  /** The frozen model, calibrated as on day one. */
  readonly frozen: LoopFigures;
  /** The online learner: `FTRL-LR` or `FM`. */
  readonly learner: string;
  /** What the loop served at the time (DCN-v2 until the first swap, then the online learner's snapshots it swapped in). */
  readonly online: LoopFigures;
  /** The online trainer itself at the time (its progressive predictions, before each swap's guard). */
  readonly trainer: LoopFigures;
  /** The true click probabilities. */
  readonly bayes: LoopFigures;
  /** (frozen − online) / (frozen − Bayes) log loss: the share of the frozen model's gap to Bayes the loop closes. */
  readonly gapClosed: number;
  /** Served impressions scored. */
  readonly rows: number;
  /** Served impressions of ads launched on day two. */
  readonly launchedRows: number;
  /** The impressions of requests that explored, and their log loss (frozen, online, Bayes); included in the figures above. */
  readonly explored: LoopSlice;
  /** The rest: requests ranked by the serving model's pCTR. */
  readonly exploited: LoopSlice;
  readonly swaps: number;
  readonly refusedSwaps: number;
  readonly refusalsByReason: Readonly<Record<string, number>>;
  /** Joined rows the trainer learned on day two. */
  readonly rowsLearned: number;
  /** Labels the joiner decided (positives, negatives). */
  readonly joined: { readonly positives: number; readonly negatives: number };
  readonly servingVersion: string;
  /** Log loss per hour of day two: frozen, online, the trainer, Bayes. */
  readonly hourly: readonly { readonly hour: number; readonly rows: number; readonly frozen: number; readonly online: number; readonly trainer: number; readonly bayes: number }[];
}

/** A model's figures on the held-out log. */
export interface ModelQuality extends EvaluationSummary {
  /** Model name. */
  readonly model: string;
}

/** One campaign's day. */
export interface CampaignDay {
  readonly campaignId: string;
  readonly bidType: string;
  readonly plan: string;
  readonly budget: number;
  /** Everything day two's impressions were billed, after midnight included (what the reporter counts). */
  readonly spend: number;
  /** Of `spend`, what was committed before midnight: the day's budget line holds it. */
  readonly daySpend: number;
  readonly impressions: number;
  readonly clicks: number;
  readonly conversions: number;
  /** `daySpend / budget`. */
  readonly utilization: number;
  /** Cumulative spend at the end of each hour of day two. */
  readonly spendByHour: readonly number[];
  /** Cumulative planned spend at the end of each hour (the plan's share of the budget). */
  readonly planByHour: readonly number[];
}

/** What day two's serving did: traffic, clicks against the model and the truth, money, degradation. */
export interface ServingFigures {
  readonly requests: number;
  readonly winners: number;
  readonly impressions: number;
  readonly clicks: number;
  readonly conversions: number;
  /** Sum of the served pCTRs (at their slot positions), to compare with clicks and the truth. */
  readonly predictedClicks: number;
  /** Sum of the true click probabilities of what was served. */
  readonly expectedClicks: number;
  readonly revenue: number;
  readonly overspend: number;
  /** Spend of day two's clicks and conversions that arrived after midnight (on the next day's budget lines, not in `overspend`). */
  readonly spendAfterMidnight: number;
  /** Billable events refused by the ledger: their hold had expired and the budget no longer covered them. */
  readonly lateChargesRefused: number;
  readonly degradedRequests: number;
  /** Rolling quality of served impressions, from the click stream. */
  readonly online: EvaluationSummary;
}

/** Everything the scenario measured. */
export interface ScenarioReport {
  readonly world: { users: number; advertisers: number; campaigns: number; ads: number; publishers: number };
  readonly log: { rows: number; trainRows: number; testRows: number; ctr: number };
  /** Held-out quality: the Bayes optimum (true click probabilities), FTRL-LR and DCN-v2, calibrated. */
  readonly quality: readonly ModelQuality[];
  /** Which calibrator each model chose. */
  readonly calibrators: Readonly<Record<string, string>>;
  /** CTR multipliers per slot position, learned from the log. */
  readonly positionEffects: readonly number[];
  /** Day two. */
  readonly serving: ServingFigures;
  /** The online loop on day two. */
  readonly loop: LoopReport;
  readonly campaigns: readonly CampaignDay[];
  /** Reporting figures from the event stream (last 24 h), per campaign. */
  readonly reported: readonly CampaignFigures[];
  readonly latency: PipelineSnapshot;
  /** Plain-language reasons for the first few winners. */
  readonly explanations: readonly { adId: string; category: string; pCtr: number; reasons: readonly string[] }[];
  /** Latency samples (ms) of whole requests, for a histogram. */
  readonly requestLatencies: Float64Array;
  /** Calibration points of DCN-v2 on the held-out log (for a reliability diagram). */
  readonly heldOut: { readonly labels: Uint8Array; readonly dcn: Float32Array; readonly truth: Float64Array };
  readonly seconds: Readonly<Record<string, number>>;
}
