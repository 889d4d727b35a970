/**
 * `ctrkit train`'s options, in the order `--help` lists them, with the defaults the help states.
 */
import type { OptionSpecs } from '../../args.js';
import { DATA_FORMATS, readerOptions } from '../../data/read-settings.js';
import { AUTO_CANDIDATES, DEFAULT_TIME_BUDGET_S } from './candidates.js';
import { DEFAULT_EPOCHS } from './fit.js';
import { DCNV2_CLI_EMBEDDING_LEARNING_RATE, DCNV2_CLI_FREQUENCY_L2, DEEPFM_CLI_DEFAULTS, TRAINABLE_MODELS } from './hyper-parameters.js';
import { DEFAULT_VALID_CAP, DEFAULT_VALID_SHARE } from './validation-rows.js';

/**
 * Every option of `ctrkit train`.
 *
 * @internal
 */
export const TRAIN_OPTIONS: OptionSpecs = {
  data: { type: 'string', required: true, valueName: 'FILE|synthetic:ROWS[:SEED]', description: 'click log to train on, or synthetic traffic from the core generator' },
  format: { type: 'string', choices: DATA_FORMATS, description: 'log format (required for a file); arrow: encoded, labeled ctrkit Arrow logs (a file, or a directory such as a joined served-row log)' },
  spec: { type: 'string', valueName: 'FILE', description: 'arrow: the feature spec JSON the log was encoded with (its fingerprint is checked)' },
  ...readerOptions({
    label: 'CSV: the 0/1 label column',
    ignore: 'CSV: columns to drop',
    numeric: 'CSV: numeric columns (bucketized by the Criteo log rule); the others are categorical',
    delimiter: 'CSV: field separator (default ,)',
    fieldMap: 'libsvm: field map (field:value<TAB>index lines, e.g. iPinYou featindex.txt): one field per map field instead of one bag',
  }),
  model: { type: 'string', required: true, choices: [...TRAINABLE_MODELS, 'auto', 'ensemble'], description: 'architecture (deepfm: linear part + FM term + MLP on shared field embeddings, Guo et al. 2017); auto: train each of --candidates on the same rows and keep the one with the lowest validation log loss, or their stacked ensemble when it beats that one (see --no-ensemble); ensemble: train the --candidates as auto does and always write their stacked ensemble' },
  candidates: { type: 'string', valueName: 'A,B', description: `auto: the architectures to try, in order, any of ${TRAINABLE_MODELS.join(', ')} (default ${AUTO_CANDIDATES.join(',')})` },
  'no-ensemble': {
    type: 'boolean',
    description:
      'auto: keep the best single candidate only (default: also fit a stacked ensemble of every candidate tried — a logistic regression on their logits over the validation rows — and keep it when its 5-fold out-of-fold validation log loss beats the best single one\'s; it is one model.onnx)',
  },
  'time-budget': { type: 'number', min: 0, exclusiveMin: true, valueName: 'SECONDS', description: `auto: start no further candidate once this many seconds are spent; the one running finishes (default ${DEFAULT_TIME_BUDGET_S})` },
  'train-rows': { type: 'number', integer: true, min: 1, description: 'read the first N rows to train on, the validation slice included unless --valid-rows is given (default: every row)' },
  'valid-share': { type: 'number', fraction: true, min: 0, max: 0.5, default: DEFAULT_VALID_SHARE, valueName: 'F', description: `validate on the last F of the rows read, in file order, at most ${DEFAULT_VALID_CAP.toLocaleString('en-US')} rows (0: no validation, so no early stopping, calibration or base-rate check)` },
  'valid-rows': { type: 'number', integer: true, min: 0, description: 'instead of --valid-share: validate on the N rows after the --train-rows rows' },
  out: { type: 'string', required: true, valueName: 'DIR', description: 'directory for model.onnx and model.json' },
  epochs: { type: 'number', integer: true, min: 1, max: 1000, description: `passes at most (default ${DEFAULT_EPOCHS} with validation rows, where early stopping decides; without, 3 for lr and fm, 2 for dcnv2 and deepfm)` },
  patience: { type: 'number', integer: true, min: 1, default: 2, description: 'stop after N passes without a better validation log loss; the best pass is kept' },
  refit: { type: 'boolean', description: 'always retrain on training + validation rows for the chosen passes (default: only below 1,000,000 training rows)' },
  'no-refit': { type: 'boolean', description: 'never refit: keep the model early stopping chose' },
  calibrator: { type: 'string', choices: ['auto', 'platt', 'isotonic', 'none'], default: 'auto', description: 'auto: platt, isotonic or none, whichever has the lowest 5-fold out-of-fold validation log loss' },
  'negative-rate': { type: 'number', fraction: true, min: 0, exclusiveMin: true, max: 1, valueName: 'R', description: 'keep this share of non-clicks (all clicks); the correction goes into the calibrator' },
  'id-space': { type: 'number', integer: true, min: 16, max: 2 ** 30, default: 2 ** 20, description: 'hashed id space (a power of two)' },
  seed: { type: 'string', default: '1', description: 'seed of initial weights, shuffling and downsampling' },
  alpha: { type: 'number', min: 0, exclusiveMin: true, description: 'lr, fm: FTRL α (default 0.05)' },
  beta: { type: 'number', min: 0, description: 'lr, fm: FTRL β (default 1)' },
  l1: { type: 'number', min: 0, description: 'lr, fm: FTRL L1 λ₁ (default 1)' },
  l2: { type: 'number', min: 0, description: `lr, fm: FTRL L2 λ₂ (default 1); dcnv2: L2 on dense weights (default 0); deepfm: on the MLP and dense-column weights (default ${DEEPFM_CLI_DEFAULTS.l2})` },
  dim: { type: 'number', integer: true, min: 1, max: 256, description: 'fm: factor dimension (default 8)' },
  'learning-rate': { type: 'number', min: 0, exclusiveMin: true, description: `fm: AdaGrad rate of the factors (default 0.02); dcnv2: Adam rate (default 0.001); deepfm: Adam rate (default ${DEEPFM_CLI_DEFAULTS.learningRate})` },
  'factor-l2': { type: 'number', min: 0, description: 'fm: L2 on the factors (default 0.001)' },
  'factor-prior': { type: 'number', min: 0, description: 'fm: frequency-aware L2 on the factors, the n-th update of an id pulled by P/n (default 3)' },
  'factor-passes': { type: 'number', integer: true, min: 1, max: 1000, description: 'fm: passes in which the factors learn; later passes train only the linear part (default: with validation rows, until a pass makes the validation log loss worse, which is undone; without, every pass)' },
  'embedding-dim': { type: 'number', integer: true, min: 1, max: 256, description: `dcnv2: embedding dimension (default 8); deepfm: embedding dimension, the FM's factor dimension (default ${DEEPFM_CLI_DEFAULTS.embeddingDim})` },
  'cross-layers': { type: 'number', integer: true, min: 0, max: 16, description: 'dcnv2: cross layers (default 2)' },
  'low-rank': { type: 'string', valueName: 'R|full', description: 'dcnv2: rank of the cross layers, or full (default 32)' },
  deep: { type: 'string', valueName: 'W,W', description: `dcnv2: deep tower widths, or none (default 128,64); deepfm: MLP widths, or none for one linear layer over the embeddings (default ${DEEPFM_CLI_DEFAULTS.deep.join(',')})` },
  'batch-size': { type: 'number', integer: true, min: 1, max: 65536, description: `dcnv2, deepfm: rows per mini-batch (default 256, deepfm ${DEEPFM_CLI_DEFAULTS.batchSize})` },
  'embedding-l2': { type: 'number', min: 0, description: `dcnv2: L2 on the embedding rows a batch touches (default 0); deepfm: on those rows and the ids' linear weights (default ${DEEPFM_CLI_DEFAULTS.embeddingL2})` },
  'frequency-l2': { type: 'number', min: 0, description: `dcnv2: frequency-aware L2 prior on the embeddings, each id penalized once a pass however often it appears (default ${DCNV2_CLI_FREQUENCY_L2}); deepfm: on the embeddings and the ids' linear weights (default ${DEEPFM_CLI_DEFAULTS.frequencyL2})` },
  'epoch-decay': { type: 'number', min: 0, exclusiveMin: true, max: 1, description: `dcnv2, deepfm: learning rates of pass k multiplied by F^(k-1) (default 1, deepfm ${DEEPFM_CLI_DEFAULTS.epochDecay})` },
  threads: {
    type: 'number',
    integer: true,
    min: 1,
    max: 64,
    description:
      "dcnv2, deepfm: threads the dense layers' products run on (default: the machine's cores); more than 1 changes only the speed: each product's rows are shared out and every number is computed as on one thread, so a seed gives the same model for any N",
  },
  'no-linear-fallback': {
    type: 'boolean',
    description:
      'fm: keep the factors even when the FM does not beat the LR fitted beside it (its linear settings, early-stopped) by more than one standard error of the paired per-row log-loss difference on the validation rows (default: the FM then drops its factors and is that LR, the one-standard-error rule)',
  },
  'warm-start': {
    type: 'string',
    choices: ['lr', 'none'],
    description:
      'dcnv2, deepfm: lr = fit an FTRL-LR first (the lr defaults, early-stopped on the validation rows), start the model from it (it scores as that LR does) and count that start as pass 0, which early stopping keeps when no pass beats it, so the model is never worse than the LR on the validation rows; none = a seeded start (default: lr for deepfm, none for dcnv2)',
  },
  'embedding-learning-rate': { type: 'number', min: 0, exclusiveMin: true, description: `dcnv2, deepfm: Adam rate of the embeddings (deepfm: and of the ids' linear weights; default: dcnv2 ${DCNV2_CLI_EMBEDDING_LEARNING_RATE}, deepfm --learning-rate)` },
  'synthetic-spec': { type: 'string', choices: ['plain', 'ad-request'], description: 'synthetic: plain = 20 fields (18 attributes, and the user history as two bags), no crosses (default); ad-request = adRequestSpec({ store: false }) from @ctrkit/features, with its crosses and sequences' },
  'init-scale': { type: 'number', min: 0, max: 10, description: 'fm: standard deviation of the initial factors (default 0.01); dcnv2, deepfm: of the initial embeddings (default 0.01)' },
  version: { type: 'string', description: 'model version in the manifest (default: the time of training)' },
  json: { type: 'boolean', description: 'print one JSON object with the training figures' },
  quiet: { type: 'boolean', description: 'no progress on stderr' },
};
