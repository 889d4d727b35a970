/**
 * `@ctrkit/core/sim` — a synthetic traffic generator with a known ground truth, for demos,
 * tests and benchmarks: every impression carries its true click probability, so a report can
 * state the Bayes-optimal AUC and log loss next to a model's.
 *
 * @packageDocumentation
 */
export { createTrafficGenerator } from './traffic.js';
export type {
  SimImpression,
  SimOutcome,
  SimRequest,
  StreamOptions,
  TrafficGenerator,
  TrafficGeneratorOptions,
} from './traffic.js';
export { SIM_CATEGORIES, SIM_CATEGORY_IAB } from './entities.js';
export type { SimAd, SimAdvertiser, SimCampaign, SimPublisher } from './entities.js';
export type { SimWorldOptions } from './world.js';
export type { SimAppealDrift, SimDriftOptions, SimLaunches, SimTasteShift } from './drift.js';
