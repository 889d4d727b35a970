/**
 * One architecture's training run inside `ctrkit train`: `fitModel` with the run's options, its
 * passes shown as progress lines and each pass's validation figures on stderr.
 */
import { fitModel, type FitResult, type LabeledRows, type TrainableArchitecture } from '@ctrkit/models';
import type { CliIo } from '../../io.js';
import { createProgress, type Progress } from '../../progress.js';
import type { ModelHyperParameters } from './hyper-parameters.js';
import { format4 } from './format.js';
import type { TrainPlan } from './plan.js';

/**
 * Passes at most when validation rows exist (early stopping ends most runs long before).
 *
 * @internal
 */
export const DEFAULT_EPOCHS = 20;

/**
 * Trains `model` on `train`, early-stopping and calibrating on `valid` when given.
 *
 * @param model - The architecture.
 * @param options - The plan, the streams, and the slices.
 * @returns The fit.
 * @internal
 */
export function fitWithProgress(
  model: TrainableArchitecture,
  options: { readonly plan: TrainPlan; readonly io: CliIo; readonly train: LabeledRows; readonly valid: LabeledRows | undefined },
): FitResult {
  const { plan, io, train, valid } = options;
  const { quiet, negativeRate, calibrator } = plan;
  // With validation rows early stopping decides, so the cap is generous; without, few passes.
  const epochs = plan.epochs ?? (valid !== undefined ? DEFAULT_EPOCHS : model === 'dcnv2' || model === 'deepfm' ? 2 : 3);
  let progress: Progress | undefined;
  let phase = '';
  let epochsDone = 0;
  const result = fitModel({
    model,
    train,
    ...(valid === undefined ? {} : { valid }),
    epochs,
    patience: plan.patience,
    ...(negativeRate === undefined ? {} : { negativeRate }),
    refit: plan.refit,
    ...(calibrator === 'auto' ? {} : { calibrators: [calibrator] }),
    seed: plan.seed,
    ...(plan.hypers.get(model) as ModelHyperParameters),
    onProgress: (p) => {
      // Passes of the main loop arrive in order; a pass numbered at or below those done is the refit.
      const label = `${p.epoch <= epochsDone ? 'refit' : 'epoch'} ${p.epoch}/${p.epochs}`;
      if (label !== phase) {
        progress?.finish();
        phase = label;
        progress = createProgress({ label, total: p.total, unit: 'rows', stream: io.stderr, clock: io.clock, enabled: !quiet });
      }
      progress?.update(p.done);
    },
    onEpoch: (e) => {
      epochsDone = e.epoch;
      progress?.finish();
      progress = undefined;
      phase = '';
      if (!quiet && e.validLogLoss !== undefined) io.stderr.write(`  valid log loss ${format4(e.validLogLoss)}, AUC ${format4(e.validAuc)}\n`);
    },
  });
  progress?.finish();
  return result;
}
