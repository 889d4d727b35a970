/**
 * `@ctrkit/pacing` — budget pacing for ad servers: pacing plans (even, as soon as possible, a
 * custom curve, traffic-shaped; day-parting and time zones), three controllers from the
 * literature (probabilistic throttling, PID on a bid multiplier, dual-gradient multiplicative
 * pacing) behind one {@link Pacer}, a {@link BudgetLedger} that never overspends (memory here,
 * Redis in `@ctrkit/pacing/redis`), and a replay simulator for auction logs. Browser-safe: this
 * entry imports nothing from Node.
 *
 * @packageDocumentation
 */
export type { AdvertiserBudget, CampaignBudget, LedgerBudgets } from './budget.js';
export type { BudgetLedger, BudgetLineSnapshot, BudgetSnapshot, Refusal, RefusalReason, Reservation, ReserveResult } from './ledger.js';
export { createMemoryLedger } from './memory-ledger.js';
export type { MemoryLedgerOptions } from './memory-ledger.js';
export { createAsapPlan, createEvenPlan, createHourlyPlan, createTrafficShapedPlan, planFromJSON } from './plan.js';
export type { PacingPlan, PacingPlanJSON, PacingPlanKind, PlanOptions, TrafficPlanOptions } from './plan.js';
export { PACER_KINDS } from './controller.js';
export type { ControllerState, ControlSignal, PacerKind, PacingController } from './controller.js';
export { createThrottleController } from './throttle.js';
export type { ThrottleOptions } from './throttle.js';
export { createPidController } from './pid.js';
export type { PidOptions } from './pid.js';
export { createDualController } from './dual.js';
export type { DualOptions } from './dual.js';
export { createUnpacedController } from './unpaced.js';
export { createPacer } from './pacer.js';
export type { Pacer, PacerOptions, PacerState } from './pacer.js';
export { checkAuctionLog, parseIpinyouLog } from './auction-log.js';
export type { AuctionLog, ParseOptions } from './auction-log.js';
export { createSyntheticAuctionLog } from './synthetic.js';
export type { SyntheticLogOptions } from './synthetic.js';
export { controllerFor, replayAuctions } from './replay.js';
export { fixedLinearBid, hindsightGreedy, hindsightLinearBid, totalMarketCost } from './hindsight.js';
export type { ReplayOptions, ReplayResult, SpendSeries } from './replay.js';
export { renderSpendPlot, renderSpendPlotHtml } from './plot.js';
export type { PlotOptions } from './plot.js';
export { createPacingStage } from './pacing-stage.js';
export type { PacingStageOptions, PacingStageWithPacers } from './pacing-stage.js';
