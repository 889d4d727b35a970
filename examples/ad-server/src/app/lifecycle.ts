/**
 * Where the server is in its life, shared by the model (starting → serving), the bid route (no
 * new bids while draining), the health routes and shutdown (serving → draining → closed).
 *
 * @internal
 */

/** The server's phase. */
export type Phase = 'starting' | 'serving' | 'draining' | 'closed';

/** The phase and the bid requests being answered now (shutdown waits for them). */
export interface Lifecycle {
  phase: Phase;
  activeBids: number;
}

/** @returns A lifecycle in phase `starting`, with no bid request running. */
export function createLifecycle(): Lifecycle {
  return { phase: 'starting', activeBids: 0 };
}

/** Whether shutdown has begun (draining or closed). */
export const isStopping = (lifecycle: Pick<Lifecycle, 'phase'>): boolean => lifecycle.phase === 'draining' || lifecycle.phase === 'closed';
