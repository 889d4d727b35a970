/**
 * Float64Array scratch buffers lent to one call at a time, so a hot path that needs a buffer
 * whose size varies per call (the Redis store's lookup: a block of doubles per key) allocates
 * none once warm. A buffer is given back only when nothing can still write into it.
 *
 * @internal
 */

/** A small free list of Float64Array buffers. */
export class ScratchPool {
  private readonly free: Float64Array[] = [];

  /** @param keep - How many buffers the pool holds on to at most (concurrent calls beyond it allocate). */
  constructor(private readonly keep = 4) {}

  /**
   * A buffer of at least `length` doubles, its contents left over from earlier use.
   *
   * @param length - Doubles needed.
   * @returns A buffer the caller owns until it calls {@link ScratchPool.give}.
   */
  take(length: number): Float64Array {
    const buffer = this.free.pop();
    // Grow by doubling so a mix of sizes settles on a few buffers.
    if (buffer === undefined || buffer.length < length) return new Float64Array(Math.max(length, 2 * (buffer?.length ?? 0)));
    return buffer;
  }

  /**
   * Returns `buffer` to the pool. Call only when no pending operation can still write into it.
   *
   * @param buffer - A buffer from {@link ScratchPool.take}.
   */
  give(buffer: Float64Array): void {
    if (this.free.length < this.keep) this.free.push(buffer);
  }
}
