/**
 * How `ctrkit train` writes what it kept: the ONNX model and a manifest that carries the feature
 * spec, how the log was read, the hyper-parameters and a feature profile, so `ctrkit eval` and a
 * server read other rows the same way.
 */
import path from 'node:path';
import { exportModel, exportStackedEnsemble, sliceRows, type FitResult, type TrainableArchitecture } from '@ctrkit/models';
import { saveModel } from '@ctrkit/models/node';
import type { CliIo } from '../../io.js';
import { describeSource } from '../../data/source.js';
import type { ModelHyperParameters } from './hyper-parameters.js';
import type { StackedCandidates } from './candidates.js';
import type { BayesFigures } from './output.js';
import type { TrainPlan } from './plan.js';
import type { TrainingRows } from './training-rows.js';

/** Drift monitoring needs a distribution, not every row: the profile holds the last (most recent) rows. */
const PROFILE_ROWS = 100_000;

/**
 * Exports the kept model and saves `model.onnx` and `model.json` in `plan.out`.
 *
 * @param options - The plan, the rows, the kept model and its fit, what auto tried, the figures.
 * @returns Bytes of `model.onnx`.
 * @throws The errors of `exportModel` and `saveModel` (`E_IO` when the directory cannot be written).
 * @internal
 */
export async function writeTrainedModel(options: {
  readonly io: CliIo;
  readonly plan: TrainPlan;
  readonly rows: TrainingRows;
  readonly model: TrainableArchitecture;
  readonly result: FitResult;
  readonly tried: readonly { readonly model: TrainableArchitecture }[];
  readonly seconds: number;
  readonly bayes: BayesFigures | undefined;
  /** `--model auto`'s stacked ensemble when it was kept: written instead of `model`. */
  readonly ensemble?: StackedCandidates;
}): Promise<number> {
  const { io, plan, rows, model, result, bayes, ensemble } = options;
  const { source, settings, negativeRate } = plan;
  const { trainRows, validRows } = rows;
  // Threads change the speed, not the model: the manifest records what shapes the weights.
  const hyperOf = (m: TrainableArchitecture) => Object.fromEntries(Object.entries((plan.hypers.get(m) as ModelHyperParameters)[m] ?? {}).filter(([name]) => name !== 'threads'));
  const version = plan.version ?? new Date(io.clock.now()).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const layout = rows.outcome.encoder.layout;
  const common = {
    version,
    config: {
      featureSpec: rows.outcome.spec,
      data: {
        ...settings,
        ...(source.kind === 'synthetic' ? { synthetic: source.seed } : { file: path.resolve(io.cwd, source.file) }),
        trainRows,
        validRows,
        ...(plan.carve && validRows > 0 ? { validShare: plan.validShare } : {}),
      },
      hyperParameters: ensemble === undefined ? hyperOf(model) : Object.fromEntries(ensemble.members.map((m) => [m.model, hyperOf(m.model)])),
      ...(negativeRate === undefined ? {} : { negativeRate }),
    },
    profileRows: sliceRows(rows.train, Math.max(0, trainRows - PROFILE_ROWS), trainRows),
  };
  const figures = { trainSeconds: options.seconds, ...(bayes === undefined ? {} : { validBayesAuc: bayes.auc, validBayesLogLoss: bayes.logloss }) };
  const exported =
    ensemble === undefined
      ? exportModel(layout, result, {
          ...common,
          description: `${model} trained by ctrkit train${plan.auto ? ` (--model auto: the lowest validation log loss of ${options.tried.map((t) => t.model).join(', ')})` : ''} on ${describeSource(source)}`,
          metrics: figures,
        })
      : exportStackedEnsemble(
          layout,
          ensemble.members.map((m) => ({ result: m.result, coefficient: m.coefficient })),
          ensemble.bias,
          {
            ...common,
            description: `stacked ensemble of ${ensemble.members.map((m) => m.model).join(', ')} trained by ctrkit train (--model auto: its out-of-fold validation log loss beat the best single candidate's) on ${describeSource(source)}`,
            metrics: { ...figures, validRows, validAuc: ensemble.validAuc, validLogLossFinal: ensemble.outOfFoldLogLoss },
          },
        );
  await saveModel(plan.out, { model: exported.model, manifest: exported.manifest });
  return exported.model.byteLength;
}
