/**
 * Exploration in day two's serving, end to end at small sizes: the explored requests' impressions
 * are served, billed within budget and scored with the rest (never dropped from the loop's figures).
 */
import { describe, expect, it } from 'vitest';
import { runScenario } from '../src/scenario.js';

describe('day two with exploration on', () => {
  it('scores the explored impressions with the rest, at about the share asked, and never overspends', async () => {
    const report = await runScenario({ seed: 'explore', users: 300, logImpressions: 6_000, requests: 600, dcnEpochs: 1, loop: { exploration: { share: 0.2 } } });
    const { loop, serving } = report;
    expect(loop.rows).toBe(serving.winners);
    expect(loop.explored.rows + loop.exploited.rows).toBe(loop.rows);
    // About 2.8 winners a request, a fifth of 600 requests exploring: ~340 rows (binomial sd of
    // the exploring requests ≈ 10, so ±4 sd ≈ ±110 rows).
    expect(loop.explored.rows).toBeGreaterThan(200);
    expect(loop.explored.rows).toBeLessThan(500);
    expect(Number.isFinite(loop.explored.frozen) && Number.isFinite(loop.explored.online) && Number.isFinite(loop.explored.bayes)).toBe(true);
    expect(serving.overspend).toBe(0);
    // Without exploration nothing is explored, and the same world serves other winners.
    const plain = await runScenario({ seed: 'explore', users: 300, logImpressions: 6_000, requests: 600, dcnEpochs: 1, loop: { exploration: false } });
    expect(plain.loop.explored.rows).toBe(0);
    expect(plain.loop.exploited.rows).toBe(plain.loop.rows);
  }, 240_000);
});
