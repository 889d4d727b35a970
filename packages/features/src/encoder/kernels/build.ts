/**
 * Builds the kernels for a validated spec, store-fed kernels apart.
 *
 * @internal
 */
import type { FeatureSpec } from '../../spec.js';
import { IdKernel, Kernel } from './kernel.js';
import { CategoricalKernel } from './categorical.js';
import { BoundariesKernel, CriteoLogKernel } from './numeric.js';
import { CrossKernel } from './cross.js';
import { DenseKernel } from './dense.js';
import { BagKernel } from './bag.js';
import { SequenceKernel } from './sequence.js';

/** @internal Builds the kernels of a spec: id kernels first, crosses after the fields they read. */
export function buildKernels(spec: FeatureSpec): { kernels: Kernel[]; storeKernels: (IdKernel | DenseKernel)[] } {
  const modulus = spec.idSpace - 1;
  const kernels: Kernel[] = [];
  const byName = new Map<string, Kernel>();
  const storeKernels: (IdKernel | DenseKernel)[] = [];
  const slotOf = new Map(spec.layout.fields.map((slot) => [slot.name, slot.offset]));
  let denseIndex = 0;
  let sequenceIndex = 0;
  for (const field of spec.fields) {
    let kernel: Kernel;
    switch (field.kind) {
      case 'categorical':
        kernel = new CategoricalKernel(field, slotOf.get(field.name) as number, spec.seed, modulus);
        break;
      case 'numeric':
        kernel =
          'rule' in field.bucketize
            ? new CriteoLogKernel(field, slotOf.get(field.name) as number, spec.seed, modulus)
            : new BoundariesKernel(field, slotOf.get(field.name) as number, spec.seed, modulus);
        if (field.source === 'store') storeKernels.push(kernel as IdKernel);
        break;
      case 'dense':
        kernel = new DenseKernel(field, denseIndex++);
        if (field.source === 'store') storeKernels.push(kernel as DenseKernel);
        break;
      case 'bag':
        kernel = new BagKernel(field, slotOf.get(field.name) as number, spec.seed, modulus);
        break;
      case 'sequence':
        kernel = new SequenceKernel(field, sequenceIndex++, spec.seed, modulus);
        break;
      case 'cross':
        continue;
    }
    kernel.sourceText = `${field.source}.${field.path}`;
    kernels.push(kernel);
    byName.set(field.name, kernel);
  }
  for (const field of spec.fields) {
    if (field.kind !== 'cross') continue;
    const parts = field.of.map((name) => byName.get(name) as Kernel);
    for (const part of parts) if (part.tokens === undefined) part.tokens = [];
    const kernel = new CrossKernel(field, parts, slotOf.get(field.name) as number, spec.seed, modulus);
    kernels.push(kernel);
    byName.set(field.name, kernel);
  }
  return { kernels, storeKernels };
}
