/**
 * What `ctrkit train` prints on stdout: the human summary (pass table, calibrator, refit, Bayes
 * figures, warnings, what was written), `--model auto`'s candidate table, or with `--json` one
 * JSON object on one line.
 */
import path from 'node:path';
import type { EpochRecord, FitResult, TrainableArchitecture } from '@ctrkit/models';
import { describeSource, type DataSource } from '../../data/source.js';
import type { AutoCandidate, StackedCandidates } from './candidates.js';
import { format4 } from './format.js';

/**
 * The Bayes-optimal figures on the validation rows (synthetic traffic, whose true click
 * probabilities are known).
 *
 * @internal
 */
export interface BayesFigures {
  readonly auc: number;
  readonly logloss: number;
}

/**
 * What a run trained, on which rows, and where it went: the input of both outputs.
 *
 * @internal
 */
export interface TrainReport {
  readonly model: TrainableArchitecture;
  readonly source: DataSource;
  readonly trainRows: number;
  readonly validRows: number;
  /** Whether the validation rows were carved off the rows read (`--valid-share`). */
  readonly carve: boolean;
  readonly validShare: number;
  readonly result: FitResult;
  readonly bayes: BayesFigures | undefined;
  readonly seconds: number;
  /** The output directory. */
  readonly out: string;
  /** Bytes of `model.onnx`. */
  readonly bytes: number;
  /** `--model auto`: its time budget and every candidate tried; absent otherwise. */
  readonly auto: { readonly timeBudget: number; readonly tried: readonly AutoCandidate[]; readonly ensemble?: StackedCandidates } | undefined;
}

/** Where the validation rows are: rows [from, to) of the source in file order, 0-based; `null` without any. */
function validationJson(report: TrainReport) {
  const { trainRows, validRows, carve, validShare } = report;
  if (validRows === 0) return null;
  return { from: trainRows, to: trainRows + validRows, rows: validRows, share: carve ? validShare : null, rule: carve ? 'the last share of the training rows in file order' : 'the --valid-rows rows after the training rows' };
}

/** The stacked ensemble when `--model auto` kept it (what was written), else `undefined`. */
function keptEnsemble(report: TrainReport): StackedCandidates | undefined {
  const ensemble = report.auto?.ensemble;
  return ensemble?.chosen === true ? ensemble : undefined;
}

/** The ensemble as the JSON line describes it. */
function ensembleJson(ensemble: StackedCandidates) {
  return {
    members: ensemble.members.map((m) => ({ model: m.model, coefficient: m.coefficient, refit: m.result.metrics.refitRows !== undefined })),
    bias: ensemble.bias,
    outOfFoldLogLoss: ensemble.outOfFoldLogLoss,
    validAuc: ensemble.validAuc,
    chosen: ensemble.chosen,
    rule: 'a logistic regression on the candidates\' logits over the validation rows (their scores before calibration and refit), kept when its 5-fold out-of-fold log loss is below the best single candidate\'s',
  };
}

/**
 * The `--json` line: exactly these keys, in this order.
 *
 * @param report - The run.
 * @returns One JSON object and a newline.
 * @internal
 */
export function trainJson(report: TrainReport): string {
  const { model, result, validRows, bayes, auto } = report;
  const stacked = keptEnsemble(report);
  if (stacked !== undefined) return ensembleTrainJson(report, stacked);
  return `${JSON.stringify({
    model,
    out: report.out,
    trainRows: result.trainRows,
    validRows,
    validation: validationJson(report),
    epochs: result.history.length,
    bestEpoch: result.bestEpoch,
    refit: result.metrics.refitRows !== undefined,
    // DCN-v2 and DeepFM: the LR they started from (bestEpoch 0: no pass beat it, so it is what was kept).
    warmStart: result.warmStart === undefined ? null : { model: 'lr', passes: result.warmStart.lrPasses, validLogLoss: result.warmStart.validLogLoss ?? null, validAuc: result.warmStart.validAuc ?? null },
    // FM: the LR fitted beside it; kept: the FM did not beat it by one standard error on the validation rows, so the model written is that LR (an FM without factors).
    linearBaseline: result.linearBaseline === undefined ? null : { model: 'lr', passes: result.linearBaseline.lrPasses, validLogLoss: result.linearBaseline.validLogLoss, validAuc: result.linearBaseline.validAuc, kept: result.linearBaseline.kept },
    validAuc: result.metrics.validAuc ?? null,
    validLogLoss: result.metrics.validLogLoss ?? null,
    calibrator: result.calibration?.kind ?? (result.calibrator === undefined ? null : 'downsampling'),
    calibratedLogLoss: result.metrics.validLogLossCalibrated ?? null,
    finalLogLoss: result.metrics.validLogLossFinal ?? null,
    baseLogLoss: result.metrics.validBaseLogLoss ?? null,
    worseThanBase: result.metrics.validLogLossFinal === undefined ? null : !(result.metrics.validLogLossFinal <= (result.metrics.validBaseLogLoss as number)),
    warnings: result.warnings,
    ...(auto !== undefined ? { auto: autoJson(report, model) } : {}),
    ...(bayes === undefined ? {} : { bayesAuc: bayes.auc, bayesLogLoss: bayes.logloss }),
    seconds: report.seconds,
  })}\n`;
}

function autoJson(report: TrainReport, chosen: string) {
  const auto = report.auto as NonNullable<TrainReport['auto']>;
  return {
    chosen,
    rule: 'the lowest validation log loss of what serving gets (calibrated where a calibrator was chosen), measured before any refit; the stacked ensemble of them when its out-of-fold log loss is lower still',
    timeBudgetSeconds: auto.timeBudget,
    candidates: auto.tried,
    ensemble: auto.ensemble === undefined ? null : ensembleJson(auto.ensemble),
  };
}

/** The `--json` line when the stacked ensemble was written: the same keys, the per-pass ones null. */
function ensembleTrainJson(report: TrainReport, stacked: StackedCandidates): string {
  const { result, validRows, bayes } = report;
  const base = result.metrics.validBaseLogLoss;
  return `${JSON.stringify({
    model: 'ensemble',
    out: report.out,
    trainRows: result.trainRows,
    validRows,
    validation: validationJson(report),
    epochs: null,
    bestEpoch: null,
    refit: stacked.members.some((m) => m.result.metrics.refitRows !== undefined),
    warmStart: null,
    linearBaseline: null,
    validAuc: stacked.validAuc,
    validLogLoss: stacked.outOfFoldLogLoss,
    calibrator: 'stacker',
    calibratedLogLoss: stacked.outOfFoldLogLoss,
    finalLogLoss: stacked.outOfFoldLogLoss,
    baseLogLoss: base ?? null,
    worseThanBase: base === undefined ? null : !(stacked.outOfFoldLogLoss <= base),
    warnings: result.warnings,
    auto: autoJson(report, 'ensemble'),
    ...(bayes === undefined ? {} : { bayesAuc: bayes.auc, bayesLogLoss: bayes.logloss }),
    seconds: report.seconds,
  })}\n`;
}

/**
 * The human output: `--model auto`'s candidate table (when it ran), then the summary.
 *
 * @param report - The run.
 * @returns The text, ending with a newline.
 * @internal
 */
export function trainText(report: TrainReport): string {
  const { model, result, source, trainRows, validRows, bayes } = report;
  let text = '';
  if (report.auto !== undefined) {
    const lines = ['--model auto: validation log loss (what serving gets) and AUC of each candidate, before any refit'];
    const stacked = keptEnsemble(report);
    for (const t of report.auto.tried) lines.push(`  ${t.model.padEnd(8)} ${format4(t.finalLogLoss ?? undefined)}  ${format4(t.validAuc ?? undefined)}  ${t.seconds.toFixed(1)} s${t.model === model && stacked === undefined ? '  ← chosen' : ''}`);
    const ensemble = report.auto.ensemble;
    if (ensemble !== undefined) {
      lines.push(`  ${'ensemble'.padEnd(8)} ${format4(ensemble.outOfFoldLogLoss)}  ${format4(ensemble.validAuc)}  stacker: ${ensemble.members.map((m) => `${m.coefficient.toFixed(3)} × ${m.model}`).join(' + ')} ${ensemble.bias < 0 ? '−' : '+'} ${Math.abs(ensemble.bias).toFixed(3)} (out-of-fold log loss)${stacked === undefined ? '' : '  ← chosen'}`);
    }
    text += `${lines.join('\n')}\n\n`;
    if (stacked !== undefined) {
      text += `wrote the stacked ensemble of ${stacked.members.map((m) => m.model).join(', ')} (one model.onnx; no calibrator after it: the stacker is fitted on the validation rows); the best single candidate was ${model}:\n\n`;
    }
  }
  const validShare = report.carve && validRows > 0 ? report.validShare : undefined;
  const lines = [
    `trained ${model} on ${trainRows.toLocaleString('en-US')} rows of ${describeSource(source)}${validRows > 0 ? `, validated on the next ${validRows.toLocaleString('en-US')} (rows ${(trainRows + 1).toLocaleString('en-US')}–${(trainRows + validRows).toLocaleString('en-US')}${validShare === undefined ? '' : `, the last ${Math.round(validShare * 100)} % of the rows read`})` : ''} in ${report.seconds.toFixed(1)} s`,
    '',
    'epoch  train logloss  valid logloss  valid AUC',
    ...(result.warmStart?.validLogLoss === undefined
      ? []
      : [`0      ${'–'.padStart(13)}  ${format4(result.warmStart.validLogLoss).padStart(13)}  ${format4(result.warmStart.validAuc).padStart(9)}  the start: an FTRL-LR of ${result.warmStart.lrPasses} pass(es)${result.bestEpoch === 0 ? '  ← kept' : ''}`]),
    ...result.history.map(
      (e: EpochRecord) => `${String(e.epoch).padEnd(5)}  ${format4(e.trainLogLoss).padStart(13)}  ${format4(e.validLogLoss).padStart(13)}  ${format4(e.validAuc).padStart(9)}${e.undone === true ? '  undone: the factors freeze, the linear part goes on' : e.epoch === result.bestEpoch && validRows > 0 ? '  ← kept' : ''}`,
    ),
    '',
  ];
  const baseline = result.linearBaseline;
  if (baseline !== undefined) {
    lines.push(
      baseline.kept
        ? `kept the LR fitted beside the FM (${baseline.lrPasses} pass(es), valid log loss ${format4(baseline.validLogLoss)}, AUC ${format4(baseline.validAuc)}): the FM did not beat it by more than one standard error on the validation rows, so the model is that LR, without factors`
        : `the FM beat the LR fitted beside it (valid log loss ${format4(baseline.validLogLoss)}, AUC ${format4(baseline.validAuc)}) by more than one standard error on the validation rows`,
    );
  }
  if (result.calibration !== undefined) {
    const c = result.calibration;
    lines.push(`calibrator: ${c.kind}, chosen on the validation rows by out-of-fold log loss (platt ${format4(c.logLoss.platt)}, isotonic ${format4(c.logLoss.isotonic)}, none ${format4(c.logLoss.uncalibrated)})`);
    const base = result.metrics.validBaseLogLoss;
    if (base !== undefined) lines.push(`base rate (the training click rate for every row): validation log loss ${format4(base)}`);
  } else if (result.calibrator !== undefined) {
    lines.push('calibrator: the downsampling correction only (no validation rows)');
  } else {
    lines.push('calibrator: none (no validation rows: --valid-share 0 or --valid-rows 0 turned off early stopping and calibration)');
  }
  if (result.metrics.refitRows !== undefined) lines.push(`refit: retrained on training + validation rows (${result.metrics.refitRows.toLocaleString('en-US')}) for ${result.bestEpoch} pass(es)${result.warmStart === undefined ? '' : `, from its LR start refitted on them for ${result.warmStart.lrPasses} pass(es)`}`);
  if (bayes !== undefined) lines.push(`ground truth on the validation rows: Bayes AUC ${format4(bayes.auc)}, log loss ${format4(bayes.logloss)}`);
  for (const warning of result.warnings) lines.push(`warning: ${warning}`);
  lines.push(`wrote ${path.join(report.out, 'model.onnx')} (${(report.bytes / 2 ** 20).toFixed(1)} MiB) and model.json`, '');
  return text + lines.join('\n');
}
