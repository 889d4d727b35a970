/**
 * The lifecycle every runner shares: calls in flight are counted so `dispose` frees a session only
 * after they finish, and a call after `dispose` is refused.
 */
import { CtrkitError } from '@ctrkit/core';

/**
 * @internal Tracks calls in flight so `dispose` frees a session only after they finish, and
 * refuses calls after `dispose` with `E_STATE`.
 */
export class Lifecycle {
  private inflight = 0;
  private disposed = false;
  private drained: (() => void) | undefined;

  constructor(private readonly what: () => string) {}

  /** Whether `dispose` has been called. */
  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Calls now running. */
  get active(): number {
    return this.inflight;
  }

  /** Marks a call as started; throws `E_STATE` after dispose. */
  enter(): void {
    if (this.disposed) {
      throw new CtrkitError('E_STATE', `${this.what()} was disposed; load the model again (or keep a reference to the runner that replaced it)`);
    }
    this.inflight++;
  }

  /** Marks a call as finished. */
  exit(): void {
    this.inflight--;
    if (this.inflight === 0 && this.drained !== undefined) this.drained();
  }

  /** Refuses new calls, waits for the running ones, then runs `release` once. */
  async dispose(release: () => Promise<void> | void): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    if (this.inflight > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    await release();
  }
}
