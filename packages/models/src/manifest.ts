/**
 * The model manifest, `model.json` beside `model.onnx`: what the model is, which feature spec it
 * was trained on, and which array of a `FeatureBatch` feeds each of its inputs. Any ONNX model
 * that comes with a valid manifest plugs in, whatever trained it.
 *
 * The code lives in `manifest/` (types, inputs, create, parse, check); this module is where the
 * package's entry and its other modules import it from.
 */
export type { BatchSource, InputType, ManifestInput, ManifestOutput, ModelManifest } from './manifest/types.js';
export { builtInInputs, layoutShape, STANDARD_INPUT_NAMES } from './manifest/inputs.js';
export { createManifest, createStackedEnsembleManifest, manifestToJSON } from './manifest/create.js';
export type { CreateManifestOptions } from './manifest/create.js';
export { parseManifest } from './manifest/parse.js';
export { checkFingerprint, checkManifestAgainstLayout } from './manifest/check.js';
