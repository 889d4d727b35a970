/**
 * `ctrkit train` end to end: read the flags into a plan, read the rows, train one model or each
 * `--model auto` candidate (and their stacked ensemble), write the kept one, print the result.
 */
import { auc, logLoss } from '@ctrkit/core';
import type { ParsedArgs } from '../../args.js';
import type { CliIo } from '../../io.js';
import { trainCandidates } from './candidates.js';
import { fitWithProgress } from './fit.js';
import { trainJson, trainText, type BayesFigures } from './output.js';
import { trainPlanOf } from './plan.js';
import { readTrainingRows } from './training-rows.js';
import { writeTrainedModel } from './write-model.js';

/**
 * Runs `ctrkit train`.
 *
 * @param args - The parsed flags.
 * @param io - Streams, directory, clock.
 * @returns 0.
 * @throws Usage errors (exit 2) and `CtrkitError`s (exit 1) from the steps.
 * @internal
 */
export async function runTrain(args: ParsedArgs, io: CliIo): Promise<number> {
  const plan = await trainPlanOf(args, io);
  const rows = await readTrainingRows(plan, io);
  const { train, valid, trainRows, validRows, truth } = rows;

  // Train: one model, or each candidate of --model auto while the time budget lasts.
  const started = io.clock.now();
  const { model, result, tried, ensemble } = trainCandidates({
    io,
    candidates: plan.candidates,
    auto: plan.auto,
    quiet: plan.quiet,
    timeBudget: plan.timeBudget,
    started,
    fit: (candidate) => fitWithProgress(candidate, { plan, io, train, valid }),
    ...(valid === undefined || plan.ensemble === 'off' ? {} : { validLabels: valid.labels, ensemble: plan.ensemble }),
  });
  const stacked = ensemble?.chosen === true ? ensemble : undefined;
  const seconds = (io.clock.now() - started) / 1000;
  for (const warning of result.warnings) io.stderr.write(`ctrkit train: warning: ${warning}\n`);

  const validTruth = truth?.subarray(trainRows, trainRows + validRows);
  const bayes: BayesFigures | undefined = validTruth !== undefined && valid !== undefined ? { auc: auc(valid.labels, validTruth), logloss: logLoss(valid.labels, validTruth) } : undefined;
  const bytes = await writeTrainedModel({ io, plan, rows, model, result, tried, seconds, bayes, ...(stacked === undefined ? {} : { ensemble: stacked }) });

  const report = {
    model,
    source: plan.source,
    trainRows,
    validRows,
    carve: plan.carve,
    validShare: plan.validShare,
    result,
    bayes,
    seconds,
    out: plan.out,
    bytes,
    auto: plan.auto ? { timeBudget: plan.timeBudget, tried, ...(ensemble === undefined ? {} : { ensemble }) } : undefined,
  };
  io.stdout.write(plan.json ? trainJson(report) : trainText(report));
  return 0;
}
