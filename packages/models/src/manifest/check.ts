/**
 * Whether a manifest fits the encoder it will be fed by: fingerprint, id space and input shapes.
 */
import { CtrkitError, type FeatureLayout } from '@ctrkit/core';
import { checkLayout } from '../batch-check.js';
import { layoutShape } from './inputs.js';
import type { ModelManifest } from './types.js';

/**
 * Checks that a manifest fits an encoder's layout: same fingerprint, same id space, and every
 * input's shape equal to the one the layout gives its batch array.
 *
 * @param manifest - A parsed manifest.
 * @param layout - The encoder's layout.
 * @throws `CtrkitError` `E_MODEL_LOAD` saying what differs and how to mend it.
 * @example
 * ```ts
 * import { checkManifestAgainstLayout, type ModelManifest } from '@ctrkit/models';
 * import type { FeatureLayout } from '@ctrkit/core';
 * declare const manifest: ModelManifest;
 * declare const layout: FeatureLayout;
 * checkManifestAgainstLayout(manifest, layout);
 * ```
 */
export function checkManifestAgainstLayout(manifest: ModelManifest, layout: FeatureLayout): void {
  checkFingerprint(manifest, layout.fingerprint);
  if (manifest.idSpace !== layout.idSpace) {
    throw new CtrkitError(
      'E_MODEL_LOAD',
      `model.json says idSpace ${manifest.idSpace} but the encoder's layout has ${layout.idSpace}; the model's tables would not cover the encoder's ids — retrain or fix the manifest`,
    );
  }
  try {
    checkLayout(layout);
  } catch (error) {
    throw new CtrkitError('E_MODEL_LOAD', `the encoder's layout is inconsistent: ${(error as Error).message}`, { cause: error });
  }
  for (const input of manifest.inputs) {
    const expected = layoutShape(layout, input.source);
    if (expected.length !== input.shape.length || expected.some((d, i) => d !== input.shape[i])) {
      throw new CtrkitError(
        'E_MODEL_LOAD',
        `model.json input "${input.name}" (${input.source}) has shape ${JSON.stringify(input.shape)} but the encoder's layout gives ${JSON.stringify(expected)}; the model was built for another layout — retrain it or fix the manifest`,
        { details: { input: input.name, manifest: input.shape, layout: expected } },
      );
    }
  }
}

/** @internal Refuses a manifest trained on another feature spec. */
export function checkFingerprint(manifest: ModelManifest, fingerprint: string): void {
  if (manifest.fingerprint !== fingerprint) {
    throw new CtrkitError(
      'E_MODEL_LOAD',
      `model was trained on feature spec ${manifest.fingerprint} but the encoder uses spec ${fingerprint}; load the model trained on this spec, or the encoder's spec that matches the model`,
      { details: { model: manifest.fingerprint, encoder: fingerprint } },
    );
  }
}
