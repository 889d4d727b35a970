/**
 * `@ctrkit/core/internal` — helpers the ctrkit packages share with each other: lazy assertions,
 * the radix argsort, "did you mean" suggestions and hashing finalizers.
 *
 * Not covered by semver: anything here may change or vanish in any release, patch releases
 * included. It is exported only so that `@ctrkit/features`, `@ctrkit/models`, `@ctrkit/auction`,
 * `@ctrkit/pacing` and `@ctrkit/cli` need not copy it; applications should not import it. It is
 * left out of the API reference on purpose.
 *
 * @packageDocumentation
 * @internal
 */
export { ensure } from './errors.js';
export { fmix32 } from './hash-mix.js';
export { argsort } from './sort.js';
export { closestMatch, editDistance } from './suggest.js';
