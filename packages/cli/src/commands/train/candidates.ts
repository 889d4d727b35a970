/**
 * `--model auto`: which architectures it tries, and the loop that trains each on the same rows
 * while the time budget lasts and keeps the one with the lowest validation log loss — or, when
 * it beats that one out of fold, the stacked ensemble of them all.
 */
import { auc } from '@ctrkit/core';
import { fitStacker, type FitResult, type TrainableArchitecture } from '@ctrkit/models';
import { usageError, type ParsedArgs } from '../../args.js';
import type { CliIo } from '../../io.js';
import { TRAINABLE_MODELS } from './hyper-parameters.js';
import { format4 } from './format.js';

/**
 * The architectures `--model auto` tries by default, cheapest first. DeepFM goes before DCN-v2:
 * fewer multiply-adds a row (no cross layers) and, on synthetic:200000:7 with default flags,
 * validation AUC 0.7224 against 0.6751 in 120 s against 132 s.
 *
 * @internal
 */
export const AUTO_CANDIDATES: readonly TrainableArchitecture[] = ['lr', 'fm', 'deepfm', 'dcnv2'];

/**
 * Seconds `--model auto` may spend before it stops starting candidates (default).
 *
 * @internal
 */
export const DEFAULT_TIME_BUDGET_S = 1800;

/**
 * Reads `--candidates`.
 *
 * @param args - The parsed flags.
 * @returns The architectures to try, in order ({@link AUTO_CANDIDATES} when absent).
 * @throws A usage error (exit 2) for an unknown or repeated name.
 * @internal
 */
export function candidatesOf(args: ParsedArgs): readonly TrainableArchitecture[] {
  const text = args.string('candidates');
  if (text === undefined) return AUTO_CANDIDATES;
  const names = text.split(',').map((name) => name.trim());
  const seen = new Set<string>();
  for (const name of names) {
    if (!(TRAINABLE_MODELS as readonly string[]).includes(name)) usageError('train', `--candidates takes a comma-separated list of ${TRAINABLE_MODELS.join(', ')}, got ${JSON.stringify(name)}`);
    if (seen.has(name)) usageError('train', `--candidates names ${name} twice`);
    seen.add(name);
  }
  return names as TrainableArchitecture[];
}

/**
 * What `--model auto` measured for one candidate.
 *
 * @internal
 */
export interface AutoCandidate {
  readonly model: TrainableArchitecture;
  /** Validation log loss of what serving would get (calibrated when a calibrator was chosen), before any refit. */
  readonly finalLogLoss: number | null;
  readonly validAuc: number | null;
  readonly seconds: number;
}

/**
 * The model a run keeps, and every candidate it tried.
 *
 * @internal
 */
export interface CandidatesOutcome {
  /** The best single candidate. */
  readonly model: TrainableArchitecture;
  readonly result: FitResult;
  readonly tried: readonly AutoCandidate[];
  /** `--model auto`: the stacked ensemble of the candidates, when it was fitted; `chosen` when it beat the best single one. */
  readonly ensemble?: StackedCandidates;
}

/**
 * `--model auto`'s stacked ensemble: every candidate tried (each with validation scores), its
 * logit weighted by a logistic-regression stacker fitted on the validation rows.
 *
 * @internal
 */
export interface StackedCandidates {
  readonly members: readonly { readonly model: TrainableArchitecture; readonly result: FitResult; readonly coefficient: number }[];
  readonly bias: number;
  /** The stacker's out-of-fold validation log loss (5 folds), what it is compared on. */
  readonly outOfFoldLogLoss: number;
  /** AUC of its out-of-fold scores of the validation rows. */
  readonly validAuc: number;
  /** Whether it beat the best single candidate's validation log loss, so it is what is written. */
  readonly chosen: boolean;
}

/** Whether two candidates gave every validation row the same score, to float32 rounding (an FM that is its LR differs by ~3e-8). */
function sameScores(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (Math.abs((a[i] as number) - (b[i] as number)) > 1e-6) return false;
  return true;
}

/**
 * Fits the stacker on the candidates' validation scores (before calibration and refit) and says
 * whether it beats `bestLogLoss`; `undefined` with fewer than two candidates that have them.
 */
function stackCandidates(tried: readonly { readonly model: TrainableArchitecture; readonly result: FitResult }[], labels: Float32Array | undefined, bestLogLoss: number | undefined, always: boolean): StackedCandidates | undefined {
  // A candidate that scores the validation rows exactly as an earlier one (an FM that fell back to
  // its LR) adds a collinear column: the stacker would split one coefficient between the two.
  const scored: { readonly model: TrainableArchitecture; readonly result: FitResult }[] = [];
  for (const t of tried) {
    const p = t.result.validPredictions;
    if (p !== undefined && !scored.some((s) => sameScores(s.result.validPredictions as Float32Array, p))) scored.push(t);
  }
  if (labels === undefined || scored.length < 2) return undefined;
  const fit = fitStacker(
    scored.map((t) => t.result.validPredictions as Float32Array),
    labels,
  );
  return {
    members: scored.map((t, m) => ({ model: t.model, result: t.result, coefficient: fit.coefficients[m] as number })),
    bias: fit.bias,
    outOfFoldLogLoss: fit.outOfFoldLogLoss,
    validAuc: auc(labels, fit.outOfFold),
    chosen: always || (bestLogLoss !== undefined && fit.outOfFoldLogLoss < bestLogLoss),
  };
}

/**
 * Trains each candidate in turn and keeps the lowest validation log loss (ties: the one tried
 * first, the cheaper). With `auto` it stops starting candidates once `timeBudget` seconds have
 * passed since `started` (the first always runs) and says on stderr what it does; without, the
 * single candidate is trained silently.
 *
 * @param options - The candidates, the budget, whether this is `--model auto`, the trainer.
 * @returns The kept model and what each tried one measured.
 * @internal
 */
export function trainCandidates(options: {
  readonly io: CliIo;
  readonly candidates: readonly TrainableArchitecture[];
  readonly auto: boolean;
  readonly quiet: boolean;
  readonly timeBudget: number;
  readonly started: number;
  readonly fit: (model: TrainableArchitecture) => FitResult;
  /** `--model auto`: the validation rows' labels, for the stacked ensemble (absent: no ensemble). */
  readonly validLabels?: Float32Array;
  /** `always` (`--model ensemble`): keep the ensemble whatever its log loss; `auto` (default): when it beats the best single one. */
  readonly ensemble?: 'auto' | 'always';
}): CandidatesOutcome {
  const { io, auto, quiet, timeBudget, started } = options;
  const tried: AutoCandidate[] = [];
  let chosen: { model: TrainableArchitecture; result: FitResult } | undefined;
  const fits: { model: TrainableArchitecture; result: FitResult }[] = [];
  for (const candidate of options.candidates) {
    if (auto && tried.length > 0 && (io.clock.now() - started) / 1000 >= timeBudget) {
      if (!quiet) io.stderr.write(`auto: the time budget of ${timeBudget} s is spent; ${candidate} and the rest are not tried\n`);
      break;
    }
    if (auto && !quiet) io.stderr.write(`auto: training ${candidate}\n`);
    const before = io.clock.now();
    const result = options.fit(candidate);
    fits.push({ model: candidate, result });
    const final = result.metrics.validLogLossFinal;
    tried.push({ model: candidate, finalLogLoss: final ?? null, validAuc: result.metrics.validAuc ?? null, seconds: (io.clock.now() - before) / 1000 });
    if (auto && !quiet) io.stderr.write(`auto: ${candidate} validation log loss ${format4(final)}, AUC ${format4(result.metrics.validAuc)}\n`);
    // Ties go to the candidate tried first (the cheaper one).
    const best = chosen?.result.metrics.validLogLossFinal;
    if (chosen === undefined || (final !== undefined && (best === undefined || final < best))) chosen = { model: candidate, result };
  }
  const { model, result } = chosen as { model: TrainableArchitecture; result: FitResult };
  const ensemble = auto ? stackCandidates(fits, options.validLabels, result.metrics.validLogLossFinal, options.ensemble === 'always') : undefined;
  if (ensemble !== undefined && !quiet) {
    io.stderr.write(
      `auto: a stacked ensemble of ${ensemble.members.map((m) => `${m.model} ×${m.coefficient.toFixed(3)}`).join(', ')} has out-of-fold validation log loss ${format4(ensemble.outOfFoldLogLoss)} against ${model}'s ${format4(result.metrics.validLogLossFinal)}: ${ensemble.chosen ? `keeping the ensemble${options.ensemble === 'always' ? ' (--model ensemble)' : ''}` : `keeping ${model}`}\n`,
    );
  }
  if (ensemble === undefined && options.ensemble === 'always') {
    io.stderr.write(`ctrkit train: --model ensemble: fewer than two candidates scored the validation rows differently (an FM that fell back to its LR scores as the LR), so there is nothing to stack; writing ${model}\n`);
  }
  return { model, result, tried, ...(ensemble === undefined ? {} : { ensemble }) };
}
