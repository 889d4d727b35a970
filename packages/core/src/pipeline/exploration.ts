/**
 * Exploration in serving, {@link createExplorer}: on a small, seeded share of requests the
 * auction ranks by a sampled (Thompson) or optimistic (UCB) pCTR instead of the model's, with
 * each ad's uncertainty taken from how much it has been shown, so that ads the model underrates —
 * new ones above all — are shown now and then and the online learner hears about them.
 */
import { ensure } from '../errors.js';
import { fmix32 } from '../hash-mix.js';
import { seedFromString } from '../random.js';
import type { StoreLookup } from '../stages.js';
import type { AdRequest } from '../types/request.js';

/**
 * How an exploring request perturbs a candidate's logit: `thompson` adds σ·z with z a standard
 * normal draw (a sample from the ad's posterior), `optimistic` adds κ·σ (an upper confidence
 * bound).
 *
 * @example
 * ```ts
 * import type { ExplorationMethod } from '@ctrkit/core';
 * const method: ExplorationMethod = 'thompson';
 * ```
 */
export type ExplorationMethod = 'thompson' | 'optimistic';

/** Options for {@link createExplorer}; validated once.
 *
 * @example
 * ```ts
 * import type { ExplorationOptions } from '@ctrkit/core';
 * const options: ExplorationOptions = { share: 0.1, method: 'thompson', priorSd: 1, evidence: 'ad.imp.1d', seed: 'prod-1' };
 * ```
 */
export interface ExplorationOptions {
  /** Share of requests that explore, in [0, 1] (default 0.1). The rest rank by the model's pCTR untouched. */
  readonly share?: number;
  /** How an exploring request perturbs each logit (default `thompson`). */
  readonly method?: ExplorationMethod;
  /**
   * The standard deviation, in logits, of an ad the store has never seen shown (default 1): the
   * prior of a per-ad logit offset around the model's prediction.
   */
  readonly priorSd?: number;
  /** κ of `optimistic`: how many standard deviations are added (default 1). */
  readonly optimism?: number;
  /**
   * The store counter holding each candidate's evidence, its (decayed) impression count
   * (default `ad.imp.1d`). A missing counter, or no lookup, counts as no evidence.
   */
  readonly evidence?: string;
  /** Seed of the draws (default 0): which requests explore and each candidate's draw. */
  readonly seed?: number | string;
}

/** What {@link Explorer.rank} decided for one request.
 *
 * @example
 * ```ts
 * import type { ExplorationDecision } from '@ctrkit/core';
 * const explored = (d: ExplorationDecision) => d.rankPctr !== undefined;
 * ```
 */
export interface ExplorationDecision {
  /** The pCTR to rank (and price) by, one per candidate; absent when the request does not explore. */
  readonly rankPctr?: Float32Array;
}

/**
 * Chooses, per request, whether it explores and what pCTR the auction ranks by.
 *
 * @example
 * ```ts
 * import { createExplorer, type AdRequest } from '@ctrkit/core';
 * declare const request: AdRequest;
 * declare const pCtr: Float32Array;
 * const explorer = createExplorer({ share: 0.1, seed: 7 });
 * const { rankPctr } = explorer.rank(request, pCtr);
 * ```
 */
export interface Explorer {
  /** The options in force, defaults filled in. */
  readonly settings: Readonly<Required<ExplorationOptions>>;
  /**
   * Decides for one request. Deterministic: the same seed, request id, candidate ids, pCTRs and
   * counters give the same answer, whatever came before.
   *
   * @param request - The request (its id decides whether it explores; candidate ids seed the draws).
   * @param pCtr - The model's calibrated pCTR per candidate.
   * @param lookup - The store's counters the prediction used (one row per distinct ad, in first-seen order).
   * @returns The decision.
   */
  rank(request: AdRequest, pCtr: ArrayLike<number>, lookup?: StoreLookup): ExplorationDecision;
}

const EPS = 1e-6;

/** A uniform in (0, 1) from a 32-bit hash. */
const unit = (h: number): number => ((h >>> 0) + 0.5) / 4294967296;

/** A string's 32-bit hash mixed with the seed. */
const keyed = (seed: number, text: string): number => fmix32(seed ^ seedFromString(text));

/**
 * Creates an {@link Explorer}.
 *
 * **Model.** A request explores when a hash of the seed and its id falls below `share`. In an
 * exploring request candidate i is ranked by sigmoid(logit(p_i) + δ_i), with
 * σ_i = 1 / √(1 / priorSd² + n_i · p_i (1 − p_i)) the Laplace approximation of the posterior
 * standard deviation of a per-ad logit offset after n_i impressions (n_i the `evidence` counter),
 * and δ_i = σ_i · z_i (`thompson`, z_i a normal draw from a hash of the seed, the request and the
 * ad) or κ · σ_i (`optimistic`). An ad never shown keeps the prior's full spread; one shown
 * thousands of times hardly moves. Bounded: |δ_i| ≤ 6.8 · priorSd for `thompson` (a normal draw
 * from 32-bit hashes never passes 6.8), κ · priorSd for `optimistic`, and the result is clamped
 * into [1e-6, 1 − 1e-6].
 *
 * **Cost.** Exploring requests rank some ads above where their expected value would put them,
 * which costs revenue and clicks on those requests; prices are computed from the ranking pCTR, so
 * an optimistically ranked CPC winner pays less per click. Budgets are unaffected (the ledger holds
 * what the auction charges).
 *
 * @param options - Share, method, prior, evidence counter, seed.
 * @returns The explorer.
 * @throws {@link CtrkitError} `E_CONFIG` on a share outside [0, 1], a non-positive `priorSd`, a
 *   negative `optimism`, an empty `evidence` name, or an unknown method.
 * @remarks `rank` allocates one `Float32Array` per exploring request and nothing otherwise; O(n)
 *   per request, one string hash per candidate when exploring.
 * @example
 * ```ts
 * import { createAdSelector, createExplorer, type AuctionStage, type Predictor } from '@ctrkit/core';
 * declare const predictor: Predictor;
 * declare const auction: AuctionStage;
 * const selector = createAdSelector({ predictor, auction, explorer: createExplorer({ share: 0.1, seed: 'serve-1' }) });
 * ```
 */
export function createExplorer(options: ExplorationOptions = {}): Explorer {
  const share = options.share ?? 0.1;
  ensure(typeof share === 'number' && share >= 0 && share <= 1, 'E_CONFIG', () => `exploration share must be in [0, 1], got ${String(share)}`);
  const method = options.method ?? 'thompson';
  ensure(method === 'thompson' || method === 'optimistic', 'E_CONFIG', () => `exploration method must be 'thompson' or 'optimistic', got ${String(method)}`);
  const priorSd = options.priorSd ?? 1;
  ensure(typeof priorSd === 'number' && priorSd > 0 && priorSd <= 10, 'E_CONFIG', () => `exploration priorSd must be in (0, 10] logits, got ${String(priorSd)}`);
  const optimism = options.optimism ?? 1;
  ensure(typeof optimism === 'number' && optimism >= 0 && optimism <= 10, 'E_CONFIG', () => `exploration optimism must be in [0, 10], got ${String(optimism)}`);
  const evidence = options.evidence ?? 'ad.imp.1d';
  ensure(typeof evidence === 'string' && evidence.length > 0, 'E_CONFIG', () => 'exploration evidence must name a store counter, e.g. ad.imp.1d');
  const seedOption = options.seed ?? 0;
  ensure(typeof seedOption === 'string' || Number.isFinite(seedOption), 'E_CONFIG', () => `exploration seed must be a finite number or a string, got ${String(seedOption)}`);
  const seed = typeof seedOption === 'string' ? seedFromString(seedOption) : fmix32(seedOption | 0);
  const threshold = share * 4294967296;
  const precision = 1 / (priorSd * priorSd);
  const settings = Object.freeze({ share, method, priorSd, optimism, evidence, seed: seedOption });

  function rank(request: AdRequest, pCtr: ArrayLike<number>, lookup?: StoreLookup): ExplorationDecision {
    if (share === 0) return {};
    const requestKey = keyed(seed, request.requestId);
    if (!(requestKey < threshold)) return {};
    const candidates = request.candidates;
    const n = candidates.length;
    const column = lookup === undefined ? -1 : lookup.names.indexOf(evidence);
    const width = lookup?.names.length ?? 0;
    // The lookup has one row per distinct ad (the predictor scores a repeated ad once).
    let rowOf: Map<string, number> | undefined;
    if (column >= 0 && lookup !== undefined && lookup.rows !== n) {
      rowOf = new Map();
      for (const candidate of candidates) if (!rowOf.has(candidate.adId)) rowOf.set(candidate.adId, rowOf.size);
    }
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const p = Math.min(1 - EPS, Math.max(EPS, pCtr[i] as number));
      let shown = 0;
      if (column >= 0 && lookup !== undefined) {
        const row = rowOf === undefined ? i : (rowOf.get(candidates[i]!.adId) as number);
        const value = lookup.values[row * width + column] as number;
        if (value > 0) shown = value; // NaN (unknown) and negatives count as no evidence
      }
      const sd = 1 / Math.sqrt(precision + shown * p * (1 - p));
      let delta: number;
      if (method === 'optimistic') delta = optimism * sd;
      else {
        // Box–Muller from two hashes of (seed, request, ad); the draw is the ad's, not its index's.
        const h = fmix32(requestKey ^ seedFromString(candidates[i]!.adId));
        const z = Math.sqrt(-2 * Math.log(unit(h))) * Math.cos(2 * Math.PI * unit(fmix32(h ^ 0x68e31da4)));
        delta = sd * z;
      }
      const logit = Math.log(p / (1 - p)) + delta;
      out[i] = Math.min(1 - EPS, Math.max(EPS, 1 / (1 + Math.exp(-logit))));
    }
    return { rankPctr: out };
  }

  return { settings, rank };
}
