/**
 * The intercept that gives synthetic traffic its base click rate: the world's click model is
 * built first, then shifted so the mean click probability at position 0 is what was asked.
 */

/**
 * Solves for the intercept `b` with mean σ(z + b) over `logits` equal to `baseCtr`, by Newton's
 * method from the base rate's logit (at most 50 steps, stopping at a step below 1e-10).
 *
 * @param logits - Click logits of sampled impressions, without intercept.
 * @param baseCtr - The wanted mean click probability, in (0, 1).
 * @returns The intercept.
 * @internal
 */
export function interceptForBaseRate(logits: readonly number[], baseCtr: number): number {
  let intercept = Math.log(baseCtr / (1 - baseCtr));
  for (let iteration = 0; iteration < 50; iteration++) {
    let mean = 0;
    let slope = 0;
    for (const z of logits) {
      const p = 1 / (1 + Math.exp(-(z + intercept)));
      mean += p;
      slope += p * (1 - p);
    }
    mean /= logits.length;
    slope /= logits.length;
    const step = (mean - baseCtr) / slope;
    intercept -= step;
    if (Math.abs(step) < 1e-10) break;
  }
  return intercept;
}
