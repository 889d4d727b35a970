/**
 * What one `ctrkit train` run will do, read from its flags: the source and reader settings, the
 * rows to train and validate on, the architectures and their hyper-parameters, the fit options
 * and the output. Every usage error of the command is raised here, before any row is read.
 */
import path from 'node:path';
import type { FeatureSpecJSON } from '@ctrkit/features';
import type { TrainableArchitecture } from '@ctrkit/models';
import { usageError, type ParsedArgs } from '../../args.js';
import { readTextFile, type CliIo } from '../../io.js';
import { parseSpecFile } from '../../data/feature-specs.js';
import { readSettingsOf, type ReadSettings } from '../../data/read-settings.js';
import { dataSourceOf, type DataSource } from '../../data/source.js';
import { candidatesOf, DEFAULT_TIME_BUDGET_S } from './candidates.js';
import { hyperParameters, type ModelHyperParameters } from './hyper-parameters.js';

/**
 * A `ctrkit train` run, its flags checked.
 *
 * @internal
 */
export interface TrainPlan {
  /** `--model auto`: train every candidate and keep the best. */
  readonly auto: boolean;
  /** The candidates' stacked ensemble: `auto` (`--model auto`, unless `--no-ensemble`) kept when it beats the best one, `always` (`--model ensemble`) kept, `off`. */
  readonly ensemble: 'off' | 'auto' | 'always';
  /** The architectures to train: `--candidates` with auto, else the one `--model`. */
  readonly candidates: readonly TrainableArchitecture[];
  /** `--time-budget` in seconds. */
  readonly timeBudget: number;
  readonly source: DataSource;
  readonly settings: ReadSettings;
  /** `--spec FILE`, parsed (Arrow logs only). */
  readonly arrowSpec: FeatureSpecJSON | undefined;
  /** `--train-rows`. */
  readonly trainRowsArg: number | undefined;
  /** Whether the validation rows are the last `validShare` of the rows read (else the `extraValid` rows after them). */
  readonly carve: boolean;
  /** `--valid-share`. */
  readonly validShare: number;
  /** `--valid-rows` (0 when carving). */
  readonly extraValid: number;
  readonly quiet: boolean;
  readonly json: boolean;
  readonly idSpace: number;
  readonly seed: string;
  readonly negativeRate: number | undefined;
  readonly refit: boolean | 'auto';
  readonly calibrator: 'auto' | 'platt' | 'isotonic' | 'none';
  /** `--out`, absolute. */
  readonly out: string;
  /** Each candidate's hyper-parameters. */
  readonly hypers: ReadonlyMap<TrainableArchitecture, ModelHyperParameters>;
  /** `--epochs`, when given. */
  readonly epochs: number | undefined;
  readonly patience: number;
  /** `--version`, when given. */
  readonly version: string | undefined;
}

/**
 * Reads and checks `ctrkit train`'s flags (and reads `--spec FILE`).
 *
 * @param args - The parsed flags.
 * @param io - For the working directory and reading `--spec`.
 * @returns The plan.
 * @throws A usage error (exit 2) for flags that contradict each other or do not apply; the errors
 * of {@link readTextFile} and {@link parseSpecFile} for `--spec`.
 * @internal
 */
export async function trainPlanOf(args: ParsedArgs, io: CliIo): Promise<TrainPlan> {
  const modelArg = args.string('model') as TrainableArchitecture | 'auto' | 'ensemble';
  // --model ensemble trains the candidates as auto does and always writes their stacked ensemble.
  const auto = modelArg === 'auto' || modelArg === 'ensemble';
  if (modelArg === 'ensemble' && args.flag('no-ensemble')) usageError('train', '--no-ensemble contradicts --model ensemble');
  if (!auto && args.given('candidates')) usageError('train', '--candidates applies to --model auto or ensemble');
  if (!auto && args.given('time-budget')) usageError('train', '--time-budget applies to --model auto or ensemble');
  if (!auto && args.flag('no-ensemble')) usageError('train', '--no-ensemble applies to --model auto');
  const candidates = auto ? candidatesOf(args) : [modelArg as TrainableArchitecture];
  if (modelArg === 'ensemble' && candidates.length < 2) usageError('train', '--model ensemble needs at least two --candidates');
  const timeBudget = args.number('time-budget') ?? DEFAULT_TIME_BUDGET_S;
  const source = dataSourceOf('train', args.string('data') as string);
  const settings = readSettingsOf('train', args, source, io);
  const specArg = args.string('spec');
  if (specArg !== undefined && settings.format !== 'arrow') usageError('train', '--spec applies to --format arrow only (the other formats derive the spec from the log)');
  if (specArg === undefined && settings.format === 'arrow') usageError('train', '--format arrow needs --spec FILE: the feature spec JSON the log was encoded with');
  const arrowSpec = specArg === undefined ? undefined : parseSpecFile(await readTextFile(io, specArg, '--spec'), specArg);
  const trainRowsArg = args.number('train-rows');
  const validRowsArg = args.number('valid-rows');
  const validShare = args.number('valid-share') as number;
  // With --valid-rows the validation rows follow the training rows; without it they are the last
  // --valid-share of them (so --train-rows N reads N rows in all, and rows after N stay unseen).
  const carve = validRowsArg === undefined;
  if (!carve && args.given('valid-share')) usageError('train', '--valid-share and --valid-rows both set the validation rows; give one');
  const quiet = args.flag('quiet');
  const json = args.flag('json');
  const idSpace = args.number('id-space') as number;
  const seed = args.string('seed') as string;
  const negativeRate = args.number('negative-rate');
  if (args.flag('refit') && args.flag('no-refit')) usageError('train', '--refit and --no-refit contradict each other; give one');
  const refit: boolean | 'auto' = args.flag('refit') ? true : args.flag('no-refit') ? false : 'auto';
  const calibrator = args.string('calibrator') as 'auto' | 'platt' | 'isotonic' | 'none';
  const out = path.resolve(io.cwd, args.string('out') as string);
  if (refit === true && (validRowsArg === 0 || (carve && validShare === 0))) usageError('train', '--refit needs validation rows: it retrains for the number of passes the validation rows chose');
  if (!Number.isInteger(Math.log2(idSpace))) usageError('train', `--id-space must be a power of two, got ${idSpace}`);
  const hypers = new Map(candidates.map((m) => [m, hyperParameters(m, args, candidates)] as const));
  if (auto && (validRowsArg === 0 || (carve && validShare === 0))) usageError('train', `--model ${modelArg} needs validation rows: it ${modelArg === 'ensemble' ? 'fits the stacker on them' : 'keeps the candidate with the lowest validation log loss'}`);
  const extraValid = carve ? 0 : (validRowsArg as number);
  if (source.kind === 'synthetic' && trainRowsArg !== undefined && trainRowsArg + extraValid > source.rows) {
    usageError('train', `--train-rows ${trainRowsArg}${carve ? '' : ` and --valid-rows ${extraValid}`} need ${trainRowsArg + extraValid} rows but synthetic:${source.rows} has ${source.rows}`);
  }
  return {
    auto,
    ensemble: modelArg === 'ensemble' ? 'always' : auto && !args.flag('no-ensemble') ? 'auto' : 'off',
    candidates,
    timeBudget,
    source,
    settings,
    arrowSpec,
    trainRowsArg,
    carve,
    validShare,
    extraValid,
    quiet,
    json,
    idSpace,
    seed,
    negativeRate,
    refit,
    calibrator,
    out,
    hypers,
    epochs: args.number('epochs'),
    patience: args.number('patience') as number,
    version: args.string('version'),
  };
}
