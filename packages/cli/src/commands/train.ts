/**
 * `ctrkit train`: reads the first rows of a click log (Criteo, CSV, libsvm, encoded Arrow) or of synthetic
 * traffic, trains LR (FTRL-Proximal), FM, DCN-v2 or DeepFM on them, chooses a calibrator on the
 * validation rows that follow, and writes `model.onnx` and `model.json`. The feature spec and how
 * the log was read go into the manifest, so `ctrkit eval` reads other rows the same way.
 */
import type { Command } from '../command.js';
import { TRAIN_OPTIONS } from './train/options.js';
import { runTrain } from './train/run.js';

/**
 * `ctrkit train`: trains LR (FTRL-Proximal), FM (online), DCN-v2 or DeepFM (mini-batch Adam) on the first
 * rows of a click log or of synthetic traffic, chooses a calibrator on the validation rows, and
 * writes `model.onnx` and `model.json`.
 *
 * @example
 * ```ts
 * import { trainCommand } from '@ctrkit/cli';
 * console.log(trainCommand.usage);
 * ```
 */
export const trainCommand: Command = {
  name: 'train',
  summary: 'train LR, FM, DCN-v2 or DeepFM on a click log and write model.onnx + model.json',
  usage:
    'ctrkit train --data FILE|DIR|synthetic:ROWS[:SEED] --format criteo|csv|libsvm|arrow [--spec FILE] [--label COL] [--ignore A,B] [--numeric A,B] --model lr|fm|dcnv2|deepfm|auto [--train-rows N] [--valid-rows N] --out DIR',
  options: TRAIN_OPTIONS,
  details: [
    'Rows are read in file order: the first --train-rows train, the next --valid-rows validate (early stopping on log loss, then Platt or isotonic calibration, whichever has the lower out-of-fold log loss). The feature spec, the reader settings and a feature profile for drift monitoring are stored in model.json, so `ctrkit eval` reads other rows of the same log alike.',
    'Criteo: I1–I13 bucketized by ⌊ln(x)²⌋, C1–C26 hashed. CSV: string columns hashed, --numeric columns bucketized. libsvm: with --field-map one hashed field per map field, else one bag of index:value pairs. Synthetic: 20 fields of the generated requests (18 attributes, and the user history as two bags), with the true click probability of every row reported as the Bayes figures.',
  ],
  examples: [
    'ctrkit train --data ../shared/data/criteo/train_10k.tsv --format criteo --model lr --train-rows 6400 --valid-rows 1600 --refit --out models/criteo-lr',
    'ctrkit train --data ../shared/data/ipinyou/onehot/train.fm.txt --format libsvm --field-map ../shared/data/ipinyou/onehot/featindex.fm.txt --model fm --valid-rows 5000 --out models/ipinyou-fm',
    'ctrkit train --data synthetic:1000000:42 --model dcnv2 --train-rows 900000 --valid-rows 100000 --out models/sim-dcnv2',
  ],
  run: runTrain,
};
