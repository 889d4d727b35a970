/** Pieces every runner shares: the disposed/in-flight lifecycle and `out` buffer handling. */
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

/**
 * @internal The buffer a call writes `rows` probabilities into: `out` itself when it has exactly
 * `rows` values, a view of its first `rows` values when longer, a new array when absent.
 *
 * @throws `CtrkitError` `E_INPUT` when `out` is not a Float32Array or is too short.
 */
export function outputFor(out: Float32Array | undefined, rows: number): Float32Array {
  if (out === undefined) return new Float32Array(rows);
  if (!(out instanceof Float32Array)) throw new CtrkitError('E_INPUT', 'out must be a Float32Array');
  if (out.length === rows) return out;
  if (out.length < rows) {
    throw new CtrkitError('E_INPUT', `out holds ${out.length} values but the batch has ${rows} rows; pass a Float32Array of at least batch.rows values`);
  }
  return out.subarray(0, rows);
}

/** @internal The logistic function, stable for large |x|. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}
